"""Byte-level tests of nethttp._h1, the sans-IO HTTP/1.1 wire layer, in the h11 style.

Every row of the tables in tests/h1_cases.py is fed three ways: whole, byte by byte
(feed one byte, call next_event until None, repeat), and whole followed by a second
pipelined request. The three must give the same events (body pieces merged, since their
boundaries follow the feeding) and the same error; after a success row the trailing
request must parse too. Hypothesis then checks that arbitrary bytes only ever raise
ProtocolError and that any split of a valid pipelined stream gives the events of the
whole stream. Events are compared in a normal form: ("head", {attribute: value}),
("data", bytes), ("end", trailers), ("closed",).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h1_cases import BAD_ROWS, DEFAULT_MAX, OK_ROWS, Bad, Ok, chunked, get, post, req
from nethttp._errors import ProtocolError
from nethttp._h1 import (
    LAST_CHUNK,
    PEER_CLOSED,
    EndOfMessage,
    RequestHead,
    RequestParser,
    canned_error,
    chunk_header,
    serialize_trailers,
)

NEXT = b"GET /next HTTP/1.1\r\nHost: n\r\n\r\n"

Norm = list[tuple[Any, ...]]

HEAD_ATTRS = (
    "method",
    "target",
    "version",
    "proto_minor",
    "raw_headers",
    "host",
    "content_length",
    "chunked",
    "keep_alive",
    "expect_continue",
    "upgrade",
)


def normalize(events: Iterable[object]) -> Norm:
    """Events in comparable form, consecutive body pieces merged."""
    out: Norm = []
    for e in events:
        if isinstance(e, bytes):
            assert e, "a body piece is never empty"
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + e)
            else:
                out.append(("data", e))
        elif isinstance(e, RequestHead):
            head = {a: getattr(e, a) for a in HEAD_ATTRS}
            head["raw_headers"] = list(head["raw_headers"])
            out.append(("head", head))
        elif isinstance(e, EndOfMessage):
            out.append(("end", tuple(e.trailers)))
        elif e is PEER_CLOSED:
            out.append(("closed",))
        else:
            raise AssertionError(f"unexpected event {e!r}")
    return out


def drain(p: RequestParser, events: list[object]) -> None:
    """Call next_event until it needs more bytes (or reports PEER_CLOSED)."""
    for _ in range(100_000):
        e = p.next_event()
        if e is None:
            return
        events.append(e)
        if e is PEER_CLOSED:
            return
    raise AssertionError("next_event never asked for more bytes")


def run(
    pieces: Iterable[bytes], max_header_bytes: int = DEFAULT_MAX, eof: bool = False
) -> tuple[Norm, ProtocolError | None, RequestParser]:
    """Feed ``pieces`` one at a time, draining events after each; stop at an error."""
    p = RequestParser(max_header_bytes)
    events: list[object] = []
    try:
        for piece in pieces:
            p.feed(piece)
            drain(p, events)
        if eof:
            p.feed_eof()
            drain(p, events)
    except ProtocolError as exc:
        return normalize(events), exc, p
    return normalize(events), None, p


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


MODES: dict[str, Callable[[bytes], list[bytes]]] = {
    "whole": lambda data: [data],
    "bytewise": bytewise,
    "trailing": lambda data: [data + NEXT],
}
NEXT_EVENTS = run([NEXT])[0]


def error_of(exc: ProtocolError | None) -> tuple[int, str] | None:
    return None if exc is None else (exc.status, exc.reason)


def expected_events(row: Ok, head: dict[str, Any]) -> Norm:
    """What follows the head: the body (merged) and, if the head frames one, the end."""
    rest: Norm = []
    if row.body:
        rest.append(("data", row.body))
    if head["content_length"] != 0:
        rest.append(("end", row.trailers))
    return rest


# -- table rows -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("row", OK_ROWS, ids=lambda r: r.id)
def test_ok_row(row: Ok, mode: str) -> None:
    events, exc, _ = run(MODES[mode](row.data), row.max_header_bytes)
    assert exc is None, f"refused: {error_of(exc)}"
    if mode == "trailing":
        assert events[-len(NEXT_EVENTS) :] == NEXT_EVENTS, "the pipelined request must follow"
        events = events[: -len(NEXT_EVENTS)]
    assert events and events[0][0] == "head", events
    head = events[0][1]
    for name, want in row.head.items():
        assert head[name] == want, name
    assert events[1:] == expected_events(row, head)
    if mode != "whole":
        assert events == run([row.data], row.max_header_bytes)[0]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("row", BAD_ROWS, ids=lambda r: r.id)
def test_bad_row(row: Bad, mode: str) -> None:
    events, exc, p = run(MODES[mode](row.data), row.max_header_bytes)
    assert exc is not None, f"accepted: {events}"
    assert error_of(exc) == (row.status, row.reason)
    if row.in_body:
        assert events and events[0][0] == "head", "the head comes before a body error"
        assert all(e[0] == "data" for e in events[1:]), events
    else:
        assert events == [], "nothing is delivered from a refused head"
    # Sticky: once refused, nothing more is parsed from this connection.
    for more in (b"", NEXT):
        p.feed(more)
        with pytest.raises(ProtocolError) as again:
            p.next_event()
        assert error_of(again.value) == (row.status, row.reason)
    if mode != "whole":
        whole_events, whole_exc, _ = run([row.data], row.max_header_bytes)
        assert (events, error_of(exc)) == (whole_events, error_of(whole_exc))


def test_table_sizes() -> None:
    ids = [r.id for r in OK_ROWS] + [r.id for r in BAD_ROWS]
    assert len(ids) == len(set(ids)), "row ids are unique"
    assert len(OK_ROWS) >= 50 and len(BAD_ROWS) >= 100


# -- splits ---------------------------------------------------------------------------------

SPLIT_STREAMS = {
    "cl": post(b"hello world", b"Content-Length: 11") + NEXT,
    "chunked": chunked(b"5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n") + NEXT,
    "crlf-between": post(b"hello", b"Content-Length: 5") + b"\r\n" + NEXT,
    "no-body-pipeline": get() + get(line=b"HEAD /h HTTP/1.1") + NEXT,
}


@pytest.mark.parametrize("name", list(SPLIT_STREAMS))
def test_every_two_cut_split(name: str) -> None:
    """Content-Length and chunked bodies split in every way give the same events."""
    stream = SPLIT_STREAMS[name]
    want, exc, _ = run([stream])
    assert exc is None
    assert want[-len(NEXT_EVENTS) :] == NEXT_EVENTS
    n = len(stream)
    for i in range(n + 1):
        for j in range(i, n + 1):
            got, exc, _ = run([stream[:i], stream[i:j], stream[j:]])
            assert exc is None and got == want, (i, j)


def test_cl_body_arrives_as_fed() -> None:
    """Body bytes are handed out as they arrive, never more than Content-Length."""
    p = RequestParser()
    p.feed(post(b"he", b"Content-Length: 5"))
    assert isinstance(p.next_event(), RequestHead)
    assert p.next_event() == b"he"
    assert p.next_event() is None
    p.feed(b"llo" + NEXT)
    assert p.next_event() == b"llo"
    assert isinstance(p.next_event(), EndOfMessage)
    head = p.next_event()
    assert isinstance(head, RequestHead) and head.target == "/next"


def test_cl_18_digits_accepted() -> None:
    p = RequestParser()
    p.feed(post(b"", b"Content-Length: 999999999999999999"))
    head = p.next_event()
    assert isinstance(head, RequestHead) and head.content_length == 999_999_999_999_999_999


def test_chunk_size_15_hex_digits_accepted() -> None:
    p = RequestParser()
    p.feed(chunked(b"00000000000000f\r\n" + b"x" * 15 + b"\r\n0\r\n\r\n"))
    events = []
    drain(p, events)
    assert normalize(events)[1:] == [("data", b"x" * 15), ("end", ())]


# -- EOF ------------------------------------------------------------------------------------

CLEAN_EOF = {
    "fresh": b"",
    "after-get": get(),
    "after-cl-body": post(b"hello", b"Content-Length: 5"),
    "after-chunked": chunked(b"5\r\nhello\r\n0\r\nT: 1\r\n\r\n"),
    "after-crlf": post(b"hello", b"Content-Length: 5") + b"\r\n",
    "after-pipeline": get() + NEXT,
}

TRUNCATED = {
    "mid-line": b"GET / HT",
    "line-cr": b"GET / HTTP/1.1\r",
    "after-line": b"GET / HTTP/1.1\r\n",
    "mid-field": b"GET / HTTP/1.1\r\nHo",
    "mid-head": b"GET / HTTP/1.1\r\nHost: a\r\n",
    "head-cr": b"GET / HTTP/1.1\r\nHost: a\r\n\r",
    "lone-cr": b"\r",
    "cl-no-body": post(b"", b"Content-Length: 5"),
    "cl-mid-body": post(b"hel", b"Content-Length: 5"),
    "chunk-size": chunked(b"5"),
    "chunk-size-cr": chunked(b"5\r"),
    "chunk-mid-data": chunked(b"5\r\nhel"),
    "chunk-after-data": chunked(b"5\r\nhello"),
    "chunk-data-cr": chunked(b"5\r\nhello\r"),
    "chunk-last": chunked(b"0\r\n"),
    "chunk-trailer": chunked(b"0\r\nT: 1\r\n"),
    "chunk-trailer-mid": chunked(b"0\r\nT:"),
    "second-request": get() + b"GET /",
}


@pytest.mark.parametrize("mode", ["whole", "bytewise"])
@pytest.mark.parametrize("name", list(CLEAN_EOF))
def test_eof_between_requests_is_peer_closed(name: str, mode: str) -> None:
    data = CLEAN_EOF[name]
    events, exc, p = run(MODES[mode](data), eof=True)
    assert exc is None
    assert events[-1] == ("closed",)
    assert events[:-1] == run([data])[0]
    assert p.next_event() is PEER_CLOSED  # and it stays closed


@pytest.mark.parametrize("mode", ["whole", "bytewise"])
@pytest.mark.parametrize("name", list(TRUNCATED))
def test_eof_mid_request_is_status_0(name: str, mode: str) -> None:
    data = TRUNCATED[name]
    events, exc, p = run(MODES[mode](data), eof=True)
    assert exc is not None and exc.status == 0, "a truncated request gets no answer"
    assert events == run([data])[0], "everything complete before the EOF was delivered"
    with pytest.raises(ProtocolError) as again:
        p.next_event()
    assert again.value.status == 0


def test_eof_with_no_bytes_between_feeds() -> None:
    p = RequestParser()
    assert p.next_event() is None
    p.feed_eof()
    assert p.next_event() is PEER_CLOSED


# -- take_buffer and state properties -------------------------------------------------------


def test_take_buffer_before_parsing_returns_everything() -> None:
    p = RequestParser()
    p.feed(get())
    p.feed(NEXT)
    assert p.take_buffer() == get() + NEXT
    assert p.buffered == 0


def test_take_buffer_after_head_returns_the_rest() -> None:
    p = RequestParser()
    p.feed(get() + NEXT + b"tail")
    assert isinstance(p.next_event(), RequestHead)
    assert p.take_buffer() == NEXT + b"tail"
    with pytest.raises(ProtocolError):
        p.next_event()  # hijacked: nothing more is parsed


def test_take_buffer_unread_body() -> None:
    p = RequestParser()
    p.feed(post(b"hello", b"Content-Length: 10"))
    assert isinstance(p.next_event(), RequestHead)
    assert p.take_buffer() == b"hello"


def test_take_buffer_after_upgrade() -> None:
    frame = b"\x81\x05hello\x00\r\n"
    p = RequestParser()
    p.feed(get(b"Connection: Upgrade", b"Upgrade: websocket") + frame)
    head = p.next_event()
    assert isinstance(head, RequestHead) and head.upgrade
    assert p.take_buffer() == frame


def test_take_buffer_after_pri_preface() -> None:
    p = RequestParser()
    p.feed(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04")
    head = p.next_event()
    assert isinstance(head, RequestHead) and head.method == "PRI"
    assert p.take_buffer() == b"SM\r\n\r\n\x00\x00\x12\x04"


def test_take_buffer_empty() -> None:
    p = RequestParser()
    p.feed(get())
    assert isinstance(p.next_event(), RequestHead)
    assert p.take_buffer() == b""


def test_state_properties() -> None:
    p = RequestParser()
    assert p.between_requests and not p.in_body and p.buffered == 0
    p.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab")
    assert not p.between_requests and p.buffered > 0
    assert isinstance(p.next_event(), RequestHead)
    assert p.in_body and p.buffered == 2
    assert p.next_event() == b"ab"
    assert p.in_body and p.buffered == 0
    p.feed(b"c")
    assert p.next_event() == b"c"
    assert isinstance(p.next_event(), EndOfMessage)
    assert p.between_requests and not p.in_body
    p.feed(b"G")
    assert p.next_event() is None
    assert not p.between_requests and p.buffered == 1


# -- canned errors and chunk helpers ---------------------------------------------------------

GO_ERROR_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize(
    ("status", "reason", "public"),
    [
        (400, "missing required Host header", b"400 Bad Request: missing required Host header"),
        (400, "malformed Host header", b"400 Bad Request: malformed Host header"),
        (400, "invalid header name", b"400 Bad Request: invalid header name"),
        (400, "", b"400 Bad Request"),
        (431, "", b"431 Request Header Fields Too Large"),
        (414, "", b"414 Request URI Too Long"),
        (
            505,
            "unsupported protocol version",
            b"505 HTTP Version Not Supported: unsupported protocol version",
        ),
    ],
)
def test_canned_error_is_go_bytes(status: int, reason: str, public: bytes) -> None:
    # server.go: fmt.Fprintf(c.rwc, "HTTP/1.1 %d %s: %s%s%d %s: %s", ...) for a
    # statusError, "HTTP/1.1 "+publicErr+errorHeaders+publicErr otherwise.
    assert canned_error(status, reason) == b"HTTP/1.1 " + public + GO_ERROR_HEADERS + public


def test_canned_error_missing_host_literal() -> None:
    assert canned_error(400, "missing required Host header") == (
        b"HTTP/1.1 400 Bad Request: missing required Host header\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
        b"400 Bad Request: missing required Host header"
    )


@pytest.mark.parametrize("reason", ["", "gzip", "<script>"])
def test_canned_error_501_never_echoes(reason: str) -> None:
    assert canned_error(501, reason) == (
        b"HTTP/1.1 501 Not Implemented" + GO_ERROR_HEADERS + b"Unsupported transfer encoding"
    )


def test_canned_error_417() -> None:
    # Go answers through the response writer: Connection: close, an empty body.
    data = canned_error(417, "")
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert sep and body == b""
    assert lines[0] == b"HTTP/1.1 417 Expectation Failed"
    assert b"Connection: close" in lines[1:] and b"Content-Length: 0" in lines[1:]


@pytest.mark.parametrize(
    ("data", "max_header_bytes", "public"),
    [
        (req(b"GET / HTTP/1.1"), DEFAULT_MAX, b"400 Bad Request: missing required Host header"),
        (
            get(line=b"GET / HTTP/2.0"),
            DEFAULT_MAX,
            b"505 HTTP Version Not Supported: unsupported protocol version",
        ),
        (
            req(b"GET / HTTP/1.1", b"Host: a b"),
            DEFAULT_MAX,
            b"400 Bad Request: malformed Host header",
        ),
        (get(b"Host: b"), DEFAULT_MAX, b"400 Bad Request"),
        (get(b"X: " + b"a" * 2000), 1024, b"431 Request Header Fields Too Large"),
    ],
    ids=["missing-host", "http2", "bad-host", "two-hosts", "too-large"],
)
def test_parser_errors_render_as_go(data: bytes, max_header_bytes: int, public: bytes) -> None:
    """A refusal's status and reason render as exactly the bytes Go writes for it."""
    _, exc, _ = run([data], max_header_bytes)
    assert exc is not None
    assert canned_error(exc.status, exc.reason) == b"HTTP/1.1 " + public + GO_ERROR_HEADERS + public


def test_parser_error_501_renders_as_go() -> None:
    _, exc, _ = run([post(b"", b"Transfer-Encoding: gzip")])
    assert exc is not None
    assert canned_error(exc.status, exc.reason) == (
        b"HTTP/1.1 501 Not Implemented" + GO_ERROR_HEADERS + b"Unsupported transfer encoding"
    )


def test_chunk_helpers_round_trip() -> None:
    assert chunk_header(5) == b"5\r\n"
    assert chunk_header(255) == b"ff\r\n"
    assert LAST_CHUNK == b"0\r\n"
    assert serialize_trailers([]) == b"0\r\n\r\n"
    tail = serialize_trailers([("X-Sum", "abc"), ("Y", "1 2")])
    assert tail == b"0\r\nX-Sum: abc\r\nY: 1 2\r\n\r\n"
    body = chunk_header(5) + b"hello\r\n" + chunk_header(16) + b"p" * 16 + b"\r\n" + tail
    events, exc, _ = run([chunked(body)])
    assert exc is None
    assert events[1:] == [
        ("data", b"hello" + b"p" * 16),
        ("end", ((b"X-Sum", b"abc"), (b"Y", b"1 2"))),
    ]


# -- hypothesis -----------------------------------------------------------------------------

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
PCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?"
RESERVED = {b"host", b"content-length", b"transfer-encoding", b"connection", b"expect"}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "PURGE", "M-SEARCH"]

names = st.text(TCHARS, min_size=1, max_size=12).map(str.encode)
names = names.filter(lambda n: n.lower() not in RESERVED)
value_byte = st.one_of(st.integers(0x21, 0x7E), st.integers(0x80, 0xFF))
words = st.lists(value_byte, min_size=1, max_size=6).map(bytes)


@st.composite
def field_values(draw: st.DrawFn) -> bytes:
    ws = draw(st.lists(words, max_size=3))
    seps = [b""] + [draw(st.sampled_from([b" ", b"\t", b" \t "])) for _ in ws[1:]]
    return b"".join(s + w for s, w in zip(seps, ws, strict=False))


@st.composite
def chunked_body(draw: st.DrawFn, data: bytes) -> tuple[bytes, tuple[tuple[bytes, bytes], ...]]:
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(data) - 1)), max_size=4)))
    cuts = [c for c in cuts if 0 < c < len(data)]
    out = []
    for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
        if a == b:
            continue
        size = b"%x" % (b - a)
        if draw(st.booleans()):
            size = size.upper()
        ext = draw(st.sampled_from([b"", b";a=b", b' ;x="y z"', b";k"]))
        out.append(size + ext + b"\r\n" + data[a:b] + b"\r\n")
    trailers = tuple(draw(st.lists(st.tuples(names, field_values()), max_size=2)))
    out.append(b"0\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in trailers) + b"\r\n")
    return b"".join(out), trailers


@st.composite
def valid_request(draw: st.DrawFn) -> tuple[bytes, Norm]:
    """A valid request and the events it must produce."""
    method = draw(st.sampled_from(METHODS))
    target = "/" + draw(st.text(PCHARS, max_size=20))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0"]))
    kinds = ["none", "cl"] if version == "HTTP/1.0" else ["none", "cl", "chunked"]
    kind = draw(st.sampled_from(kinds))
    data = draw(st.binary(max_size=40))
    fields = draw(st.lists(st.tuples(names, field_values()), max_size=5))
    fields.insert(draw(st.integers(0, len(fields))), (b"Host", b"a.example"))
    body = b""
    trailers: tuple[tuple[bytes, bytes], ...] = ()
    content_length = 0
    if kind == "cl":
        content_length = len(data)
        fields.insert(draw(st.integers(0, len(fields))), (b"Content-Length", b"%d" % len(data)))
        body = data
    elif kind == "chunked":
        content_length = -1
        fields.insert(draw(st.integers(0, len(fields))), (b"Transfer-Encoding", b"chunked"))
        body, trailers = draw(chunked_body(data))
    wire = (
        f"{method} {target} {version}\r\n".encode()
        + b"".join(n + b": " + v + b"\r\n" for n, v in fields)
        + b"\r\n"
        + body
    )
    head = {
        "method": method,
        "target": target,
        "version": version,
        "proto_minor": 1 if version == "HTTP/1.1" else 0,
        "raw_headers": fields,
        "host": "a.example",
        "content_length": content_length,
        "chunked": kind == "chunked",
        "keep_alive": version == "HTTP/1.1",
        "expect_continue": False,
        "upgrade": False,
    }
    events: Norm = [("head", head)]
    if kind != "none" and data:
        events.append(("data", data))
    if content_length != 0:
        events.append(("end", trailers))
    return wire, events


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_request(), min_size=1, max_size=5), st.lists(st.integers(0, 2000)))
def test_any_split_of_valid_pipeline(requests: list[tuple[bytes, Norm]], cuts: list[int]) -> None:
    stream = b"".join(wire for wire, _ in requests)
    want = [e for _, events in requests for e in events]
    whole, exc, _ = run([stream])
    assert exc is None, error_of(exc)
    assert whole == want
    got, exc, _ = run(split_at(stream, cuts))
    assert exc is None and got == want
    closed, exc, _ = run(split_at(stream, cuts), eof=True)
    assert exc is None and closed == [*want, ("closed",)]


FRAGMENTS = [
    *(b"GET", b"POST", b"PRI", b"get", b" ", b"/", b"*", b"http://h/x", b"%4", b"HTTP/1.1"),
    *(b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.9", b"\r\n", b"\r\n\r\n", b"\n", b"\r", b"Host: a"),
    *(b"Content-Length: ", b"Transfer-Encoding: chunked", b"Connection: close", b":"),
    *(b"Expect: 100-continue", b"0", b"5", b"ff", b";", b"\x00", b"\x80", b"\t", b"hello"),
]
garbage = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=8)), max_size=40)


@settings(max_examples=400, deadline=None)
@given(garbage.map(b"".join), st.lists(st.integers(0, 400)), st.booleans())
def test_arbitrary_bytes_only_raise_protocol_error(data: bytes, cuts: list[int], eof: bool) -> None:
    whole, whole_exc, _ = run([data], eof=eof)
    split, split_exc, p = run(split_at(data, cuts), eof=eof)
    assert (split, error_of(split_exc)) == (whole, error_of(whole_exc))
    if split_exc is not None:
        with pytest.raises(ProtocolError) as again:
            p.next_event()
        assert error_of(again.value) == error_of(split_exc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(64, 4096))
def test_random_binary_only_raises_protocol_error(data: bytes, max_header_bytes: int) -> None:
    for pieces in ([data], bytewise(data)):
        run(pieces, max_header_bytes, eof=True)
