"""Request values without a socket: URL parsing, Header semantics, lazy fields, contexts."""

from __future__ import annotations

from typing import Any

import pytest

import nethttp
from conftest import recv_all
from nethttp._h1 import RequestHead, RequestParser
from nethttp._request import NO_BODY, URL, Request


@pytest.mark.parametrize(
    ("target", "path", "raw_path", "raw_query", "host", "scheme"),
    [
        ("/", "/", "", "", "", ""),
        ("/a/b?x=1&y=2", "/a/b", "", "x=1&y=2", "", ""),
        ("/a%20b", "/a b", "", "", "", ""),  # default escaping: no raw_path (Go)
        ("/a%2Fb/c", "/a/b/c", "/a%2Fb/c", "", "", ""),  # escaped slash kept in raw_path
        ("/%E2%82%AC?q=%20", "/€", "", "q=%20", "", ""),
        ("http://example.com/x?y", "/x", "", "y", "example.com", "http"),
        ("HTTPS://example.com:8443", "", "", "", "example.com:8443", "https"),
        ("example.com:443", "", "", "", "example.com:443", ""),  # CONNECT authority form
        ("*", "*", "", "", "", ""),
    ],
)
def test_url_parsing(
    target: str, path: str, raw_path: str, raw_query: str, host: str, scheme: str
) -> None:
    u = URL(target)
    assert (u.path, u.raw_path, u.raw_query, u.host, u.scheme) == (
        path,
        raw_path,
        raw_query,
        host,
        scheme,
    )


def test_url_query_and_round_trip() -> None:
    u = URL("/s?a=1&a=2&b=&c")
    assert u.query() == {"a": ["1", "2"], "b": [""], "c": [""]}
    assert u.request_uri() == "/s?a=1&a=2&b=&c"
    assert URL("/a%2Fb").escaped_path() == "/a%2Fb"
    assert str(URL("http://h/p?q")) == "http://h/p?q"


def test_header_canonical_keys_and_multi_values() -> None:
    h = nethttp.Header()
    h.add("content-type", "text/plain")
    h.add("X-MULTI", "1")
    h.add("x-multi", "2")
    assert h.get("Content-Type") == "text/plain"
    assert h.values("X-Multi") == ["1", "2"]
    assert list(h) == ["Content-Type", "X-Multi"]
    h.set("x-multi", "3")
    assert h.values("x-multi") == ["3"]
    h.delete("X-Multi")
    assert not h.has("x-multi") and h.get("x-multi") == ""
    # Indexing is raw, like Go's map: no canonicalisation.
    h["x-raw"] = ["v"]
    assert h.get("X-Raw") == "" and h["x-raw"] == ["v"]
    c = h.clone()
    c.add("Content-Type", "more")
    assert h.values("Content-Type") == ["text/plain"]
    assert nethttp.canonical_header_key("sec-websocket-key") == "Sec-Websocket-Key"
    assert nethttp.canonical_header_key("bad key") == "bad key"  # not a token: unchanged


def _request(raw: bytes) -> Request:
    p = RequestParser()
    p.feed(raw)
    head = p.next_event()
    assert isinstance(head, RequestHead)
    return Request(head, NO_BODY, None, "127.0.0.1:1")


def test_request_header_is_lazy_and_drops_host_and_te() -> None:
    r = _request(
        b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nA: 1\r\nA: 2\r\n\r\n"
    )
    assert r._header is None  # nothing built until asked
    assert r.header.values("A") == ["1", "2"]
    assert not r.header.has("Host") and not r.header.has("Transfer-Encoding")
    assert r.host == "h" and r.transfer_encoding == ["chunked"] and r.content_length == -1
    assert r.raw_headers[0] == (b"Host", b"h")
    assert (r.proto, r.proto_major, r.proto_minor) == ("HTTP/1.1", 1, 1)


def test_request_http_1_2_keeps_its_version() -> None:
    r = _request(b"GET / HTTP/1.2\r\nHost: h\r\n\r\n")
    assert r.proto == "HTTP/1.2" and r.proto_minor == 2 and r.proto_at_least(1, 1)


def test_path_values_and_contexts() -> None:
    r = _request(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert r.path_value("id") == ""
    r.set_path_value("id", "7")
    ctx = r.context()
    assert r.context() is ctx  # built once
    key = object()
    r2 = r.clone(ctx.with_value(key, "v"))
    assert r2.context().value(key) == "v" and r2.path_value("id") == "7"
    r2.set_path_value("id", "8")
    assert r.path_value("id") == "7"  # a deep copy
    with pytest.raises(TypeError):
        r.with_context("not a context")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "path", "escaped"),
    [
        ("/%FF", "/\udcff", "/%FF"),  # not UTF-8: a surrogate stands for the byte
        ("/a%FFb?x=1", "/a\udcffb", "/a%FFb"),
        ("/\xc3\xa9", "/é", "/%C3%A9"),  # raw UTF-8 bytes on the wire (latin-1 here)
        ("/\xff\xfe", "/\udcff\udcfe", "/%FF%FE"),
        ("/caf%C3%A9", "/café", "/caf%C3%A9"),
        ("/a%2Fb", "/a/b", "/a%2Fb"),
    ],
)
def test_url_keeps_bytes_that_are_not_utf8(target: str, path: str, escaped: str) -> None:
    u = URL(target)
    assert (u.path, u.escaped_path()) == (path, escaped)


def test_invalid_escapes_reach_a_handler_not_a_500(serve: Any) -> None:
    async def show(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(f"{r.url.escaped_path()} {r.url.request_uri()}".encode())

    srv = serve(show)
    for raw, want in [
        (b"/%FF", b"/%FF /%FF"),
        (b"/x/%C3%28?q=%FF", b"/x/%C3%28 /x/%C3%28?q=%FF"),
        (b"/\xc3\xa9", b"/%C3%A9 /%C3%A9"),
    ]:
        with srv.connect() as s:
            s.sendall(b"GET " + raw + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            data = recv_all(s)
        assert data.startswith(b"HTTP/1.1 200 OK"), data
        assert data.endswith(want), data
