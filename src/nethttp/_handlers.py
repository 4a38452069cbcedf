"""Ready-made handlers and helpers: Go's ``Redirect``, ``StripPrefix``, ``TimeoutHandler``...

Each wraps or answers like Go's, byte for byte where a client can see it:

- ``redirect`` resolves a relative URL against the directory of the request's escaped
  path and cleans it (keeping a trailing slash and the query), hex-escapes non-ASCII in
  ``Location``, and for GET and HEAD without a preset ``Content-Type`` sets
  ``text/html; charset=utf-8``; GET alone also gets the short HTML body. The code is not
  checked, as in Go.
- ``strip_prefix`` and ``allow_query_semicolons`` hand a shallow copy of the request, with
  a copied URL, to the handler they wrap; the original is left untouched.
- ``timeout_handler`` runs the handler as a task of its own against a writer that
  buffers everything (Go's ``timeoutWriter``). If the handler finishes first, its status,
  header and body are copied to the real writer; if the deadline passes first, the client
  gets 503 with the message, the handler's context is cancelled, and each later write
  raises ``HandlerTimeout``. The late handler is not cancelled (Go cannot stop a
  goroutine either): it finds out through its context or its next write. A plain
  ``def`` handler works too, run in the handler threads.

``ThreadView`` is the blocking face of in-memory writers (this one, httptest's recorder)
that ``ServeMux`` hands to plain ``def`` handlers.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import sys
import threading
from typing import Any, Final, Protocol

from ._context import Context
from ._errors import Canceled, DeadlineExceeded, HandlerTimeout, NetHTTPError, NotSupported
from ._form import DONE
from ._header import Header
from ._mux import Handler, HandlerFunc, _hex_escape_non_ascii, _html_escape, as_handler
from ._request import Request
from ._response import ResponseWriter, not_found
from ._server import SERVER_CONTEXT_KEY
from ._status import body_allowed, status_text

__all__ = [
    "ThreadView",
    "allow_query_semicolons",
    "not_found_handler",
    "redirect",
    "redirect_handler",
    "strip_prefix",
    "timeout_handler",
]

_log = logging.getLogger("nethttp")


def not_found_handler() -> Handler:
    """A handler that answers every request with 404 "404 page not found"."""
    return HandlerFunc(not_found)


# -- redirect --------------------------------------------------------------------------------


def _scheme_end(url: str) -> int:
    """Go's getScheme: the index of the scheme's ':' (0 when none, -1 when it is missing)."""
    for i, c in enumerate(url):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-.") and i > 0:
            continue
        if c == ":":
            return i if i > 0 else -1
        return 0
    return 0


_HEX: Final = frozenset("0123456789abcdefABCDEF")


def _bad_escape(s: str) -> bool:
    i = s.find("%")
    while i >= 0:
        if len(s) < i + 3 or not all(c in _HEX for c in s[i + 1 : i + 3]):
            return True
        i = s.find("%", i + 3)
    return False


def _split_url(url: str) -> tuple[str, str] | None:
    """The scheme and host of ``url`` as Go's ``url.Parse`` sees them; None if it fails."""
    if any(c < " " or c == "\x7f" for c in url):
        return None  # "net/url: invalid control character in URL"
    rest, _, fragment = url.partition("#")
    end = _scheme_end(rest)
    if end < 0:
        return None  # "missing protocol scheme"
    scheme = rest[:end] if end else ""
    rest = rest[end + 1 :] if end else rest
    rest = rest.partition("?")[0]
    if _bad_escape(fragment):
        return None
    if not rest.startswith("/"):
        if scheme:
            return scheme, ""  # opaque, as in mailto:x
        if ":" in rest.partition("/")[0]:
            return None  # "first path segment in URL cannot contain colon"
    host = ""
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, _, rest = rest[2:].partition("/")
        host = authority.rpartition("@")[2]
        port = host.rpartition("]")[2].rpartition(":")
        if port[1] and port[2] and not port[2].isdigit():
            return None  # "invalid port"
        rest = "/" + rest
    return None if _bad_escape(rest) else (scheme, host)


def _clean(p: str) -> str:
    """Go's ``path.Clean``."""
    if not p:
        return "."
    rooted = p[0] == "/"
    out: list[str] = []
    for seg in p.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(seg)
    cleaned = "/".join(out)
    return "/" + cleaned if rooted else cleaned or "."


def redirect(w: Any, r: Request, url: str, code: int) -> Any:
    """Reply with a redirect to ``url``, which may be relative to the request's path.

    Sets ``Location`` (non-ASCII hex-escaped); without a preset ``Content-Type``, GET and
    HEAD get ``text/html; charset=utf-8`` and GET a short HTML body. Returns an awaitable
    for async writers; a blocking writer writes at once.
    """
    parsed = _split_url(url)
    if parsed is not None and parsed == ("", ""):
        # A relative URL: make it absolute, as a client would (RFC 9110 §10.2.2).
        old = r.url.escaped_path() or "/"
        if not url or url[0] != "/":
            url = old[: old.rfind("/") + 1] + url
        url, mark, query = url.partition("?")
        trailing = url.endswith("/")
        url = _clean(url)
        if trailing and not url.endswith("/"):
            url += "/"
        url += mark + query
    h = w.header()
    had_ct = "Content-Type" in h  # present even with no values: the body is off
    h.set("Location", _hex_escape_non_ascii(url))
    if not had_ct and r.method in ("GET", "HEAD"):
        h.set("Content-Type", "text/html; charset=utf-8")
    w.write_header(code)
    # Go writes the body and ignores the error a bodiless status gives; here it is skipped.
    if not had_ct and r.method == "GET" and body_allowed(code):
        body = f'<a href="{_html_escape(url)}">{status_text(code)}</a>.\n\n'
        return w.write(body.encode())
    return DONE


class _RedirectHandler:
    __slots__ = ("code", "url")

    def __init__(self, url: str, code: int) -> None:
        self.url = url
        self.code = code

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        await redirect(w, r, self.url, self.code)

    def __repr__(self) -> str:
        return f"redirect_handler({self.url!r}, {self.code})"


def redirect_handler(url: str, code: int) -> Handler:
    """A handler that redirects every request to ``url`` with ``code`` (see ``redirect``)."""
    return _RedirectHandler(url, code)


# -- request rewriting -----------------------------------------------------------------------


def _copy_with_url(r: Request) -> Request:
    """A shallow copy of ``r`` with its own URL object, sharing r's context."""
    r2 = r.with_context(r.context())
    r2.url = copy.copy(r.url)
    return r2


class _StripPrefix:
    __slots__ = ("handler", "prefix")

    def __init__(self, prefix: str, handler: Handler) -> None:
        self.prefix = prefix
        self.handler = handler

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        u = r.url
        p = u.path.removeprefix(self.prefix)
        rp = u.raw_path.removeprefix(self.prefix)
        # The prefix must match the path as sent: an escaped match is no match (404).
        if len(p) < len(u.path) and (not u.raw_path or len(rp) < len(u.raw_path)):
            r2 = _copy_with_url(r)
            r2.url.path = p
            r2.url.raw_path = rp
            await self.handler.serve_http(w, r2)
        else:
            await not_found(w, r)


def strip_prefix(prefix: str, h: object) -> Handler:
    """Serve ``h`` with ``prefix`` removed from the URL's path (and raw path); 404 otherwise."""
    handler = as_handler(h)
    return _StripPrefix(prefix, handler) if prefix else handler


class _AllowQuerySemicolons:
    __slots__ = ("handler",)

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        if ";" in r.url.raw_query:
            r2 = _copy_with_url(r)
            r2.url.raw_query = r2.url.raw_query.replace(";", "&")
            r = r2
        await self.handler.serve_http(w, r)


def allow_query_semicolons(h: object) -> Handler:
    """Serve ``h`` with every ``;`` in the query turned into ``&`` (before form parsing).

    This brings back the pre-Go 1.17 split on both; proxies that disagree about it are a
    security risk (golang.org/issue/25192).
    """
    return _AllowQuerySemicolons(as_handler(h))


# -- in-memory writers in threads ------------------------------------------------------------


class MemoryWriter(Protocol):
    """A writer that keeps the response in memory, so it can be written from any thread."""

    def header(self) -> Header: ...

    def write_header(self, code: int) -> None: ...

    def write_sync(self, data: bytes | bytearray | memoryview) -> int: ...


class ThreadView:
    """The blocking writer a plain ``def`` handler gets for an in-memory writer."""

    __slots__ = ("_w",)

    def __init__(self, w: MemoryWriter) -> None:
        self._w = w

    def header(self) -> Header:
        """The header map of the writer underneath."""
        return self._w.header()

    def write_header(self, code: int) -> None:
        """Send the status code (see the writer underneath)."""
        self._w.write_header(code)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write body bytes."""
        return self._w.write_sync(data)

    def flush(self) -> None:
        """Flush, if the writer underneath can (a timeout handler's cannot)."""
        flush = getattr(self._w, "flush_sync", None)
        if flush is None:
            raise NotSupported("flush")
        flush()

    def unwrap(self) -> MemoryWriter:
        """The writer underneath."""
        return self._w

    async def close(self) -> None:
        """Nothing is buffered on this side (called on the loop after the handler)."""


# -- timeout_handler -------------------------------------------------------------------------

_DEFAULT_TIMEOUT_BODY: Final = (
    "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>"
)


class _TimeoutWriter:
    """Buffers the whole response (Go's timeoutWriter); no flush, no hijack, no unwrap."""

    __slots__ = ("buf", "code", "err", "h", "lock", "req", "wrote")

    def __init__(self, req: Request) -> None:
        self.h = Header()
        self.buf = bytearray()
        self.lock = threading.Lock()  # a plain def handler writes from its own thread
        self.err: BaseException | None = None
        self.wrote = False
        self.code = 0
        self.req = req

    def header(self) -> Header:
        return self.h

    def write_header(self, code: int) -> None:
        with self.lock:
            self._write_header_locked(code)

    def _write_header_locked(self, code: int) -> None:
        if not 100 <= code <= 999:
            raise ValueError(f"invalid WriteHeader code {code}")
        if self.err is not None:
            return
        if self.wrote:
            srv = self.req.context().value(SERVER_CONTEXT_KEY)
            log = getattr(srv, "error_log", None) or _log
            f = sys._getframe(2)
            log.error(
                "http: superfluous response.WriteHeader call from %s (%s:%d)",
                f.f_code.co_name, f.f_code.co_filename, f.f_lineno,
            )  # fmt: skip
            return
        self.wrote = True
        self.code = code

    def write_sync(self, data: bytes | bytearray | memoryview) -> int:
        with self.lock:
            if self.err is not None:
                raise self.err
            if not self.wrote:
                self._write_header_locked(200)
            self.buf += data
            return len(data)

    async def write(self, data: bytes | bytearray | memoryview) -> int:
        return self.write_sync(data)

    async def flush(self) -> None:
        # The response is buffered whole: there is nothing to flush (Go: no Flusher).
        raise NotSupported("flush")

    def blocking_writer(self) -> ThreadView:
        return ThreadView(self)


async def _until_done(ctx: Context) -> None:
    await ctx.done()


def _late_result(task: asyncio.Future[None]) -> None:
    # The handler outlived its deadline; what it raises now has nowhere to go.
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(
        exc, NetHTTPError | Canceled | DeadlineExceeded | OSError
    ):
        _log.error("http: timeout_handler: handler failed after its timeout: %r", exc)


class _TimeoutHandler:
    __slots__ = ("body", "dt", "handler")

    def __init__(self, handler: Handler, dt: float, body: str) -> None:
        self.handler = handler
        self.dt = dt
        self.body = body or _DEFAULT_TIMEOUT_BODY

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        ctx, cancel = r.context().with_timeout(self.dt)
        try:
            r2 = r.with_context(ctx)
            tw = _TimeoutWriter(r2)
            task = asyncio.ensure_future(self.handler.serve_http(tw, r2))
            expired = asyncio.ensure_future(_until_done(ctx))
            try:
                await asyncio.wait((task, expired), return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                task.cancel()
                raise
            finally:
                expired.cancel()
            if task.done():
                await self._copy(w, tw, task)
            else:
                task.add_done_callback(_late_result)
                await self._expire(w, tw, ctx)
        finally:
            cancel()

    @staticmethod
    async def _copy(w: ResponseWriter, tw: _TimeoutWriter, task: asyncio.Future[None]) -> None:
        task.result()  # a handler's exception is raised here, as Go re-panics
        with tw.lock:
            code = tw.code if tw.wrote else 200
            fields = list(tw.h.items())
            data = bytes(tw.buf)
        dst = w.header()
        for k, vs in fields:
            dst[k] = vs
        w.write_header(code)
        await w.write(data)

    async def _expire(self, w: ResponseWriter, tw: _TimeoutWriter, ctx: Context) -> None:
        err = ctx.err()
        with tw.lock:  # from here on the handler's writes fail; nothing reaches w
            tw.err = HandlerTimeout() if isinstance(err, DeadlineExceeded) else err
        w.write_header(503)
        if isinstance(err, DeadlineExceeded):
            await w.write(self.body.encode())


def timeout_handler(h: object, dt: float, msg: str = "") -> Handler:
    """Serve ``h`` with a time limit of ``dt`` seconds (Go's ``TimeoutHandler``).

    Past it the client gets 503 with ``msg`` (an HTML "Timeout" page when empty), ``h``'s
    context is cancelled and its writes raise ``HandlerTimeout``. The response is
    buffered whole, so ``h`` cannot flush or hijack. If the request's own context ends
    first (the client left), the answer is a bare 503.
    """
    return _TimeoutHandler(as_handler(h), dt, msg)
