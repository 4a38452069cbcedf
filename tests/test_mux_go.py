"""ServeMux against Go's own tables (server_test.go, serve_test.go, request_test.go).

Requests are parsed from raw bytes by the wire layer, as the server would hand them over,
and answered through a small recorder; a few tests go over a real socket with httpx.
Go 1.26+ redirects with 307 where Go 1.25 and nethttp's default use 301: tables copied
from Go's current source run on ``ServeMux(redirect_code=307)``.
"""

from __future__ import annotations

import asyncio
import copy
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import nethttp
from nethttp._h1 import RequestHead, RequestParser
from nethttp._mux import _exact_match, _strip_host_port
from nethttp._pattern import parse_pattern
from nethttp._request import NO_BODY, Request
from nethttp._routing import RoutingNode


def req(method: str, target: str, host: str = "example.com") -> Request:
    """A request as the server builds it from ``METHOD target HTTP/1.1`` and ``Host``."""
    p = RequestParser()
    p.feed(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = p.next_event()
    assert isinstance(head, RequestHead), head
    return Request(head, NO_BODY, None, "127.0.0.1:1")


class Recorder:
    """Just enough of a ResponseWriter to see what a handler answered."""

    def __init__(self) -> None:
        self._header = nethttp.Header()
        self.code = 0
        self.body = b""

    def header(self) -> nethttp.Header:
        return self._header

    def write_header(self, code: int) -> None:
        if not self.code:
            self.code = code

    async def write(self, data: bytes) -> int:
        self.write_header(200)
        self.body += data
        return len(data)

    async def flush(self) -> None:
        self.write_header(200)


def run(h: nethttp.Handler, r: Request) -> Recorder:
    rec = Recorder()
    asyncio.run(h.serve_http(rec, r))  # type: ignore[arg-type]
    rec.write_header(200)
    return rec


def answer(mux: nethttp.ServeMux, r: Request) -> Recorder:
    return run(mux, r)


class Named:
    """A handler that says its name, the matched pattern and the value of {x}."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def serve_http(self, w: nethttp.ResponseWriter, r: Request) -> None:
        await w.write(f"{self.name}|{r.pattern}|{r.path_value('x')}".encode())

    def __repr__(self) -> str:
        return f"Named({self.name!r})"


class Status:
    """A handler that answers with one status (Go's ``serve(code)``)."""

    def __init__(self, code: int) -> None:
        self.code = code

    async def serve_http(self, w: nethttp.ResponseWriter, r: Request) -> None:
        w.write_header(self.code)


def mux_of(*patterns: str, redirect_code: int = 307) -> nethttp.ServeMux:
    mux = nethttp.ServeMux(redirect_code=redirect_code)
    for p in patterns:
        mux.handle(p, Named(p))
    return mux


# -- what Go 1.27 answered for the same mux and requests (bench: /tmp program, recorded) ---------

OBSERVED_MUX = (
    "/{$}",
    "/",
    "example.com/",
    "/a/{x}/",
    "/b/{rest...}",
    "GET /c/{id}",
    "/d/{$}",
    "/%61bc",
    "GET /m/{x}",
    "POST /m/{x}",
    "/s/{x}/",
    "/u/é",
    "CONNECT /conn/",
    "GET /g/",
)
RD = '<a href="{0}">Temporary Redirect</a>.\n\n'
S_E_Q = "/s/%C3%A9/?q=é"

# (request line, Host) -> (status, Location, Allow, pattern from handler(), body)
OBSERVED = [
    ("GET /", "x", 200, "", "", "/{$}", "/{$}|/{$}|"),
    ("GET /zzz", "x", 200, "", "", "/", "/|/|"),
    ("GET /q", "example.com:8080", 200, "", "", "example.com/", "example.com/|example.com/|"),
    ("GET /a/1", "x", 307, "/a/1/", "", "/a/{x}/", RD.format("/a/1/")),
    ("GET /a/1/2", "x", 200, "", "", "/a/{x}/", "/a/{x}/|/a/{x}/|1"),
    ("GET /b", "x", 307, "/b/", "", "/b/{rest...}", RD.format("/b/")),
    ("GET /b/c/d", "x", 200, "", "", "/b/{rest...}", "/b/{rest...}|/b/{rest...}|"),
    ("GET /d", "x", 307, "/d/", "", "/d/{$}", RD.format("/d/")),
    ("GET /d/e", "x", 200, "", "", "/", "/|/|"),
    ("GET /abc", "x", 200, "", "", "/%61bc", "/%61bc|/%61bc|"),
    ("GET /a%2F1/", "x", 200, "", "", "/", "/|/|"),  # one segment "a/1", then the slash
    ("DELETE /m/1", "x", 200, "", "", "/", "/|/|"),  # the catch-all "/" prevents a 405
    ("HEAD /m/1", "x", 200, "", "", "GET /m/{x}", "GET /m/{x}|GET /m/{x}|1"),
    ("GET /s/a%20b", "x", 307, "/s/a%20b/", "", "/s/{x}/", RD.format("/s/a%20b/")),
    ('GET /s/a"b?q=é', "x", 307, "/s/a%22b/?q=%c3%a9", "", "/s/{x}/", RD.format("/s/a%22b/?q=é")),
    ("GET /s/é", "x", 307, "/s/%C3%A9/", "", "/s/{x}/", RD.format("/s/%C3%A9/")),
    ("GET /u/é", "x", 200, "", "", "/u/é", "/u/é|/u/é|"),
    ("GET /u/%C3%A9", "x", 200, "", "", "/u/é", "/u/é|/u/é|"),
    (
        "GET /x/../s/é?q=é",
        "x",
        307,
        "/s/%C3%A9/?q=%c3%a9",
        "",
        "/s/{x}/",
        RD.format("/s/%C3%A9/?q=é"),
    ),
    ("CONNECT example.com:443", "example.com:443", 404, "", "", "", "404 page not found\n"),
    ("CONNECT /conn", "x", 307, "/conn/", "", "/conn/", ""),
    ("CONNECT //conn", "x", 200, "", "", "/", "/|/|"),
    ("POST /g", "x", 200, "", "", "/", "/|/|"),
    ("GET /s/a;b/", "x", 200, "", "", "/s/{x}/", "/s/{x}/|/s/{x}/|a;b"),
    ("GET /s/a[b]/../c", "x", 307, "/s/c/", "", "/s/{x}/", RD.format("/s/c/")),
]


@pytest.mark.parametrize(("line", "host", "code", "loc", "allow", "pattern", "body"), OBSERVED)
def test_same_answers_as_go(
    line: str, host: str, code: int, loc: str, allow: str, pattern: str, body: str
) -> None:
    mux = mux_of(*OBSERVED_MUX)
    method, target = line.split(" ", 1)
    r = req(method, target, host)
    assert mux.handler(r)[1] == pattern
    rec = answer(mux, r)
    assert rec.code == code
    assert rec.header().get("Location") == loc
    assert rec.header().get("Allow") == allow
    assert rec.body == body.encode()  # a GET redirect body echoes the URL's own bytes


@pytest.mark.parametrize(
    ("method", "target", "host", "code", "loc", "allow", "pattern"),
    [
        ("CONNECT", "example.com:443", "example.com:443", 405, "", "GET, HEAD", ""),
        ("PUT", "/x/1", "x", 405, "", "GET, HEAD, POST", ""),
        ("PUT", "/x/1/", "x", 405, "", "GET, HEAD", ""),
        ("GET", "/z", "a.com:80", 307, "/z/", "", "a.com/z/"),
        ("CONNECT", "/z", "a.com", 405, "", "GET, HEAD", ""),
        ("GET", "*", "x", 307, "/*", "", "GET /"),  # handler() only; serve_http answers 400
    ],
)
def test_same_405s_as_go(
    method: str, target: str, host: str, code: int, loc: str, allow: str, pattern: str
) -> None:
    mux = mux_of("GET /", "POST /x/{y}", "a.com/z/")
    r = req(method, target, host)
    h, got = mux.handler(r)
    rec = run(h, r)
    assert (rec.code, rec.header().get("Location"), rec.header().get("Allow")) == (code, loc, allow)
    assert got == pattern


# -- TestFindHandler (server_test.go) -------------------------------------------------------------

FIND_MUX = (("/", 1), ("/foo/", 2), ("/foo", 3), ("/bar/", 4), ("//foo", 5))


@pytest.mark.parametrize(
    ("method", "path", "want"),
    [
        ("GET", "/", 1),
        ("GET", "//", "redirect /"),
        ("GET", "/foo/../bar/./..//baz", "redirect /baz"),
        ("GET", "/foo", 3),
        ("GET", "/foo/x", 2),
        ("GET", "/bar/x", 4),
        ("GET", "/bar", "redirect /bar/"),
        ("CONNECT", "", "not found"),
        ("CONNECT", "/", 1),
        ("CONNECT", "//", 1),
        ("CONNECT", "//foo", 5),
        ("CONNECT", "/foo/../bar/./..//baz", 2),
        ("CONNECT", "/foo", 3),
        ("CONNECT", "/foo/x", 2),
        ("CONNECT", "/bar/x", 4),
        ("CONNECT", "/bar", "redirect /bar/"),
    ],
)
def test_find_handler(method: str, path: str, want: int | str) -> None:
    mux = nethttp.ServeMux()
    handlers = {i: Status(200) for _, i in FIND_MUX}
    for pattern, i in FIND_MUX:
        mux.handle(pattern, handlers[i])
    # An empty CONNECT path is the authority form, "CONNECT example.com:443".
    r = req(method, path or "example.com:443")
    h, _ = mux.handler(r)
    if isinstance(want, int):
        assert h is handlers[want]
    elif want == "not found":
        assert h is mux.not_found_handler
    else:
        rec = run(h, r)
        assert (rec.code, rec.header().get("Location")) == (301, want.split()[1])


def test_empty_serve_mux() -> None:
    mux = nethttp.ServeMux()
    h, pattern = mux.handler(req("GET", "/"))
    assert pattern == "" and h is mux.not_found_handler
    assert answer(mux, req("GET", "/")).code == 404


# -- TestServeMuxHandler (serve_test.go) ----------------------------------------------------------


def go_register(mux: nethttp.ServeMux) -> None:
    """Go's serveMuxRegister."""

    async def check_query(w: nethttp.ResponseWriter, r: Request) -> None:
        # 200 when the query spells the URL itself (Go's checkQueryStringHandler).
        w.write_header(200 if r.url.raw_query == r.host + r.url.path else 500)

    mux.handle("/dir/", Status(200))
    mux.handle("/search", Status(201))
    mux.handle("codesearch.google.com/search", Status(202))
    mux.handle("codesearch.google.com/", Status(203))
    mux.handle("example.com/", check_query)
    mux.handle("/pkg/bar/extra%2fpath", Status(200))


SERVE_MUX_CASES = [
    ("GET", "google.com", "/", 404, ""),
    ("GET", "google.com", "/dir", 307, "/dir/"),
    ("GET", "google.com", "/dir/", 200, "/dir/"),
    ("GET", "google.com", "/dir/file", 200, "/dir/"),
    ("GET", "google.com", "/search", 201, "/search"),
    ("GET", "google.com", "/search/", 404, ""),
    ("GET", "google.com", "/search/foo", 404, ""),
    ("GET", "codesearch.google.com", "/search", 202, "codesearch.google.com/search"),
    ("GET", "codesearch.google.com", "/search/", 203, "codesearch.google.com/"),
    ("GET", "codesearch.google.com", "/search/foo", 203, "codesearch.google.com/"),
    ("GET", "codesearch.google.com", "/", 203, "codesearch.google.com/"),
    ("GET", "codesearch.google.com:443", "/", 203, "codesearch.google.com/"),
    ("GET", "images.google.com", "/search", 201, "/search"),
    ("GET", "images.google.com", "/search/", 404, ""),
    ("GET", "images.google.com", "/search/foo", 404, ""),
    ("GET", "google.com", "/../search", 307, "/search"),
    ("GET", "google.com", "/dir/..", 307, ""),
    ("GET", "google.com", "/dir/./file", 307, "/dir/"),
    # The /foo -> /foo/ redirect applies to CONNECT, the path cleaning does not.
    ("CONNECT", "google.com", "/dir", 307, "/dir/"),
    ("CONNECT", "google.com", "/../search", 404, ""),
    ("CONNECT", "google.com", "/dir/..", 200, "/dir/"),
    ("CONNECT", "google.com", "/dir/./file", 200, "/dir/"),
]


@pytest.mark.parametrize(("method", "host", "path", "code", "pattern"), SERVE_MUX_CASES)
def test_serve_mux_handler(method: str, host: str, path: str, code: int, pattern: str) -> None:
    mux = nethttp.ServeMux(redirect_code=307)
    go_register(mux)
    r = req(method, path, host)
    h, got = mux.handler(r)
    assert (run(h, r).code, got) == (code, pattern)


@pytest.mark.parametrize(
    ("method", "host", "url", "code", "redirect_ok"),
    [
        ("GET", "google.com", "/", 404, False),
        ("GET", "example.com", "/test/?example.com/test/", 200, False),
        ("GET", "google.com", "/pkg/bar//extra%2fpath", 200, True),
        ("GET", "google.com", "/dir/b%2fc/..", 200, True),
        ("GET", "google.com", "/doesnotexist/b%2fc/..", 404, True),
    ],
)
def test_redirects_keep_the_query_and_land(
    method: str, host: str, url: str, code: int, redirect_ok: bool
) -> None:
    mux = nethttp.ServeMux()
    go_register(mux)
    rec = answer(mux, req(method, url, host))
    if rec.code == 301:
        assert redirect_ok, rec.header().get("Location")
        rec = answer(mux, req(method, rec.header().get("Location"), host))
    assert rec.code == code


def test_redirect_reports_the_pattern_it_leads_to() -> None:
    # Go issue 73688: "/{x}/" is what "/foo" reaches after the redirect.
    mux = mux_of("/{x}/")
    assert mux.handler(req("POST", "/foo"))[1] == "/{x}/"


def test_post_follows_the_redirect_to_its_pattern() -> None:
    mux = mux_of("POST /test/")
    rec = answer(mux, req("POST", "http://example.com/test"))
    assert (rec.code, rec.header().get("Location"), rec.body) == (307, "/test/", b"")
    assert answer(mux, req("POST", "/test/")).body == b"POST /test/|POST /test/|"


@pytest.mark.parametrize("path", ["//foo.txt", "///foo.txt", "/../../foo.txt"])
def test_leading_slashes_redirect_to_the_clean_path(path: str) -> None:
    rec = answer(nethttp.ServeMux(), req("GET", path, "test"))
    assert (rec.code, rec.header().get("Location")) == (301, "/foo.txt")


def test_absolute_form_without_a_path_redirects_to_root() -> None:
    rec = answer(nethttp.ServeMux(), req("GET", "http://example.com", "test"))
    assert (rec.code, rec.header().get("Location")) == (301, "/")


# -- TestServeWithSlashRedirectKeepsQueryString --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "want", "status"),
    [
        ("GET", "/testOne?this=that", "this=that", 200),
        ("GET", "/testTwo?foo=bar", "foo=bar", 200),
        ("GET", "/testTwo?a=1&b=2&a=3", "a=1&b=2&a=3", 200),
        ("GET", "/testTwo?", "", 200),
        ("GET", "/testThree?foo", "foo", 200),
        ("GET", "/testThree/?foo", "foo:bar", 200),
        ("CONNECT", "/testThree?foo", "foo", 200),
        ("CONNECT", "/testThree/?foo", "foo:bar", 200),
        ("GET", "/testOne/foo/..?foo", "foo", 200),
        ("CONNECT", "/testOne/foo/..?foo", "404 page not found\n", 404),
    ],
)
def test_slash_redirect_keeps_query(method: str, path: str, want: str, status: int) -> None:
    async def query(w: nethttp.ResponseWriter, r: Request) -> None:
        await w.write(r.url.raw_query.encode())

    async def query_bar(w: nethttp.ResponseWriter, r: Request) -> None:
        await w.write(f"{r.url.raw_query}:bar".encode())

    mux = nethttp.ServeMux()
    mux.handle_func("/testOne", query)
    mux.handle_func("/testTwo/", query)
    mux.handle_func("/testThree", query)
    mux.handle_func("/testThree/", query_bar)
    rec = answer(mux, req(method, path))
    for _ in range(2):  # a client follows redirects
        if rec.code != 301:
            break
        rec = answer(mux, req(method, rec.header().get("Location")))
    assert (rec.code, rec.body) == (status, want.encode())


HOST_MUX = (
    "example.com/pkg/foo/",
    "example.com/pkg/bar",
    "example.com/pkg/bar/",
    "example.com:3000/pkg/connect/",
    "example.com:9000/",
    "/pkg/baz/",
    "example.com/a%2fb/",
)


@pytest.mark.parametrize(
    ("method", "url", "code", "loc", "want"),
    [
        ("GET", "http://example.com/", 404, "", ""),
        ("GET", "http://example.com/pkg/foo", 307, "/pkg/foo/", ""),
        ("GET", "http://example.com/pkg/bar", 200, "", "example.com/pkg/bar"),
        ("GET", "http://example.com/pkg/bar/", 200, "", "example.com/pkg/bar/"),
        ("GET", "http://example.com/pkg/baz", 307, "/pkg/baz/", ""),
        ("GET", "http://example.com:3000/pkg/foo", 307, "/pkg/foo/", ""),
        ("CONNECT", "http://example.com/", 404, "", ""),
        ("CONNECT", "http://example.com:3000/", 404, "", ""),
        ("CONNECT", "http://example.com:9000/", 200, "", "example.com:9000/"),
        ("CONNECT", "http://example.com/pkg/foo", 307, "/pkg/foo/", ""),
        ("CONNECT", "http://example.com:3000/pkg/foo", 404, "", ""),
        ("CONNECT", "http://example.com:3000/pkg/baz", 307, "/pkg/baz/", ""),
        ("CONNECT", "http://example.com:3000/pkg/connect", 307, "/pkg/connect/", ""),
        ("GET", "http://example.com/a%2fb", 307, "/a%2fb/", ""),
    ],
)
def test_slash_redirect_for_host_patterns(
    method: str, url: str, code: int, loc: str, want: str
) -> None:
    mux = mux_of(*HOST_MUX)
    rec = answer(mux, req(method, url, url.split("/")[2]))
    assert rec.code == code
    assert rec.header().get("Location") == loc
    if code == 200:
        assert rec.body.split(b"|")[0] == want.encode()


def test_no_slash_redirect_or_405_when_the_path_ends_in_slash() -> None:
    # Go issues 65624 and 67657.
    assert answer(mux_of("/{x}/"), req("GET", "/")).code == 404
    assert answer(mux_of("GET /{x}/"), req("GET", "/")).code == 404


# -- escaped paths, exact matches ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("/a", "/a"),
        ("/a", "/%61"),
        ("/%62", "/b"),
        ("/%62", "/%62"),
        ("/%7B/%7D", "/{/}"),
        ("/%7B/%7D", "/%7b/}"),
        ("/%7B/%7D", "/{/%7d"),
        ("/%7B/%7D", "/%7B/%7D"),
        ("/%x", "/%25x"),
    ],
)
def test_escaped_paths_and_patterns(pattern: str, path: str) -> None:
    mux = mux_of("/a", "/%62", "/%7B/%7D", "/%x")
    assert mux.handler(req("GET", path))[1] == pattern


@pytest.mark.parametrize(
    ("pattern", "path", "want"),
    [
        ("", "/a", False),
        ("/", "/a", False),
        ("/a", "/a", True),
        ("/a/{x...}", "/a/b", False),
        ("/a/{x}", "/a/b", True),
        ("/a/b/", "/a/b/", True),
        ("/a/b/{$}", "/a/b/", True),
        ("/a/", "/a/b/", False),
    ],
)
def test_exact_match(pattern: str, path: str, want: bool) -> None:
    n: RoutingNode[nethttp.Handler] | None = None
    if pattern:
        n = RoutingNode()
        n.pattern = parse_pattern(pattern)
    assert _exact_match(n, path) is want


@pytest.mark.parametrize(
    ("host", "want"),
    [
        ("example.com", "example.com"),
        ("example.com:8080", "example.com"),
        ("example.com:", "example.com"),
        ("[::1]:80", "::1"),
        ("[::1]", "[::1]"),  # no port: SplitHostPort fails, the host stays
        ("a:b:c", "a:b:c"),
        ("[::1]x:80", "[::1]x:80"),
    ],
)
def test_strip_host_port(host: str, want: str) -> None:
    assert _strip_host_port(host) == want


# -- registration errors and conflicts -----------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "handler", "exc", "message"),
    [
        ("", Status(200), ValueError, r"^http: invalid pattern$"),
        ("/", None, TypeError, r"^http: nil handler$"),
        ("/{x", Status(200), ValueError, r'^parsing "/\{x": at offset 1: bad wildcard segment'),
        ("/a", Status(200), ValueError, r"conflicts with pattern.* \(registered at .*\.py:\d+"),
        ("GET //", Status(200), ValueError, r'^parsing "GET //": at offset 4: non-CONNECT'),
        ("/", 42, TypeError, r"not a handler"),
    ],
)
def test_register_errors(pattern: str, handler: object, exc: type[Exception], message: str) -> None:
    mux = nethttp.ServeMux()
    mux.handle("/a", Status(200))
    with pytest.raises(exc, match=message):
        mux.handle(pattern, handler)


CONFLICTS = [
    ("/a/{x}/", "/a/{y}/{z...}", "matches the same requests as"),
    ("/a", "/a", "matches the same requests as"),
    ("/a/{x}", "/a/{y}", "matches the same requests as"),
    ("/a/{x}", "/{y}/b", 'both match some paths, like "/a/b"'),
    ("GET /", "/index.html", "matches more methods than"),
    ("GET /foo", "HEAD /", "methods than"),
    ("POST /", "/a", "matches fewer methods than /a, but has a more general path pattern"),
    ("h.com/{x}", "h.com/{y}", "matches the same requests as"),
    ("/", "/{rest...}", "matches the same requests as"),
    ("/a/{z}/{$}", "/{z}/a/", 'both match some paths, like "/a/a/"'),
]


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize(("p1", "p2", "why"), CONFLICTS)
def test_conflicts_fail_at_once_in_either_order(p1: str, p2: str, why: str, reverse: bool) -> None:
    first, second = (p2, p1) if reverse else (p1, p2)
    mux = nethttp.ServeMux()
    mux.handle(first, Status(200))
    line_first, line_second = _line_of("mux.handle(first"), _line_of("mux.handle(second")
    with pytest.raises(ValueError) as e:
        mux.handle(second, Status(200))
    msg = str(e.value)
    head = (
        f'pattern "{second}" (registered at {__file__}:{line_second}) conflicts with '
        f'pattern "{first}" (registered at {__file__}:{line_first}):\n'
    )
    assert msg.startswith(head), msg
    if "the same" in why:
        assert msg.endswith(f"{second} matches the same requests as {first}")
    elif "both match" in why:
        assert 'both match some paths, like "' in msg and f"{first} matches " in msg
        assert "But neither is more specific than the other." in msg
    else:
        assert ("more methods than" in msg) or ("fewer methods than" in msg)
    assert patterns_in(mux) == [first]  # the refused pattern left nothing behind


def patterns_in(mux: nethttp.ServeMux) -> list[str]:
    out, todo = [], [mux._tree]
    while todo:
        n = todo.pop()
        if n.pattern is not None:
            out.append(n.pattern.str)
        todo += [*n.children.values(), n.empty_child, n.multi_child]
        todo = [c for c in todo if c is not None]
    return out


def _line_of(snippet: str) -> int:
    with open(__file__, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if snippet in line and "_line_of" not in line:
                return n
    raise AssertionError(snippet)


@pytest.mark.parametrize(
    "patterns",
    [
        ("/images/", "/images/thumbnails/"),
        ("/{$}", "/"),
        ("GET /x", "HEAD /x"),
        ("example.com/", "/"),
        ("/a/b/{x...}", "/a/b/{y}", "/a/b/{$}", "/a/b", "/a/{x}", "/a"),
        ("GET /items/{id}", "POST /items/{id}", "/items/{id}", "DELETE /items/new"),
        ("/{x}/a/{y}", "/{x}/a/{y...}", "/{x}/a/{$}", "/{x}/b/{y}"),
    ],
)
def test_precedence_lets_these_coexist_in_any_order(patterns: tuple[str, ...]) -> None:
    for order in (patterns, patterns[::-1]):
        mux_of(*order)


def test_decorator_and_module_level_registrations_record_their_line() -> None:
    mux = nethttp.ServeMux()

    @mux.handle_func("/dec")
    async def decorated(w: nethttp.ResponseWriter, r: Request) -> None:
        pass

    line = _line_of('@mux.handle_func("/dec")')
    with pytest.raises(ValueError, match=rf"registered at {re.escape(__file__)}:{line}\)"):
        mux.handle_func("/dec", decorated)
    tag = uuid.uuid4().hex  # the default mux is global: a path of this test's own
    nethttp.handle_func(f"/mux-go-{tag}", decorated)
    line = _line_of('nethttp.handle_func(f"/mux-go-{tag}", decorated)')
    with pytest.raises(ValueError, match=rf"\(registered at {re.escape(__file__)}:{line}\):"):
        nethttp.handle(f"/mux-go-{tag}", decorated)


def test_redirect_code_must_be_a_redirect() -> None:
    for bad in (200, 404, 3000):
        with pytest.raises(ValueError, match="3xx"):
            nethttp.ServeMux(redirect_code=bad)


# -- 405, HEAD, hooks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "code", "allow"),
    [
        ("GET", "/g", 200, ""),
        ("HEAD", "/g", 200, ""),
        ("POST", "/g", 405, "GET, HEAD"),
        ("GET", "/x", 404, ""),
        ("GET", "/p", 405, "PATCH, POST"),
        ("GET", "/./p", 301, ""),  # cleaned first (Go's client then gets the 405)
        ("GET", "/r/", 200, ""),
        ("GET", "/r", 301, ""),
        ("HEAD", "/r", 301, ""),
        ("PUT", "/r/", 405, "GET, HEAD"),
        ("PUT", "/r", 200, ""),
        ("DELETE", "/r", 405, "GET, HEAD, PUT"),  # the path with "/" appended counts too
        ("OPTIONS", "/p", 405, "PATCH, POST"),
    ],
)
def test_status_and_allow(method: str, path: str, code: int, allow: str) -> None:
    mux = mux_of("GET /g", "POST /p", "PATCH /p", "PUT /r", "GET /r/", redirect_code=301)
    rec = answer(mux, req(method, path))
    assert (rec.code, rec.header().get("Allow")) == (code, allow)
    if code == 405:
        assert rec.body == b"Method Not Allowed\n"
        assert rec.header().get("Content-Type") == "text/plain; charset=utf-8"
        assert mux.handler(req(method, path))[1] == ""


def test_hooks_replace_404_and_405() -> None:
    seen: list[str] = []

    async def nf(w: nethttp.ResponseWriter, r: Request) -> None:
        w.header().set("Content-Type", "application/json")
        w.write_header(404)
        await w.write(b'{"error":"not found"}')

    async def mna(w: nethttp.ResponseWriter, r: Request) -> None:
        seen.append(w.header().get("Allow"))  # already set when the hook runs
        w.write_header(405)
        await w.write(b'{"error":"method"}')

    mux = nethttp.ServeMux(not_found_handler=nf, method_not_allowed_handler=mna)
    mux.handle("GET /items/{id}", Status(200))
    assert answer(mux, req("GET", "/nope")).body == b'{"error":"not found"}'
    rec = answer(mux, req("PUT", "/items/1"))
    assert (rec.code, rec.body, seen) == (405, b'{"error":"method"}', ["GET, HEAD"])
    assert rec.header().get("Allow") == "GET, HEAD"

    async def teapot(w: nethttp.ResponseWriter, r: Request) -> None:
        w.write_header(418)

    mux.not_found_handler = teapot  # assignable later, a plain function is classified
    mux.method_not_allowed_handler = teapot
    assert answer(mux, req("GET", "/nope")).code == 418
    assert answer(mux, req("PUT", "/items/1")).code == 418
    assert mux.handler(req("GET", "/nope"))[0] is mux.not_found_handler


def test_handler_does_not_touch_the_request() -> None:
    mux = mux_of("/items/{x}")
    r = req("GET", "/items/7")
    _, pattern = mux.handler(r)
    assert pattern == "/items/{x}" and r.pattern == "" and r.path_value("x") == ""
    assert answer(mux, r).body == b"/items/{x}|/items/{x}|7"
    assert r.pattern == "/items/{x}" and r.path_value("x") == "7"


# -- path values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url", "want"),
    [
        (
            "/{a}/is/{b}/{c...}",
            "/now/is/the/time/for/all",
            {"a": "now", "b": "the", "c": "time/for/all", "d": ""},
        ),
        (
            "/names/{name}/{other...}",
            "/names/%2fjohn/address",
            {"name": "/john", "other": "address"},
        ),
        (
            "/names/{name}/{other...}",
            "/names/john%2Fdoe/there/is%2F/more",
            {"name": "john/doe", "other": "there/is//more"},
        ),
        ("/names/{name}/{other...}", "/names/n/*", {"name": "n", "other": "*"}),
        ("/f/{x}", "/f/%E2%82%AC", {"x": "€"}),
    ],
)
def test_path_value_and_pattern(pattern: str, url: str, want: dict[str, str]) -> None:
    got: dict[str, str] = {}

    async def h(w: nethttp.ResponseWriter, r: Request) -> None:
        got.update({k: r.path_value(k) for k in want})
        got["pattern"] = r.pattern

    mux = nethttp.ServeMux()
    mux.handle_func(pattern, h)
    for _ in range(2):  # the second time from the cache
        got.clear()
        assert answer(mux, req("GET", url)).code == 200
        assert got == {**want, "pattern": pattern}


def test_set_path_value_overrides_and_adds() -> None:
    kvs = {"b": "X", "d": "Y", "a": "Z"}
    before: list[tuple[str, str]] = []
    got: dict[str, str] = {}

    async def h(w: nethttp.ResponseWriter, r: Request) -> None:
        before.append((r.path_value("b"), r.path_value("d")))
        for k, v in kvs.items():
            r.set_path_value(k, v)
        got.update({k: r.path_value(k) for k in kvs})

    mux = nethttp.ServeMux()
    mux.handle_func("/a/{b}/c/{d...}", h)
    for _ in range(2):
        answer(mux, req("GET", "/a/b/c/d/e"))
    assert got == kvs
    assert before == [("b", "d/e"), ("b", "d/e")]  # the remembered match stays untouched


def test_values_set_before_the_mux_survive_unless_the_pattern_names_them() -> None:
    got: dict[str, str] = {}

    async def h(w: nethttp.ResponseWriter, r: Request) -> None:
        got.update(x=r.path_value("x"), other=r.path_value("other"))

    mux = nethttp.ServeMux()
    mux.handle_func("/{x}", h)
    r = req("GET", "/new")
    r.set_path_value("x", "old")
    r.set_path_value("other", "kept")
    answer(mux, r)
    assert got == {"x": "new", "other": "kept"}


# -- the cache --------------------------------------------------------------------------------


def test_registration_after_lookups_is_seen() -> None:
    mux = mux_of("/")
    for _ in range(2):
        assert mux.handler(req("GET", "/x"))[1] == "/"
    mux.handle("/x", Named("/x"))
    assert mux.handler(req("GET", "/x"))[1] == "/x"
    mux.handle("example.com/x", Named("h"))  # the first host pattern: the host joins the key
    assert mux.handler(req("GET", "/x", "example.com"))[1] == "example.com/x"
    assert mux.handler(req("GET", "/x", "other.org"))[1] == "/x"


def test_cache_stays_bounded_and_correct() -> None:
    mux = mux_of("/items/{x}", "GET /only-get")
    mux._cache_max = 64  # 4,096 by default
    for i in range(200):
        assert mux.handler(req("GET", f"/items/{i}?q={i}"))[1] == "/items/{x}"
        assert 0 < len(mux._cache) <= 64
    off = mux_of("/items/{x}")
    off._cache_max = 0  # off, as bench/routing.py runs it
    for _ in range(2):
        assert off.handler(req("GET", "/items/1"))[1] == "/items/{x}"
    assert off._cache == {}
    for m in ("GET", "HEAD", *(f"M{i}" for i in range(20))):
        mux.handler(req(m, "/only-get"))
    assert len(mux._cache["/only-get"]) <= 8  # made-up methods cannot grow an entry
    assert answer(mux, req("GET", "/items/9?q=1")).body == b"/items/{x}|/items/{x}|9"


def test_a_rewritten_url_is_routed_by_its_new_path() -> None:
    mux = mux_of("/a", "/b")
    r = req("GET", "/a")
    assert mux.handler(r)[1] == "/a"
    u = copy.copy(r.url)
    u.path = "/b"
    r.url = u
    assert mux.handler(r)[1] == "/b"


# -- mounting a sub-mux ---------------------------------------------------------------------------


class StripPrefix:
    """A tiny stand-in for strip_prefix: a shallow copy of the request with a shorter URL."""

    def __init__(self, prefix: str, h: nethttp.Handler) -> None:
        self.prefix, self.h = prefix, h

    async def serve_http(self, w: nethttp.ResponseWriter, r: Request) -> None:
        r2 = copy.copy(r)
        u = copy.copy(r.url)
        u.path = u.path.removeprefix(self.prefix)
        u.raw_path = u.raw_path.removeprefix(self.prefix)
        r2.url = u
        await self.h.serve_http(w, r2)


def test_mounted_sub_mux() -> None:
    api = mux_of("GET /items/{x}", "/")
    root = mux_of("/")
    root.handle("/api/", StripPrefix("/api", api))
    assert answer(root, req("GET", "/api/items/42")).body == b"GET /items/{x}|GET /items/{x}|42"
    assert answer(root, req("GET", "/api/items/a%2Fb")).body == b"GET /items/{x}|GET /items/{x}|a/b"
    assert answer(root, req("GET", "/api/zz")).body == b"/|/|"
    assert answer(root, req("GET", "/other")).body == b"/|/|"
    rec = answer(root, req("GET", "/api"))  # the subtree root without its slash
    assert (rec.code, rec.header().get("Location")) == (307, "/api/")


# -- over a real socket -----------------------------------------------------------------------


def test_over_a_socket(serve: Callable[..., Any]) -> None:
    async def item(w: nethttp.ResponseWriter, r: Request) -> None:
        w.header().set("Content-Type", "text/plain")
        await w.write(f"{r.method} {r.pattern} {r.path_value('id')}".encode())

    async def files(w: nethttp.ResponseWriter, r: Request) -> None:
        await w.write(r.path_value("path").encode())

    mux = nethttp.ServeMux()
    mux.handle_func("GET /items/{id}", item)
    mux.handle_func("POST /items/{id}", item)
    mux.handle_func("/files/{path...}", files)
    mux.handle_func("localhost/items/{id}", item)
    srv = serve(mux)
    with httpx.Client(base_url=srv.url, timeout=5) as client:
        assert client.get("/items/42").text == "GET GET /items/{id} 42"
        head = client.head("/items/42")
        assert head.status_code == 200 and head.content == b""
        assert client.post("/items/7").text == "POST POST /items/{id} 7"
        r = client.delete("/items/7")
        assert (r.status_code, r.headers["allow"], r.text) == (
            405,
            "GET, HEAD, POST",
            "Method Not Allowed\n",
        )
        assert r.headers["x-content-type-options"] == "nosniff"
        assert client.get("/files/a%2Fb/c").text == "a/b/c"
        r = client.get("/files")
        assert (r.status_code, r.headers["location"]) == (301, "/files/")
        assert client.get("/files", follow_redirects=True).text == ""
        assert client.get("/nope").status_code == 404
        host = {"Host": f"localhost:{srv.port}"}
        assert client.get("/items/9", headers=host).text == "GET localhost/items/{id} 9"


# -- docs/routing.md --------------------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "routing.md"
DOC_BLOCKS = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.S | re.M)


@pytest.mark.parametrize("block", range(len(DOC_BLOCKS)))
def test_routing_doc_examples_run(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(nethttp, "strip_prefix"):  # until the package exports it
        from nethttp._handlers import strip_prefix

        monkeypatch.setattr(nethttp, "strip_prefix", strip_prefix, raising=False)
    exec(compile(DOC_BLOCKS[block], f"{DOC}:block{block}", "exec"), {"__name__": "doc"})


def test_routing_doc_has_its_examples() -> None:
    assert len(DOC_BLOCKS) >= 9
