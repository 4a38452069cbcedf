"""Run ``python -m nethttp serve ...`` in a subprocess for the CLI, worker and proxy tests.

``Served`` starts the command in its own session (so the supervisor and every worker it
forks form one process group that cleanup can kill), drains stdout and stderr in
threads, and lets a test wait for a log line. ``served(...)`` is a context manager that
always kills the group at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

APPS = str(Path(__file__).resolve().parent)
_LISTEN = re.compile(r"listening on (https?://\S+|unix:\S+|fd://\d+)")


class Served:
    """A ``nethttp`` command running in a subprocess."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        pass_fds: Sequence[int] = (),
        argv: Sequence[str] | None = None,
    ) -> None:
        full_env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
        full_env.update(env or {})
        cmd = list(argv) if argv is not None else [sys.executable, "-m", "nethttp", *args]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=cwd,
            pass_fds=tuple(pass_fds),
            start_new_session=True,
        )
        self.out: list[str] = []  # stdout lines (the access log)
        self.err: list[str] = []  # stderr lines (events and errors)
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _drain(self, stream: Any, into: list[str]) -> None:
        for raw in stream:
            with self._cond:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(
        self, pattern: str, timeout: float = 20, stream: str = "err", count: int = 1
    ) -> list[re.Match[str]]:
        """Wait until ``count`` lines of ``stream`` match ``pattern``; return the matches."""
        rx = re.compile(pattern)
        lines = self.err if stream == "err" else self.out
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in map(rx.search, lines) if m]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._alive_readers()):
                    raise AssertionError(
                        f"no {count} line(s) matching {pattern!r} in {stream}; "
                        f"exit={self.proc.poll()}\nstderr:\n" + "\n".join(self.err[-40:])
                    )
                self._cond.wait(min(left, 0.2))

    def _alive_readers(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def urls(self, count: int = 1) -> list[str]:
        """The listeners' addresses from the "listening on" lines."""
        return [m.group(1) for m in self.wait_for(_LISTEN.pattern, count=count)]

    @property
    def url(self) -> str:
        """The first listener's URL (``http://127.0.0.1:PORT``)."""
        return self.urls()[0]

    def ready(self, workers: int = 0, timeout: float = 30) -> Served:
        """Wait until the app is ready (``workers``: that many worker ready lines)."""
        if workers:
            self.wait_for(r"worker \d+ ready", timeout=timeout, count=workers)
        else:
            self.wait_for(r"nethttp: ready", timeout=timeout)
        return self

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the command's main process."""
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        """Wait for the command to exit; return its exit code."""
        code = self.proc.wait(timeout)
        for t in self._threads:
            t.join(5)
        return code

    def kill(self) -> None:
        """Kill the whole process group (supervisor and workers) if anything is left."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(10)
        for t in self._threads:
            t.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def served(args: Sequence[str], **kwargs: Any) -> Iterator[Served]:
    """Run ``python -m nethttp <args>`` (add ``--app-dir`` yourself); killed at the end."""
    s = Served(args, **kwargs)
    try:
        yield s
    finally:
        s.kill()


def run(args: Sequence[str], timeout: float = 30, **kwargs: Any) -> tuple[int, str, str]:
    """Run the command to completion; return (exit code, stdout, stderr)."""
    with served(args, **kwargs) as s:
        code = s.wait(timeout)
        return code, "\n".join(s.out), "\n".join(s.err)


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def client() -> httpx.Client:
    """A shared client that opens a new connection for every request (no keep-alive).

    Fresh connections are what the worker tests need (a reload closes idle ones), and
    one shared client avoids building an SSL context per request as ``httpx.get`` does.
    """
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=10, limits=httpx.Limits(max_keepalive_connections=0), trust_env=False
            )
            atexit.register(_client.close)
        return _client


def get(url: str, **kwargs: Any) -> httpx.Response:
    """GET ``url`` on a new connection."""
    return client().get(url, **kwargs)
