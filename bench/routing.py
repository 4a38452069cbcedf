"""Route lookups among 10, 100 and 1,000 patterns: the decision tree, without the cache.

    python bench/routing.py            # ~20 s; exits 1 if 1,000 routes cost over 1.5x 10

Each mux holds N patterns built from one family of ten per resource (literals, ``{id}``
wildcards, ``{rest...}``, ``{$}``, subtrees, a host pattern, GET/POST/PUT/DELETE
patterns). The same 800 prebuilt requests are looked up against every mux with
``mux.handler(r)``, its per-path cache turned off so every lookup walks the tree: hits
(including HEAD served by GET and a host pattern), 404s and 405s (with their ``Allow``
computed). Requests address resources spread over the whole set, so a larger mux is
not asked about its first few patterns only. Figures are CPU time per lookup (the
minimum over rounds, the three sizes interleaved so machine noise hits all alike), plus
the cached lookup for comparison.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import nethttp
from nethttp._h1 import RequestHead, RequestParser
from nethttp._request import NO_BODY, Request

SIZES = (10, 100, 1000)
PER_KIND = 200  # requests per kind (hit, 404, 405)
ROUNDS = 25
LIMIT = 1.5  # the 1,000-route lookup may cost at most this many times the 10-route one


async def ok(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    w.write_header(204)


def family(i: int) -> list[str]:
    """Ten patterns for resource ``i``; no two of any families conflict."""
    base = f"/api/v1/res{i}"
    return [
        f"{base}/items",
        f"GET {base}/items/{{id}}",
        f"POST {base}/items/{{id}}",
        f"PUT {base}/items/{{id}}",
        f"DELETE {base}/items/{{id}}/tags/{{tag}}",
        f"{base}/users/{{uid}}/posts/{{pid}}",
        f"GET {base}/{{$}}",
        f"/static/s{i}/{{rest...}}",
        f"/docs/d{i}/",
        f"host{i}.example.com{base}/items/{{id}}",
    ]


def build_mux(n: int) -> nethttp.ServeMux:
    mux = nethttp.ServeMux()
    for i in range(n // 10):
        for p in family(i):
            mux.handle(p, ok)
    mux._cache_max = 0  # measure the tree, not the cache
    return mux


def request(method: str, target: str, host: str = "bench.local") -> Request:
    p = RequestParser()
    p.feed(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = p.next_event()
    assert isinstance(head, RequestHead)
    return Request(head, NO_BODY, None, "127.0.0.1:1")


def requests(resources: int, rng: random.Random) -> dict[str, list[Request]]:
    """The same shapes for every size; resource numbers drawn from all ``resources``."""
    kinds: dict[str, list[Request]] = {"hit": [], "404": [], "405": []}
    hit_shapes = [
        ("GET", "/api/v1/res{k}/items/42", None),
        ("HEAD", "/api/v1/res{k}/items/42", None),
        ("POST", "/api/v1/res{k}/items/7", None),
        ("DELETE", "/api/v1/res{k}/items/7/tags/blue", None),
        ("GET", "/api/v1/res{k}/users/3/posts/9", None),
        ("GET", "/api/v1/res{k}/items", None),
        ("GET", "/api/v1/res{k}/", None),
        ("GET", "/static/s{k}/css/site.css", None),
        ("GET", "/docs/d{k}/intro", None),
        ("GET", "/api/v1/res{k}/items/5", "host{k}.example.com"),
    ]
    miss_shapes = [
        ("GET", "/api/v1/nope{k}/items/1"),
        ("GET", "/api/v1/res{k}/items/1/2/3"),
        ("GET", "/unknown/{k}"),
        ("POST", "/docs/x{k}/intro"),
    ]
    for j in range(PER_KIND):
        k = rng.randrange(resources)
        method, target, host = hit_shapes[j % len(hit_shapes)]
        kinds["hit"].append(request(method, target.format(k=k), (host or "b.local").format(k=k)))
        method, target = miss_shapes[j % len(miss_shapes)]
        kinds["404"].append(request(method, target.format(k=k)))
        method = ("PATCH", "OPTIONS")[j % 2]
        kinds["405"].append(request(method, f"/api/v1/res{k}/items/{j}"))
    return kinds


def check(mux: nethttp.ServeMux, kinds: dict[str, list[Request]]) -> None:
    """Every request answers as its kind says (so the timing measures real lookups)."""
    for r in kinds["hit"]:
        assert mux.handler(r)[1], r
    for r in kinds["404"]:
        h, pattern = mux.handler(r)
        assert not pattern and h is mux.not_found_handler, r
    for r in kinds["405"]:
        h, pattern = mux.handler(r)
        assert not pattern and type(h).__name__ == "_MethodNotAllowed", r


def per_lookup_ns(mux: nethttp.ServeMux, reqs: list[Request]) -> float:
    lookup = mux.handler
    start = time.process_time()
    for r in reqs:
        lookup(r)
    return (time.process_time() - start) / len(reqs) * 1e9


def main() -> int:
    rng = random.Random(1)
    t0 = time.monotonic()
    muxes = {n: build_mux(n) for n in SIZES}
    built = time.monotonic() - t0
    # Resource numbers < 1 cover every size: each size gets its own spread.
    sets = {n: requests(n // 10, rng) for n in SIZES}
    for n in SIZES:
        check(muxes[n], sets[n])
    best: dict[tuple[int, str], float] = {}
    for _ in range(ROUNDS):
        for n in SIZES:
            for kind, reqs in sets[n].items():
                t = per_lookup_ns(muxes[n], reqs * 5)
                best[n, kind] = min(best.get((n, kind), t), t)
    cached = build_mux(10)
    cached._cache_max = 4096
    hits = sets[10]["hit"]
    cached_ns = min(per_lookup_ns(cached, hits * 5) for _ in range(ROUNDS))

    print(f"registration of {sum(SIZES)} patterns with conflict checks: {built:.2f} s")
    print(f"{'routes':>7} {'hit':>9} {'404':>9} {'405':>9} {'mixed':>9}   (ns per lookup)")
    mixed = {}
    for n in SIZES:
        row = [best[n, k] for k in ("hit", "404", "405")]
        mixed[n] = sum(row) / 3
        print(f"{n:>7} " + " ".join(f"{v:>9.0f}" for v in row) + f" {mixed[n]:>9.0f}")
    print(f"cached hit (10 routes): {cached_ns:.0f} ns")
    worst = max(best[SIZES[-1], k] / best[SIZES[0], k] for k in ("hit", "404", "405"))
    ratio = mixed[SIZES[-1]] / mixed[SIZES[0]]
    print(f"1,000 / 10 routes: {ratio:.2f}x mixed, {worst:.2f}x worst kind (limit {LIMIT}x)")
    return 0 if ratio <= LIMIT and worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
