"""Ready-made handlers against the ResponseRecorder (Go's serve_test.go cases, our tables)
and over a real server with httpx."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from nethttp import (
    Canceled,
    DeadlineExceeded,
    NotSupported,
    Request,
    ResponseController,
    ServeMux,
    background,
    error,
    httptest,
    not_found,
)
from nethttp._errors import HandlerTimeout
from nethttp._handlers import (
    allow_query_semicolons,
    not_found_handler,
    redirect,
    redirect_handler,
    strip_prefix,
    timeout_handler,
)


def run(aw: Any) -> Any:
    async def main() -> Any:
        return await aw

    return asyncio.run(main())


def record(handler: object, method: str = "GET", target: str = "/", body: Any = None) -> Any:
    return httptest.serve(handler, httptest.new_request(method, target, body))


# -- error and not_found (Go's TestError, TestErrorContentLength) ----------------------------


def test_error_sets_headers_and_drops_content_length() -> None:
    async def handler(w: Any, r: Request) -> None:
        w.header().set("Content-Length", "100")
        w.header().set("Content-Type", "image/png")
        w.header().set("Content-Encoding", "gzip")  # kept since Go 1.24 (issue 66343)
        await error(w, "boom", 418)

    res = record(handler).result()
    assert res.status_code == 418
    assert res.body == b"boom\n"
    assert dict(res.header.items()) == {
        "Content-Type": ["text/plain; charset=utf-8"],
        "Content-Encoding": ["gzip"],
        "X-Content-Type-Options": ["nosniff"],
    }


def test_not_found_handler(serve: Any) -> None:
    h = not_found_handler()
    rec = httptest.serve(h)
    assert (rec.code, rec.body) == (404, b"404 page not found\n")
    resp = httpx.get(serve(h).url + "/anything")
    assert resp.status_code == 404
    assert resp.text == "404 page not found\n"
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.headers["x-content-type-options"] == "nosniff"


# -- redirect (Go's TestRedirect, TestRedirectContentTypeAndBody, ...) ------------------------

REDIRECTS = [
    ("http://foobar.com/baz", "http://foobar.com/baz"),
    ("https://foobar.com/baz", "https://foobar.com/baz"),
    ("test://foobar.com/baz", "test://foobar.com/baz"),
    ("//foobar.com/baz", "//foobar.com/baz"),  # scheme-relative
    ("/foobar.com/baz", "/foobar.com/baz"),  # relative to the root
    ("foobar.com/baz", "/qux/foobar.com/baz"),  # relative to the current path
    ("../quux/foobar.com/baz", "/quux/foobar.com/baz"),
    ("///foobar.com/baz", "/foobar.com/baz"),  # too many slashes
    # path.Clean touches only the path, not the query
    ("/foo?next=http://bar.com/", "/foo?next=http://bar.com/"),
    (
        "http://localhost:8080/_ah/login?continue=http://localhost:8080/",
        "http://localhost:8080/_ah/login?continue=http://localhost:8080/",
    ),
    ("/фубар", "/%d1%84%d1%83%d0%b1%d0%b0%d1%80"),
    ("http://foo.com/фубар", "http://foo.com/%d1%84%d1%83%d0%b1%d0%b0%d1%80"),
    ("a/./b/../c/", "/qux/a/c/"),  # the trailing slash is kept
    ("", "/qux/"),
    ("?x=1", "/qux/?x=1"),
    ("mailto:a@b.c", "mailto:a@b.c"),
    ("a:b/../c", "a:b/../c"),  # a scheme: not relative
    # url.Parse fails: used as given
    ("1a:b/../c", "1a:b/../c"),
    ("/a/%zz/../b", "/a/%zz/../b"),
    ("//host:port/x/../y", "//host:port/x/../y"),
    ("/a#%zz", "/a#%zz"),
    ("x#frag/../y", "/qux/y"),  # Go cleans the fragment along with the path
]


@pytest.mark.parametrize(("url", "location"), REDIRECTS)
def test_redirect_location(url: str, location: str) -> None:
    req = httptest.new_request("GET", "http://example.com/qux/")
    rec = httptest.ResponseRecorder()
    run(redirect(rec, req, url, 302))
    assert rec.code == 302
    assert rec.header().get("Location") == location


@pytest.mark.parametrize(
    ("method", "preset", "want_ct", "want_body"),
    [
        ("GET", None, "text/html; charset=utf-8", b'<a href="/foo">Found</a>.\n\n'),
        ("HEAD", None, "text/html; charset=utf-8", b""),
        ("POST", None, "", b""),
        ("DELETE", None, "", b""),
        ("foo", None, "", b""),
        ("GET", ["application/test"], "application/test", b""),
        ("GET", [], "", b""),  # a present but empty key turns the body off too
    ],
)
def test_redirect_content_type_and_body(
    method: str, preset: list[str] | None, want_ct: str, want_body: bytes
) -> None:
    req = httptest.new_request(method, "http://example.com/qux/")
    rec = httptest.ResponseRecorder()
    if preset is not None:
        rec.header()["Content-Type"] = preset
    run(redirect(rec, req, "/foo", 302))
    assert rec.code == 302
    assert rec.header().get("Content-Type") == want_ct
    assert rec.result().body == want_body


def test_redirect_odd_paths() -> None:
    # Go's TestRedirectBadPath: a path with no leading slash must not crash.
    req = httptest.new_request("GET", "/")
    req.url.path = "not-empty-but-no-leading-slash"
    rec = httptest.ResponseRecorder()
    run(redirect(rec, req, "", 304))
    assert rec.code == 304
    assert rec.header().get("Location") == "."
    # Go's TestRedirectEscapedPath: the escaped path is the base.
    req = httptest.new_request("GET", "http://example.com/foo%2Fbar/")
    rec = httptest.ResponseRecorder()
    run(redirect(rec, req, "qux%2Fbaz", 301))
    assert rec.result().header.get("Location") == "/foo%2Fbar/qux%2Fbaz"


def test_redirect_escapes_html() -> None:
    rec = record(redirect_handler("/a?b=<x>&c='\"", 307))
    assert rec.body == b'<a href="/a?b=&lt;x&gt;&amp;c=&#39;&#34;">Temporary Redirect</a>.\n\n'


def test_redirect_from_a_def_handler() -> None:
    def handler(w: Any, r: Request) -> None:
        redirect(w, r, "next", 303)  # a blocking writer writes at once

    rec = record(handler, target="/a/b")
    assert (rec.code, rec.header().get("Location")) == (303, "/a/next")


def test_redirect_handler_over_a_real_server(serve: Any) -> None:
    srv = serve(redirect_handler("../elsewhere?x=1", 301))
    get = httpx.get(srv.url + "/dir/page")
    assert get.status_code == 301
    assert get.headers["location"] == "/elsewhere?x=1"
    assert get.text == '<a href="/elsewhere?x=1">Moved Permanently</a>.\n\n'
    head = httpx.head(srv.url + "/dir/page")
    assert head.headers["content-type"] == "text/html; charset=utf-8"
    post = httpx.post(srv.url + "/dir/page")
    assert "content-type" not in post.headers
    assert post.content == b""


# -- strip_prefix (Go's TestStripPrefix, TestStripPrefixNotModifyRequest) ---------------------


async def show_path(w: Any, r: Request) -> None:
    w.header().set("X-Path", r.url.path)
    w.header().set("X-RawPath", r.url.raw_path)
    w.header().set("X-URI", r.request_uri)


@pytest.mark.parametrize(
    ("target", "status", "path", "raw"),
    [
        ("/foo/bar/qux", 200, "/qux", ""),
        ("/foo/bar%2Fqux", 200, "%2Fqux".replace("%2F", "/"), "%2Fqux"),
        ("/foo%2Fbar/qux", 404, "", ""),  # the prefix matches only once unescaped
        ("/bar", 404, "", ""),
    ],
)
def test_strip_prefix(target: str, status: int, path: str, raw: str) -> None:
    rec = record(strip_prefix("/foo/bar", show_path), target=target)
    assert rec.code == status
    if status == 200:
        assert rec.header().get("X-Path") == path
        assert rec.header().get("X-RawPath") == raw
        assert rec.header().get("X-URI") == target  # the request URI is left alone
    else:
        assert rec.body == b"404 page not found\n"


def test_strip_prefix_does_not_modify_the_request() -> None:
    seen: list[Request] = []

    async def inner(w: Any, r: Request) -> None:
        seen.append(r)

    req = httptest.new_request("GET", "/foo/bar")
    httptest.serve(strip_prefix("/foo", inner), req)
    assert req.url.path == "/foo/bar"
    assert seen[0].url.path == "/bar"
    assert seen[0] is not req and seen[0].context() is req.context()


def test_strip_prefix_empty_prefix_returns_the_handler() -> None:
    h = not_found_handler()
    assert strip_prefix("", h) is h


def test_strip_prefix_over_a_real_server_with_a_mux(serve: Any) -> None:
    inner = ServeMux()

    async def item(w: Any, r: Request) -> None:
        await w.write(f"item {r.url.path}".encode())

    def sync_item(w: Any, r: Request) -> None:
        w.write(f"sync {r.url.path}".encode())

    inner.handle("/item/", item)
    inner.handle("/sync", sync_item)
    srv = serve(strip_prefix("/api", inner))
    assert httpx.get(srv.url + "/api/item/7").text == "item /item/7"
    assert httpx.get(srv.url + "/api/sync").text == "sync /sync"
    assert httpx.get(srv.url + "/other").status_code == 404


# -- allow_query_semicolons (Go's TestQuerySemicolon) ----------------------------------------


async def form_values(w: Any, r: Request) -> None:
    try:
        await r.parse_form()
        err = ""
    except Exception as exc:
        err = str(exc)
    await w.write(f"{r.form_value('a')}|{r.form_value('b')}|{err}".encode())


@pytest.mark.parametrize(
    ("query", "plain", "allowed"),
    [
        ("?a=1;x=bad&b=2", "|2|invalid semicolon separator in query", "1|2|"),
        ("?a=1;b=bad", "||invalid semicolon separator in query", "1|bad|"),
        ("?a=1%3Bx=bad&b=2", "1;x=bad|2|", "1;x=bad|2|"),  # an escaped ; is data
    ],
)
def test_allow_query_semicolons(serve: Any, query: str, plain: str, allowed: str) -> None:
    assert record(form_values, target="/" + query).body.decode() == plain
    assert record(allow_query_semicolons(form_values), target="/" + query).body.decode() == allowed
    srv = serve(allow_query_semicolons(form_values))
    assert httpx.get(srv.url + "/" + query).text == allowed


# -- timeout_handler (Go's TestTimeoutHandler and its variants) ------------------------------


def test_timeout_handler_copies_a_fast_response() -> None:
    async def fast(w: Any, r: Request) -> None:
        w.header().set("X-Fast", "yes")
        w.write_header(201)
        await w.write(b"hello")

    rec = record(timeout_handler(fast, 5, "too slow"))
    assert (rec.code, rec.body, rec.header().get("X-Fast")) == (201, b"hello", "yes")


def test_timeout_handler_empty_response_is_200() -> None:
    async def nothing(w: Any, r: Request) -> None:
        pass

    rec = record(timeout_handler(nothing, 5))
    assert (rec.code, rec.body) == (200, b"")


class Slow:
    """A handler that blocks until released, then tries to write; records what it saw."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.write_error: BaseException | None = None
        self.ctx_err: BaseException | None = None
        self.finished = threading.Event()

    async def serve_http(self, w: Any, r: Request) -> None:
        await r.context().done()
        self.ctx_err = r.context().err()
        await self.release.wait()
        try:
            await w.write(b"late")
        except Exception as exc:
            self.write_error = exc
        self.finished.set()


def test_timeout_handler_times_out() -> None:
    slow = Slow()

    async def main() -> httptest.ResponseRecorder:
        rec = await httptest.serve_async(timeout_handler(slow, 0.05, "too slow"))
        slow.release.set()
        await asyncio.sleep(0)  # let the late handler run its write
        while not slow.finished.is_set():
            await asyncio.sleep(0.01)
        return rec

    rec = asyncio.run(main())
    assert (rec.code, rec.body) == (503, b"too slow")
    assert isinstance(slow.ctx_err, DeadlineExceeded)
    assert isinstance(slow.write_error, HandlerTimeout)
    assert str(slow.write_error) == "http: Handler timeout"


def test_timeout_handler_client_gone_is_a_bare_503() -> None:
    slow = Slow()
    ctx, cancel = background().with_cancel()
    req = httptest.new_request().with_context(ctx)

    async def main() -> httptest.ResponseRecorder:
        asyncio.get_running_loop().call_later(0.02, cancel)
        rec = await httptest.serve_async(timeout_handler(slow, 10, "too slow"), req)
        slow.release.set()
        while not slow.finished.is_set():
            await asyncio.sleep(0.01)
        return rec

    rec = asyncio.run(main())
    assert (rec.code, rec.body) == (503, b"")
    assert isinstance(slow.write_error, Canceled)


def test_timeout_handler_reraises_the_handlers_exception() -> None:
    async def broken(w: Any, r: Request) -> None:
        await w.write(b"partial")
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        record(timeout_handler(broken, 5))


def test_timeout_handler_logs_superfluous_write_header(caplog: pytest.LogCaptureFixture) -> None:
    async def twice(w: Any, r: Request) -> None:
        w.write_header(202)
        w.write_header(500)

    with caplog.at_level(logging.ERROR, logger="nethttp"):
        rec = record(timeout_handler(twice, 5))
    assert rec.code == 202
    assert "superfluous response.WriteHeader call from twice" in caplog.text


def test_timeout_handler_cannot_flush() -> None:
    async def flusher(w: Any, r: Request) -> None:
        with pytest.raises(NotSupported):
            await ResponseController(w).flush()
        with pytest.raises(NotSupported):
            ResponseController(w).hijack()
        await w.write(b"ok")

    assert record(timeout_handler(flusher, 5)).body == b"ok"


def test_timeout_handler_with_a_def_handler() -> None:
    finished = threading.Event()
    errors: list[BaseException] = []

    def blocking(w: Any, r: Request) -> None:
        if r.url.path == "/slow":
            r.context().done().wait(5)
            time.sleep(0.05)
            try:
                w.write(b"late")
            except HandlerTimeout as exc:
                errors.append(exc)
            finished.set()
            return
        w.header().set("X-Thread", "yes")
        w.write(b"from a thread")

    h = timeout_handler(blocking, 0.1, "")
    rec = record(h)
    assert (rec.code, rec.body, rec.header().get("X-Thread")) == (200, b"from a thread", "yes")
    rec = record(h, target="/slow")
    assert rec.code == 503
    assert (
        rec.body == b"<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>"
    )
    assert finished.wait(5) and isinstance(errors[0], HandlerTimeout)


def test_timeout_handler_over_a_real_server(serve: Any) -> None:
    async def handler(w: Any, r: Request) -> None:
        if r.url.path == "/slow":
            await asyncio.sleep(5)
        w.header().set("Content-Type", "application/json")
        await w.write(b"{}")

    srv = serve(timeout_handler(handler, 0.1))
    fast = httpx.get(srv.url + "/")
    assert (fast.status_code, fast.text, fast.headers["content-type"]) == (
        200,
        "{}",
        "application/json",
    )
    slow = httpx.get(srv.url + "/slow")
    assert slow.status_code == 503
    assert slow.headers["content-type"] == "text/html; charset=utf-8"  # sniffed, as in Go
    assert "<h1>Timeout</h1>" in slow.text
    again = httpx.get(srv.url + "/")  # the server is fine afterwards
    assert again.status_code == 200


def test_timeout_handler_crash_is_a_500_over_a_real_server(serve: Any) -> None:
    async def handler(w: Any, r: Request) -> None:
        raise RuntimeError("handler bug")

    resp = httpx.get(serve(timeout_handler(handler, 5)).url + "/")
    assert resp.status_code == 500


def test_not_found_function_is_go_s() -> None:
    rec = record(not_found)
    assert (rec.code, rec.body) == (404, b"404 page not found\n")


# -- the examples in the docs run as written ---------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs"


def doc_examples(name: str) -> list[str]:
    """The ```python blocks of docs/<name>."""
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def export_pending_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # The docs use the public names; until nethttp/__init__.py exports them, lend them.
    import nethttp
    from nethttp import _cookie, _errors, _handlers
    from nethttp._form import multipart as _multipart

    pending = {
        name: getattr(module, name)
        for module, names in [
            (_handlers, ["allow_query_semicolons", "not_found_handler", "redirect",
                         "redirect_handler", "strip_prefix", "timeout_handler"]),
            (_cookie, ["Cookie", "SameSite", "set_cookie"]),
            (_errors, ["FormError", "HandlerTimeout", "MissingFile", "NoCookie"]),
            (_multipart, ["FileHeader", "MultipartForm"]),
        ]
        for name in names
    }  # fmt: skip
    for name, obj in pending.items():
        if not hasattr(nethttp, name):
            monkeypatch.setattr(nethttp, name, obj, raising=False)


@pytest.mark.parametrize("code", doc_examples("handlers.md"))
def test_handlers_doc_examples(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    export_pending_names(monkeypatch)
    exec(compile(code, "docs/handlers.md", "exec"), {"__name__": "docs_example"})
