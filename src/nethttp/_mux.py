"""Handlers and ``ServeMux``.

A handler is anything with ``async def serve_http(self, w, r)``, or a bare function
``async def f(w, r)``. A plain ``def`` is allowed too: it runs in a bounded pool of
worker threads with a blocking writer and body reader, so blocking code never stalls the
event loop. ``as_handler`` decides which kind a handler is once, when it is registered or
the server starts, never per request.

``ServeMux`` is Go 1.22's router (server.go's ServeMux over ``_pattern`` and
``_routing``): it finds the most specific pattern for the request's host, method and
path, or redirects (a missing trailing slash, an unclean path), or answers 405 with
``Allow``, or 404. Lookups go through a small per-path cache in front of the decision
tree, because a server asks for the same few paths all day.
"""

from __future__ import annotations

import inspect
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any, Protocol, TypeVar, overload, runtime_checkable
from urllib.parse import quote, unquote_to_bytes

from ._context import running_loop
from ._pattern import clean_path, describe_conflict, go_quote, parse_pattern, path_unescape
from ._request import URL, BlockingBody, Body, Request, max_bytes_reader
from ._response import Response, ResponseWriter, error, not_found
from ._response.blocking import BlockingResponseWriter
from ._routing import RoutingIndex, RoutingNode
from ._status import status_text

AsyncHandlerFunc = Callable[[ResponseWriter, Request], Awaitable[None]]
SyncHandlerFunc = Callable[[BlockingResponseWriter, Request], None]
F = TypeVar("F", bound=Callable[..., Any])


@runtime_checkable
class Handler(Protocol):
    """Anything that serves HTTP requests (Go's ``http.Handler``)."""

    def serve_http(self, w: ResponseWriter, r: Request) -> Awaitable[None]:
        """Respond to one request (an ``async def`` method)."""
        ...


class HandlerFunc:
    """Turn an ``async def f(w, r)`` into a ``Handler`` (Go's ``http.HandlerFunc``)."""

    __slots__ = ("serve_http",)

    def __init__(self, fn: AsyncHandlerFunc) -> None:
        if not inspect.iscoroutinefunction(fn) and not _async_callable(fn):
            raise TypeError(f"HandlerFunc needs an async function, got {fn!r}")
        # Stored as the attribute itself, so calling the handler adds no Python frame.
        self.serve_http = fn

    def __repr__(self) -> str:
        return f"HandlerFunc({self.serve_http!r})"


# -- plain def handlers ---------------------------------------------------------------------

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_pool_size = 40  # Starlette's default thread limit; enough for blocking I/O, still bounded


def set_handler_threads(n: int) -> None:
    """Set how many worker threads run plain ``def`` handlers (before the first request)."""
    global _pool_size, _pool
    if n < 1:
        raise ValueError("need at least one handler thread")
    with _pool_lock:
        _pool_size = n
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def _handler_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_pool_size, thread_name_prefix="nethttp-handler")
    return _pool


class _ThreadHandler:
    """Runs a plain ``def`` handler in the worker pool, with blocking I/O wrappers."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        loop = running_loop()
        bw: Any
        if isinstance(w, Response):
            bw = BlockingResponseWriter(w, loop)
        elif hasattr(w, "blocking_writer"):
            bw = w.blocking_writer()  # an in-memory writer: httptest's, timeout_handler's
        else:
            raise TypeError("a plain def handler needs nethttp's own ResponseWriter")
        if isinstance(r.body, Body):
            r.body = BlockingBody(r.body, loop)
        result = await loop.run_in_executor(_handler_pool(), self.fn, bw, r)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError(f"plain def handler {self.fn!r} returned an awaitable")
        await bw.close()

    def __repr__(self) -> str:
        return f"<thread handler {self.fn!r}>"


def _async_callable(obj: object) -> bool:
    call = getattr(obj, "__call__", None)  # noqa: B004 - callable() cannot tell async
    return call is not None and inspect.iscoroutinefunction(call)


def as_handler(h: object) -> Handler:
    """Classify ``h`` once: an async handler as is, a plain ``def`` one run in a thread."""
    if isinstance(h, HandlerFunc | _ThreadHandler | ServeMux):
        return h
    serve = getattr(h, "serve_http", None)
    if serve is not None:
        if inspect.iscoroutinefunction(serve):
            return h  # type: ignore[return-value]
        if callable(serve):
            return _ThreadHandler(serve)
    if callable(h):
        if inspect.iscoroutinefunction(h) or _async_callable(h):
            return HandlerFunc(h)
        return _ThreadHandler(h)
    raise TypeError(f"not a handler: {h!r} (need serve_http(w, r) or a function (w, r))")


# -- ServeMux --------------------------------------------------------------------------------


async def _not_found(w: ResponseWriter, r: Request) -> None:
    await not_found(w, r)


async def _method_not_allowed(w: ResponseWriter, r: Request) -> None:
    await error(w, "Method Not Allowed", 405)


class _Redirect:
    """Go's RedirectHandler for the mux's own redirects (to a clean, absolute path)."""

    __slots__ = ("code", "url")

    def __init__(self, url: str, code: int) -> None:
        self.url = url  # as the request carried it: its query may hold raw bytes
        self.code = code

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        h = w.header()
        had_ct = "Content-Type" in h
        h.set("Location", _hex_escape_non_ascii(self.url))
        if not had_ct and r.method in ("GET", "HEAD"):
            h.set("Content-Type", "text/html; charset=utf-8")
        w.write_header(self.code)
        if not had_ct and r.method == "GET":
            body = f'<a href="{_html_escape(self.url)}">{status_text(self.code)}</a>.\n\n'
            await w.write(_wire_bytes(body))

    def __repr__(self) -> str:
        return f"<redirect {self.code} to {self.url!r}>"


def _html_escape(s: str) -> str:
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


class _MethodNotAllowed:
    """Sets ``Allow``, then runs the mux's ``method_not_allowed_handler`` (405 by default)."""

    __slots__ = ("allow", "mux")

    def __init__(self, mux: ServeMux, allow: str) -> None:
        self.mux = mux
        self.allow = allow

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        w.header().set("Allow", self.allow)
        await self.mux.method_not_allowed_handler.serve_http(w, r)

    def __repr__(self) -> str:
        return f"<method not allowed, Allow: {self.allow}>"


# What a lookup decides: the handler, r.pattern, and the path values (None when none).
_Entry = tuple[Handler, str, dict[str, str] | None]
_ROUTE_CACHE_MAX = 4096  # paths remembered per mux; the whole cache is dropped when full
_METHODS_CACHED = 8  # per path, so made-up methods cannot grow an entry without bound
# A raw path Go's EscapedPath returns as sent (RFC 3986 pchar, "/", "[" and "]").
_VALID_RAW_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%/]*")
# What URL.escaped_path() leaves as it is.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")


class ServeMux:
    """A request router with Go 1.22 patterns, ``[METHOD ][HOST]/[PATH]`` (Go's ``ServeMux``).

    ``{name}`` matches one segment, ``{name...}`` the rest of the path, ``{$}`` the end
    of a path ending in ``/``; a trailing ``/`` matches the whole subtree. The most
    specific pattern wins, a pattern with a host beats one without, and a registration
    that conflicts with an earlier one raises ``ValueError`` at once. GET patterns serve
    HEAD; when only other methods match, the answer is 405 with ``Allow``. A missing
    trailing slash and unclean paths are redirected with ``redirect_code`` (301, Go 1.25).

    ``not_found_handler`` and ``method_not_allowed_handler`` replace the 404 and 405
    answers (the 405 one runs after ``Allow`` is set). Registering is safe from any thread
    at any time; lookups take no lock. See docs/routing.md.
    """

    def __init__(
        self,
        redirect_code: int = 301,
        *,
        not_found_handler: object = None,
        method_not_allowed_handler: object = None,
    ) -> None:
        if not 300 <= redirect_code <= 399:
            raise ValueError(f"redirect_code must be a 3xx status, got {redirect_code}")
        self.redirect_code = redirect_code
        self._tree: RoutingNode[Handler] = RoutingNode()
        self._index = RoutingIndex()
        self._lock = threading.Lock()
        self._hosts = False  # whether any pattern has a host (then the host keys the cache)
        # escaped path (or "host path") -> method -> the lookup's result; matches only.
        # Replaced, never cleared, on registration, so a lookup racing it stores its
        # result in the dropped dict.
        self._cache: dict[str, dict[str, _Entry]] = {}
        self._cache_max = _ROUTE_CACHE_MAX  # 0 turns the cache off (bench/routing.py)
        self._not_found = as_handler(_not_found if not_found_handler is None else not_found_handler)
        self._method_not_allowed = as_handler(
            _method_not_allowed
            if method_not_allowed_handler is None
            else method_not_allowed_handler
        )

    @property
    def not_found_handler(self) -> Handler:
        """What answers when no pattern matches (Go's 404 ``404 page not found``)."""
        return self._not_found

    @not_found_handler.setter
    def not_found_handler(self, h: object) -> None:
        self._not_found = as_handler(h)

    @property
    def method_not_allowed_handler(self) -> Handler:
        """What answers when only other methods match; ``Allow`` is already set."""
        return self._method_not_allowed

    @method_not_allowed_handler.setter
    def method_not_allowed_handler(self, h: object) -> None:
        self._method_not_allowed = as_handler(h)

    # -- registration --------------------------------------------------------------------

    def handle(self, pattern: str, handler: object) -> None:
        """Register ``handler`` for ``pattern``; an invalid or conflicting pattern raises."""
        self._register(pattern, handler, _caller_location())

    @overload
    def handle_func(self, pattern: str, fn: F) -> F: ...

    @overload
    def handle_func(self, pattern: str, fn: None = None) -> Callable[[F], F]: ...

    def handle_func(self, pattern: str, fn: F | None = None) -> F | Callable[[F], F]:
        """Register a function for ``pattern``; without ``fn``, return a decorator."""
        if fn is None:

            def decorate(f: F) -> F:
                self._register(pattern, f, _caller_location())
                return f

            return decorate
        self._register(pattern, fn, _caller_location())
        return fn

    def _register(self, pattern: str, handler: object, loc: str) -> None:
        if not pattern:
            raise ValueError("http: invalid pattern")
        if handler is None:
            raise TypeError("http: nil handler")
        h = as_handler(handler)
        try:
            pat = parse_pattern(pattern)
        except ValueError as e:
            raise ValueError(f"parsing {go_quote(pattern)}: {e}") from None
        pat.loc = loc
        with self._lock:
            for other in self._index.possibly_conflicting_patterns(pat):
                if pat.conflicts_with(other):
                    raise ValueError(
                        f"pattern {go_quote(pat.str)} (registered at {pat.loc}) conflicts "
                        f"with pattern {go_quote(other.str)} (registered at {other.loc}):\n"
                        + describe_conflict(pat, other)
                    )
            self._tree.add_pattern(pat, h)
            self._index.add_pattern(pat)
            if pat.host:
                self._hosts = True
            self._cache = {}

    # -- lookup ----------------------------------------------------------------------------

    def handler(self, r: Request) -> tuple[Handler, str]:
        """Return the handler for ``r`` and its pattern, without running it (Go's Handler).

        For the mux's own redirects the pattern is the one that matches after the redirect;
        for 404 and 405 it is "". ``r`` is not modified.
        """
        entry = self._route(r)
        return entry[0], entry[1]

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        """Run the handler whose pattern matches ``r`` best, with ``r.pattern`` and path values."""
        if r._url is None and not self._hosts:
            # The hot path, inline: a remembered plain path (never "*", never a query).
            by_method = self._cache.get(r.request_uri)
            if by_method is not None:
                hit = by_method.get(r.method)
                if hit is not None:
                    h, r.pattern, values = hit
                    if values is not None:
                        self._set_path_values(r, values)
                    await h.serve_http(w, r)
                    return
        if r.request_uri == "*":
            if r.proto_at_least(1, 1):
                w.header().set("Connection", "close")
            w.write_header(400)
            return
        h, r.pattern, values = self._route(r)
        if values is not None:
            self._set_path_values(r, values)
        await h.serve_http(w, r)

    @staticmethod
    def _set_path_values(r: Request, values: dict[str, str]) -> None:
        # Values set before (set_path_value, an outer mux) stay unless the pattern names
        # them; Go's in-place update of r.matches keeps only the former. A new dict, as a
        # shallow copy of the request (strip_prefix) may share the old one.
        pv = r._path_values
        r._path_values = values.copy() if pv is None else {**pv, **values}

    def _route(self, r: Request) -> _Entry:
        # Matches are remembered per path and method: the same few paths are asked for all
        # day, and the cache turns a lookup into two dict hits (bench/inmem.py). Redirects,
        # 404s, 405s and CONNECT are not remembered.
        cache = self._cache
        u = r._url
        if u is None:
            key = r.request_uri
            q = key.find("?")
            if q >= 0:
                key = key[:q]
        else:
            key = _url_escaped_path(u)  # a handler in front may have rewritten the URL
        if self._hosts:
            key = r.host + " " + key
        by_method = cache.get(key)
        if by_method is not None:
            hit = by_method.get(r.method)
            if hit is not None:
                return hit
        entry = self._find_handler(r)
        # Only a match has a pattern and a handler other than a redirect.
        if entry[1] and not isinstance(entry[0], _Redirect) and r.method != "CONNECT":
            if by_method is None:
                if len(cache) >= self._cache_max:
                    cache.clear()
                    if not self._cache_max:
                        return entry
                by_method = cache[key] = {}
            if len(by_method) < _METHODS_CACHED:
                by_method[r.method] = entry
        return entry

    def _find_handler(self, r: Request) -> _Entry:
        """Go's findHandler: match, or redirect, or 405, or 404."""
        escaped, query = _escaped_path_and_query(r)
        method = r.method
        if method == "CONNECT":
            # CONNECT paths are not cleaned, but the /tree -> /tree/ redirect applies.
            host = r.url.host
            to = self._match_or_redirect(host, method, escaped, redirect=True)[2]
            if to is not None:
                return self._redirect(to, query), path_unescape(to), None
            n, matches, _ = self._match_or_redirect(r.host, method, escaped, redirect=False)
            path = escaped
        else:
            host = _strip_host_port(r.host)
            path = clean_path(escaped)
            n, matches, to = self._match_or_redirect(host, method, path, redirect=True)
            if to is not None:
                assert n is not None and n.pattern is not None
                return self._redirect(to, query), n.pattern.str, None
            if path != escaped:
                pat = n.pattern.str if n is not None and n.pattern is not None else ""
                return self._redirect(path, query), pat, None
        if n is None:
            allowed = self._matching_methods(host, path)
            if allowed:
                return _MethodNotAllowed(self, ", ".join(allowed)), "", None
            return self._not_found, "", None
        p, h = n.pattern, n.handler
        assert p is not None and h is not None
        values = dict(zip(p.wildcards, matches, strict=False)) if p.wildcards else None
        return h, p.str, values

    def _match_or_redirect(
        self, host: str, method: str, path: str, *, redirect: bool
    ) -> tuple[RoutingNode[Handler] | None, list[str], str | None]:
        """Match; with ``redirect``, also the path to redirect to when only path+"/" matches."""
        found = self._tree.match(host, method, path)
        n, matches = found if found is not None else (None, [])
        if redirect and path and path[-1] != "/" and not _exact_match(n, path):
            path += "/"
            found = self._tree.match(host, method, path)
            if found is not None and _exact_match(found[0], path):
                return found[0], [], path
        return n, matches, None

    def _matching_methods(self, host: str, path: str) -> list[str]:
        """The sorted methods that would match host and path (or path + "/")."""
        methods: set[str] = set()
        self._tree.matching_methods(host, path, methods)
        if not path.endswith("/"):
            self._tree.matching_methods(host, path + "/", methods)
        return sorted(methods)

    def _redirect(self, path: str, query: str) -> _Redirect:
        return _Redirect(path + "?" + query if query else path, self.redirect_code)

    def __repr__(self) -> str:
        return f"<ServeMux at {id(self):#x}>"


def _exact_match(n: RoutingNode[Handler] | None, path: str) -> bool:
    """Whether the match of ``path`` by ``n``'s pattern is exact (Go's exactMatch).

    A match is inexact when a multi wildcard matched something, as "/" does for "/a".
    """
    if n is None or n.pattern is None:
        return False
    p = n.pattern
    if not p.last_multi:
        return True
    if path and path[-1] != "/":
        return False
    # "/a/b/{$}" and "/a/b/" match "/a/b/" exactly, "/a/" does not: count the slashes.
    return len(p.segments) == path.count("/")


def _escaped_path_and_query(r: Request) -> tuple[str, str]:
    """The request path as Go's ``URL.EscapedPath()`` gives it, and the raw query."""
    u = r._url
    if u is not None:
        path, query = _url_escaped_path(u), u.raw_query
    else:
        t = r.request_uri
        if t[:1] != "/":
            if t == "*":
                return t, ""
            k = t.find("://")
            if k < 0:
                return "", ""  # CONNECT's authority form: the path is empty
            rest = t[k + 3 :]
            cuts = [i for i in (rest.find("/"), rest.find("?")) if i >= 0]
            t = rest[min(cuts) :] if cuts else ""
        path, _, query = t.partition("?")
    if not _VALID_RAW_PATH.fullmatch(path):
        path = _escape_path(path)
    return path, query


def _url_escaped_path(u: URL) -> str:
    """``u.escaped_path()``, without quoting a path that needs none."""
    if u.raw_path:
        return u.raw_path
    p = u.path
    if "%" not in p and _PLAIN_PATH.fullmatch(p):
        return p
    return u.escaped_path()


def _escape_path(path: str) -> str:
    # Go re-escapes the decoded path when the raw one holds bytes a URL path may not.
    return quote(unquote_to_bytes(_wire_bytes(path)), safe="/$&+,:;=@")


def _wire_bytes(s: str) -> bytes:
    """``s`` as bytes: the request line was decoded as latin-1, so that gives its bytes back."""
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape")


def _hex_escape_non_ascii(s: str) -> str:
    """Percent-encode every byte >= 0x80, as Go's Redirect does for Location."""
    if s.isascii():
        return s
    return "".join(chr(b) if b < 0x80 else f"%{b:02x}" for b in _wire_bytes(s))


def _strip_host_port(h: str) -> str:
    """``h`` without a trailing ``:port`` (Go's stripHostPort over net.SplitHostPort)."""
    if ":" not in h:
        return h
    i = h.rfind(":")
    if h[0] == "[":
        end = h.find("]")
        if end < 0 or end + 1 != i:
            return h  # no "]", no port, or a colon inside: SplitHostPort fails
        host, j, k = h[1:end], 1, end + 1
    else:
        host, j, k = h[:i], 0, 0
        if ":" in host:
            return h  # too many colons
    if "[" in h[j:] or "]" in h[k:]:
        return h
    return host


def _caller_location() -> str:
    """``file:line`` of the first caller outside this module (for conflict messages)."""
    f: FrameType | None = sys._getframe(1)
    while f is not None and f.f_code.co_filename == __file__:
        f = f.f_back
    if f is None:
        return "unknown location"
    return f"{f.f_code.co_filename}:{f.f_lineno}"


class _MaxBytesHandler:
    __slots__ = ("handler", "n")

    def __init__(self, handler: Handler, n: int) -> None:
        self.handler = handler
        self.n = n

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        max_bytes_reader(w, r.body, self.n)
        await self.handler.serve_http(w, r)


def max_bytes_handler(h: object, n: int) -> Handler:
    """Wrap ``h`` so its request bodies are limited to ``n`` bytes (Go's MaxBytesHandler)."""
    if n < 0:
        raise ValueError("a body limit cannot be negative")
    return _MaxBytesHandler(as_handler(h), n)


default_serve_mux = ServeMux()


def handle(pattern: str, handler: object) -> None:
    """Register ``handler`` for ``pattern`` on ``default_serve_mux``."""
    default_serve_mux.handle(pattern, handler)


@overload
def handle_func(pattern: str, fn: F) -> F: ...


@overload
def handle_func(pattern: str, fn: None = None) -> Callable[[F], F]: ...


def handle_func(pattern: str, fn: F | None = None) -> F | Callable[[F], F]:
    """Register a function on ``default_serve_mux``; without ``fn``, return a decorator."""
    return default_serve_mux.handle_func(pattern, fn)


__all__ = [
    "Handler",
    "HandlerFunc",
    "ServeMux",
    "as_handler",
    "clean_path",
    "default_serve_mux",
    "error",
    "handle",
    "handle_func",
    "max_bytes_handler",
    "set_handler_threads",
]
