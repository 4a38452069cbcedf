"""The WSGI adapter over real sockets: the environ, wsgi.input, streaming both ways with
back-pressure, close(), start_response's exc_info rules, write(), errors, the thread bound."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

import nethttp
from conftest import BackgroundUpload, Running, recv_all, recv_response
from nethttp.wsgi import WSGIHandler

LOG = "nethttp.test.wsgi"
Start = Callable[..., Running]
Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@pytest.fixture
def wsgi(serve: Callable[..., Running]) -> Start:
    """``wsgi(app, threads=..., root_path=..., **server_options)``: a running server."""

    def start(app: Any, **options: Any) -> Running:
        handler_opts = {k: options.pop(k) for k in ("threads", "root_path") if k in options}
        options.setdefault("error_log", logging.getLogger(LOG))
        return serve(WSGIHandler(app, **handler_opts), **options)

    return start


def hello(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


# -- the environ ---------------------------------------------------------------------------


def test_environ_fields(wsgi: Start) -> None:
    seen: list[Environ] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        seen.append(dict(environ))
        return hello(environ, start_response)

    srv = wsgi(app, root_path="/mount")
    with srv.connect() as s:
        s.sendall(
            b"POST /caf%C3%A9/a%2Fb?x=1&y=%20z HTTP/1.1\r\nHost: example.com:8080\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 3\r\nX-Multi: a\r\nx-multi: b\r\n"
            b"Cookie: a=1\r\nCookie: b=2\r\nX_Smuggled: evil\r\nX-Forwarded-For: 1.2.3.4\r\n\r\nabc"
        )
        assert recv_response(s).endswith(b"ok")
        client_port = s.getsockname()[1]
    env = seen[0]
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == "/mount"
    # PEP 3333: percent-decoded bytes as latin-1 text ("é" as two characters, %2F a slash).
    assert env["PATH_INFO"] == "/caf\xc3\xa9/a/b"
    assert env["QUERY_STRING"] == "x=1&y=%20z"
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(srv.port)
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == str(client_port)
    assert env["HTTP_HOST"] == "example.com:8080"
    assert env["HTTP_X_MULTI"] == "a, b"
    assert env["HTTP_COOKIE"] == "a=1; b=2"
    assert env["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    # A name with "_" would collide with its "-" spelling: dropped, as nginx does.
    assert not any("SMUGGLED" in k for k in env)
    assert env["wsgi.version"] == (1, 0)
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.input_terminated"] is True
    assert env["wsgi.errors"] is sys.stderr
    assert env["wsgi.multithread"] is True
    assert env["wsgi.multiprocess"] is False
    assert env["wsgi.run_once"] is False
    assert isinstance(env["nethttp.request"], nethttp.Request)
    assert all(isinstance(v, str) for k, v in env.items() if k.isupper())


def test_environ_of_a_bodyless_request(wsgi: Start) -> None:
    seen: list[Environ] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        seen.append(environ)
        assert environ["wsgi.input"].read() == b""
        return hello(environ, start_response)

    srv = wsgi(app)
    assert httpx.get(srv.url + "/plain").text == "ok"
    env = seen[0]
    assert env["PATH_INFO"] == "/plain"
    assert env["QUERY_STRING"] == ""
    assert "CONTENT_LENGTH" not in env and "CONTENT_TYPE" not in env


# -- wsgi.input ----------------------------------------------------------------------------


def test_wsgi_input_methods(wsgi: Start) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        inp = environ["wsgi.input"]
        parts = [
            inp.read(3),
            inp.readline(),
            inp.readline(2),
            inp.readline(),
            b"|".join(inp.readlines(1)),
            b"|".join(list(inp)),
            inp.read(),
        ]
        start_response("200 OK", [])
        return [b"/".join(parts)]

    srv = wsgi(app)
    body = b"abcdef\nline2\nthree\nfour\nfive\n"
    response = httpx.post(srv.url, content=body)
    assert response.text == "abc/def\n/li/ne2\n/three\n/four\n|five\n/"


def test_chunked_body_is_read_to_its_end(wsgi: Start) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        assert "CONTENT_LENGTH" not in environ
        data = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [str(len(data)).encode()]

    srv = wsgi(app)

    def pieces() -> Iterator[bytes]:
        for _ in range(10):
            yield b"z" * 10_000

    assert httpx.post(srv.url, content=pieces()).text == "100000"


def test_upload_is_paused_while_the_app_does_not_read(wsgi: Start) -> None:
    release = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        inp = environ["wsgi.input"]
        total = len(inp.read(1000))
        release.wait(10)
        while chunk := inp.read(1 << 16):
            total += len(chunk)
        start_response("200 OK", [])
        return [str(total).encode()]

    srv = wsgi(app)
    size = 32 << 20
    with srv.connect(timeout=20) as s:
        upload = BackgroundUpload(s, size)
        stalled_at = upload.stalled_at()
        release.set()
        upload.join()
        assert recv_response(s, timeout=20).endswith(str(size).encode())
    assert stalled_at < size // 2, stalled_at


# -- the response --------------------------------------------------------------------------


def test_content_length_honoured_else_chunked(wsgi: Start) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/declared":
            start_response("200 OK", [("Content-Length", "5000")])
            return [b"d" * 2500, b"d" * 2500]

        def gen() -> Iterator[bytes]:
            yield b"ab"
            time.sleep(0.1)  # the first block goes out alone, before the end is known
            yield b"cd"

        start_response("200 OK", [("X-Gen", "1")])
        return gen()

    srv = wsgi(app)
    with srv.connect() as s:
        s.sendall(b"GET /declared HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_response(s)
        assert b"\r\nContent-Length: 5000\r\n" in got and got.endswith(b"d" * 5000)
        s.sendall(b"GET /gen HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_response(s)
        assert b"\r\nTransfer-Encoding: chunked\r\n" in got
        assert got.endswith(b"2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n")


def test_status_and_headers(wsgi: Start) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response(
            "418 I'm a teapot", [("X-A", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
        )
        return [b"tea"]

    srv = wsgi(app)
    response = httpx.get(srv.url)
    assert response.status_code == 418
    assert response.headers["x-a"] == "1"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_each_block_is_sent_without_delay(wsgi: Start) -> None:
    first_seen = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"data: 1\n\n"
        assert first_seen.wait(5)  # PEP 3333: the first block reached the client by now
        yield b"data: 2\n\n"

    srv = wsgi(app)
    with httpx.stream("GET", srv.url, timeout=5) as response:
        pieces = response.iter_raw()
        assert next(pieces) == b"data: 1\n\n"
        first_seen.set()
        assert b"".join(pieces) == b"data: 2\n\n"


def test_slow_reader_pauses_the_app(wsgi: Start) -> None:
    produced = [0]
    done = threading.Event()
    chunk = b"s" * 65536

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        for _ in range(320):  # 20 MiB
            produced[0] += len(chunk)
            yield chunk
        done.set()

    srv = wsgi(app)
    with srv.connect() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.6)
        assert not done.is_set()
        paused_at = produced[0]
        got = 0
        s.settimeout(10)
        while got < 320 * len(chunk):
            data = s.recv(1 << 20)
            if not data:
                break
            got += len(data)
        assert done.wait(10)
    assert paused_at <= 8 << 20, paused_at  # kernel buffers plus the bounded queue


def test_write_callable(wsgi: Start) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [("Content-Length", "11")])
        write(b"hello ")
        return [b"world"]

    srv = wsgi(app)
    assert httpx.get(srv.url).text == "hello world"


class Closing:
    """An iterable with close(), recording that it was called."""

    def __init__(self, blocks: list[bytes], fail_at: int = -1) -> None:
        self.blocks = blocks
        self.fail_at = fail_at
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for i, block in enumerate(self.blocks):
            if i == self.fail_at:
                raise RuntimeError("broken iterable")
            yield block

    def close(self) -> None:
        self.closed.set()


def test_close_is_always_called(wsgi: Start, caplog: pytest.LogCaptureFixture) -> None:
    made: list[Closing] = []

    def app(environ: Environ, start_response: StartResponse) -> Closing:
        start_response("200 OK", [])
        path = environ["PATH_INFO"]
        if path == "/ok":
            body = Closing([b"a", b"b"])
        elif path == "/fail":
            body = Closing([b"a" * 5000, b"b"], fail_at=1)
        else:  # /endless: the client leaves
            body = Closing([b"e" * 65536] * 100_000)
        made.append(body)
        return body

    srv = wsgi(app)
    assert httpx.get(srv.url + "/ok").text == "ab"
    assert made[-1].closed.wait(5)
    with caplog.at_level(logging.ERROR, logger=LOG), srv.connect() as s:
        s.sendall(b"GET /fail HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_all(s)
        assert not got.endswith(b"0\r\n\r\n")  # cut short: the connection was aborted
    assert made[-1].closed.wait(5)
    with srv.connect() as s:
        s.sendall(b"GET /endless HTTP/1.1\r\nHost: a\r\n\r\n")
        s.settimeout(5)
        s.recv(1000)
    assert made[-1].closed.wait(5)


# -- start_response and errors -------------------------------------------------------------


def test_exc_info_replaces_an_unsent_head(wsgi: Start) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-First", "1")])
        try:
            raise ValueError("while building the page")
        except ValueError:
            start_response("503 Service Unavailable", [("X-Second", "1")], sys.exc_info())
        return [b"sorry"]

    srv = wsgi(app)
    response = httpx.get(srv.url)
    assert response.status_code == 503
    assert "x-first" not in response.headers and response.headers["x-second"] == "1"
    assert response.text == "sorry"


def test_exc_info_after_the_head_was_sent_reraises(
    wsgi: Start, caplog: pytest.LogCaptureFixture
) -> None:
    reraised: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"x" * 5000
        try:
            raise ValueError("late")
        except ValueError:
            try:
                start_response("500 Oops", [], sys.exc_info())
            except ValueError as exc:
                reraised.append(exc)
                raise

    srv = wsgi(app)
    with caplog.at_level(logging.ERROR, logger=LOG), srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_all(s)
    assert got.startswith(b"HTTP/1.1 200 OK") and not got.endswith(b"0\r\n\r\n")
    assert reraised and str(reraised[0]) == "late"
    assert "exception in WSGI application" in caplog.text


def raises(environ: Environ, start_response: StartResponse) -> list[bytes]:
    raise ValueError("boom")


def no_start_response(environ: Environ, start_response: StartResponse) -> list[bytes]:
    return []


def start_twice(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [])
    start_response("200 OK", [])
    return []


def bad_status(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("OK", [])
    return []


def longer_than_declared(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "3")])
    return [b"four"]


def shorter_than_declared(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Length", "10")])
    yield b"four"


def not_bytes(environ: Environ, start_response: StartResponse) -> list[str]:
    start_response("200 OK", [])
    return ["text"]


@pytest.mark.parametrize(
    ("app", "outcome", "logged"),
    [
        (raises, "500", "boom"),
        (no_start_response, "500", "without calling start_response"),
        (start_twice, "500", "start_response called a second time"),
        (bad_status, "500", "invalid WSGI status"),
        (not_bytes, "500", "must be bytes"),
        (longer_than_declared, "abort", "exception in WSGI application"),
        (shorter_than_declared, "abort", "not its Content-Length 10"),
    ],
)
def test_errors(
    wsgi: Start, caplog: pytest.LogCaptureFixture, app: Any, outcome: str, logged: str
) -> None:
    srv = wsgi(app)
    with caplog.at_level(logging.ERROR, logger=LOG), srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        got = recv_all(s)
    if outcome == "500":
        assert got.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    else:
        head, _, body = got.partition(b"\r\n\r\n")
        assert b"HTTP/1.1 500" not in got
        assert not head or len(body) < 10
    deadline = time.monotonic() + 5
    while logged not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.02)
    assert logged in caplog.text


def test_head_request_sends_no_body(wsgi: Start) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "5")])
        return [b"hello"]

    srv = wsgi(app)
    response = httpx.head(srv.url)
    assert response.headers["content-length"] == "5"
    assert response.content == b""


def test_threads_bound_concurrency(wsgi: Start) -> None:
    running = [0]
    peak = [0]
    lock = threading.Lock()

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return hello(environ, start_response)

    srv = wsgi(app, threads=2)
    results: list[int] = []

    def get() -> None:
        results.append(httpx.get(srv.url, timeout=10).status_code)

    clients = [threading.Thread(target=get) for _ in range(6)]
    for t in clients:
        t.start()
    for t in clients:
        t.join(10)
    assert results == [200] * 6
    assert peak[0] == 2


def test_handler_keeps_serving_on_one_connection(wsgi: Start) -> None:
    srv = wsgi(hello)
    with httpx.Client(base_url=srv.url) as client:
        for _ in range(20):
            assert client.get("/").text == "ok"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="thread"):
        WSGIHandler(hello, threads=0)
    with pytest.raises(ValueError, match="root_path"):
        WSGIHandler(hello, root_path="mount")
