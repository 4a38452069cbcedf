"""The examples run as their users run them: as scripts, stopped with SIGTERM.

Each one is started on a free port (``NETHTTP_ADDR=127.0.0.1:0``; the real port is read
from the "serving on" log line) or a temporary socket path, answered over a real
client, then sent SIGTERM; a graceful exit is code 0.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class Example:
    """An example script running in a child process, its stderr collected by a thread."""

    def __init__(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / name), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self.lines.append("")  # EOF marker
            self._cond.notify_all()

    def serving_on(self, timeout: float = 10) -> str:
        """Wait for the "serving on" log line; return the address it names."""
        found: list[str] = []

        def ready() -> bool:
            found.extend(
                m.group(1) for ln in self.lines if (m := re.search(r"serving on \S+://(\S+)", ln))
            )
            return bool(found) or "" in self.lines

        with self._cond:
            self._cond.wait_for(ready, timeout)
        assert found, f"the example did not start: {''.join(self.lines)}"
        return found[0]

    def stop(self) -> int:
        """SIGTERM, then the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        finally:
            self._pump.join(5)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._pump.join(5)
        assert self.proc.stderr is not None
        self.proc.stderr.close()

    @property
    def log(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def example() -> Iterator[Any]:
    started: list[Example] = []

    def start(name: str, *args: str, env: dict[str, str] | None = None) -> Example:
        ex = Example(name, *args, env=env)
        started.append(ex)
        return ex

    yield start
    for ex in started:
        ex.close()


def test_hello(example: Any) -> None:
    ex = example("hello.py", env={"NETHTTP_ADDR": "127.0.0.1:0"})
    url = "http://" + ex.serving_on()
    with httpx.Client() as client:
        response = client.get(url + "/")
        assert (response.status_code, response.text) == (200, "Hello, World!\n")
        assert client.get(url + "/headers", headers={"X-Probe": "yes"}).text.count("X-Probe: yes")
    assert ex.stop() == 0, ex.log
    assert "shutting down" in ex.log


def test_conn_tracking(example: Any) -> None:
    ex = example("conn_tracking.py", env={"NETHTTP_ADDR": "127.0.0.1:0"})
    url = "http://" + ex.serving_on()
    # Two clients with keep-alive: while one asks, the other's connection sits idle.
    with httpx.Client() as first, httpx.Client() as second:
        report = first.get(url).text
        assert report.startswith("live connections: 1\nthis connection: 127.0.0.1:"), report
        assert report.splitlines()[1].endswith(" active"), report
        report = second.get(url).text
        lines = report.splitlines()
        assert lines[0] == "live connections: 2", report
        assert lines[1].endswith(" active"), report
        assert sorted(ln.split()[-1] for ln in lines[2:]) == ["active", "idle"], report
    # Both clients closed their connections: the dict forgets them.
    with httpx.Client() as third:
        lines = third.get(url).text.splitlines()
        assert lines[0] == "live connections: 1", lines
    assert ex.stop() == 0, ex.log


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="nethttp-ex-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_peercred(example: Any, sock_dir: Path) -> None:
    path = str(sock_dir / "peercred.sock")
    ex = example("peercred.py", path)
    assert ex.serving_on() == path
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o666)
    with httpx.Client(transport=httpx.HTTPTransport(uds=path)) as client:
        creds = client.get("http://localhost/").json()
    assert creds == {"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid()}
    assert ex.stop() == 0, ex.log
    assert not os.path.exists(path)  # the socket file goes with the server


def test_peercred_path_from_environment(example: Any, sock_dir: Path) -> None:
    path = str(sock_dir / "from-env.sock")
    ex = example("peercred.py", env={"NETHTTP_SOCKET": path})
    assert ex.serving_on() == path
    assert ex.stop() == 0, ex.log


def test_todo_api(example: Any) -> None:
    ex = example("todo_api.py", env={"NETHTTP_ADDR": "127.0.0.1:0"})
    url = "http://" + ex.serving_on()
    with httpx.Client(base_url=url) as client:
        created = client.post("/todos", json={"title": "write tests"})
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/todos/1"
        assert client.get("/todos/1").json() == {"id": 1, "title": "write tests", "done": False}
        assert client.get("/todos").json()[0]["title"] == "write tests"
        wrong = client.put("/todos")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET, HEAD, POST")
        assert client.post("/todos", content=b"not json").status_code == 400
        assert client.post("/todos", content=b"x" * (70 << 10)).status_code == 413
        assert client.delete("/todos/1").status_code == 204
        assert client.get("/todos/1").status_code == 404
        assert client.get("/", follow_redirects=True).json() == []
    assert ex.stop() == 0, ex.log
    assert '"GET /todos/1 HTTP/1.1" 200' in ex.log  # the access log
