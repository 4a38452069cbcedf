"""The HTTP/1 response writer over real sockets, compared with Go's bytes.

Every exact expectation below was captured from Go 1.27.3's ``net/http`` serving the
same handler on 127.0.0.1 (a tiny Go program, raw socket client), with the ``Date``
value replaced by ``D``; the few places where nethttp deliberately differs from Go say
so beside the test. Responses are read from raw sockets a few bytes at a time, so a
head that is split across writes, or a body byte too many, shows up.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

import nethttp
from wire_client import Wire, close_wires, norm, open_wire  # noqa: F401

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
HEAD = b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def exchange(srv: Any, request: bytes = GET, head_only: bool = False) -> tuple[bytes, Wire]:
    """Send ``request`` on a new connection and return its response (Date normalised)."""
    wire = open_wire(srv)
    wire.send(request)
    return norm(wire.response(head_only)), wire


def body_handler(body: bytes, **headers: str) -> Callable[..., Any]:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        for k, v in headers.items():
            w.header().set(k.replace("_", "-"), v)
        await w.write(body)

    return handler


def assert_reused(wire: Wire) -> None:
    """The connection still serves requests, and nothing stray is left on it."""
    wire.send(b"GET /again HTTP/1.1\r\nHost: example.com\r\n\r\n")
    raw = wire.response()
    while raw.startswith(b"HTTP/1.1 1"):  # informational responses come first
        raw = wire.response()
    assert re.match(rb"HTTP/1\.1 [2-5]\d\d ", raw), raw


# -- implicit 200 and automatic Content-Length ------------------------------------------------


def test_implicit_200_gets_content_length_and_sniffed_type(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"hello"))
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Length: 5\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello"
    )
    assert_reused(wire)


def test_empty_handler_sends_content_length_zero(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        pass

    srv = serve(handler)
    got, wire = exchange(srv)
    assert got == b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Length: 0\r\n\r\n"
    assert_reused(wire)


def test_body_of_2048_bytes_gets_content_length(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"x" * 2048))
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Length: 2048\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + b"x" * 2048
    )
    assert_reused(wire)


def test_body_of_2049_bytes_is_chunked(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"x" * 2049))
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n801\r\n" + b"x" * 2049 + b"\r\n0\r\n\r\n"
    )
    assert_reused(wire)


@pytest.mark.parametrize(
    ("writes", "chunks"),
    [
        # Go's 2 KiB bufio.Writer fills up to exactly 2048 bytes before it flushes a chunk.
        ([1000, 1000, 1000], [2048, 952]),
        ([1] * 2049, [2048, 1]),
    ],
    ids=["3x1000", "2049x1"],
)
def test_overflowing_writes_become_2048_byte_chunks(
    serve: Callable[..., Any], writes: list[int], chunks: list[int]
) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        for n in writes:
            await w.write(b"k" * n)

    srv = serve(handler)
    got, _ = exchange(srv)
    body = b"".join(b"%x\r\n%s\r\n" % (n, b"k" * n) for n in chunks) + b"0\r\n\r\n"
    assert got == (
        b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body
    )


def test_flush_sends_head_at_once_and_later_small_writes_merge(
    serve: Callable[..., Any],
) -> None:
    go_on = threading.Event()

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"a")
        await w.flush()
        await asyncio.to_thread(go_on.wait, 5)
        await w.write(b"bb")
        await w.write(b"ccc")

    srv = serve(handler)
    wire = open_wire(srv)
    try:
        wire.send(GET)
        head = norm(wire.until(b"\r\n\r\n"))
        first = wire.until(b"a\r\n")  # arrives while the handler is still running
    finally:
        go_on.set()
    assert head == (
        b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    assert first == b"1\r\na\r\n"
    assert wire.until(b"0\r\n\r\n") == b"5\r\nbbccc\r\n0\r\n\r\n"
    assert_reused(wire)


# -- Content-Type sniffing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"<html><body>hi</body></html>", HTML),
        (b"<!DOCTYPE html><p>x</p>", HTML),
        (b"just some text", TEXT),
        (PNG, "image/png"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
    ],
    ids=["html", "doctype", "text", "png", "binary"],
)
def test_content_type_is_sniffed_when_unset(
    serve: Callable[..., Any], body: bytes, ctype: str
) -> None:
    srv = serve(body_handler(body))
    got, _ = exchange(srv)
    head, _, rest = got.partition(b"\r\n\r\n")
    assert b"\r\nContent-Type: " + ctype.encode() + b"\r\n" in head + b"\r\n"
    assert head.count(b"Content-Type:") == 1
    assert rest == body


def test_content_type_sniffed_from_the_first_write_of_a_streamed_body(
    serve: Callable[..., Any],
) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"<html>")
        await w.flush()
        await w.write(b"\x00\x01 not text")

    srv = serve(handler)
    got, _ = exchange(srv)
    assert b"\r\nContent-Type: text/html; charset=utf-8\r\n" in got


def test_no_sniffing_when_content_encoding_is_set(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"<html>x", Content_Encoding="gzip"))
    got, _ = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nDate: D\r\nContent-Length: 7\r\n\r\n<html>x"
    )


def test_handler_content_type_is_not_replaced(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"<html>x", Content_Type="application/json"))
    got, _ = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: D\r\n"
        b"Content-Length: 7\r\n\r\n<html>x"
    )


def test_headers_changed_after_first_write_do_not_reach_the_wire(
    serve: Callable[..., Any],
) -> None:
    # Go's TestHeaderToWire: the first Write commits (clones) the header map, so a field
    # added afterwards never appears and a late Content-Type does not replace the sniffed one.
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"<html>x")
        w.header().set("X-Late", "1")
        w.header().set("Content-Type", "text/css")

    srv = serve(handler)
    got, _ = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Length: 7\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<html>x"
    )


# -- Date ---------------------------------------------------------------------------------------


def test_date_is_rfc1123_gmt_and_current(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"x"))
    wire = open_wire(srv)
    wire.send(GET)
    before = time.time()
    raw = wire.response()
    after = time.time()
    m = re.search(rb"\r\nDate: ([^\r\n]*)\r\n", raw)
    assert m is not None, raw
    value = m.group(1).decode()
    assert re.fullmatch(
        r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", value
    )
    stamp = parsedate_to_datetime(value).timestamp()
    assert before - 2 <= stamp <= after + 1


def test_empty_date_list_suppresses_date(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header()["Date"] = []  # Go: w.Header()["Date"] = nil
        await w.write(b"x")

    srv = serve(handler)
    wire = open_wire(srv)
    wire.send(GET)
    assert wire.response() == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx"
    )


def test_handler_date_replaces_the_servers(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"x", Date="Tue, 15 Nov 1994 08:12:31 GMT"))
    wire = open_wire(srv)
    wire.send(GET)
    raw = wire.response()
    assert raw.count(b"Date:") == 1
    assert b"\r\nDate: Tue, 15 Nov 1994 08:12:31 GMT\r\n" in raw


# -- header order -------------------------------------------------------------------------------


def test_header_order_sorted_handler_fields_then_server_fields(
    serve: Callable[..., Any],
) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        h = w.header()
        h.set("Zz", "1")
        h.set("Aa", "2")
        h.set("Mm", "3")
        await w.write(b"x")

    srv = serve(handler)
    got, _ = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nAa: 2\r\nMm: 3\r\nZz: 1\r\nDate: D\r\nContent-Length: 1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nx"
    )


def test_header_order_with_connection_close_and_chunked(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("Zz", "1")
        w.header().set("Aa", "2")
        await w.write(b"y" * 3000)

    srv = serve(handler)
    got, wire = exchange(srv, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert got == (
        b"HTTP/1.1 200 OK\r\nAa: 2\r\nZz: 1\r\nDate: D\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nbb8\r\n" + b"y" * 3000 + b"\r\n0\r\n\r\n"
    )
    assert wire.at_eof()


def test_handler_connection_close_keeps_its_sorted_place(serve: Callable[..., Any]) -> None:
    # Go writes the handler's own "Connection: close" among the handler's fields.
    srv = serve(body_handler(b"x", Connection="close"))
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nDate: D\r\nContent-Length: 1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nx"
    )
    assert wire.at_eof()


# -- HEAD ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (5, b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Length: 5\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n"),
        (0, b"HTTP/1.1 200 OK\r\nDate: D\r\n\r\n"),
        (3000, b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"),
    ],
    ids=["small", "empty", "over-buffer"],
)  # fmt: skip
def test_head_sends_no_body(serve: Callable[..., Any], size: int, expected: bytes) -> None:
    srv = serve(body_handler(b"h" * size))
    got, wire = exchange(srv, HEAD, head_only=True)
    assert got == expected
    # Not one body byte follows: the next response starts right away.
    assert_reused(wire)


# -- bodiless statuses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (204, b"HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\nDate: D\r\n\r\n"),
        (304, b'HTTP/1.1 304 Not Modified\r\nEtag: "x"\r\nDate: D\r\n\r\n'),
    ],
)
def test_bodiless_status_sends_no_body_and_refuses_writes(
    serve: Callable[..., Any], code: int, expected: bytes
) -> None:
    errors: list[BaseException] = []

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("Content-Type", "text/plain")
        w.header().set("Etag", '"x"')
        if code == 204:
            w.header().delete("Etag")
        w.write_header(code)
        try:
            await w.write(b"x")
        except nethttp.BodyNotAllowed as exc:
            errors.append(exc)

    srv = serve(handler)
    got, wire = exchange(srv)
    assert got == expected
    assert len(errors) == 1
    assert_reused(wire)


# -- declared Content-Length --------------------------------------------------------------------


def test_fewer_bytes_than_declared_closes_the_connection(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"hello", Content_Length="10"))
    wire = open_wire(srv)
    wire.send(GET)
    assert norm(wire.until(b"\r\n\r\n") + wire.rest()) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nDate: D\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello"
    )


def test_more_bytes_than_declared_raises_and_closes(serve: Callable[..., Any]) -> None:
    errors: list[BaseException] = []

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("Content-Length", "3")
        try:
            await w.write(b"abcd")
        except nethttp.ContentLengthMismatch as exc:
            errors.append(exc)

    srv = serve(handler)
    wire = open_wire(srv)
    wire.send(GET)
    # Go writes nothing of the write that went over, then closes.
    assert norm(wire.until(b"\r\n\r\n") + wire.rest()) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nDate: D\r\n\r\n"
    )
    assert len(errors) == 1


def test_exact_declared_length_keeps_the_connection(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"x" * 5000, Content_Length="5000"))
    got, wire = exchange(srv)
    assert got.startswith(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nDate: D\r\n")
    assert b"Transfer-Encoding" not in got
    assert got.endswith(b"\r\n\r\n" + b"x" * 5000)
    assert_reused(wire)


# -- write_header misuse ------------------------------------------------------------------------


def test_superfluous_write_header_is_logged_not_raised(
    serve: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []

    async def double_status(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            w.write_header(201)
            w.write_header(500)
            await w.write(b"x")
        except Exception as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    caplog.set_level(logging.ERROR, logger="nethttp.test")
    srv = serve(double_status)
    got, _ = exchange(srv)
    assert got == (
        b"HTTP/1.1 201 Created\r\nDate: D\r\nContent-Length: 1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nx"
    )
    assert errors == []
    messages = [r.getMessage() for r in caplog.records if r.name == "nethttp.test"]
    assert any("superfluous response.WriteHeader call" in m for m in messages), messages
    # Like Go, the line names the caller.
    assert any("double_status" in m for m in messages), messages


def test_write_header_out_of_range_raises(serve: Callable[..., Any]) -> None:
    errors: list[BaseException] = []

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        for code in (99, 1000):
            try:
                w.write_header(code)
            except ValueError as exc:
                errors.append(exc)
        w.write_header(202)

    srv = serve(handler)
    got, _ = exchange(srv)
    assert got.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert len(errors) == 2


def test_unknown_status_code_line(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.write_header(599)

    srv = serve(handler)
    got, _ = exchange(srv)
    assert got == b"HTTP/1.1 599 status code 599\r\nDate: D\r\nContent-Length: 0\r\n\r\n"


# -- 1xx ----------------------------------------------------------------------------------------


def test_early_hints_go_out_at_once_then_the_final_response(
    serve: Callable[..., Any],
) -> None:
    go_on = threading.Event()

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("Link", "</style.css>; rel=preload")
        w.write_header(103)
        await asyncio.to_thread(go_on.wait, 5)
        await w.write(b"done")

    srv = serve(handler)
    wire = open_wire(srv)
    try:
        wire.send(GET)
        hints = wire.response()  # before the handler goes on
    finally:
        go_on.set()
    assert hints == b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    assert norm(wire.response()) == (
        b"HTTP/1.1 200 OK\r\nLink: </style.css>; rel=preload\r\nDate: D\r\n"
        b"Content-Length: 4\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ndone"
    )
    assert_reused(wire)


# -- trailers -----------------------------------------------------------------------------------


def test_trailers_declared_and_prefixed(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("Trailer", "X-Sum")
        await w.write(b"body")
        w.header().set("X-Sum", "42")
        w.header()["Trailer:X-Late"] = ["7"]

    srv = serve(handler)
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nDate: D\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nbody\r\n0\r\nX-Late: 7\r\nX-Sum: 42\r\n\r\n"
    )
    assert_reused(wire)


def test_trailers_after_a_flush(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("Trailer", "X-Sum")
        await w.write(b"body")
        await w.flush()
        w.header().set("X-Sum", "42")

    srv = serve(handler)
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nDate: D\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nbody\r\n0\r\nX-Sum: 42\r\n\r\n"
    )
    assert_reused(wire)


def test_trailers_declared_without_a_body(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("Trailer", "X-Sum")
        w.header().set("X-Sum", "42")

    srv = serve(handler)
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nX-Sum: 42\r\nDate: D\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 42\r\n\r\n"
    )
    assert_reused(wire)


def test_prefixed_trailer_only(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"a" * 3000)
        w.header()["Trailer:X-Late"] = ["7"]

    srv = serve(handler)
    got, _ = exchange(srv)
    assert b"Trailer" not in got.partition(b"\r\n\r\n")[0]
    assert got.endswith(b"\r\n0\r\nX-Late: 7\r\n\r\n")


# -- header values and names from the handler ---------------------------------------------------


def test_control_bytes_in_header_values_never_split_the_head(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        w.header().set("X-Evil", "a\r\nInjected: yes")
        w.header().set("X-Lf", "a\nb")
        w.header().set("X-Nul", "a\x00b")
        await w.write(b"x")

    srv = serve(handler)
    got, wire = exchange(srv)
    # Go turns CR and LF into spaces; it lets NUL through, nethttp turns it into a space too.
    assert got == (
        b"HTTP/1.1 200 OK\r\nX-Evil: a  Injected: yes\r\nX-Lf: a b\r\nX-Nul: a b\r\n"
        b"Date: D\r\nContent-Length: 1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx"
    )
    assert_reused(wire)


def test_control_bytes_in_trailer_values_are_sanitized(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"a")
        await w.flush()
        w.header()["Trailer:X-T"] = ["1\r\n\r\nHTTP/1.1 200 OK"]

    srv = serve(handler)
    got, wire = exchange(srv)
    assert got.endswith(b"\r\n1\r\na\r\n0\r\nX-T: 1    HTTP/1.1 200 OK\r\n\r\n")
    assert_reused(wire)


def test_invalid_header_names_are_dropped(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        h = w.header()
        h["Bad Name"] = ["v"]
        h["X-A\r\nInjected"] = ["v"]
        h["Bad:Colon"] = ["v"]
        h[""] = ["v"]
        h["X-Ok"] = ["v"]
        await w.write(b"x")

    srv = serve(handler)
    got, wire = exchange(srv)
    assert got == (
        b"HTTP/1.1 200 OK\r\nX-Ok: v\r\nDate: D\r\nContent-Length: 1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nx"
    )
    assert_reused(wire)


# -- HTTP/1.0 -----------------------------------------------------------------------------------


def test_http10_unknown_length_is_close_delimited(serve: Callable[..., Any]) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"a")
        await w.flush()
        await w.write(b"bb")
        await w.write(b"ccc")

    srv = serve(handler)
    wire = open_wire(srv)
    wire.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    # No chunking on 1.0, and no "Connection: close" either: the close ends the body.
    assert norm(wire.rest()) == (
        b"HTTP/1.0 200 OK\r\nDate: D\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nabbccc"
    )


def test_http10_large_body_is_close_delimited(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"y" * 3000, Zz="1"))
    wire = open_wire(srv)
    wire.send(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    assert norm(wire.rest()) == (
        b"HTTP/1.0 200 OK\r\nZz: 1\r\nDate: D\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + b"y" * 3000
    )


def test_http10_keep_alive_with_known_length(serve: Callable[..., Any]) -> None:
    srv = serve(body_handler(b"hello"))
    wire = open_wire(srv)
    wire.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert norm(wire.response()) == (
        b"HTTP/1.0 200 OK\r\nDate: D\r\nContent-Length: 5\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nConnection: keep-alive\r\n\r\nhello"
    )
    # The second request does not ask for keep-alive: served, then closed, no Connection.
    wire.send(b"GET / HTTP/1.0\r\n\r\n")
    assert norm(wire.response()) == (
        b"HTTP/1.0 200 OK\r\nDate: D\r\nContent-Length: 5\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello"
    )
    assert wire.at_eof()
