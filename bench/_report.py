"""Turning runs into the report: medians, the table, the ratios, the files.

Pure functions of the run records that run.py collects; nothing here
measures anything.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

LEGEND = (
    "Columns: CPU µs/req is the server processes' utime+stime over the measured run "
    "divided by requests (loopback TCP work done in softirq is charged to no process and "
    "is not in it); RSS is after the run, summed over the server's processes; busy srv/wrk "
    "is how busy the server's core was (softirq included) and how much of its core wrk "
    "used: a server core under ~90% means the figure is not the server's limit; spread is "
    "(max-min)/median of req/s over the repetitions."
)

_MEDIANS = [
    "rps",
    "p50_ms",
    "p99_ms",
    "cpu_us_per_req",
    "rss_kib",
    "errors",
    "server_core_pct",
    "wrk_cpu_pct",
    "kib_per_conn",
    "rss_before_kib",
    "rss_after_kib",
    "opened",
    "alive",
]


def median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if key in r and not math.isnan(r[key])]
    return statistics.median(values) if values else math.nan


def summarise(
    runs: list[dict[str, Any]], cells: list[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    """One row per (scenario, server, status): medians over the runs that
    worked, or the status ('n/a ...', 'failed to start ...') when it is set."""
    rows = []
    for scenario, server, status in cells:
        mine = [r for r in runs if r["scenario"] == scenario and r["server"] == server]
        ok = [r for r in mine if "error" not in r]
        row: dict[str, Any] = {"scenario": scenario, "server": server, "runs": len(ok)}
        if status:
            row["status"] = status
        elif not ok:
            row["status"] = mine[0]["error"] if mine else "not run"
        else:
            row.update({k: median(ok, k) for k in _MEDIANS if k in ok[0]})
            if "rps" in row and len(ok) > 1:
                rates = [r["rps"] for r in ok]
                row["spread_pct"] = 100 * (max(rates) - min(rates)) / row["rps"]
            if len(ok) < len(mine):
                failed = next(r["error"] for r in mine if "error" in r)
                row["note"] = f"{len(mine) - len(ok)} run(s) failed: {failed}"
        rows.append(row)
    return rows


def fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def table(rows: list[dict[str, Any]]) -> str:
    head = [
        "scenario",
        "server",
        "req/s",
        "spread",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "RSS MiB",
        "KiB/conn",
        "busy srv/wrk",
        "notes",
    ]
    body = []
    for r in rows:
        if "status" in r:
            body.append([r["scenario"], r["server"], r["status"][:100], *["-"] * 7, ""])
            continue
        notes = []
        if r.get("errors"):
            notes.append(f"{r['errors']:.0f} wrk errors")
        if "alive" in r and r["alive"] < r["opened"]:
            notes.append(f"only {r['alive']:.0f} of {r['opened']:.0f} still open")
        if "note" in r:
            notes.append(r["note"][:60])
        busy = "-"
        if "server_core_pct" in r:
            busy = f"{r['server_core_pct']:.0f}/{r['wrk_cpu_pct']:.0f}%"
            if r["wrk_cpu_pct"] > 90 and r["server_core_pct"] < 90:
                notes.append("load generator was the limit")
        if "kib_per_conn" in r:
            rss = f"{r['rss_before_kib'] / 1024:.0f} → {r['rss_after_kib'] / 1024:.0f}"
        else:
            rss = fmt(r.get("rss_kib", math.nan) / 1024, ".0f")
        body.append(
            [
                r["scenario"],
                r["server"],
                fmt(r.get("rps"), ",.0f"),
                fmt(r.get("spread_pct"), ".0f") + ("%" if "spread_pct" in r else ""),
                fmt(r.get("p50_ms"), ".2f"),
                fmt(r.get("p99_ms"), ".2f"),
                fmt(r.get("cpu_us_per_req"), ".1f"),
                rss,
                fmt(r.get("kib_per_conn"), ".1f"),
                busy,
                "; ".join(notes),
            ]
        )
    return markdown(head, body)


def markdown(head: list[str], body: list[list[str]]) -> str:
    body = [[c.replace("|", "/") for c in row] for row in body]  # error texts
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])


def ratios(rows: list[dict[str, Any]], scenarios: list[str]) -> str:
    """nethttp against each peer, scenario by scenario."""
    by = {(r["scenario"], r["server"]): r for r in rows}
    pairs = [("nethttp", p) for p in ("go", "uvicorn", "granian-asgi", "granian-rsgi", "floor")]
    pairs += [("nethttp-asgi", "uvicorn"), ("nethttp-asgi", "granian-asgi")]
    pairs.append(("nethttp-wsgi", "gunicorn-gthread"))
    present = {r["server"] for r in rows}
    pairs = [(a, b) for a, b in pairs if a in present and b in present]
    head = ["scenario", *(f"{a} vs {b}" for a, b in pairs)]
    body = []
    for s in scenarios:
        cells = [s]
        for a, b in pairs:
            x, y = by.get((s, a), {}), by.get((s, b), {})
            if "kib_per_conn" in x and "kib_per_conn" in y and y["kib_per_conn"] > 0:
                cells.append(f"KiB/conn {x['kib_per_conn'] / y['kib_per_conn']:.2f}×")
            elif "rps" in x and "rps" in y:
                rps, p99 = x["rps"] / y["rps"], x["p99_ms"] / y["p99_ms"]
                cpu = x["cpu_us_per_req"] / y["cpu_us_per_req"]
                cells.append(f"{rps:.2f}× req/s, p99 {p99:.2f}×, CPU {cpu:.2f}×")
            else:
                cells.append("n/a")
        body.append(cells)
    return (
        "Ratios, first server ÷ second (req/s: above 1 is faster; p99, CPU µs/req and "
        "KiB/conn: below 1 is better):\n\n" + markdown(head, body)
    )


def _no_nan(x: Any) -> Any:
    """JSON has no NaN; a figure that could not be measured is null."""
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_nan(v) for v in x]
    return x


def write_results(report: str, data: dict[str, Any], stem: str = "latest") -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    as_json = json.dumps(_no_nan(data), indent=2, ensure_ascii=False)
    for name, text in ((f"{stem}.md", report), (f"{stem}.json", as_json)):
        tmp = RESULTS / (name + ".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(RESULTS / name)  # a reader never sees half a file


def fmt_load(load: dict[str, float]) -> str:
    return ", ".join(f"{cpu} {pct:.0f}% busy" for cpu, pct in load.items())
