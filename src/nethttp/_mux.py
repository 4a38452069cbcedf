"""Handlers and ``ServeMux``.

A handler is anything with ``async def serve_http(self, w, r)``, or a bare function
``async def f(w, r)``. A plain ``def`` is allowed too: it runs in a bounded pool of
worker threads with a blocking writer and body reader, so blocking code never stalls the
event loop. ``as_handler`` decides which kind a handler is once, when it is registered or
the server starts, never per request.

``ServeMux`` matches Go's path patterns: exact paths, and ``/prefix/`` subtrees, the
longest match winning; an optional host in front (``example.com/``) wins over host-less
patterns. It redirects ``/tree`` to ``/tree/`` when only the subtree is registered, and
unclean paths (``.``, ``..``, ``//``) to their clean form, with 301 as in Go 1.25.
"""

from __future__ import annotations

import asyncio
import inspect
import posixpath
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar, overload, runtime_checkable

from ._request import BlockingBody, Body, Request, max_bytes_reader
from ._response import BlockingResponseWriter, Response, ResponseWriter, error, not_found

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
        loop = asyncio.get_running_loop()
        if not isinstance(w, Response):
            raise TypeError("a plain def handler needs nethttp's own ResponseWriter")
        bw = BlockingResponseWriter(w, loop)
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


async def _not_found(w: ResponseWriter, r: Request) -> None:
    await not_found(w, r)


class _Redirect:
    __slots__ = ("code", "url")

    def __init__(self, url: str, code: int) -> None:
        self.url = url
        self.code = code

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        w.header().set("Location", self.url)
        if r.method in ("GET", "HEAD"):
            w.header().set("Content-Type", "text/html; charset=utf-8")
        w.write_header(self.code)
        if r.method == "GET":
            await w.write(f'<a href="{_html_escape(self.url)}">Moved Permanently</a>.\n\n'.encode())


def _html_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


def clean_path(p: str) -> str:
    """Return the canonical path for ``p`` (Go's cleanPath): no ``.``, ``..`` or ``//``."""
    if p[:1] == "/" and "//" not in p and "/." not in p:
        return p  # nothing to clean (every request pays for this check, normpath is slow)
    if not p:
        return "/"
    if p[0] != "/":
        p = "/" + p
    np = posixpath.normpath(p)
    if np.startswith("//"):
        np = "/" + np.lstrip("/")
    if p.endswith("/") and np != "/":
        np += "/"
    return np


class ServeMux:
    """A request router; patterns are ``[host]/path`` (exact) or ``[host]/path/`` (subtree)."""

    def __init__(self, redirect_code: int = 301) -> None:
        self._exact: dict[str, tuple[Handler, str]] = {}
        self._subtrees: list[tuple[str, Handler, str]] = []  # longest first
        self._tree_patterns: set[str] = set()
        self._routes: dict[str, tuple[Handler, str]] = {}  # path -> decision, no host patterns
        self._hosts = False
        self.redirect_code = redirect_code
        self.not_found_handler: Handler = as_handler(_not_found)

    def handle(self, pattern: str, handler: object) -> None:
        """Register ``handler`` for ``pattern``; a pattern registered twice raises."""
        if not pattern or ("/" not in pattern):
            raise ValueError(f"invalid pattern {pattern!r}: it needs a path")
        h = as_handler(handler)
        self._routes.clear()
        if pattern in self._exact or any(p == pattern for p, _, _ in self._subtrees):
            raise ValueError(f"pattern {pattern!r} is already registered")
        if pattern[0] != "/":
            self._hosts = True
        if pattern.endswith("/"):
            self._subtrees.append((pattern, h, pattern))
            self._tree_patterns.add(pattern)
            self._subtrees.sort(key=lambda e: len(e[0]), reverse=True)
        else:
            self._exact[pattern] = (h, pattern)

    @overload
    def handle_func(self, pattern: str, fn: F) -> F: ...

    @overload
    def handle_func(self, pattern: str, fn: None = None) -> Callable[[F], F]: ...

    def handle_func(self, pattern: str, fn: F | None = None) -> F | Callable[[F], F]:
        """Register a function for ``pattern``; without ``fn``, return a decorator."""
        if fn is None:

            def decorate(f: F) -> F:
                self.handle(pattern, f)
                return f

            return decorate
        self.handle(pattern, fn)
        return fn

    def _match_path(self, path: str) -> tuple[Handler, str] | None:
        found = self._exact.get(path)
        if found is not None:
            return found
        for prefix, h, pattern in self._subtrees:
            if path.startswith(prefix):
                return h, pattern
        return None

    def handler(self, r: Request) -> tuple[Handler, str]:
        """Return the handler for ``r`` and its pattern ("" for not-found and redirects)."""
        target = r.request_uri
        if target[:1] == "/" and "?" not in target and "%" not in target:
            path = target  # a plain path needs no URL object
            if not self._hosts:
                hit = self._routes.get(path)
                if hit is not None:
                    return hit
                found = self._route(r, path)
                if found[1] and len(self._routes) < _ROUTE_CACHE_MAX:
                    # Matches are remembered per path (the same few paths are asked for all
                    # day); redirects and not-found answers are not.
                    self._routes[path] = found
                return found
        else:
            path = r.url.path
        return self._route(r, path)

    def _route(self, r: Request, path: str) -> tuple[Handler, str]:
        if r.method != "CONNECT":
            clean = clean_path(path)
            if clean != path:
                url = clean + ("?" + r.url.raw_query if r.url.raw_query else "")
                return _Redirect(url, self.redirect_code), ""
        if self._hosts:
            host = r.host
            if ":" in host and not host.endswith("]"):
                host = host.rsplit(":", 1)[0]
            found = self._match_path(host + path) or self._match_path(path)
        else:
            host = ""
            found = self._exact.get(path) or self._match_path(path)
        if path[-1:] != "/" and (found is None or found[1] not in (path, host + path)):
            # Go: /tree redirects to /tree/ when only the subtree is registered.
            trees = self._tree_patterns
            if path + "/" in trees or (self._hosts and host + path + "/" in trees):
                url = path + "/" + ("?" + r.url.raw_query if r.url.raw_query else "")
                return _Redirect(url, self.redirect_code), ""
        if found is None:
            return self.not_found_handler, ""
        return found

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        """Dispatch ``r`` to the handler whose pattern matches best."""
        if r.request_uri == "*":
            if r.proto_at_least(1, 1):
                w.header().set("Connection", "close")
            w.write_header(400)
            return
        h, pattern = self.handler(r)
        r.pattern = pattern
        await h.serve_http(w, r)


_ROUTE_CACHE_MAX = 4096


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
    "default_serve_mux",
    "error",
    "handle",
    "handle_func",
]
