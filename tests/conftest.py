"""Shared fixtures: a real nethttp server on 127.0.0.1 in a background thread.

``serve(handler, **server_options)`` starts a ``Server`` on its own event loop (uvloop,
as in production) in a thread, and returns a ``Running`` object with ``.url``,
``.host``, ``.port``, ``.server`` and ``.loop``; it is shut down at the end of the test.
Tests then talk to it with real clients: httpx, http.client, raw sockets.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import nethttp
from nethttp._server import _new_loop


class Running:
    """A server running in a background thread."""

    def __init__(self, server: nethttp.Server, listener: nethttp.Listener) -> None:
        self.server = server
        self.listener = listener
        self.host = "127.0.0.1"
        tcp = listener.socket.family != socket.AF_UNIX
        self.port = listener.port if tcp else 0
        self.url = f"http://127.0.0.1:{self.port}" if tcp else ""
        self.loop: asyncio.AbstractEventLoop = _new_loop()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.serve_error: BaseException | None = None
        self._started = threading.Event()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def go() -> None:
            try:
                await self.server.serve(self.listener)
            except nethttp.ServerClosed:
                pass
            except BaseException as exc:  # pragma: no cover - reported by stop()
                self.serve_error = exc

        self.serving = self.loop.create_task(go())
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.wait(pending, timeout=2))
        self.loop.close()

    def start(self) -> Running:
        self.thread.start()
        self._started.wait(5)
        return self

    def call(self, fn: Callable[[], Any], timeout: float = 10) -> Any:
        """Run ``fn()`` (sync or returning an awaitable) on the server's loop."""

        async def wrapper() -> Any:
            result = fn()
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def stop(self, timeout: float = 5) -> None:
        if self.thread.is_alive():
            try:
                self.call(lambda: self.server.shutdown(timeout=timeout), timeout=timeout + 5)
            except Exception:
                self.call(self.server.close)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        if self.serve_error is not None:
            raise self.serve_error

    def connect(self, timeout: float = 5) -> socket.socket:
        """Open a raw TCP connection to the server."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return s


@pytest.fixture
def serve() -> Iterator[Callable[..., Running]]:
    """Start servers for a test: ``srv = serve(handler, idle_timeout=1)``.

    ``listener=`` serves on a listener of the test's own instead of 127.0.0.1:0. A
    handler with ``attach`` (the ASGI and WSGI adapters) is attached to the server.
    """
    started: list[Running] = []

    def start(handler: object = None, **options: Any) -> Running:
        options.setdefault("error_log", logging.getLogger("nethttp.test"))
        listener = options.pop("listener", None) or nethttp.listen("127.0.0.1:0")
        server = nethttp.Server(handler=handler, **options)
        attach = getattr(handler, "attach", None)
        if callable(attach):
            attach(server)  # the ASGI/WSGI adapters' start-up and clean-up, as run() does
        running = Running(server, listener).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def recv_all(sock: socket.socket, timeout: float = 5) -> bytes:
    """Read until the peer closes the connection."""
    sock.settimeout(timeout)
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def recv_response(sock: socket.socket, timeout: float = 5) -> bytes:
    """Read exactly one HTTP/1.1 response (Content-Length or chunked) from ``sock``."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return buf
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lower = head.lower()
    if b"content-length:" in lower:
        n = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
        while len(rest) < n:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
        return head + b"\r\n\r\n" + rest[:n]
    if b"transfer-encoding: chunked" in lower:
        while not rest.endswith(b"0\r\n\r\n") and b"\r\n0\r\n" not in rest:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
        return head + b"\r\n\r\n" + rest
    return head + b"\r\n\r\n" + rest


def start_script(tmp_path: Any, source: str) -> tuple[Any, int]:
    """Run ``source`` as a server script in a subprocess; it prints its port first.

    Returns the process (stdout and stderr piped) and the port.
    """
    import os
    import subprocess
    import sys

    script = tmp_path / "server.py"
    script.write_text(source)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def answer_all(clients: list[socket.socket], expect: bytes, timeout: float = 30) -> int:
    """Read one response from each client as it becomes ready, closing it after.

    Closing answered clients frees room in the server, so clients it had to leave
    waiting get in. Returns how many were answered with a response containing ``expect``.
    """
    import select
    import time

    answered = 0
    pending = list(clients)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        ready, _, _ = select.select(pending, [], [], 1.0)
        for c in ready:
            if expect in recv_response(c):
                answered += 1
            pending.remove(c)
            c.close()
    for c in pending:
        c.close()
    return answered


class BackgroundUpload:
    """POST a ``size``-byte body on ``sock`` from a thread, 64 KiB a send.

    ``sent`` counts what the kernel took, so a test can see an upload stall while the
    server does not read (a small send buffer keeps the kernel's share small).
    """

    def __init__(self, sock: socket.socket, size: int, fill: bytes = b"u") -> None:
        import threading

        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % size)
        self.sent = 0
        self._thread = threading.Thread(target=self._run, args=(sock, size, fill), daemon=True)
        self._thread.start()

    def _run(self, sock: socket.socket, size: int, fill: bytes) -> None:
        chunk = fill * 65536
        for _ in range(size // len(chunk)):
            sock.sendall(chunk)
            self.sent += len(chunk)

    def stalled_at(self, wait: float = 0.8) -> int:
        """Bytes sent after ``wait`` seconds; asserts the upload is still stuck."""
        import time

        time.sleep(wait)
        assert self._thread.is_alive(), "the whole body went through"
        return self.sent

    def join(self, timeout: float = 20) -> None:
        """Wait for the last send."""
        self._thread.join(timeout)
