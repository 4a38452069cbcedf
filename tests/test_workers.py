"""``nethttp serve --workers N``: the supervisor restarts, recycles, reloads and drains.

Every test runs the real command in a subprocess (its own process group, killed at the
end) and checks from the outside: answers to real requests, worker pids, exit codes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from apps.cli_runner import APPS, Served, get, run, served

NATIVE = ["serve", "native_app:mux", "--app-dir", APPS]


def _pid_of(url: str, path: str = "/") -> int:
    # A fresh connection per request: a reload closes idle keep-alive connections.
    r = get(url + path)
    assert r.status_code == 200, r.text
    return int(r.json()["pid"])


def _ready_pids(s: Served, count: int) -> list[int]:
    return [int(m.group(1)) for m in s.wait_for(r"worker (\d+) ready", count=count)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of a dead supervisor is not serving; /proc tells.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"
    return True


def _wait_gone(pids: list[int], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_crashed_worker_is_replaced() -> None:
    with served([*NATIVE, "--port", "0", "--workers", "2"]) as s:
        first = _ready_pids(s, 2)
        url = s.url
        os.kill(first[0], signal.SIGKILL)
        s.wait_for(rf"worker {first[0]} died \(killed by SIGKILL\); starting another")
        pids = _ready_pids(s, 3)
        assert set(pids[:2]) == set(first) and pids[2] not in first
        # Requests keep being answered, by the survivors and the newcomer only.
        seen = {_pid_of(url) for _ in range(20)}
        assert seen <= {first[1], pids[2]}
        # A worker that exits by itself (os._exit in a handler) is replaced as well.
        with contextlib.suppress(httpx.HTTPError):
            get(url + "/crash")
        s.wait_for(r"died \(exit code 7\)")
        _ready_pids(s, 4)
        s.signal(signal.SIGTERM)
        assert s.wait() == 0


def test_sighup_under_load_answers_every_request() -> None:
    with served([*NATIVE, "--port", "0", "--workers", "2"]) as s:
        old = set(_ready_pids(s, 2))
        url = s.url
        statuses: list[int] = []
        errors: list[BaseException] = []
        pids: list[tuple[float, int]] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    r = get(url + "/")
                    statuses.append(r.status_code)
                    pids.append((time.monotonic(), r.json()["pid"]))
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            while len(statuses) < 50 and not errors:
                time.sleep(0.01)
            s.signal(signal.SIGHUP)
            new = set(_ready_pids(s, 4)) - old
            s.wait_for(r"worker \d+ exited", count=2)
            reloaded = time.monotonic()
            count = len(statuses)
            while len(statuses) < count + 50 and not errors:
                time.sleep(0.01)
        finally:
            stop.set()
            for t in threads:
                t.join(15)
        assert errors == []
        assert statuses and set(statuses) == {200}
        assert len(new) == 2
        assert {pid for t, pid in pids if t > reloaded + 0.5} <= new  # old ones are gone
        s.signal(signal.SIGTERM)
        assert s.wait() == 0


def test_sigterm_drains_in_flight_requests() -> None:
    with served([*NATIVE, "--port", "0", "--workers", "2"]) as s:
        pids = _ready_pids(s, 2)
        url = s.url
        results: list[httpx.Response] = []
        slow = threading.Thread(target=lambda: results.append(get(url + "/slow?s=1")))
        slow.start()
        time.sleep(0.3)  # the request is being handled
        s.signal(signal.SIGTERM)
        slow.join(15)
        assert s.wait() == 0
        assert results and results[0].status_code == 200
        assert results[0].text.startswith("slow done")
        assert results[0].headers["Connection"] == "close"
        assert _wait_gone(pids)
        host, port = url[len("http://") :].split(":")
        with pytest.raises(OSError):
            socket.create_connection((host, int(port)), timeout=2).close()


def test_max_requests_recycles_without_losing_a_request() -> None:
    args = [*NATIVE, "--port", "0", "--workers", "1", "--max-requests", "4"]
    with served([*args, "--max-requests-jitter", "2"]) as s:
        _ready_pids(s, 1)
        # Every request is answered while workers are replaced every 4 to 6 requests (the
        # old one serves on until its replacement is ready; all within a bounded wait).
        seen: set[int] = set()
        deadline = time.monotonic() + 20
        while len(seen) < 3 and time.monotonic() < deadline:
            seen.add(_pid_of(s.url))
        assert len(seen) >= 3
        assert len(s.wait_for(r"reached its request limit", count=2)) >= 2
        s.signal(signal.SIGTERM)
        assert s.wait() == 0


def test_first_boot_failure_stops_with_the_worker_exit_code() -> None:
    code, _, err = run(["serve", "nosuchmodule:app", "--port", "0", "--workers", "2"])
    assert code == 1
    assert 'could not import module "nosuchmodule"' in err
    assert "failed to boot" in err


def test_supervisor_death_ends_the_workers() -> None:
    with served([*NATIVE, "--port", "0", "--workers", "2"]) as s:
        pids = _ready_pids(s, 2)
        s.proc.kill()  # SIGKILL: no chance to stop them itself
        s.proc.wait(10)
        assert _wait_gone(pids)


def test_tcp_unix_and_inherited_fd_with_reuse_port(tmp_path: Path) -> None:
    path = str(tmp_path / "w.sock")
    inherited = socket.create_server(("127.0.0.1", 0))
    fd = inherited.fileno()
    binds = ["-b", "127.0.0.1:0", "-b", f"unix:{path}", "-b", f"fd://{fd}"]
    try:
        with served([*NATIVE, "--workers", "2", "--reuse-port", *binds], pass_fds=[fd]) as s:
            workers = set(_ready_pids(s, 2))
            tcp, _, inherited_url = s.urls(3)
            assert {_pid_of(tcp) for _ in range(10)} <= workers  # each worker's own socket
            assert {_pid_of(inherited_url) for _ in range(10)} <= workers  # shared
            with httpx.Client(transport=httpx.HTTPTransport(uds=path)) as c:
                assert c.get("http://x/", headers={"Connection": "close"}).json()["pid"] in workers
            s.signal(signal.SIGTERM)
            assert s.wait() == 0
        assert not os.path.exists(path)
    finally:
        inherited.close()


VERSION = """
import nethttp

async def app(w, r):
    await w.write(b"%s")
"""


def _write(path: Path, text: str, mtime: float) -> None:
    path.write_text(text)
    os.utime(path, (mtime, mtime))  # a distinct mtime even on a coarse clock


def test_reload_on_source_change(tmp_path: Path) -> None:
    module = tmp_path / "reloaded.py"
    _write(module, VERSION % "v1", 1_000_000)
    args = ["reloaded:app", "--app-dir", str(tmp_path), "--port", "0", "--reload"]
    with served([*args, "--reload-dir", str(tmp_path)]) as s:
        _ready_pids(s, 1)
        url = s.url
        assert get(url).text == "v1"
        _write(module, VERSION % "v2", 1_000_010)
        s.wait_for(r"reloaded\.py changed; reloading")
        _ready_pids(s, 2)
        s.wait_for(r"worker \d+ exited")
        assert get(url).text == "v2"
        # Broken code does not take the server down: the running worker keeps serving.
        _write(module, "this is not python", 1_000_020)
        s.wait_for(r"new worker \d+ failed to boot .*the running workers keep serving")
        assert get(url).text == "v2"
        s.signal(signal.SIGINT)
        assert s.wait() == 0
