"""nethttp benchmark suite: nethttp against uvicorn, granian and Go, in one run.

    python bench/run.py            # full run, ~10 minutes
    python bench/run.py --quick    # 1 repetition of 2 s each, a smoke test

Every server runs pinned to CPU 1 and every load generator to CPU 0, so each
server gets exactly one core and never competes with its client. All peers
are measured in the same run, round-robin per repetition, and each figure is
the median of the repetitions: on a noisy machine the absolute numbers drift,
but the ratios between servers measured side by side stay trustworthy.

Per run: req/s and p50/p99 latency from wrk; server CPU per request from the
utime+stime delta of the server's processes over the measured run; RSS after
the run. The idle scenario holds 10,000 keep-alive connections and reports
RSS growth per connection. See bench/README.md for the scenarios.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _lib as lib
import _report as rep

PY = sys.executable
NOT_BUILT = "n/a (not built yet)"
STANDARD_HEADERS = {"date", "content-length", "content-type"}


@dataclass(frozen=True)
class Peer:
    """How to start one server; '{port}' in argv is replaced by its port."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # Extra arguments for the idle scenario only (see uvicorn below).
    idle_args: list[str] = field(default_factory=list)
    unavailable: str = ""  # why it cannot run here, if it cannot


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    path: str = "/"
    method: str = "GET"
    body: int = 0
    connections: int = 64
    headers: dict[str, str] = field(default_factory=dict)
    idle: int = 0  # > 0: hold this many idle keep-alive connections instead of wrk


# A browser-like request: 11 headers plus the Host wrk always sends = 12.
REALISTIC_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.5",
    "Accept-Encoding": "gzip, deflate, br",
    "Connection": "keep-alive",
    "Cookie": "session=6f1c2a9e3b7d4e0f8a5c; theme=dark; _ga=GA1.1.1234567890.1700000000",
    "Referer": "https://example.com/articles/2024/benchmarks",
    "Upgrade-Insecure-Requests": "1",
    "Cache-Control": "max-age=0",
    "X-Forwarded-For": "203.0.113.7",
    "X-Request-Id": "3f9d1c2b-7a4e-4b8f-9c1d-2e6a5b4c3d2f",
}

SCENARIOS = [
    Scenario("plaintext-c64", "GET / 'Hello, World!', 64 connections"),
    Scenario("plaintext-c256", "GET / 'Hello, World!', 256 connections", connections=256),
    Scenario(
        "headers12-c64",
        "GET / with 12 realistic request headers, 64 connections",
        headers=REALISTIC_HEADERS,
    ),
    Scenario(
        "echo-64k-c64",
        "POST /echo 64 KiB body echoed back, 64 connections",
        path="/echo",
        method="POST",
        body=1 << 16,
        headers={"Content-Type": "application/octet-stream"},
    ),
    Scenario("big-1m-c64", "GET /big 1 MiB response, 64 connections", path="/big"),
    Scenario("idle-10k", "10,000 idle keep-alive connections, RSS per connection", idle=10_000),
]


SERVER_NAMES = [
    "nethttp",
    "nethttp-asgi",
    "uvicorn",
    "granian-asgi",
    "granian-rsgi",
    "go",
    "nethttp-wsgi",
    "gunicorn-gthread",
]
# Run only when named with --only: a reference, not a peer (bench/servers/floor.py).
EXTRA_SERVER_NAMES = ["floor"]


def make_peers(names: list[str], install: bool) -> list[Peer]:
    """The chosen servers, in SERVER_NAMES order, each with why it cannot run
    here if it cannot; only what they need is installed or built."""
    py_env = {"PYTHONPATH": f"{lib.REPO / 'src'}:{lib.SERVERS}"}
    peers: dict[str, Peer] = {}
    peers["nethttp"] = Peer("nethttp", [PY, "nethttp_native.py", "{port}"], py_env)
    peers["floor"] = Peer("floor", [PY, "floor.py", "{port}"], py_env)
    peers["nethttp-asgi"] = Peer(
        "nethttp-asgi",
        [PY, "nethttp_asgi.py", "{port}"],
        py_env,
        unavailable=asgi_missing(py_env) if "nethttp-asgi" in names else "",
    )

    wanted = {"uvicorn", "granian-asgi", "granian-rsgi"} & set(names)
    if install and wanted and not lib.have_modules("uvicorn", "httptools", "uvloop", "granian"):
        lib.pip_install("uvicorn[standard]", "granian")
    # Access logs are off everywhere: uvicorn's is on by default, granian's is
    # off by default, Go and nethttp have none.
    uvicorn = "uvicorn --http httptools --loop uvloop --no-access-log"
    peers["uvicorn"] = Peer(
        "uvicorn",
        [PY, "-m", *f"{uvicorn} --host 127.0.0.1 --port {{port}} asgi_app:app".split()],
        py_env,
        # uvicorn closes idle keep-alive connections after 5 s by default,
        # before the idle scenario could count them.
        idle_args=["--timeout-keep-alive", "120"],
        unavailable="" if lib.have_modules("uvicorn", "httptools", "uvloop") else "not installed",
    )
    # One worker with one runtime thread: one core's worth of granian.
    granian = "granian --workers 1 --runtime-threads 1 --host 127.0.0.1 --port {port}"
    for interface, module in (("asgi", "asgi_app"), ("rsgi", "rsgi_app")):
        peers[f"granian-{interface}"] = Peer(
            f"granian-{interface}",
            [PY, "-m", *granian.split(), "--interface", interface, f"{module}:app"],
            py_env,
            # Past --backpressure (default backlog/workers = 1024) granian
            # stops answering new connections, so the idle scenario raises it.
            idle_args=["--backpressure", "{idle}"],
            unavailable="" if lib.have_modules("granian") else "not installed",
        )

    # WSGI: nethttp's adapter against gunicorn's threaded worker, one process each
    # (gunicorn's own recipe for blocking apps: -k gthread with 8 threads).
    peers["nethttp-wsgi"] = Peer("nethttp-wsgi", [PY, "nethttp_wsgi.py", "{port}"], py_env)
    if install and "gunicorn-gthread" in names and not lib.have_modules("gunicorn"):
        lib.pip_install("gunicorn")
    gunicorn = "gunicorn -k gthread --threads 8 --workers 1 --bind 127.0.0.1:{port}"
    peers["gunicorn-gthread"] = Peer(
        "gunicorn-gthread",
        [PY, "-m", *gunicorn.split(), "wsgi_app:app"],
        py_env,
        # gunicorn closes idle keep-alive connections after 2 s by default.
        idle_args=["--keep-alive", "120"],
        unavailable="" if lib.have_modules("gunicorn") else "not installed",
    )

    if "go" in names:
        binary, why = lib.ensure_go_server(install)
        peers["go"] = Peer("go", [str(binary), "{port}"], {"GOMAXPROCS": "1"}, unavailable=why)
    return [peers[n] for n in SERVER_NAMES + EXTRA_SERVER_NAMES if n in names]


def asgi_missing(py_env: dict[str, str]) -> str:
    """NOT_BUILT while nethttp.asgi does not exist. Any other import error is
    left for the server's start to report, as a failure."""
    probe = subprocess.run(
        [PY, "-c", "import nethttp.asgi"],
        env=lib.child_env(py_env),
        capture_output=True,
        text=True,
        check=False,
    )
    return NOT_BUILT if "No module named 'nethttp.asgi'" in probe.stderr else ""


def command_line(peer: Peer, idle: bool = False) -> str:
    env = " ".join(f"{k}={v}" for k, v in peer.env.items() if k != "PYTHONPATH")
    argv = _argv(peer, "PORT", "N" if idle else "")
    if argv[0] == PY:
        argv[0] = "python"
    argv = [a.replace(f"{lib.REPO}/", "") for a in argv]  # the Go binary's path
    return " ".join([*([env] if env else []), f"taskset -c {lib.SERVER_CPU}", *argv])


def _argv(peer: Peer, port: str, idle: str) -> list[str]:
    """argv with '{port}' filled in, plus the idle arguments if `idle` is a count."""
    argv = peer.argv + (peer.idle_args if idle else [])
    return [a.replace("{port}", port).replace("{idle}", idle) for a in argv]


def server_for(peer: Peer, idle: int = 0) -> lib.Server:
    port = lib.free_port()
    argv = _argv(peer, str(port), str(idle) if idle else "")
    return lib.Server(peer.name, argv, port, lib.SERVERS, lib.child_env(peer.env))


# --- measuring --------------------------------------------------------------


def measure_wrk(
    server: lib.Server, scenario: Scenario, script: Path, wrk: str, seconds: float
) -> dict[str, Any]:
    if not server.alive():
        return {"error": f"server died: {server.log_tail()}"}
    url = f"http://127.0.0.1:{server.port}{scenario.path}"
    try:
        lib.run_wrk(wrk, script, url, scenario.connections, 1)  # warm-up, not counted
        pids = server.pids()
        cpu0, core0 = lib.cpu_seconds(pids), lib.core_ticks(lib.SERVER_CPU)
        res = lib.run_wrk(wrk, script, url, scenario.connections, seconds)
        cpu, core1 = lib.cpu_seconds(pids) - cpu0, lib.core_ticks(lib.SERVER_CPU)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    requests, elapsed = res["requests"], res["duration_us"] / 1e6
    errors = sum(res[k] for k in ("connect", "read", "write", "status", "timeout"))
    busy, total = core1[0] - core0[0], core1[1] - core0[1]
    return {
        "rps": requests / elapsed,
        "p50_ms": res["p50_us"] / 1000,
        "p99_ms": res["p99_us"] / 1000,
        "cpu_us_per_req": cpu * 1e6 / requests if requests else math.nan,
        "rss_kib": lib.rss_kib(server.pids()),
        "server_core_pct": 100 * busy / total if total else math.nan,
        "wrk_cpu_pct": 100 * res["wrk_cpu_s"] / elapsed,
        "errors": errors,
        "requests": requests,
    }


def measure_idle(peer: Peer, scenario: Scenario) -> dict[str, Any]:
    server = server_for(peer, idle=scenario.idle)
    try:
        why = server.start()
        if why:
            return {"error": f"failed to start: {why}"}
        lib.probe(server.port)  # first request's lazy set-up is not per connection
        return lib.hold_idle(server, scenario.idle)
    except (OSError, TimeoutError, RuntimeError) as exc:
        return {"error": repr(exc)}
    finally:
        server.stop()


def run_all(
    peers: list[Peer],
    scenarios: list[Scenario],
    reps: int,
    seconds: float,
    wrk: str | None,
    info: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Every (repetition, scenario, server), servers round-robin within each."""
    runs: list[dict[str, Any]] = []
    live = [p for p in peers if not p.unavailable]
    wrk_scenarios = [s for s in scenarios if not s.idle] if wrk else []
    servers: dict[str, lib.Server] = {}
    scripts = lib.CACHE / "wrk"  # kept, so a run can be repeated by hand
    scripts.mkdir(parents=True, exist_ok=True)
    try:
        if wrk_scenarios:
            for peer in live:
                server = server_for(peer)
                why = server.start()
                if why:
                    info[peer.name]["failed"] = f"failed to start: {why}"
                    continue
                servers[peer.name] = server
                names, problems = lib.probe(server.port)
                info[peer.name]["extra_headers"] = sorted(set(names) - STANDARD_HEADERS)
                info[peer.name]["problems"] = problems
                info[peer.name]["processes"] = len(server.pids())
        for rep in range(reps):
            # Rotate the order too, so no server always follows the same one.
            order = live[rep % len(live) :] + live[: rep % len(live)] if live else []
            for scenario in scenarios:
                script = scripts / f"{scenario.name}.lua"
                script.write_text(lib.wrk_script(scenario.method, scenario.body, scenario.headers))
                for peer in order:
                    if scenario.idle:
                        result = measure_idle(peer, scenario)
                    elif wrk and peer.name in servers:
                        result = measure_wrk(servers[peer.name], scenario, script, wrk, seconds)
                    else:
                        continue  # failed to start: reported once, from info
                    runs.append({"rep": rep, "scenario": scenario.name, "server": peer.name})
                    runs[-1].update(result)
                    lib.log(f"  {rep + 1}/{reps} {scenario.name:15} {peer.name:13} {brief(result)}")
    finally:
        for server in servers.values():
            server.stop()
    return runs


def brief(r: dict[str, Any]) -> str:
    if "error" in r:
        return "error: " + r["error"][:120]
    if "kib_per_conn" in r:
        return f"{r['kib_per_conn']:.1f} KiB/conn ({r['alive']}/{r['opened']} alive)"
    return f"{r['rps']:,.0f} req/s p99 {r['p99_ms']:.2f} ms {r['cpu_us_per_req']:.0f} µs/req"


# --- reporting --------------------------------------------------------------


def notes(peers: list[Peer], info: dict[str, dict[str, Any]], idle: bool) -> str:
    lines = [
        "Every server answers GET / with 'Hello, World!' as text/plain with Date and "
        "Content-Length, and runs with its defaults except: access logs off everywhere "
        "(uvicorn --no-access-log; granian's is off by default; Go and nethttp have "
        "none), one core each (taskset, GOMAXPROCS=1, granian 1 worker 1 runtime thread)."
    ]
    if idle:
        lines.append(
            "Idle scenario only: uvicorn --timeout-keep-alive 120, because its 5 s "
            "default closes the connections being counted; granian --backpressure N, "
            "because by default it answers only 1024 (backlog/workers) connections "
            "at once and leaves the rest waiting."
        )
    for p in peers:
        i = info[p.name]
        if "extra_headers" in i:
            extra = ", ".join(i["extra_headers"]) or "none"
            lines.append(f"{p.name}: extra response headers by default: {extra}.")
        if i.get("processes", 1) > 1:
            lines.append(
                f"{p.name}: {i['processes']} processes (supervisor + worker); "
                "CPU and RSS are summed over all of them."
            )
        for problem in i.get("problems", []):
            lines.append(f"{p.name}: WARNING {problem}")
    return "\n".join(f"- {x}" for x in lines)


def commands(peers: list[Peer], scenarios: list[Scenario], seconds: float) -> str:
    lines = ["Servers (cwd bench/servers, PYTHONPATH=src:bench/servers):"]
    idle = any(s.idle for s in scenarios)
    for p in peers:
        lines.append(f"    {p.name:13} {command_line(p)}")
        if idle and p.idle_args:
            lines.append(f"    {'  (idle)':13} {command_line(p, idle=True)}")
    lines += ["Load (each wrk run follows a 1 s warm-up run with the same script):"]
    for s in scenarios:
        if s.idle:
            lines.append(
                f"    {s.name:15} taskset -c {lib.CLIENT_CPU} python bench/idle_client.py "
                f"PORT {s.idle}"
            )
        else:
            lines.append(
                f"    {s.name:15} "
                + lib.wrk_command_line(
                    f"bench/.cache/wrk/{s.name}.lua", s.connections, seconds, s.path
                )
            )
    return "\n".join(lines)


# --- main -------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (5)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions; figures are medians (3)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 repetition of 2 s")
    ap.add_argument("--only", help="comma-separated servers to run (default: all)")
    ap.add_argument("--scenarios", help="comma-separated scenarios to run (default: all)")
    ap.add_argument(
        "--idle-connections",
        type=int,
        default=10_000,
        help="connections for the idle scenario (10000)",
    )
    ap.add_argument(
        "--no-install",
        action="store_true",
        help="use what is installed; do not pip/apt-get anything",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.reps, args.duration = 1, 2.0
    return args


def pick(names: str | None, known: list[str], what: str, extra: tuple[str, ...] = ()) -> list[str]:
    if not names:
        return known
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in (*known, *extra)]
    if unknown:
        choices = ", ".join((*known, *extra))
        sys.exit(f"unknown {what}: {', '.join(unknown)}; choose from {choices}")
    return wanted


def estimate(peers: list[Peer], scenarios: list[Scenario], reps: int, seconds: float) -> float:
    live = sum(not p.unavailable for p in peers)
    per_wrk = 1 + seconds + 0.5  # warm-up, run, start/teardown of wrk
    per_idle = 8.0  # start a server, open the connections, sample, stop
    wrk_runs = sum(not s.idle for s in scenarios) * per_wrk
    idle_runs = sum(bool(s.idle) for s in scenarios) * per_idle
    return live * (2 + reps * (wrk_runs + idle_runs))


def with_idle_count(s: Scenario, n: int) -> Scenario:
    if not s.idle:
        return s
    name = f"idle-{n // 1000}k" if n % 1000 == 0 else f"idle-{n}"
    return dataclasses.replace(s, name=name, what=s.what.replace("10,000", f"{n:,}"), idle=n)


def main() -> int:
    args = parse_args()
    chosen = pick(args.scenarios, [s.name for s in SCENARIOS], "scenarios")
    scenarios = [with_idle_count(s, args.idle_connections) for s in SCENARIOS if s.name in chosen]
    names = pick(args.only, SERVER_NAMES, "servers", tuple(EXTRA_SERVER_NAMES))
    install = not args.no_install
    limit = lib.raise_nofile(args.idle_connections + 1024)
    if any(s.idle for s in scenarios) and limit < args.idle_connections + 100:
        lib.log(f"warning: RLIMIT_NOFILE is {limit}; the idle scenario may fall short")
    wrk = lib.ensure_wrk(install) if any(not s.idle for s in scenarios) else None
    if wrk is None and any(not s.idle for s in scenarios):
        lib.log("warning: wrk not found and not installable; skipping wrk scenarios")
    peers = make_peers(names, install)
    info: dict[str, dict[str, Any]] = {p.name: {} for p in peers}

    minutes = estimate(peers, scenarios, args.reps, args.duration) / 60
    lib.log(
        f"running {len(scenarios)} scenarios x {sum(not p.unavailable for p in peers)} "
        f"servers x {args.reps} repetitions of {args.duration:g} s: about {minutes:.1f} min"
    )
    for p in peers:
        if p.unavailable:
            lib.log(f"  {p.name}: {p.unavailable}")
    load = lib.background_load()
    if max(load.values()) > 10:
        lib.log(
            f"warning: the machine is busy before we start ({rep.fmt_load(load)}); "
            "absolute figures will be noisy, ratios less so"
        )
    started = time.monotonic()
    runs = run_all(peers, scenarios, args.reps, args.duration, wrk, info)
    elapsed = time.monotonic() - started

    rows = rep.summarise(runs, cells(peers, scenarios, info))
    how = f"the run took {elapsed / 60:.1f} min; other load just before it: {rep.fmt_load(load)}"
    text, data = report(args, peers, scenarios, rows, info, wrk, how)
    print("\n" + text)
    # Only a full run replaces latest.*, the table the README quotes; a partial one
    # (--only, --scenarios, --quick) goes to partial.*.
    full = not (args.only or args.scenarios or args.quick)
    stem = "latest" if full else "partial"
    rep.write_results(text, {**data, "background_load_pct": load, "runs": runs}, stem)
    lib.log(f"\nwrote {rep.RESULTS / (stem + '.md')} and {rep.RESULTS / (stem + '.json')}")
    return 0


def cells(
    peers: list[Peer], scenarios: list[Scenario], info: dict[str, dict[str, Any]]
) -> list[tuple[str, str, str]]:
    """(scenario, server, status) for every row of the table; the status is
    set when the row has no figures for a known reason."""
    out = []
    for s in scenarios:
        for p in peers:
            # A start failure in the wrk phase says nothing of the idle runs,
            # which start their own servers.
            status = p.unavailable or ("" if s.idle else info[p.name].get("failed", ""))
            out.append((s.name, p.name, status))
    return out


def report(
    args: argparse.Namespace,
    peers: list[Peer],
    scenarios: list[Scenario],
    rows: list[dict[str, Any]],
    info: dict[str, dict[str, Any]],
    wrk: str | None,
    how_it_went: str,
) -> tuple[str, dict[str, Any]]:
    """The Markdown report and the JSON record."""
    mach = lib.machine()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    go = next((p for p in peers if p.name == "go" and not p.unavailable), None)
    versions = {
        **{d: lib.version_of(d) for d in ("nethttp", "uvicorn", "granian", "httptools", "uvloop")},
        "wrk": lib.wrk_version(wrk),
        "go": lib.go_version(Path(go.argv[0])) if go else "-",
    }
    text = "\n\n".join(
        [
            f"# nethttp benchmarks, {when}",
            f"Machine: {mach['cpu']}, {mach['cores']} cores, Linux {mach['kernel']}, "
            f"Python {mach['python']}. Servers on CPU {lib.SERVER_CPU}, load on CPU "
            f"{lib.CLIENT_CPU}. Median of {args.reps} interleaved run(s) of {args.duration:g} s "
            f"each; {how_it_went}.",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            rep.table(rows),
            rep.LEGEND,
            rep.ratios(rows, [s.name for s in scenarios]),
            notes(peers, info, any(s.idle for s in scenarios)),
            "```\n" + commands(peers, scenarios, args.duration) + "\n```",
        ]
    )
    data = {
        "date": when,
        "machine": mach,
        "versions": versions,
        "args": vars(args),
        "servers": {
            p.name: {
                "command": command_line(p),
                "idle_command": command_line(p, idle=True),
                "unavailable": p.unavailable,
                **info[p.name],
            }
            for p in peers
        },
        "scenarios": [s.__dict__ for s in scenarios],
        "summary": rows,
    }
    return text, data


if __name__ == "__main__":
    sys.exit(main())
