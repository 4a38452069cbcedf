"""The ASGI adapter over real sockets: scope, streaming both ways, disconnects, trailers,
errors as uvicorn has them, and lifespan wired to the server's start and drain."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

import nethttp
from conftest import BackgroundUpload, Running, recv_all, recv_response, start_script
from nethttp.asgi import ASGIHandler, LifespanError, Message, Receive, Scope, Send

LOG = "nethttp.test.asgi"
Start = Callable[..., Running]


@pytest.fixture
def asgi(serve: Callable[..., Running]) -> Start:
    """``asgi(app, root_path=..., lifespan=..., **server_options)``: a running server."""

    def start(app: Any, **options: Any) -> Running:
        handler_opts = {
            k: options.pop(k) for k in ("root_path", "lifespan", "state") if k in options
        }
        options.setdefault("error_log", logging.getLogger(LOG))
        return serve(ASGIHandler(app, **handler_opts), **options)

    return start


async def wait_thread_event(ev: threading.Event, timeout: float = 5) -> bool:
    """Wait for a test-thread event from inside the app without blocking the loop."""
    return await asyncio.get_running_loop().run_in_executor(None, ev.wait, timeout)


def http_only(app: Callable[[Scope, Receive, Send], Any]) -> Any:
    """Wrap an http-only test app: it declines lifespan the way many apps do (returns)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await app(scope, receive, send)

    return wrapped


async def reply(send: Send, body: bytes = b"ok", status: int = 200, **extra: Any) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [], **extra})
    await send({"type": "http.response.body", "body": body})


# -- scope ---------------------------------------------------------------------------------


def test_scope_fields(asgi: Start) -> None:
    seen: list[Scope] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await reply(send)

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(
            b"GET /caf%C3%A9/a%20b?x=1&y=%20z HTTP/1.1\r\nHost: example.com\r\n"
            b"X-One: 1\r\nx-Two: 2\r\nX-One: 3\r\n\r\n"
        )
        assert recv_response(s).startswith(b"HTTP/1.1 200 OK")
        client_port = s.getsockname()[1]
    scope = seen[0]
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/café/a b"
    assert scope["raw_path"] == b"/caf%C3%A9/a%20b"
    assert scope["query_string"] == b"x=1&y=%20z"
    assert scope["root_path"] == ""
    assert scope["headers"] == [
        (b"host", b"example.com"),
        (b"x-one", b"1"),
        (b"x-two", b"2"),
        (b"x-one", b"3"),
    ]
    assert scope["client"] == ("127.0.0.1", client_port)
    assert scope["server"] == ("127.0.0.1", srv.port)
    assert scope["state"] == {}
    assert "http.response.trailers" in scope["extensions"]


def test_scope_http10_root_path_and_raw_bytes(asgi: Start) -> None:
    seen: list[Scope] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await reply(send)

    srv = asgi(app, root_path="/api")
    with srv.connect() as s:
        s.sendall(b"POST /caf\xc3\xa9 HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        assert recv_all(s).startswith(b"HTTP/1.0 200 OK")
    scope = seen[0]
    assert scope["http_version"] == "1.0"
    assert scope["method"] == "POST"
    # As uvicorn's --root-path: the prefix the proxy removed is put back in front.
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/café"
    assert scope["raw_path"] == b"/api/caf\xc3\xa9"
    assert scope["query_string"] == b""


def test_scope_on_a_unix_socket(asgi: Start) -> None:
    seen: list[Scope] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await reply(send)

    sock_dir = tempfile.mkdtemp(prefix="nethttp-asgi-")
    try:
        path = str(Path(sock_dir) / "s.sock")
        asgi(app, listener=nethttp.listen_unix(path))
        transport = httpx.HTTPTransport(uds=path)
        with httpx.Client(transport=transport) as client:
            assert client.get("http://localhost/x").text == "ok"
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    assert seen[0]["server"] == (path, None)  # as uvicorn reports a Unix socket
    assert seen[0]["client"] is None


def test_scope_scheme_is_https_over_tls(asgi: Start, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    seen: list[Scope] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await reply(send)

    srv = asgi(app, tls=ctx)
    verify = ssl.create_default_context(cafile=str(ca_file))
    with httpx.Client(verify=verify) as client:
        assert client.get(f"https://127.0.0.1:{srv.port}/").text == "ok"
    assert seen[0]["scheme"] == "https"


def test_upgrade_websocket_reaches_the_app_as_http(asgi: Start) -> None:
    seen: list[Scope] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await reply(send, b"no websocket here", 400)

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(
            b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert recv_response(s).startswith(b"HTTP/1.1 400 Bad Request")
    assert seen[0]["type"] == "http"
    assert (b"upgrade", b"websocket") in seen[0]["headers"]


# -- the request body ----------------------------------------------------------------------


def test_request_body_is_read_only_when_the_app_asks(asgi: Start) -> None:
    release = threading.Event()
    got: list[int] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        first = await receive()  # one piece, then nothing until the test says so
        got.append(len(first["body"]))
        await wait_thread_event(release)
        total = len(first["body"])
        more = first["more_body"]
        while more:
            message = await receive()
            total += len(message["body"])
            more = message["more_body"]
        await reply(send, str(total).encode())

    srv = asgi(app)
    size = 32 << 20
    with srv.connect(timeout=20) as s:
        upload = BackgroundUpload(s, size)
        stalled_at = upload.stalled_at()  # the app asked for one piece: the upload is stuck
        release.set()
        upload.join()
        assert recv_response(s, timeout=20).endswith(str(size).encode())
    assert stalled_at < size // 2, stalled_at
    assert 0 < got[0] <= 1 << 20


def test_chunked_request_body_arrives_in_pieces(asgi: Start) -> None:
    messages: list[Message] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            messages.append(message)
            if not message.get("more_body"):
                break
        await reply(send, b"".join(m["body"] for m in messages))

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        time.sleep(0.2)
        s.sendall(b"6\r\n world\r\n0\r\n\r\n")
        assert recv_response(s).endswith(b"hello world")
    assert all(m["type"] == "http.request" for m in messages)
    assert messages[-1]["more_body"] is False
    assert len(messages) >= 2  # the first piece went to the app before the second was sent


def test_a_receive_cancelled_by_the_app_leaves_the_body_readable(asgi: Start) -> None:
    timed_out = threading.Event()

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.wait_for(receive(), 0.05)  # the body is not there yet
        except TimeoutError:
            timed_out.set()
        await asyncio.sleep(0.3)  # the body arrives while nobody reads
        message = await receive()
        await reply(send, message["body"])

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n")
        assert timed_out.wait(5)
        s.sendall(b"data")
        assert recv_response(s).endswith(b"\r\n\r\ndata")


def test_expect_continue_is_sent_only_when_the_app_reads(asgi: Start) -> None:
    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/read":
            body = (await receive())["body"]
            await reply(send, body)
        else:
            await reply(send, b"refused", 403)

    srv = asgi(app)
    head = b"POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    with srv.connect() as s:
        s.sendall(head % b"/read")
        s.settimeout(5)
        assert s.recv(64).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(b"data")
        assert recv_response(s).endswith(b"data")
    with srv.connect() as s:
        s.sendall(head % b"/no")
        assert recv_response(s).startswith(b"HTTP/1.1 403")


def test_body_over_the_server_limit_is_a_413(asgi: Start) -> None:
    heard: list[Message] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            heard.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return

    srv = asgi(app, max_body_bytes=1000)
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        s.sendall(b"800\r\n" + b"z" * 0x800 + b"\r\n0\r\n\r\n")
        assert recv_all(s).startswith(b"HTTP/1.1 413")
    assert heard[-1] == {"type": "http.disconnect"}


# -- the response --------------------------------------------------------------------------


def test_small_response_gets_a_content_length_and_a_stream_is_chunked(asgi: Start) -> None:
    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]})
        if scope["path"] == "/stream":
            await send({"type": "http.response.body", "body": b"ab", "more_body": True})
        await send({"type": "http.response.body", "body": b"cd"})

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_response(s)
        assert got.startswith(b"HTTP/1.1 201 Created\r\n")
        assert b"\r\nContent-Length: 2\r\n" in got and b"\r\nX-A: 1\r\n" in got
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_response(s)
        assert b"\r\nTransfer-Encoding: chunked\r\n" in got
        assert got.endswith(b"\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n")


def test_declared_content_length_is_kept_for_a_large_body(asgi: Start) -> None:
    big = b"q" * 100_000

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"100000"), (b"content-type", b"application/x-q")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": big[:60_000], "more_body": True})
        await send({"type": "http.response.body", "body": big[60_000:]})

    srv = asgi(app)
    response = httpx.get(srv.url)
    assert response.headers["content-length"] == "100000"
    assert "transfer-encoding" not in response.headers
    assert response.content == big


def test_streamed_response_is_not_held_back(asgi: Start) -> None:
    first_seen = threading.Event()

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"event: 1\n\n", "more_body": True})
        assert await wait_thread_event(first_seen)  # the client must see it before we go on
        await send({"type": "http.response.body", "body": b"event: 2\n\n"})

    srv = asgi(app)
    with httpx.stream("GET", srv.url, timeout=5) as response:
        pieces = response.iter_raw()
        assert next(pieces) == b"event: 1\n\n"
        first_seen.set()
        assert b"".join(pieces) == b"event: 2\n\n"


def test_complete_response_to_a_departed_client_raises_nothing_in_the_app(
    asgi: Start, caplog: pytest.LogCaptureFixture
) -> None:
    gone = threading.Event()
    outcome: list[str] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert await wait_thread_event(gone)
        await asyncio.sleep(0.05)  # let the server see the close
        try:
            await reply(send, b"too late")
        except BaseException as exc:
            outcome.append(repr(exc))
            raise
        outcome.append("returned")

    srv = asgi(app)
    with srv.connect(timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    gone.set()
    deadline = time.monotonic() + 5
    while not outcome and time.monotonic() < deadline:
        time.sleep(0.01)
    # As uvicorn does: sends to a client that left are dropped, the app is not told.
    assert outcome == ["returned"]
    assert not [r for r in caplog.records if getattr(r, "event", "") == "handler_error"]


def test_slow_reader_pauses_the_app(asgi: Start) -> None:
    sent = [0]
    done = threading.Event()
    chunk = b"s" * 65536

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(320):  # 20 MiB
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent[0] += len(chunk)
        await send({"type": "http.response.body", "body": b""})
        done.set()

    srv = asgi(app)
    with srv.connect() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.6)  # read nothing: send() must be waiting
        assert not done.is_set()
        paused_at = sent[0]
        got = 0
        s.settimeout(10)
        while got < 320 * len(chunk):  # the head and chunk framing come on top
            data = s.recv(1 << 20)
            if not data:
                break
            got += len(data)
        assert done.wait(10)
    assert paused_at <= 8 << 20, paused_at  # the kernel's buffers, not the whole body


def test_head_request_sends_no_body(asgi: Start) -> None:
    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.3)
        s.settimeout(5)
        both = s.recv(65536)
    head, _, rest = both.partition(b"\r\n\r\n")
    assert b"Content-Length: 5" in head
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body after the HEAD response
    assert rest.endswith(b"\r\n\r\nhello")


def test_trailers_extension(asgi: Start) -> None:
    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "http.response.trailers" in scope["extensions"]
        headers = [(b"trailer", b"x-checksum")]
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers, "trailers": True}
        )
        await send({"type": "http.response.body", "body": b"data"})
        await send(
            {"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")]},
        )

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_response(s)
    assert b"\r\nTransfer-Encoding: chunked\r\n" in got
    assert b"\r\nTrailer: x-checksum\r\n" in got
    assert got.endswith(b"\r\n\r\n4\r\ndata\r\n0\r\nX-Checksum: abc\r\n\r\n")


def test_duplex_stream_echoes_as_it_reads(asgi: Start) -> None:
    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        first = await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        message = first
        while True:
            if message["body"]:
                await send(
                    {"type": "http.response.body", "body": message["body"], "more_body": True}
                )
            if not message["more_body"]:
                break
            message = await receive()
        await send({"type": "http.response.body", "body": b""})

    srv = asgi(app)
    with srv.connect() as s:
        s.settimeout(5)
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n")
        got = b""
        while b"one" not in got:
            got += s.recv(4096)  # the echo arrives before the request body is complete
        s.sendall(b"3\r\ntwo\r\n0\r\n\r\n")
        while not got.endswith(b"0\r\n\r\n"):
            got += s.recv(4096)
    assert b"3\r\none\r\n" in got and b"3\r\ntwo\r\n" in got


# -- disconnects ---------------------------------------------------------------------------


def test_disconnect_is_reported_when_the_client_goes_away(asgi: Start) -> None:
    heard = threading.Event()
    messages: list[Message] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        messages.append(await receive())  # the (empty) body
        messages.append(await receive())  # blocks until the client is gone
        heard.set()

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.2)
        assert not heard.is_set()
    assert heard.wait(5)
    assert messages == [
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    ]


def test_disconnect_follows_a_complete_response(asgi: Start) -> None:
    after: list[Message] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        waiting = asyncio.ensure_future(receive())  # e.g. a task listening for disconnect
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await reply(send)
        after.append(await asyncio.wait_for(waiting, 2))
        after.append(await receive())

    srv = asgi(app)
    assert httpx.get(srv.url).text == "ok"
    assert after == [{"type": "http.disconnect"}] * 2


def test_send_after_the_client_left_raises_oserror(asgi: Start) -> None:
    raised: list[BaseException] = []
    done = threading.Event()

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            for _ in range(1000):
                await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
                await asyncio.sleep(0.01)
        except OSError as exc:  # spec 2.4: a server-specific OSError
            raised.append(exc)
            raise
        finally:
            done.set()

    srv = asgi(app)
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        s.settimeout(5)
        s.recv(100)
    assert done.wait(5)
    assert raised and isinstance(raised[0], OSError)


# -- errors --------------------------------------------------------------------------------


async def raise_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    raise ValueError("boom")


async def raise_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise ValueError("boom")


async def raise_mid_body(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"x" * 5000, "more_body": True})
    raise ValueError("boom")


async def longer_than_declared(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-length", b"3")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"four"})


async def shorter_than_declared(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-length", b"10")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"four"})


async def body_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.body", "body": b"x"})


async def returns_without_response(scope: Scope, receive: Receive, send: Send) -> None:
    pass


async def returns_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})


async def send_after_complete(scope: Scope, receive: Receive, send: Send) -> None:
    await reply(send)
    await send({"type": "http.response.body", "body": b"again"})


@pytest.mark.parametrize(
    ("app", "outcome", "logged"),
    [
        (raise_before_start, "500", "boom"),
        (body_before_start, "500", "Expected ASGI message 'http.response.start'"),
        (returns_without_response, "500", "returned without starting response"),
        (raise_after_start, "abort", "exception in ASGI application"),
        (raise_mid_body, "abort", "exception in ASGI application"),
        (longer_than_declared, "abort", "longer than Content-Length"),
        (shorter_than_declared, "abort", "shorter than Content-Length"),
        (returns_after_start, "abort", "without completing response"),
        (send_after_complete, "ok", "after response already completed"),
    ],
)
def test_errors_as_uvicorn_has_them(
    asgi: Start, caplog: pytest.LogCaptureFixture, app: Any, outcome: str, logged: str
) -> None:
    srv = asgi(http_only(app))
    with caplog.at_level(logging.ERROR, logger=LOG), srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_response(s) if outcome == "ok" else recv_all(s)
    if outcome == "500":
        assert got.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert got.endswith(b"Internal Server Error")
    elif outcome == "abort":
        # Never a complete response: the head is missing or the body is cut short.
        assert b"HTTP/1.1 500" not in got
        head, _, body = got.partition(b"\r\n\r\n")
        assert not head or b"Transfer-Encoding: chunked" in head or len(body) < 10
        assert not got.endswith(b"0\r\n\r\n")
    else:
        assert got.startswith(b"HTTP/1.1 200 OK") and got.endswith(b"ok")
    deadline = time.monotonic() + 5
    while logged not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.02)
    assert logged in caplog.text


def test_a_server_keeps_serving_after_app_errors(asgi: Start) -> None:
    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/boom":
            raise RuntimeError("boom")
        await reply(send)

    srv = asgi(app, error_log=logging.getLogger(LOG + ".quiet"))
    logging.getLogger(LOG + ".quiet").disabled = True
    try:
        with httpx.Client(base_url=srv.url) as client:
            assert client.get("/boom").status_code == 500
            assert client.get("/").text == "ok"
    finally:
        logging.getLogger(LOG + ".quiet").disabled = False


# -- lifespan ------------------------------------------------------------------------------


class LifespanApp:
    """Records the order of lifespan events and requests; its state is set at startup."""

    def __init__(self, fail: str = "", raise_in_lifespan: bool = False) -> None:
        self.events: list[str] = []
        self.fail = fail
        self.raise_in_lifespan = raise_in_lifespan
        self.release = threading.Event()
        self.in_request = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            if self.raise_in_lifespan:
                raise RuntimeError("no lifespan here")
            await self.lifespan(scope, receive, send)
            return
        if scope["path"] == "/slow":
            self.in_request.set()
            await wait_thread_event(self.release)
            self.events.append("slow request done")
        text = repr(sorted(scope["state"].items()))
        scope["state"]["touched"] = True  # a copy: never seen by the next request
        await reply(send, text.encode())

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            self.events.append(kind)
            if kind == "lifespan.startup":
                if self.fail == "startup":
                    await send({"type": "lifespan.startup.failed", "message": "no database"})
                    return
                scope["state"]["db"] = "connected"
                await send({"type": "lifespan.startup.complete"})
            else:
                if self.fail == "shutdown":
                    await send({"type": "lifespan.shutdown.failed", "message": "stuck"})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return


def serve_error(srv: Running, timeout: float = 5) -> BaseException | None:
    """Wait for ``serve`` to fail (it raises before accepting anything)."""
    deadline = time.monotonic() + timeout
    while srv.serve_error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return srv.serve_error


def test_lifespan_state_and_shutdown_after_the_drain(asgi: Start) -> None:
    app = LifespanApp()
    srv = asgi(app)
    with httpx.Client(base_url=srv.url) as client:
        assert client.get("/").text == "[('db', 'connected')]"  # queued until start-up
        assert app.events == ["lifespan.startup"]
        assert client.get("/").text == "[('db', 'connected')]"  # each request had a copy
    results: list[str] = []
    with httpx.Client(base_url=srv.url, timeout=10) as client:
        slow = threading.Thread(target=lambda: results.append(client.get("/slow").text))
        slow.start()
        assert app.in_request.wait(5)
        stopping = threading.Thread(target=srv.stop)
        stopping.start()
        time.sleep(0.3)  # shutdown waits for the request; lifespan shutdown waits too
        assert app.events == ["lifespan.startup"]
        app.release.set()
        slow.join(10)
        stopping.join(10)
    assert results == ["[('db', 'connected')]"]
    assert app.events == ["lifespan.startup", "slow request done", "lifespan.shutdown"]


def test_lifespan_startup_failure_fails_serve(asgi: Start) -> None:
    for mode in ("auto", "on"):
        app = LifespanApp(fail="startup")
        srv = asgi(app, lifespan=mode)
        assert isinstance(serve_error(srv), LifespanError)
        assert "no database" in str(srv.serve_error)
        srv.serve_error = None  # seen; the fixture's stop() must not raise it again


def test_lifespan_auto_tolerates_an_app_without_it(
    asgi: Start, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="nethttp.asgi"):
        srv = asgi(LifespanApp(raise_in_lifespan=True))
        assert httpx.get(srv.url).status_code == 200
    assert "ASGI 'lifespan' protocol appears unsupported." in caplog.text


def test_lifespan_on_requires_it(asgi: Start) -> None:
    srv = asgi(LifespanApp(raise_in_lifespan=True), lifespan="on")
    assert isinstance(serve_error(srv), LifespanError)
    srv.serve_error = None


def test_lifespan_off_never_runs_it(asgi: Start) -> None:
    app = LifespanApp()
    srv = asgi(app, lifespan="off")
    assert httpx.get(srv.url).text == "[]"
    srv.stop()
    assert app.events == []


def test_lifespan_shutdown_failure_is_logged(asgi: Start, caplog: pytest.LogCaptureFixture) -> None:
    app = LifespanApp(fail="shutdown")
    srv = asgi(app)
    with caplog.at_level(logging.ERROR):
        srv.stop()
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]
    assert "application shutdown failed: stuck" in caplog.text


def test_startup_and_shutdown_can_be_called_directly() -> None:
    app = LifespanApp()
    handler = ASGIHandler(app, state={"preset": 1})

    async def main() -> None:
        await handler.startup()
        assert handler.state == {"preset": 1, "db": "connected"}
        await handler.shutdown()

    asyncio.run(main())
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="lifespan"):
        ASGIHandler(LifespanApp(), lifespan="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="root_path"):
        ASGIHandler(LifespanApp(), root_path="api/")


RUN_SCRIPT = """
import nethttp
from nethttp.asgi import ASGIHandler

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            print(message["type"], flush=True)
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

listener = nethttp.listen("127.0.0.1:0")
print(listener.port, flush=True)
nethttp.run(ASGIHandler(app), listener=listener)
"""


def test_nethttp_run_runs_the_lifespan(tmp_path: Path) -> None:
    proc, port = start_script(tmp_path, RUN_SCRIPT)
    try:
        assert proc.stdout is not None
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "ok"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.decode().split() == ["lifespan.startup", "lifespan.shutdown"]
