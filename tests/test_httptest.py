"""nethttp.httptest: the recorder against Go's recorder_test.go cases (our tables),
new_request against Go's NewRequest, and Server / TLSServer over real sockets."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from nethttp import (
    BodyNotAllowed,
    NotSupported,
    Request,
    ResponseController,
    ServeMux,
    Server,
    httptest,
)
from test_handlers import doc_examples, export_pending_names

Check = Callable[[httptest.ResponseRecorder], None]
AsyncH = Callable[[Any, Request], Awaitable[None]]


def status(code: int) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert rec.code == code

    return check


def contents(body: bytes) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert rec.body == body
        assert rec.result().body == body

    return check


def flushed(want: bool) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert rec.flushed is want

    return check


def header(key: str, want: str) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert rec.result().header.get(key) == want

    return check


def old_header(key: str, want: str) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert rec.header_map.get(key) == want

    return check


def no_headers(*keys: str) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert not any(rec.result().header.has(k) for k in keys)

    return check


def trailer(key: str, want: str) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert rec.result().trailer.get(key) == want

    return check


def no_trailers(*keys: str) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert not any(rec.result().trailer.has(k) for k in keys)

    return check


def content_length(n: int) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert rec.result().content_length == n

    return check


def result_status(code: int, text: str) -> Check:
    def check(rec: httptest.ResponseRecorder) -> None:
        assert (rec.result().status_code, rec.result().status) == (code, text)

    return check


async def h_nothing(w: Any, r: Request) -> None:
    pass


async def h_first_code_only(w: Any, r: Request) -> None:
    w.write_header(201)
    w.write_header(202)
    await w.write(b"hi")


async def h_write_sends_200(w: Any, r: Request) -> None:
    await w.write(b"hi first")
    w.write_header(201)
    w.write_header(202)


async def h_flush(w: Any, r: Request) -> None:
    await ResponseController(w).flush()  # also sends a 200
    w.write_header(201)


async def h_html(w: Any, r: Request) -> None:
    await w.write(b"<html>")


async def h_te(w: Any, r: Request) -> None:
    w.header().set("Transfer-Encoding", "some encoding")
    await w.write(b"<html>")


async def h_explicit_ct(w: Any, r: Request) -> None:
    w.header().set("Content-Type", "some/type")
    await w.write(b"<html>")


async def h_header_after_write(w: Any, r: Request) -> None:
    hdr = w.header()
    hdr.set("Key", "correct")
    w.write_header(200)
    hdr.set("Key", "incorrect")


async def h_trailers(w: Any, r: Request) -> None:
    w.header().set("Non-Trailer", "correct")
    w.header().set("Trailer", "Trailer-A, Trailer-B")
    w.header().add("Trailer", "Trailer-C")
    await w.write(b"<html>")
    w.header().set("Non-Trailer", "incorrect")
    w.header().set("Trailer-A", "valuea")
    w.header().set("Trailer-C", "valuec")
    w.header().set("Trailer-NotDeclared", "should be omitted")
    w.header()["Trailer:Trailer-D"] = ["with prefix"]


async def h_header_no_write(w: Any, r: Request) -> None:
    w.header().set("X-Foo", "1")
    w.code = 0  # Go issue 15560


async def h_header_map_vs_final(w: Any, r: Request) -> None:
    h = w.header()
    h.set("X-Foo", "1")
    await w.write(b"hi")
    h.set("X-Foo", "2")
    h.set("X-Bar", "2")


async def h_content_length(w: Any, r: Request) -> None:
    w.header().set("Content-Length", "9")
    await w.write(b"Some body")


RECORDER_CASES: list[tuple[str, AsyncH, list[Check]]] = [
    ("200 default", h_nothing, [status(200), contents(b"")]),
    ("first code only", h_first_code_only, [status(201), contents(b"hi")]),
    ("write sends 200", h_write_sends_200, [status(200), contents(b"hi first"), flushed(False)]),
    ("flush", h_flush, [status(200), flushed(True), content_length(-1)]),
    ("Content-Type detection", h_html, [header("Content-Type", "text/html; charset=utf-8")]),
    ("no detection with Transfer-Encoding", h_te, [header("Content-Type", "")]),
    ("no detection if set explicitly", h_explicit_ct, [header("Content-Type", "some/type")]),
    ("header not changed after write", h_header_after_write, [header("Key", "correct")]),
    (
        "trailers",
        h_trailers,
        [
            status(200),
            header("Content-Type", "text/html; charset=utf-8"),
            header("Non-Trailer", "correct"),
            no_headers("Trailer-A", "Trailer-B", "Trailer-C", "Trailer-NotDeclared"),
            trailer("Trailer-A", "valuea"),
            trailer("Trailer-C", "valuec"),
            no_trailers("Non-Trailer", "Trailer-B", "Trailer-NotDeclared"),
            trailer("Trailer-D", "with prefix"),
        ],
    ),
    (
        "header set without any write",
        h_header_no_write,
        [old_header("X-Foo", "1"), status(0), header("X-Foo", "1"), result_status(200, "200 OK")],
    ),
    (
        "header map vs final header",
        h_header_map_vs_final,
        [
            old_header("X-Foo", "2"),
            old_header("X-Bar", "2"),
            header("X-Foo", "1"),
            no_headers("X-Bar"),
        ],
    ),
    ("Content-Length", h_content_length, [status(200), contents(b"Some body"), content_length(9)]),
]


@pytest.mark.parametrize(
    ("name", "handler", "checks"), RECORDER_CASES, ids=[c[0] for c in RECORDER_CASES]
)
def test_recorder(name: str, handler: AsyncH, checks: list[Check]) -> None:
    rec = httptest.serve(handler, httptest.new_request("GET", "http://foo.com/"))
    for check in checks:
        check(rec)


def test_body_not_allowed_is_recorded_and_raised() -> None:
    rec = httptest.ResponseRecorder()
    rec.write_header(204)
    with pytest.raises(BodyNotAllowed):
        asyncio.run(rec.write(b"hello "))
    with pytest.raises(BodyNotAllowed):
        rec.write_sync(b"world")
    assert rec.body == b"hello world"


@pytest.mark.parametrize(
    ("cl", "want"),
    [("3", 3), ("+3", -1), ("-3", -1), ("9223372036854775807", 9223372036854775807),
     ("9223372036854775808", -1), ("", -1), (" 7 ", 7)],
)  # fmt: skip
def test_result_content_length(cl: str, want: int) -> None:
    rec = httptest.ResponseRecorder()
    rec.header().set("Content-Length", cl)
    assert rec.result().content_length == want


@pytest.mark.parametrize("code", [-100, 0, 99, 1000, 20000])
def test_write_header_rejects_codes_outside_100_999(code: int) -> None:
    with pytest.raises(ValueError, match="invalid WriteHeader code"):
        httptest.ResponseRecorder().write_header(code)


def test_result_is_a_snapshot_built_once() -> None:
    rec = httptest.ResponseRecorder()
    asyncio.run(rec.write(b"a"))
    res = rec.result()
    asyncio.run(rec.write(b"b"))
    assert rec.result() is res
    assert (res.body, rec.body, res.proto) == (b"a", b"ab", "HTTP/1.1")
    assert repr(res) == "<RecordedResponse 200 OK 1 bytes>"


def test_recorder_rejects_str() -> None:
    with pytest.raises(TypeError, match="bytes"):
        httptest.ResponseRecorder().write_sync("text")  # type: ignore[arg-type]


# -- new_request (Go's NewRequest) -----------------------------------------------------------


def test_new_request_defaults() -> None:
    r = httptest.new_request("", "/path?q=1")
    assert (r.method, r.host, r.remote_addr, r.proto) == (
        "GET",
        "example.com",
        "192.0.2.1:1234",
        "HTTP/1.1",
    )
    assert (r.url.path, r.url.raw_query, r.request_uri) == ("/path", "q=1", "/path?q=1")
    assert (r.content_length, r.close, r.tls) == (0, False, None)
    assert asyncio.run(r.body.read()) == b""
    assert r.context().err() is None


@pytest.mark.parametrize(
    ("target", "host", "path", "tls"),
    [
        ("http://foo.com/x/y?z", "foo.com", "/x/y", False),
        ("https://secure.example:8443/", "secure.example:8443", "/", True),
        ("HTTPS://upper.example", "upper.example", "", True),
        ("/", "example.com", "/", False),
    ],
)
def test_new_request_absolute_targets(target: str, host: str, path: str, tls: bool) -> None:
    r = httptest.new_request("GET", target)
    assert (r.host, r.url.path, r.tls is not None) == (host, path, tls)
    if tls:
        assert r.tls is not None and r.tls.version() == "TLSv1.2"


@pytest.mark.parametrize(
    ("body", "length", "data"),
    [
        (b"bytes", 5, b"bytes"),
        ("strïng", 7, "strïng".encode()),
        (bytearray(b"ba"), 2, b"ba"),
        ([b"one ", b"", b"two"], -1, b"one two"),
        (iter([b"gen"]), -1, b"gen"),
        (b"", 0, b""),
    ],
)
def test_new_request_bodies(body: Any, length: int, data: bytes) -> None:
    r = httptest.new_request("POST", "/", body)
    assert r.content_length == length
    assert r.transfer_encoding == (["chunked"] if length < 0 else [])

    async def read() -> bytes:
        return b"".join([chunk async for chunk in r.body])

    assert asyncio.run(read()) == data


@pytest.mark.parametrize(
    ("method", "target"),
    [("GE T", "/"), ("GET", ""), ("GET", "/a b"), ("GET", "relative"), ("GET", "/\n")],
)
def test_new_request_rejects_what_go_panics_on(method: str, target: str) -> None:
    with pytest.raises(ValueError):
        httptest.new_request(method, target)


def test_new_request_connect_and_star() -> None:
    assert httptest.new_request("CONNECT", "example.org:443").host == "example.org:443"
    assert httptest.new_request("OPTIONS", "*").request_uri == "*"


# -- serve / serve_async ---------------------------------------------------------------------


def test_serve_runs_async_and_def_handlers_and_muxes() -> None:
    async def hello(w: Any, r: Request) -> None:
        await w.write(b"async " + r.url.path.encode())

    def blocking(w: Any, r: Request) -> None:
        w.header().set("X-Thread", threading.current_thread().name)
        w.write_header(202)
        w.write(b"def " + r.body.read())
        w.flush()

    assert httptest.serve(hello, httptest.new_request("GET", "/a")).body == b"async /a"
    rec = httptest.serve(blocking, httptest.new_request("POST", "/", b"body"))
    assert (rec.code, rec.body, rec.flushed) == (202, b"def body", True)
    assert rec.header().get("X-Thread") != threading.current_thread().name
    mux = ServeMux()
    mux.handle("/async", hello)
    mux.handle("/def", blocking)
    assert httptest.serve(mux, httptest.new_request("GET", "/async")).body == b"async /async"
    assert httptest.serve(mux, httptest.new_request("GET", "/def")).body == b"def "
    assert httptest.serve(mux, httptest.new_request("GET", "/none")).code == 404


def test_serve_inside_a_loop_points_to_serve_async() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="serve_async"):
            httptest.serve(h_nothing)
        rec = await httptest.serve_async(h_html)
        assert rec.body == b"<html>"

    asyncio.run(main())


def test_recorder_has_no_hijack_or_deadlines() -> None:
    async def handler(w: Any, r: Request) -> None:
        rc = ResponseController(w)
        for call in (rc.hijack, rc.enable_full_duplex, lambda: rc.set_read_deadline(None)):
            with pytest.raises(NotSupported):
                call()
        await rc.flush()

    assert httptest.serve(handler).flushed


# -- Server and TLSServer --------------------------------------------------------------------


async def hello_handler(w: Any, r: Request) -> None:
    await w.write(f"hello {r.url.path} {r.tls is not None}".encode())


def test_server_in_a_plain_test() -> None:
    with httptest.Server(hello_handler) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        assert srv.config is srv.server and isinstance(srv.config, Server)
        assert httpx.get(srv.url + "/x").text == "hello /x False"
        with httpx.Client() as client:  # keep-alive across requests
            assert [client.get(srv.url + f"/{i}").text for i in range(3)] == [
                "hello /0 False",
                "hello /1 False",
                "hello /2 False",
            ]
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/x")
    srv.close()  # idempotent


def test_server_url_is_known_before_start() -> None:
    srv = httptest.Server(hello_handler)
    port = int(srv.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # listening already; the kernel queues the connection
    srv.start()
    try:
        assert httpx.get(srv.url + "/late").text == "hello /late False"
        with pytest.raises(RuntimeError, match="already started"):
            srv.start()
    finally:
        srv.close()
    unstarted = httptest.Server(hello_handler)
    unstarted.close()  # closes the listener
    with pytest.raises(httpx.ConnectError):
        httpx.get(unstarted.url)


def test_close_lets_in_flight_requests_finish() -> None:
    started = threading.Event()

    async def slow(w: Any, r: Request) -> None:
        started.set()
        await asyncio.sleep(0.3)
        await w.write(b"done")

    results: list[str] = []
    with httptest.Server(slow) as srv:
        t = threading.Thread(target=lambda: results.append(httpx.get(srv.url).text))
        t.start()
        assert started.wait(5)
    t.join(5)
    assert results == ["done"]


def test_close_cuts_off_requests_past_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    started = threading.Event()

    async def stuck(w: Any, r: Request) -> None:
        started.set()
        await asyncio.sleep(30)

    srv = httptest.Server(stuck)
    srv.start()
    errors: list[BaseException] = []

    def client() -> None:
        try:
            httpx.get(srv.url, timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    t = threading.Thread(target=client)
    t.start()
    assert started.wait(5)
    srv.close(timeout=0.1)
    t.join(5)
    assert errors and "cut off" in caplog.text


def test_close_raises_what_broke_serving() -> None:
    srv = httptest.Server(hello_handler)

    def failing_start() -> None:
        raise OSError("cannot start")

    srv.config.register_on_start(failing_start)
    srv.start()
    with pytest.raises(OSError, match="cannot start"):
        srv.close()


def test_server_with_async_with() -> None:
    async def main() -> str:
        async with httptest.Server(hello_handler) as srv:
            async with httpx.AsyncClient() as client:
                resp = await client.get(srv.url + "/in-loop")
            with pytest.raises(RuntimeError, match="aclose"):
                srv.close()
            return resp.text

    assert asyncio.run(main()) == "hello /in-loop False"


def test_server_options_reach_the_server() -> None:
    with httptest.Server(hello_handler, max_body_bytes=4) as srv:
        assert srv.config.max_body_bytes == 4
        assert httpx.post(srv.url, content=b"too long").status_code == 413


def test_tls_server() -> None:
    with httptest.TLSServer(hello_handler) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        ctx = srv.client_ssl_context()
        assert httpx.get(srv.url + "/s", verify=ctx).text == "hello /s True"
        localhost = srv.url.replace("127.0.0.1", "localhost")
        assert httpx.get(localhost + "/l", verify=ctx).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(srv.url)  # not trusted by default
        assert srv.certificate().startswith("-----BEGIN CERTIFICATE-----")
        assert isinstance(srv.tls, ssl.SSLContext)
        port = int(srv.url.rsplit(":", 1)[1])
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            ctx.wrap_socket(raw, server_hostname="example.com") as tls_sock,
        ):
            assert tls_sock.selected_alpn_protocol() in (None, "http/1.1")
            cert = tls_sock.getpeercert()
            assert ("DNS", "example.com") in cert["subjectAltName"]


def test_tls_server_with_async_with() -> None:
    async def main() -> str:
        srv = httptest.TLSServer(hello_handler)
        async with srv, httpx.AsyncClient(verify=srv.client_ssl_context()) as client:
            return (await client.get(srv.url + "/a")).text

    assert asyncio.run(main()) == "hello /a True"


# -- the examples in docs/testing.md run as written --------------------------------------------


@pytest.mark.parametrize("code", doc_examples("testing.md"))
def test_testing_doc_examples(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    export_pending_names(monkeypatch)
    exec(compile(code, "docs/testing.md", "exec"), {"__name__": "docs_example"})
