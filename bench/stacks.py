"""Summarise a py-spy raw (collapsed-stack) profile as text.

    py-spy record --native -r 250 -d 10 -f raw -o profile.txt --pid PID
    python bench/stacks.py profile.txt --us-per-req 45

Prints the functions where samples were taken ("self") and the functions
those samples ran under ("total", leaving out the frames every sample
shares), as a share of all samples. With
--us-per-req (the CPU µs/req figure from run.py for the same load), shares
become microseconds of each request: the flame graph's answer, on a
terminal with no browser.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# "handler (nethttp/_mux.py:236)" -> "handler (nethttp/_mux.py)": one row
# per function, not one per line inside it.
_LINE = re.compile(r":\d+\)$")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("profile", type=Path, help="output of py-spy record -f raw")
    ap.add_argument("--top", type=int, default=25, help="rows per table (25)")
    ap.add_argument("--us-per-req", type=float, help="CPU µs per request, to print µs")
    args = ap.parse_args()

    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    samples = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_LINE.sub(")", f) for f in stack.split(";")]
        n = int(count)
        samples += n
        own[frames[-1]] += n
        for frame in set(frames):  # recursion counts once per sample
            under[frame] += n
    if not samples:
        raise SystemExit(f"{args.profile}: no samples")
    print(f"{samples} samples")
    # The trunk every sample shares (main, the event loop's run) says nothing.
    under = Counter({f: n for f, n in under.items() if n < 0.99 * samples})
    for title, counter in (("self", own), ("total", under)):
        print(f"\n{title:>6} {'µs/req' if args.us_per_req else '':>7}  function")
        for frame, n in counter.most_common(args.top):
            share = n / samples
            us = f"{share * args.us_per_req:7.2f}" if args.us_per_req else " " * 7
            print(f"{100 * share:5.1f}% {us}  {frame}")


if __name__ == "__main__":
    main()
