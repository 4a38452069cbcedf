"""``Response.add_raw_headers``: bytes pairs reach the wire exactly as ``header().add`` would.

Each case is served twice through a real server, once with the raw pairs and once with
the same fields added through ``header()``; the responses must be byte-identical, on the
first request (conversion) and on repeats (the cached snapshot), and the defences
(invalid names dropped, CR/LF/NUL turned into spaces) must hold on both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import nethttp
from wire_client import Wire, close_wires, norm, open_wire  # noqa: F401

Pairs = list[tuple[bytes, bytes]]


def raw_handler(pairs: Any, status: int, body: bytes) -> Callable[..., Any]:
    async def handler(w: Any, r: nethttp.Request) -> None:
        w.add_raw_headers(pairs)
        w.write_header(status)
        if body:
            await w.write(body)

    return handler


def header_handler(pairs: Pairs, status: int, body: bytes) -> Callable[..., Any]:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        h = w.header()
        for name, value in pairs:
            h.add(name.decode("latin-1"), value.decode("latin-1"))
        w.write_header(status)
        if body:
            await w.write(body)

    return handler


def responses(srv: Any, n: int = 3) -> list[bytes]:
    """``n`` responses, each on its own connection, Date normalised."""
    got = []
    for _ in range(n):
        wire = open_wire(srv)
        wire.send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        got.append(norm(wire.response()))
    return got


CASES: list[tuple[str, Pairs, int, bytes]] = [
    ("plain", [(b"content-type", b"text/plain"), (b"x-a", b"1")], 200, b"hello"),
    ("sniffed", [(b"x-b", b"2")], 200, b"<html><body>x</body></html>"),
    ("repeated names", [(b"set-cookie", b"a=1"), (b"Set-Cookie", b"b=2")], 200, b"x"),
    ("declared length", [(b"content-length", b"5"), (b"content-type", b"a/b")], 200, b"hello"),
    ("crlf and nul", [(b"x-evil", b"a\r\nInjected: 1\x00b"), (b"x-ok", b" v ")], 200, b"x"),
    ("invalid names", [(b"bad name", b"1"), (b"x:y", b"2"), (b"", b"3"), (b"x-c", b"4")], 200, b""),
    ("latin-1 value", [(b"x-l", b"caf\xe9")], 200, b"x"),
    ("connection close", [(b"connection", b"close")], 200, b"x"),
    ("not modified", [(b"content-type", b"text/plain"), (b"etag", b'"1"')], 304, b""),
    ("no content", [(b"content-length", b"0"), (b"x-d", b"1")], 204, b""),
    ("created", [(b"location", b"/new")], 201, b"made"),
    ("trailer declared", [(b"trailer", b"x-t"), (b"x-t", b"early")], 200, b"x"),
]


@pytest.mark.parametrize(("name", "pairs", "status", "body"), CASES, ids=[c[0] for c in CASES])
def test_raw_pairs_match_header_add(
    serve: Callable[..., Any], name: str, pairs: Pairs, status: int, body: bytes
) -> None:
    want = responses(serve(header_handler(pairs, status, body)))
    got = responses(serve(raw_handler(pairs, status, body)))
    assert got == want
    assert len(set(got)) == 1  # the cached repeats are the first response again


def test_defences_hold(serve: Callable[..., Any]) -> None:
    pairs = [(b"x-evil", b"a\r\nInjected: 1\x00b"), (b"bad name", b"1"), (b"content-type", b"t/p")]
    for got in responses(serve(raw_handler(pairs, 200, b"x"))):
        head = got.split(b"\r\n\r\n")[0]
        assert b"X-Evil: a  Injected: 1 b\r\n" in head
        assert b"Injected: 1\r\n" not in head
        assert b"bad name" not in head.lower()
        assert b"Content-Type: t/p\r\n" in head  # canonicalised like header().add


def test_lists_and_generators_are_accepted(serve: Callable[..., Any]) -> None:
    pairs = [(b"x-a", b"1"), (b"x-b", b"2")]
    want = responses(serve(header_handler(pairs, 200, b"ok")))
    as_lists = [[n, v] for n, v in pairs]  # unhashable: converted, just not cached
    assert responses(serve(raw_handler(as_lists, 200, b"ok"))) == want


def test_header_map_shows_raw_fields_and_later_changes(serve: Callable[..., Any]) -> None:
    seen: list[dict[str, list[str]]] = []

    async def handler(w: Any, r: nethttp.Request) -> None:
        w.add_raw_headers([(b"x-a", b"1"), (b"content-type", b"text/plain")])
        h = w.header()
        seen.append({k: list(vs) for k, vs in h.items()})
        h.set("X-A", "changed")
        w.add_raw_headers([(b"x-a", b"2")])  # after header(): appended to the map
        await w.write(b"body")

    got = responses(serve(handler), 2)
    assert seen[0] == {"X-A": ["1"], "Content-Type": ["text/plain"]}
    assert seen[1] == seen[0]  # the shared conversion was not changed by the handler
    assert b"X-A: changed\r\nX-A: 2\r\n" in got[0]
    assert got[0] == got[1]


def test_after_commit_the_wire_keeps_the_committed_fields(serve: Callable[..., Any]) -> None:
    after: list[list[str]] = []

    async def handler(w: Any, r: nethttp.Request) -> None:
        w.add_raw_headers([(b"x-a", b"1")])
        w.write_header(200)
        w.add_raw_headers([(b"x-late", b"2")])
        after.append(w.header().values("X-Late"))
        await w.write(b"x")

    got = responses(serve(handler), 2)
    assert all(b"X-A: 1\r\n" in g and b"X-Late" not in g for g in got)
    assert after == [["2"], ["2"]]


def test_invalid_content_length_logged_every_time(
    serve: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    pairs = [(b"content-length", b"abc")]
    with caplog.at_level(logging.ERROR):
        got = responses(serve(raw_handler(pairs, 200, b"hello")))
    assert [r.getMessage() for r in caplog.records].count(
        "http: invalid Content-Length of 'abc'"
    ) == 3  # such a commit is never replayed from the cache
    assert all(b"Content-Length: 5\r\n" in g for g in got)


def test_write_without_status_commits_raw_fields(serve: Callable[..., Any]) -> None:
    async def handler(w: Any, r: nethttp.Request) -> None:
        w.add_raw_headers([(b"x-a", b"1")])
        await w.write(b"hi")

    for got in responses(serve(handler), 2):
        assert got == (
            b"HTTP/1.1 200 OK\r\nX-A: 1\r\nDate: D\r\nContent-Length: 2\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nhi"
        )
