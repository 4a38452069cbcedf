"""Host an ASGI 3 application on nethttp: ``ASGIHandler(app)`` is a nethttp handler.

    import nethttp
    from nethttp.asgi import ASGIHandler

    nethttp.run(ASGIHandler(app), addr=":8000")

Theory of operation. ``serve_http`` builds the ``http`` scope from the ``Request`` and
calls the app with two bound methods of a small per-request ``_Cycle``: ``receive`` and
``send``. No task, queue or thread is added per request: the app runs inside the
connection's own handler task, so a request costs one scope dict and one small object.

``receive`` pulls the next piece of the body from the connection only when the app asks
(back-pressure: a body nobody reads stays in the kernel), then, once the body is done,
waits for the request's context to be cancelled (the client went away) or for the
response to complete, and answers ``http.disconnect``. ``send`` maps the response
messages onto the ``ResponseWriter``: the start message is kept until the first body
message, which fills the header map and is a ``write`` (plus a ``flush`` while
``more_body`` says more is coming, so a stream is never held back); the
``http.response.trailers`` extension sends the trailer fields after a chunked body. A
one-message response stays in the writer's buffer and leaves in one write, with the
writer's automatic ``Content-Length``, when the app returns; if the app keeps running
after completing its response (a background task), the response leaves on the loop's
next turn instead.

Errors follow uvicorn: an exception before ``http.response.start`` is a 500 (nethttp's
own crash path, which logs it); after it, the exception is logged and the connection
aborted (``AbortHandler``), as is a response shorter or longer than the
``Content-Length`` it declared. A message of the wrong type raises ``RuntimeError``
into the app.

Lifespan runs in a task of its own from ``startup()`` to ``shutdown()``; ``attach(srv)``
registers the two on a ``Server``: startup before the first accept (a failure fails
``serve``), shutdown after the last in-flight request was drained.

Only nethttp's public API is used here, as DESIGN.md asks of adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, Literal
from urllib.parse import unquote

from nethttp import (
    SERVER_CONTEXT_KEY,
    URL,
    AbortHandler,
    Body,
    Context,
    MaxBytesError,
    NotSupported,
    ProtocolError,
    Request,
    ResponseController,
    ResponseWriter,
    Server,
)
from nethttp._context import running_loop  # the loop, without a syscall per request

__all__ = [
    "ASGIApp",
    "ASGIHandler",
    "LifespanError",
    "Message",
    "Receive",
    "Scope",
    "Send",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ASGI_VERSION: Final = "3.0"
SPEC_VERSION: Final = "2.4"  # send() on a closed connection raises OSError (spec 2.4)
_LIFESPAN_SPEC: Final = "2.0"

_DISCONNECT: Final = "http.disconnect"

# A response's progress, in order.
_NEW, _STARTED, _TRAILERS, _COMPLETE = range(4)
# The request body's: none left to report, never asked for, being read, all delivered.
_EMPTY, _UNREAD, _READING, _DONE = range(4)

_ADDR_CACHE_MAX: Final = 256
_CLIENT_CACHE_MAX: Final = 4096
_SELF_LENGTH: Final = 1024  # bodies the writer surely sizes itself (Go: "a few KB")


class LifespanError(RuntimeError):
    """The application's lifespan startup or shutdown failed."""


def _split_hostport(addr: str) -> tuple[str, int] | None:
    """``"1.2.3.4:80"`` / ``"[::1]:80"`` -> ``(host, port)``; None when it has no port."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    if host[:1] == "[" and host[-1:] == "]":
        host = host[1:-1]
    return host, int(port)


class _Endpoints:
    """The scope's ``server`` and ``client``, as uvicorn reports them.

    Parsed once per address and kept: a listener has one local address, and a
    keep-alive connection sends many requests from one remote address (a string the
    Conn keeps, so even its hash is computed once).
    """

    __slots__ = ("_clients", "_last", "_servers")

    def __init__(self) -> None:
        self._servers: dict[str, tuple[str, int | None] | None] = {}
        self._clients: dict[str, tuple[str, int] | None] = {}
        # The last request's (conn, remote, (client, server)): a keep-alive connection
        # asks again with the same two objects, answered by two identity tests.
        self._last: tuple[Any, str, tuple[Any, Any]] | None = None

    def both(self, conn: Any, remote: str) -> tuple[tuple[str, int] | None, Any]:
        """``(client, server)`` for a request on ``conn`` from ``remote``."""
        last = self._last
        if last is not None and last[0] is conn and last[1] is remote:
            return last[2]
        pair = (self.client(remote), self.server(conn))
        self._last = (conn, remote, pair)
        return pair

    def server(self, conn: Any) -> tuple[str, int | None] | None:
        """``(host, port)`` of the listener, ``(path, None)`` for a Unix socket."""
        if conn is None:
            return None
        local: str = conn.local_addr
        try:
            return self._servers[local]
        except KeyError:
            pass
        sock = getattr(conn, "socket", None)
        if sock is not None and getattr(sock, "family", None) == socket.AF_UNIX:
            found: tuple[str, int | None] | None = (local, None)
        else:
            found = _split_hostport(local)
        if len(self._servers) >= _ADDR_CACHE_MAX:
            self._servers.clear()
        self._servers[local] = found
        return found

    def client(self, remote: str) -> tuple[str, int] | None:
        """``(host, port)`` of ``r.remote_addr``; None for a Unix socket's peer ("@")."""
        clients = self._clients
        try:
            return clients[remote]
        except KeyError:
            if len(clients) >= _CLIENT_CACHE_MAX:
                clients.clear()
            found = clients[remote] = _split_hostport(remote)
            return found


def _target_parts(r: Request) -> tuple[str, str]:
    """The request's path as sent (still escaped) and its query, both latin-1 text.

    Read from ``r.url``, so a wrapper that strips a prefix from it is honoured.
    """
    url: URL = r.url
    if url.path is r.request_uri:
        return url.path, url.raw_query  # a plain path: the target itself
    # raw_path is kept only when the escaping is not the default one; otherwise
    # re-escaping the decoded path gives the bytes that were sent.
    escaped = url.raw_path or url.escaped_path()
    target = r.request_uri
    if not target.isascii():
        # Raw bytes >= 0x80 in the target: re-escaping would percent-encode them, but
        # ASGI's raw_path is the bytes as received. Use them unless a wrapper changed
        # the path (then the two escapings differ).
        sent = target.partition("?")[0]
        if URL(sent).escaped_path() == escaped:
            return sent, url.raw_query
    return escaped, url.raw_query


def _scope_path(raw_s: str) -> tuple[str, bytes]:
    """``(path, raw_path)`` for the scope: percent-decoded UTF-8, and the bytes sent."""
    if raw_s.isascii():
        return (unquote(raw_s) if "%" in raw_s else raw_s), raw_s.encode("ascii")
    # Bytes >= 0x80 sent unescaped: the target holds them as latin-1 text.
    raw = raw_s.encode("latin-1")
    return unquote(raw.decode("utf-8", "replace")), raw


def _server_logger(r: Request, fallback: logging.Logger) -> logging.Logger:
    """The serving Server's error_log, so adapter errors land beside nethttp's own."""
    srv = r.context().value(SERVER_CONTEXT_KEY)
    log = getattr(srv, "error_log", None)
    return log if isinstance(log, logging.Logger) else fallback


class ASGIHandler:
    """A nethttp handler that serves an ASGI 3 application (HTTP; lifespan).

    ``root_path`` is the prefix removed before requests reach the handler (by a proxy
    or a prefix-stripping wrapper): it is put in front of ``path`` and given as the
    scope's ``root_path``, as uvicorn's ``--root-path`` does. ``lifespan``: "auto"
    runs the lifespan protocol and carries on if the app does not support it, "on"
    fails start-up then, "off" never runs it. ``state`` is the dict the lifespan
    scope shares with the app; every request gets a shallow copy of it. Errors are
    logged to the serving Server's ``error_log`` (``logger`` outside a Server).
    Use on one event loop.
    """

    __slots__ = (
        "_endpoints",
        "_lifespan",
        "_root_raw",
        "app",
        "lifespan",
        "logger",
        "root_path",
        "state",
    )

    def __init__(
        self,
        app: ASGIApp,
        *,
        root_path: str = "",
        lifespan: Literal["auto", "on", "off"] = "auto",
        state: dict[str, Any] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if lifespan not in ("auto", "on", "off"):
            raise ValueError(f"lifespan must be 'auto', 'on' or 'off', not {lifespan!r}")
        if root_path and (root_path[0] != "/" or root_path.endswith("/")):
            raise ValueError(f"root_path must start with '/' and not end with one: {root_path!r}")
        self.app = app
        self.root_path = root_path
        self.lifespan = lifespan
        self.state: dict[str, Any] = {} if state is None else state
        self.logger = logger or logging.getLogger("nethttp.asgi")
        self._root_raw = root_path.encode("utf-8")
        self._endpoints = _Endpoints()
        self._lifespan: _Lifespan | None = None

    # -- lifespan ---------------------------------------------------------------------------

    def attach(self, server: Server) -> ASGIHandler:
        """Run ``startup`` before ``server`` accepts and ``shutdown`` after it drained."""
        server.register_on_start(self.startup)
        server.register_on_drained(self.shutdown)
        return self

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the app; raise LifespanError if it failed."""
        if self.lifespan == "off" or self._lifespan is not None:
            return
        self._lifespan = _Lifespan(self)
        await self._lifespan.startup()

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the app (after ``startup``; else nothing).

        Runs once per ``startup``; a later ``startup`` begins a new lifespan.
        """
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()

    # -- requests ---------------------------------------------------------------------------

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        """Serve one request through the app."""
        url = r.url
        path = url.path
        if path is r.request_uri and path.isascii():
            raw = path.encode("ascii")  # the common case: a plain path, nothing to decode
        else:
            path, raw = _scope_path(_target_parts(r)[0])
        query = url.raw_query.encode("latin-1") if url.raw_query else b""
        if self.root_path:
            path = self.root_path + path
            raw = self._root_raw + raw
        # A loop, not a comprehension: no function frame (-1k instructions, one field).
        headers = []
        for n, v in r.raw_headers:
            headers.append((n.lower(), v))
        client, server = self._endpoints.both(r.conn, r.remote_addr)
        scope: Scope = {
            "type": "http",
            "asgi": {"version": ASGI_VERSION, "spec_version": SPEC_VERSION},
            "http_version": "1.0" if r.proto == "HTTP/1.0" else "1.1",
            "method": r.method,
            "scheme": r.scheme,
            "path": path,
            "raw_path": raw,
            "query_string": query,
            "root_path": self.root_path,
            "headers": headers,
            "client": client,
            "server": server,
            "state": self.state.copy(),
            "extensions": {"http.response.trailers": {}},
        }
        cycle = _Cycle(w, r)
        try:
            await self.app(scope, cycle.receive, cycle.send)
        except (asyncio.CancelledError, AbortHandler):
            cycle.returned = True
            if cycle.flush_task is not None:
                cycle.flush_task.cancel()
            raise
        except Exception as exc:
            cycle.returned = True
            if cycle.flush_task is not None:
                await cycle.flushed()
            self._failed(cycle, r, exc)
        else:
            cycle.returned = True
            if cycle.flush_task is not None:
                await cycle.flushed()
            if cycle.state != _COMPLETE:
                self._incomplete(cycle, r)

    def _failed(self, cycle: _Cycle, r: Request, exc: Exception) -> None:
        if isinstance(exc, OSError) and cycle.client_gone():
            raise AbortHandler() from exc  # the client went away: ordinary, no log line
        if cycle.state == _NEW:
            raise exc  # nethttp's crash path: logged, and a 500 when nothing was sent
        _server_logger(r, self.logger).error(
            "nethttp.asgi: exception in ASGI application serving %s",
            r.remote_addr,
            exc_info=exc,
            extra={"event": "handler_error", "remote_addr": r.remote_addr},
        )
        if cycle.state != _COMPLETE:
            raise AbortHandler() from exc
        # Raised after a complete response (a background task failed, say): the
        # response stands; only the log line tells.

    def _incomplete(self, cycle: _Cycle, r: Request) -> None:
        if cycle.client_gone():
            raise AbortHandler()  # nothing to answer, nobody to answer to
        if cycle.state == _NEW:
            if cycle.body_error is not None:
                raise cycle.body_error  # too large or broken body: 413 or 400 from nethttp
            raise RuntimeError("ASGI callable returned without starting response.")
        _server_logger(r, self.logger).error(
            "nethttp.asgi: ASGI callable returned without completing response (%s)",
            r.remote_addr,
            extra={"event": "handler_error", "remote_addr": r.remote_addr},
        )
        raise AbortHandler()

    def __repr__(self) -> str:
        return f"ASGIHandler({self.app!r})"


class _Cycle:
    """One request's ``receive`` and ``send`` (bound methods; no task of their own).

    Attributes most requests never change are class-level defaults, so building one
    per request sets four fields, not eleven.
    """

    body_error: Exception | None = None  # a body over its limit, or broken framing
    disconnected = False  # a body read found the client gone
    declared = -1  # the app's Content-Length, -1 when none
    sent = 0  # body bytes sent, counted while a Content-Length is declared
    trailers = False  # the app will send http.response.trailers
    start: Message | None = None  # the start message, applied with the first body
    returned = False  # the app returned (or raised)
    flush_task: asyncio.Task[None] | None = None  # sends a complete response early
    _ctx: Context | None = None
    _cancel: Callable[[], None] | None = None

    def __init__(self, w: ResponseWriter, r: Request) -> None:
        self.w = w
        self.r = r
        self.state = _NEW
        body = r.body
        self.body_state = _UNREAD if isinstance(body, Body) and not body.at_eof else _EMPTY

    def client_gone(self) -> bool:
        """Whether the client disconnected (the request's context says so)."""
        return self.disconnected or self.r.context().err() is not None

    # -- receive ---------------------------------------------------------------------------

    async def receive(self) -> Message:
        """The next ``http.request`` piece, then ``http.disconnect`` (spec 2.4)."""
        state = self.body_state
        if state in (_UNREAD, _READING):
            self.body_state = _READING
            return await self._read()
        if state == _EMPTY:
            self.body_state = _DONE
            return {"type": "http.request", "body": b"", "more_body": False}
        return await self._wait_disconnect()

    async def _read(self) -> Message:
        body = self.r.body
        assert isinstance(body, Body)
        try:
            data = await body.read_chunk()
            more = not body.at_eof
            if more and 0 <= self.r.content_length <= body.bytes_read:
                # The last byte arrived: consume the end of the message now (it is
                # already parsed), so the app hears more_body=False with the data.
                more = bool(await body.read_chunk())
        except (OSError, TimeoutError):
            self.disconnected = True
            self.body_state = _DONE
            return {"type": _DISCONNECT}
        except (MaxBytesError, ProtocolError) as exc:
            # Too large or broken: the app hears a disconnect; nethttp answers the
            # client (413 or 400) if the app did not start a response.
            self.body_error = exc
            self.body_state = _DONE
            return {"type": _DISCONNECT}
        if not more:
            self.body_state = _DONE
        return {"type": "http.request", "body": data, "more_body": more}

    async def _wait_disconnect(self) -> Message:
        if self.state != _COMPLETE and not self.disconnected:
            ctx = self._ctx
            if ctx is None:
                # A child of the request's context: the client going away cancels it,
                # and so does the response completing (see _complete).
                ctx, self._cancel = self.r.context().with_cancel()
                self._ctx = ctx
            await ctx.done()
        return {"type": _DISCONNECT}

    # -- send ------------------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        """Take one response message from the app."""
        kind = message["type"]
        state = self.state
        if state == _STARTED and kind == "http.response.body":
            # Inline rather than a helper coroutine: one frame less on every response.
            body = message.get("body", b"")
            more = message.get("more_body", False)
            w = self.w
            if self.start is not None:
                self._write_head(self.start, -1 if more else len(body))
            if body:
                if self.declared >= 0:
                    self.sent += len(body)
                    if self.sent > self.declared:
                        raise RuntimeError("Response content longer than Content-Length")
                await w.write(body)
            if more:
                await w.flush()  # a stream: what the app sent so far goes out now
            elif self.declared >= 0 and self.declared != self.sent:
                raise RuntimeError("Response content shorter than Content-Length")
            elif self.trailers:
                self.state = _TRAILERS
            else:
                self._complete()
        elif state == _NEW and kind == "http.response.start":
            status = message["status"]
            if type(status) is not int or not 100 <= status <= 999:
                raise RuntimeError(f"invalid ASGI response status {status!r}")
            self.start = message
            self.state = _STARTED
        elif state == _TRAILERS and kind == "http.response.trailers":
            await self._trailers(message)
        elif state == _COMPLETE:
            raise RuntimeError(
                f"Unexpected ASGI message {kind!r} sent, after response already completed."
            )
        else:
            want = ("http.response.start", "http.response.body", "http.response.trailers")
            raise RuntimeError(f"Expected ASGI message {want[state]!r}, but got {kind!r}.")

    def _write_head(self, start: Message, size: int) -> None:
        """Apply the start message; ``size`` is the whole body's length when known."""
        self.start = None
        status = start["status"]
        headers = start.get("headers", ())
        if type(headers) is not list and type(headers) is not tuple:
            headers = list(headers)  # any iterable: it is walked twice
        kept: list[tuple[bytes, bytes]] | None = None  # the fields left, once one is dropped
        for i, (name, value) in enumerate(headers):
            if len(name) == 14 and name.lower() == b"content-length":
                try:
                    self.declared = int(value)
                except ValueError:
                    raise RuntimeError(f"invalid Content-Length {value!r}") from None
                if self.declared == size <= _SELF_LENGTH:
                    # The whole body is here and small: the writer adds the same
                    # Content-Length itself, on its fast path (bench: -9k instructions).
                    if kept is None:
                        kept = list(headers[:i])
                    continue
            if kept is not None:
                kept.append((name, value))
        if kept is not None:
            headers = kept
        w = self.w
        if hasattr(type(w), "add_raw_headers"):
            # nethttp's own writer takes the bytes pairs as they are: converted once per
            # distinct list, no Header built per response.
            w.add_raw_headers(headers)  # type: ignore[attr-defined]
        else:
            h = w.header()
            for name, value in headers:
                h.add(name.decode("latin-1"), value.decode("latin-1"))
        if start.get("trailers", False):
            self.trailers = True
        if status < 200 or status == 204 or status == 304 or self.r.method == "HEAD":
            self.declared = -1  # no body goes out, whatever was declared
        if self.body_state == _READING:
            # The app reads the body while it answers (a duplex stream): the writer
            # must not discard the rest of the body when the head goes out.
            with contextlib.suppress(NotSupported):
                ResponseController(w).enable_full_duplex()
        w.write_header(status)

    async def _trailers(self, message: Message) -> None:
        # Trailers need a chunked body: committing the head now (a flush) gives one
        # on HTTP/1.1 unless the app declared a Content-Length; otherwise they are
        # dropped, as Go drops them.
        await self.w.flush()
        h = self.w.header()
        for name, value in message.get("headers", ()):
            h.add("Trailer:" + name.decode("latin-1"), value.decode("latin-1"))
        if not message.get("more_trailers", False):
            self._complete()

    def _complete(self) -> None:
        self.state = _COMPLETE
        if self._cancel is not None:
            self._cancel()  # wakes a receive() waiting for the disconnect
        # The writer sends a finished response when the handler returns, on its fast
        # path. Most apps return at once; one that goes on (a background task after the
        # response, as Starlette runs them) must not hold the response back meanwhile:
        # if the app is still running on the loop's next turn, the response goes out.
        running_loop().call_soon(self._send_if_still_running)

    def _send_if_still_running(self) -> None:
        if not self.returned:
            self.flush_task = asyncio.ensure_future(self.w.flush())

    async def flushed(self) -> None:
        """Wait for the early send of a complete response, if one was started."""
        task = self.flush_task
        assert task is not None
        with contextlib.suppress(OSError):  # the client went away: nothing left to do
            await task


class _Lifespan:
    """The lifespan protocol's conversation with the app (uvicorn's rules)."""

    def __init__(self, handler: ASGIHandler) -> None:
        self.handler = handler
        self.mode = handler.lifespan
        self.logger = handler.logger
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.failure = ""  # the app's lifespan.*.failed message
        self.failed = False
        self.errored = False  # the app raised
        self.task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": ASGI_VERSION, "spec_version": _LIFESPAN_SPEC},
            "state": self.handler.state,
        }
        self.task = asyncio.get_running_loop().create_task(self._main(scope))
        self.logger.info("Waiting for application startup.")
        await self.queue.put({"type": "lifespan.startup"})
        await self.started.wait()
        if self.failed or (self.errored and self.mode == "on"):
            raise LifespanError(f"application startup failed: {self.failure or 'error'}")
        self.logger.info("Application startup complete.")

    async def shutdown(self) -> None:
        if self.errored or self.task is None:
            return  # the app does not speak lifespan (auto) or already failed
        self.logger.info("Waiting for application shutdown.")
        await self.queue.put({"type": "lifespan.shutdown"})
        await self.stopped.wait()
        # The app returns right after its last message; give it the moment it needs.
        await asyncio.wait({self.task}, timeout=1.0)
        if not self.task.done():
            self.task.cancel()
        if self.failed or (self.errored and self.mode == "on"):
            raise LifespanError(f"application shutdown failed: {self.failure or 'error'}")
        self.logger.info("Application shutdown complete.")

    async def _main(self, scope: Scope) -> None:
        try:
            await self.handler.app(scope, self.receive, self.send)
        except asyncio.CancelledError:
            self.errored = True
            raise
        except Exception as exc:
            self.errored = True
            if not self.failed:
                if self.mode == "auto":
                    self.logger.info("ASGI 'lifespan' protocol appears unsupported.")
                else:
                    self.logger.error("Exception in 'lifespan' protocol", exc_info=exc)
        finally:
            self.started.set()
            self.stopped.set()

    async def receive(self) -> Message:
        return await self.queue.get()

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
            if self.started.is_set():
                raise RuntimeError(f"{kind} sent twice or after shutdown")
            self.started.set()
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if not self.started.is_set() or self.stopped.is_set():
                raise RuntimeError(f"{kind} sent before startup or twice")
            self.stopped.set()
        else:
            raise RuntimeError(f"unexpected lifespan message {kind!r}")
        if kind.endswith(".failed"):
            self.failed = True
            self.failure = str(message.get("message", ""))
            if self.failure:
                self.logger.error("%s", self.failure)
