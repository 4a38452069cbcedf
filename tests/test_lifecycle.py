"""Connection lifecycle over real sockets: ConnState, hijack, timeouts, contexts, shutdown.

Each test follows one rule of Go's ``net/http`` server (research inventory sections
1.3-1.6, 2.1, 2.8, 2.9). Most use the ``serve`` fixture (a server on its own loop in a
thread); the shutdown tests run server and clients on one loop of their own, so that
they can await ``shutdown`` and watch the clients in the same breath.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

import nethttp
from conftest import Running, recv_all, recv_response
from nethttp import ConnState
from nethttp._server import _new_loop

NEW, ACTIVE, IDLE, HIJACKED, CLOSED = (
    ConnState.NEW,
    ConnState.ACTIVE,
    ConnState.IDLE,
    ConnState.HIJACKED,
    ConnState.CLOSED,
)
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class StateLog:
    """A ``conn_state`` hook that records each connection's states (it runs on the loop)."""

    def __init__(self) -> None:
        self.by_conn: dict[nethttp.Conn, list[ConnState]] = {}
        self._cond = threading.Condition()

    def __call__(self, conn: nethttp.Conn, state: ConnState) -> None:
        with self._cond:
            self.by_conn.setdefault(conn, []).append(state)
            self._cond.notify_all()

    def only(self) -> list[ConnState]:
        with self._cond:
            assert len(self.by_conn) == 1, self.by_conn
            return list(next(iter(self.by_conn.values())))

    def wait_for(self, state: ConnState, timeout: float = 5) -> list[ConnState]:
        """Wait until the (single) connection reached ``state``; return its states."""
        with self._cond:
            self._cond.wait_for(lambda: any(state in s for s in self.by_conn.values()), timeout)
        return self.only()


def settle(running: Running) -> None:
    """Let the server's loop run its pending callbacks (a connection's cleanup)."""
    running.call(lambda: asyncio.sleep(0.05))


# -- ConnState ---------------------------------------------------------------------------


def test_conn_state_two_keep_alive_requests(serve: Any) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        if r.url.path == "/last":
            w.header().set("Connection", "close")
        await w.write(b"ok")

    log = StateLog()
    running = serve(handler, conn_state=log)
    with running.connect() as s:
        s.sendall(GET)
        assert recv_response(s).startswith(b"HTTP/1.1 200 OK\r\n")
        s.sendall(b"GET /last HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"Connection: close" in recv_response(s)
        assert recv_all(s) == b""
    assert log.wait_for(CLOSED) == [NEW, ACTIVE, IDLE, ACTIVE, CLOSED]


def test_conn_state_dial_then_close(serve: Any) -> None:
    log = StateLog()
    running = serve(lambda w, r: None, conn_state=log)
    running.connect().close()
    assert log.wait_for(CLOSED) == [NEW, CLOSED]


def test_conn_state_malformed_request(serve: Any) -> None:
    log = StateLog()
    running = serve(lambda w, r: None, conn_state=log)
    with running.connect() as s:
        s.sendall(b"BOGUS REQUEST\r\n\r\n")
        assert recv_all(s).startswith(b"HTTP/1.1 400 ")
    assert log.wait_for(CLOSED) == [NEW, ACTIVE, CLOSED]


def test_conn_state_hijack_never_closed(serve: Any) -> None:
    returned = threading.Event()

    async def handler(w: Any, r: nethttp.Request) -> None:
        conn, _ = w.hijack()
        await conn.write(b"raw")
        conn.close()
        returned.set()

    log = StateLog()
    running = serve(handler, conn_state=log)
    with running.connect() as s:
        s.sendall(GET)
        assert recv_all(s) == b"raw"
    assert returned.wait(5)
    settle(running)  # the connection's cleanup has run: CLOSED would show now
    assert log.only() == [NEW, ACTIVE, HIJACKED]
    assert running.server.connections == 0


# -- Hijack ------------------------------------------------------------------------------


def test_hijack_returns_buffered_bytes_then_raw_io(serve: Any) -> None:
    async def handler(w: Any, r: nethttp.Request) -> None:
        conn, buffered = w.hijack()
        assert isinstance(conn, nethttp.Conn)
        assert conn is r.conn
        await conn.write(b"buffered=" + buffered + b";")
        more = await conn.read()
        await conn.write(b"read=" + more)
        conn.close()

    running = serve(handler)
    with running.connect() as s:
        # The pipelined bytes arrive with the request, before the handler runs.
        s.sendall(GET + b"PIPELINED")
        assert recv_exactly(s, len(b"buffered=PIPELINED;")) == b"buffered=PIPELINED;"
        s.sendall(b"later")
        assert recv_all(s) == b"read=later"


def test_write_after_hijack_raises_hijacked(serve: Any) -> None:
    async def handler(w: Any, r: nethttp.Request) -> None:
        conn, _ = w.hijack()
        outcomes = []
        for attempt in (lambda: w.write(b"x"), w.flush):
            try:
                await attempt()
            except nethttp.Hijacked:
                outcomes.append("Hijacked")
        try:
            w.hijack()
        except nethttp.Hijacked:
            outcomes.append("Hijacked")
        await conn.write(",".join(outcomes).encode())
        conn.close()

    running = serve(handler)
    with running.connect() as s:
        s.sendall(GET)
        assert recv_all(s) == b"Hijacked,Hijacked,Hijacked"


def test_101_written_before_hijack_goes_out_first(serve: Any) -> None:
    async def handler(w: Any, r: nethttp.Request) -> None:
        w.header().set("Connection", "Upgrade")
        w.header().set("Upgrade", "echo")
        w.write_header(101)
        conn, _ = w.hijack()
        await conn.write(b"after-upgrade")
        conn.close()

    running = serve(handler)
    with running.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
        data = recv_all(s)
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"), data
    assert b"\r\nUpgrade: echo" in head
    assert sep and rest == b"after-upgrade"


def recv_exactly(sock: socket.socket, n: int, timeout: float = 5) -> bytes:
    sock.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            break
        buf += data
    return buf


# -- Timeouts ----------------------------------------------------------------------------


def test_read_header_timeout_closes_partial_head_silently(serve: Any) -> None:
    log = StateLog()
    running = serve(lambda w, r: None, read_header_timeout=0.2, conn_state=log)
    with running.connect() as s:
        start = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert recv_all(s) == b""  # no 408: Go just closes
        elapsed = time.monotonic() - start
    assert 0.15 <= elapsed < 2, elapsed
    assert log.wait_for(CLOSED) == [NEW, ACTIVE, CLOSED]


def test_idle_timeout_closes_idle_connection(serve: Any) -> None:
    log = StateLog()
    running = serve(lambda w, r: None, idle_timeout=0.3, conn_state=log)
    with running.connect() as s:
        s.sendall(GET)
        assert recv_response(s).startswith(b"HTTP/1.1 200 OK")
        start = time.monotonic()
        assert recv_all(s) == b""
        elapsed = time.monotonic() - start
    assert 0.2 <= elapsed < 2, elapsed
    assert log.wait_for(CLOSED) == [NEW, ACTIVE, IDLE, CLOSED]


def test_read_header_timeout_does_not_count_idle_time(serve: Any) -> None:
    running = serve(lambda w, r: None, read_header_timeout=0.2, idle_timeout=2)
    with running.connect() as s:
        s.sendall(GET)
        assert recv_response(s).startswith(b"HTTP/1.1 200 OK")
        time.sleep(0.3)  # idle for longer than the header timeout
        s.sendall(GET)
        assert recv_response(s).startswith(b"HTTP/1.1 200 OK")


def test_read_timeout_fails_slow_body_read(serve: Any) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            await r.body.read()
        except TimeoutError as exc:
            await w.write(f"timeout: {type(exc).__name__}".encode())
        else:
            await w.write(b"no timeout")

    running = serve(handler, read_timeout=0.3)
    with running.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        start = time.monotonic()
        response = recv_response(s)
        elapsed = time.monotonic() - start
    assert response.startswith(b"HTTP/1.1 200 OK"), response
    # The read fails with a TimeoutError (DeadlineExceeded is one too); the handler can
    # still answer, as in Go.
    assert re.search(rb"\r\n\r\ntimeout: \w+$", response), response
    assert 0.2 <= elapsed < 2, elapsed


def test_write_timeout_drops_late_response_and_cancels_context(serve: Any) -> None:
    seen: dict[str, Any] = {}
    done = threading.Event()

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await asyncio.sleep(0.4)
        try:
            await w.write(b"late")
            await w.flush()
        except Exception as exc:
            seen["write_error"] = exc
        seen["ctx_err"] = r.context().err()
        done.set()

    running = serve(handler, write_timeout=0.2)
    with running.connect() as s:
        s.sendall(GET)
        try:
            data = recv_all(s)
        except ConnectionResetError:
            data = b""
    assert data == b""  # Go: 0 bytes, then EOF
    assert done.wait(5)
    assert isinstance(seen["ctx_err"], nethttp.Canceled), seen


# -- Contexts ----------------------------------------------------------------------------


def test_context_cancelled_when_client_disconnects(serve: Any) -> None:
    started = threading.Event()
    finished = threading.Event()
    seen: dict[str, Any] = {}

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        ctx = r.context()
        seen["before"] = ctx.err()
        started.set()
        try:
            await asyncio.wait_for(ctx.done(), 5)
        except TimeoutError:
            seen["timed_out"] = True
        seen["after"] = ctx.err()
        finished.set()

    running = serve(handler)
    s = running.connect()
    s.sendall(GET)
    assert started.wait(5)
    s.close()
    assert finished.wait(3)
    assert seen["before"] is None
    assert "timed_out" not in seen
    assert isinstance(seen["after"], nethttp.Canceled)


def test_context_cancelled_after_handler_returns(serve: Any) -> None:
    contexts: list[nethttp.Context] = []
    during: list[object] = []

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        contexts.append(r.context())
        during.append(r.context().err())

    running = serve(handler)
    with httpx.Client() as client:
        assert client.get(running.url).status_code == 200
        ctx = contexts[0]
        assert during == [None]
        assert running.call(ctx.err) is not None
        assert ctx.done().is_set()
        # The connection itself is still open and usable (keep-alive).
        assert client.get(running.url).status_code == 200
    assert contexts[1] is not ctx


def test_base_and_conn_context_values(serve: Any) -> None:
    seen: dict[str, Any] = {}

    def base_context(listener: nethttp.Listener) -> nethttp.Context:
        seen["listener"] = listener
        return nethttp.background().with_value("base-key", "base-value")

    def conn_context(ctx: nethttp.Context, conn: nethttp.Conn) -> nethttp.Context:
        seen["conn_context_server"] = ctx.value(nethttp.SERVER_CONTEXT_KEY)
        seen["conn_context_base"] = ctx.value("base-key")
        return ctx.with_value("conn-key", conn)

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        ctx = r.context()
        seen["base"] = ctx.value("base-key")
        seen["conn"] = ctx.value("conn-key")
        seen["r.conn"] = r.conn
        seen["server"] = ctx.value(nethttp.SERVER_CONTEXT_KEY)

    running = serve(handler, base_context=base_context, conn_context=conn_context)
    with httpx.Client() as client:
        assert client.get(running.url).status_code == 200
    assert seen["listener"] is running.listener
    assert seen["conn_context_server"] is running.server
    assert seen["conn_context_base"] == "base-value"
    assert seen["base"] == "base-value"
    assert isinstance(seen["conn"], nethttp.Conn)
    assert seen["conn"] is seen["r.conn"]
    assert seen["server"] is running.server


def test_request_with_context_and_clone(serve: Any) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        ctx = r.context().with_value("k", "v")
        shallow = r.with_context(ctx)
        deep = r.clone(ctx)
        deep.header.set("X-Probe", "changed")
        try:
            r.with_context(None)  # type: ignore[arg-type]
            rejects_none = False
        except TypeError:
            rejects_none = True
        report = {
            "shallow": shallow.context().value("k"),
            "deep": deep.context().value("k"),
            "original": r.context().value("k"),
            "same_method": shallow.method == r.method == deep.method,
            "original_header": r.header.get("X-Probe"),
            "deep_header": deep.header.get("X-Probe"),
            "distinct": shallow is not r and deep is not r,
            "rejects_none": rejects_none,
        }
        await w.write(json.dumps(report).encode())

    running = serve(handler)
    with httpx.Client() as client:
        report = client.get(running.url, headers={"X-Probe": "original"}).json()
    assert report == {
        "shallow": "v",
        "deep": "v",
        "original": None,
        "same_method": True,
        "original_header": "original",
        "deep_header": "changed",
        "distinct": True,
        "rejects_none": True,
    }


# -- Shutdown, Close, keep-alives --------------------------------------------------------


def run_async(main: Callable[[], Awaitable[None]]) -> None:
    """Run ``main`` on a fresh loop of the kind the server uses in production."""
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        runner.run(main())  # type: ignore[arg-type]


async def start_server(srv: nethttp.Server) -> tuple[int, asyncio.Task[None]]:
    listener = nethttp.listen("127.0.0.1:0")
    task = asyncio.ensure_future(srv.serve(listener))
    await asyncio.sleep(0)  # the accept loop is installed
    return listener.port, task


class Client:
    """A raw HTTP/1.1 client on asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, path: str = "/") -> None:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await self.writer.drain()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        body = await self.reader.readexactly(int(fields.get("content-length", "0")))
        return status, fields, body

    async def at_eof(self, timeout: float = 2) -> bool:
        """Whether the server closes the connection within ``timeout`` (no more bytes)."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), timeout)
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        return data == b""

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
def quiet_log() -> Iterator[logging.Logger]:
    yield logging.getLogger("nethttp.test.shutdown")


def test_shutdown_is_graceful(quiet_log: logging.Logger) -> None:
    log = StateLog()

    async def main() -> None:
        handler_started = asyncio.Event()
        let_go = asyncio.Event()

        async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
            if r.url.path == "/slow":
                handler_started.set()
                await let_go.wait()
            await w.write(b"done")

        srv = nethttp.Server(handler=handler, conn_state=log, error_log=quiet_log)
        port, serving = await start_server(srv)
        idle = await Client.connect(port)
        await idle.request()
        assert (await idle.response())[0] == 200
        busy = await Client.connect(port)
        await busy.request("/slow")
        await handler_started.wait()

        shutdown = asyncio.ensure_future(srv.shutdown(5))
        assert await idle.at_eof(1), "the idle connection is closed at once"
        with pytest.raises(nethttp.ServerClosed):
            await asyncio.wait_for(serving, 1)
        with pytest.raises(ConnectionRefusedError):
            await Client.connect(port)
        await asyncio.sleep(0.05)
        assert not shutdown.done(), "shutdown waits for the in-flight request"

        let_go.set()
        status, fields, body = await busy.response()
        assert (status, body) == (200, b"done")
        assert fields.get("connection") == "close"
        assert await busy.at_eof(1)
        await asyncio.wait_for(shutdown, 2)
        assert srv.connections == 0
        idle.close()
        busy.close()
        with pytest.raises(nethttp.ServerClosed):  # a shut-down server is never reused
            await srv.serve(nethttp.listen("127.0.0.1:0"))

    run_async(main)
    states = sorted(log.by_conn.values(), key=len)
    assert states == [[NEW, ACTIVE, CLOSED], [NEW, ACTIVE, IDLE, CLOSED]]


def test_serve_ends_with_server_closed_after_shutdown(serve: Any) -> None:
    running = serve(lambda w, r: None)
    running.call(lambda: running.server.shutdown(2))
    running.call(lambda: asyncio.wait_for(asyncio.shield(running.serving), 2))
    assert running.serving.done()
    assert running.serve_error is None  # ServerClosed, which the fixture expects
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((running.host, running.port), timeout=2)


def test_register_on_shutdown_runs_sync_and_async_hooks(quiet_log: logging.Logger) -> None:
    ran: list[str] = []

    async def main() -> None:
        srv = nethttp.Server(handler=lambda w, r: None, error_log=quiet_log)

        async def async_hook() -> None:
            await asyncio.sleep(0.01)
            ran.append("async")

        srv.register_on_shutdown(lambda: ran.append("sync"))
        srv.register_on_shutdown(async_hook)
        _, serving = await start_server(srv)
        assert ran == []
        await srv.shutdown(2)
        with pytest.raises(nethttp.ServerClosed):
            await serving

    run_async(main)
    assert sorted(ran) == ["async", "sync"]


def test_shutdown_timeout_with_stuck_handler(quiet_log: logging.Logger) -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
            started.set()
            await asyncio.sleep(30)

        srv = nethttp.Server(handler=handler, error_log=quiet_log)
        port, serving = await start_server(srv)
        client = await Client.connect(port)
        await client.request()
        await started.wait()
        begun = time.monotonic()
        with pytest.raises(TimeoutError):
            await srv.shutdown(0.2)
        assert time.monotonic() - begun < 1.5
        assert await client.at_eof(1), "the stuck connection is closed"
        client.close()
        with pytest.raises(nethttp.ServerClosed):
            await serving

    run_async(main)


def test_close_closes_everything_now(quiet_log: logging.Logger) -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
            if r.url.path == "/slow":
                started.set()
                await asyncio.sleep(30)

        srv = nethttp.Server(handler=handler, error_log=quiet_log)
        port, serving = await start_server(srv)
        idle = await Client.connect(port)
        await idle.request()
        assert (await idle.response())[0] == 200
        busy = await Client.connect(port)
        await busy.request("/slow")
        await started.wait()
        fresh = await Client.connect(port)  # accepted, no request yet: NEW
        await asyncio.sleep(0.05)
        assert srv.connections == 3

        srv.close()
        for client in (idle, busy, fresh):
            assert await client.at_eof(1)
            client.close()
        with pytest.raises(nethttp.ServerClosed):
            await asyncio.wait_for(serving, 1)
        with pytest.raises(ConnectionRefusedError):
            await Client.connect(port)

    run_async(main)


def test_set_keep_alives_enabled_false(quiet_log: logging.Logger) -> None:
    async def main() -> None:
        srv = nethttp.Server(handler=lambda w, r: None, error_log=quiet_log)
        port, serving = await start_server(srv)
        idle = await Client.connect(port)
        await idle.request()
        status, fields, _ = await idle.response()
        assert status == 200 and "connection" not in fields

        srv.set_keep_alives_enabled(False)
        assert await idle.at_eof(1), "idle connections are closed at once"
        idle.close()
        later = await Client.connect(port)
        await later.request()
        status, fields, _ = await later.response()
        assert (status, fields.get("connection")) == (200, "close")
        assert await later.at_eof(1)
        later.close()

        srv.set_keep_alives_enabled(True)
        again = await Client.connect(port)
        await again.request()
        status, fields, _ = await again.response()
        assert status == 200 and "connection" not in fields
        again.close()
        await srv.shutdown(2)
        with pytest.raises(nethttp.ServerClosed):
            await serving

    run_async(main)


# -- listen ------------------------------------------------------------------------------


def test_listen_port_zero_reports_real_port() -> None:
    listener = nethttp.listen("127.0.0.1:0")
    try:
        port = listener.socket.getsockname()[1]
        assert port > 0
        assert listener.port == port
        assert listener.addr == f"127.0.0.1:{port}"
    finally:
        listener.close()
    assert listener.closed


def ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_listen_all_interfaces() -> None:
    listener = nethttp.listen(":0")
    running = Running(nethttp.Server(handler=lambda w, r: None), listener).start()
    try:
        hosts = ["127.0.0.1"] + (["::1"] if ipv6_loopback() else [])
        for host in hosts:
            with socket.create_connection((host, listener.port), timeout=5) as s:
                s.sendall(GET)
                assert recv_response(s).startswith(b"HTTP/1.1 200 OK"), host
    finally:
        running.stop()


@pytest.mark.parametrize(
    "addr",
    ["8080", "", "::1:80", "127.0.0.1:70000", "127.0.0.1:no-such-service", "[::1]:-1"],
)
def test_listen_bad_address(addr: str) -> None:
    with pytest.raises(ValueError):
        nethttp.listen(addr)


# -- run ---------------------------------------------------------------------------------

RUN_SCRIPT = """
import asyncio, sys
import nethttp

async def handler(w, r):
    if r.url.path == "/slow":
        print("slow request started", flush=True)
        await asyncio.sleep(0.5)
    await w.write(b"finished " + r.url.path.encode())

nethttp.run(handler, addr="127.0.0.1:0")
print("run returned", flush=True)
"""


class Lines:
    """Collects a stream's lines in a thread, so a test can wait for one."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 10) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def match() -> bool:
            found.extend(m for ln in self.lines if (m := re.search(pattern, ln)))
            return bool(found)

        with self._cond:
            if not self._cond.wait_for(match, timeout):
                raise AssertionError(f"no line matching {pattern!r} in {self.lines}")
        return found[0]

    def text(self) -> str:
        self._thread.join(5)
        return "".join(self.lines)


def test_run_serves_and_shuts_down_gracefully_on_sigterm() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            out, err = Lines(proc.stdout), Lines(proc.stderr)
            port = int(err.wait_for(r"serving on http://127\.0\.0\.1:(\d+)").group(1))
            url = f"http://127.0.0.1:{port}"
            assert httpx.get(url + "/fast").text == "finished /fast"

            result: dict[str, Any] = {}

            def slow() -> None:
                try:
                    result["response"] = httpx.get(url + "/slow", timeout=5)
                except Exception as exc:  # reported by the assertion below
                    result["error"] = exc

            client = threading.Thread(target=slow)
            client.start()
            out.wait_for("slow request started")
            proc.send_signal(signal.SIGTERM)
            client.join(5)
            assert "error" not in result, result
            response = result["response"]
            assert (response.status_code, response.text) == (200, "finished /slow")
            assert response.headers.get("connection") == "close"
            assert proc.wait(10) == 0
            assert "run returned" in out.text()
            assert "shutting down" in err.text()
        finally:
            if proc.poll() is None:
                proc.kill()
