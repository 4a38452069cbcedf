"""One connection's engine: the serve loop and its deadlines (its public face is in _connection).

``_Connection`` is the asyncio protocol of one accepted socket and the one task that
serves it. Its callbacks stay thin (store bytes, wake the task, pause reading past a cap);
``serve()`` reads like Go's ``(*conn).serve``: read a request, run the handler, finish the
response, decide keep-alive, go idle, wait for the next byte.

Deadlines. Each connection has one timer handle and a float deadline for the phase it
is in (header, idle, body read, response write). Moving the deadline is an assignment;
the timer is never re-armed further than the shortest timeout ahead, so a new deadline
is always later than the armed one and needs no re-arming. When it fires early it looks
at the current deadline and re-arms itself. Cost per request: two ``loop.time()`` calls.

Disconnects. Reading continues while a handler runs (up to a cap), so a closed socket is
seen at once: it cancels the connection's context and so the request's (Go's background
read). Bytes of a pipelined request wait in the parser and cancel nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import ssl
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, Final

from ._connection import (
    LOCAL_ADDR_CONTEXT_KEY,
    Conn,
    ConnConfig,
    ConnState,
    ServerHooks,
    _format_addr,
    wait_readable,
)
from ._context import Context
from ._errors import AbortHandler, MaxBytesError, ProtocolError
from ._h1 import PEER_CLOSED, EndOfMessage, RequestHead, RequestParser, canned_error
from ._request import NO_BODY, Body, Request
from ._response import Response
from ._response.head import date_line

READ_CAP: Final = 65536  # unparsed bytes held before reading pauses (per connection)
MAX_POST_HANDLER_READ: Final = 256 << 10  # Go's maxPostHandlerReadBytes
RST_AVOIDANCE_DELAY: Final = 0.5  # Go's rstAvoidanceDelay
# The first five bytes of plain HTTP requests Go recognises on a TLS port, and its answer.
_PLAIN_HTTP: Final = frozenset({b"GET /", b"HEAD ", b"POST ", b"PUT /", b"OPTIO"})
_PLAIN_HTTP_400: Final = (
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
)
_INF: Final = math.inf

_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_500: Final = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\nContent-Length: 21\r\n\r\nInternal Server Error"
)

# Phases, each with its own deadline rule.
_HEAD, _IDLE, _HANDLER, _DONE = range(4)
# The states the serve loop sets on every request, as plain globals: reading an Enum
# member off its class costs 134 ns in 3.11, a global 10 (bench: -1.5k instructions).
_ACTIVE_STATE: Final = ConnState.ACTIVE
_IDLE_STATE: Final = ConnState.IDLE


class _Connection(asyncio.Protocol):
    """The protocol and serve loop of one HTTP/1 connection."""

    __slots__ = (
        "_base_ctx",
        "_body",
        "_cancel_ctx",
        "_closed",
        "_conn_context",
        "_continue_pending",
        "_continue_sent",
        "_ctx",
        "_deadline",
        "_drain_waiter",
        "_got_bytes",
        "_head",
        "_hijack_buf",
        "_hijacked",
        "_parser",
        "_peer_eof",
        "_phase",
        "_read_deadline",
        "_read_expired",
        "_reading_paused",
        "_req_start",
        "_rht",
        "_stall_at",
        "_stall_limit",
        "_stall_mark",
        "_stall_writing",
        "_timer",
        "_timer_at",
        "_waiter",
        "_write_deadline",
        "_write_paused",
        "cfg",
        "conn",
        "hooks",
        "logger",
        "loop",
        "state",
        "task",
        "transport",
    )

    def __init__(
        self,
        cfg: ConnConfig,
        hooks: ServerHooks,
        ctx: Context,
        conn_context: Callable[[Context, Conn], Context] | None,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        peer: Any,
    ) -> None:
        self.conn = Conn(self, sock, peer)
        self.cfg = cfg
        self.hooks = hooks
        self.logger = cfg.logger
        self.loop = loop
        self.state = ConnState.NEW
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set by connection_made
        self._base_ctx = ctx
        self._conn_context = conn_context
        self._ctx = ctx
        self._cancel_ctx: Callable[[], None] | None = None
        self._parser = RequestParser(cfg.max_header_bytes)
        self._rht = cfg.read_header_timeout or cfg.read_timeout
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._reading_paused = False
        self._closed = False
        self._peer_eof = False
        self._hijacked = False
        self._hijack_buf = bytearray()
        self._read_expired = False
        self._stall_limit = cfg.progress_timeout
        self._stall_at = _INF  # when the current body read or blocked write counts as stalled
        self._stall_writing = False
        self._stall_mark = 0  # the write buffer's size when the watch began
        self._phase = _HEAD
        self._req_start = loop.time()  # the current request's first byte (at first: accept)
        self._got_bytes = False  # bytes of the current request have arrived
        self._deadline = _INF
        self._read_deadline = _INF
        self._write_deadline = _INF
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = _INF
        self._head: RequestHead | None = None
        self._body: Body = NO_BODY
        self._continue_pending = False
        self._continue_sent = False
        self.task: asyncio.Task[None] | None = None

    # -- asyncio.Protocol: thin ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.conn._attach(self.transport)

    def data_received(self, data: bytes) -> None:
        if self._hijacked:
            self._hijack_buf += data
        else:
            if self._phase == _IDLE:
                # The first byte of a request: the header deadline starts now.
                self._phase = _HEAD
                self._req_start = self.loop.time()
                if self._rht:
                    when = self._req_start + self._rht
                    self._deadline = when
                    if when < self._timer_at:
                        self._arm(when)
                else:
                    self._deadline = _INF
            self._got_bytes = True
            parser = self._parser
            parser.feed(data)
            if len(parser._buf) - parser._pos > READ_CAP and not self._reading_paused:
                self._reading_paused = True
                self.transport.pause_reading()
        w = self._waiter
        if w is not None:
            self._waiter = None
            w.set_result(None)

    def eof_received(self) -> bool:
        self._peer_eof = True
        self._parser.feed_eof()
        if self._phase == _HANDLER and not self._parser.in_body and self._cancel_ctx is not None:
            # Go's background read: EOF after the request means the client is gone.
            self._cancel_ctx()
        self._wake()
        return True  # keep the write side open: a response may still be due

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._parser.feed_eof()
        if self._cancel_ctx is not None:
            self._cancel_ctx()
        self._wake()
        w = self._drain_waiter
        if w is not None and not w.done():
            w.set_exception(ConnectionResetError("client disconnected"))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._stall_at = _INF
        w = self._drain_waiter
        if w is not None:
            self._drain_waiter = None
            if not w.done():
                w.set_result(None)

    def _wake(self) -> None:
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    # -- deadlines -------------------------------------------------------------------------

    def _set_deadline(self, when: float) -> None:
        self._deadline = when
        if when < self._timer_at:
            self._arm(when)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = self.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = _INF
        if self._closed:
            return
        now = self.loop.time()
        if now >= self._deadline:
            self._expire(now)
        elif self._deadline < _INF:
            self._arm(min(self._deadline, now + self.cfg.tick))

    def _expire(self, now: float) -> None:
        if self._phase != _HANDLER:
            # Header or idle timeout: Go sends nothing and closes.
            phase = "idle" if self._phase == _IDLE else "header"
            self._log(logging.DEBUG, "timeout", "http: timeout from %s (%s)", phase, phase=phase)
            self.close_transport()
            return
        if now >= self._stall_at and self._stalled(now):
            self._log(
                logging.INFO, "timeout", "http: no progress from %s for %gs",
                self._stall_limit, phase="progress",
            )  # fmt: skip
            self.abort()
            return
        if now >= self._write_deadline:
            # Go fails the socket writes and cancels the connection's context.
            self._log(logging.INFO, "timeout", "http: write timeout for %s", phase="write")
            self.abort()
            return
        if now >= self._read_deadline:
            self._read_deadline = _INF
            self._read_expired = True  # Go: the deadline cannot be extended once passed
            w = self._waiter
            if w is not None:
                self._waiter = None
                if not w.done():
                    w.set_exception(TimeoutError("read deadline exceeded"))
        self._deadline = min(self._write_deadline, self._read_deadline, self._stall_at)
        if self._deadline < _INF:
            self._arm(min(self._deadline, now + self.cfg.tick))

    # A body read or a blocked write that moves no byte for progress_timeout ends the
    # connection (on top of Go's deadlines, which bound whole phases, not stalls).

    def _watch(self, writing: bool) -> None:
        limit = self._stall_limit
        if limit is None:
            return
        self._stall_writing = writing
        self._stall_mark = self.transport.get_write_buffer_size() if writing else 0
        when = self.loop.time() + limit
        self._stall_at = when
        if when < self._deadline:
            self._set_deadline(when)

    def _stalled(self, now: float) -> bool:
        if self._stall_writing:
            size = self.transport.get_write_buffer_size()
            if size < self._stall_mark:  # some bytes left: progress, watch again
                self._stall_mark = size
                self._stall_at = now + (self._stall_limit or 0)
                return False
        return True

    def _start_request_clock(self) -> None:
        self._phase = _HEAD
        rht = self._rht
        self._req_start = self.loop.time()
        self._set_deadline(self._req_start + rht if rht else _INF)

    # -- the serve loop --------------------------------------------------------------------

    async def run(
        self,
        tls: ssl.SSLContext | None,
        handshake_timeout: float | None,
        preamble: Callable[[socket.socket], Awaitable[Any]] | None = None,
    ) -> None:
        """Set up the transport (TLS included) and serve the connection until it ends.

        ``preamble`` reads what comes before TLS and HTTP (a PROXY header) off the
        socket; an address it returns becomes the connection's ``remote_addr``.
        """
        try:
            sock = self.conn.socket
            if preamble is not None and not await self._preamble(preamble, sock):
                return
            if tls is not None and not await self._refuse_plain_http(sock, handshake_timeout):
                return
            try:
                await self.loop.connect_accepted_socket(
                    lambda: self,
                    sock,
                    ssl=tls,
                    ssl_handshake_timeout=handshake_timeout if tls else None,
                )
            except (TimeoutError, OSError, ssl.SSLError) as exc:
                if tls is not None:
                    self._log(
                        logging.INFO, "tls_error", "http: TLS handshake error from %s: %s", exc
                    )
                sock.close()
                return
            ctx = self._base_ctx
            if self._conn_context is not None:
                ctx = self._conn_context(ctx, self.conn)
                if not isinstance(ctx, Context):
                    raise TypeError("conn_context must return a Context")
            ctx = ctx.with_value(LOCAL_ADDR_CONTEXT_KEY, self.conn.local_addr)
            self._ctx, self._cancel_ctx = ctx.with_cancel()
            await self.serve()
        finally:
            if not self._hijacked:
                if self.transport is not None:
                    self.close_transport()
                self._set_state(ConnState.CLOSED)

    async def _preamble(
        self, preamble: Callable[[socket.socket], Awaitable[Any]], sock: socket.socket
    ) -> bool:
        try:
            addr = await preamble(sock)
        except (ValueError, TimeoutError, OSError) as exc:
            self._log(logging.INFO, "proxy_error", "http: PROXY header error from %s: %s", exc)
            sock.close()
            return False
        except BaseException:
            sock.close()
            raise
        if addr is not None:
            self.conn.remote_addr = _format_addr(addr)
        return True

    async def _refuse_plain_http(self, sock: socket.socket, timeout: float | None) -> bool:
        """Before a TLS handshake: a plain HTTP request gets Go's 400, not a TLS alert."""
        try:
            async with asyncio.timeout(timeout):
                await wait_readable(sock)
            first = sock.recv(5, socket.MSG_PEEK)
        except (TimeoutError, OSError) as exc:
            self._log(logging.INFO, "tls_error", "http: TLS handshake error from %s: %s", exc)
            sock.close()
            return False
        if first not in _PLAIN_HTTP:
            return True
        # Go's answer (server.go, tlsRecordHeaderLooksLikeHTTP). What the client sent is
        # read first, so closing does not reset the connection under the answer.
        with contextlib.suppress(OSError):
            for _ in range(16):
                if not sock.recv(65536):
                    break
        with contextlib.suppress(OSError):
            sock.send(_PLAIN_HTTP_400)
            sock.shutdown(socket.SHUT_WR)
        self._log(
            logging.INFO,
            "tls_error",
            "http: TLS handshake error from %s: %s",
            "client sent an HTTP request to an HTTPS server",
        )
        sock.close()
        return False

    async def serve(self) -> None:
        """Serve requests one after another until the connection ends (Go's conn.serve)."""
        cfg = self.cfg
        rht = cfg.read_header_timeout or cfg.read_timeout
        self._req_start = self.loop.time()  # as Go's first readRequest: from the accept
        self._set_deadline(self._req_start + rht if rht else _INF)
        handler = cfg.handler.serve_http
        parser = self._parser
        loop = self.loop
        hook = cfg.conn_state
        idle = cfg.idle_timeout or cfg.read_timeout
        while True:
            if len(parser._buf) == parser._pos and not self._peer_eof and not self._closed:
                # Wait for the next request right here: one frame deep, so waking up
                # costs one coroutine resume, not three.
                if self._reading_paused:
                    self._reading_paused = False
                    self.transport.resume_reading()
                self._waiter = fut = loop.create_future()
                await fut
            try:
                ev = parser.next_event()
                head = ev if ev.__class__ is RequestHead else await self._read_head(ev)
            except ProtocolError as exc:
                self._set_state(ConnState.ACTIVE)
                await self._refuse(exc)
                return
            if head is None:
                if self._got_bytes:
                    self._set_state(ConnState.ACTIVE)
                return
            # Go 1.25 drops a request read after shutdown began; it is served here, with
            # "Connection: close", so that no request that arrived is lost.
            # NEW/IDLE -> ACTIVE and ACTIVE -> IDLE are the loop's own transitions, legal
            # by construction; they skip _set_state's table check (twice per request).
            if self.transport.is_closing():
                return  # closed while the head came in: nobody could get the answer
            self.state = _ACTIVE_STATE
            if hook is not None:
                hook(self.conn, _ACTIVE_STATE)
            w = await self._serve_request(head, handler)
            if w is None or w.hijacked:
                return
            if w.close_after or not head.keep_alive or self._closed or self._peer_eof:
                await self._close_gracefully()
                return
            body = self._body
            if body is not NO_BODY and (not body.at_eof or body.too_large):
                await self._close_gracefully()  # a body left unread, or one over its limit
                return
            self.state = _IDLE_STATE
            if hook is not None:
                hook(self.conn, _IDLE_STATE)
            if not self.hooks.allow_keep_alive:
                return
            self._phase = _IDLE
            self._got_bytes = False
            if len(parser._buf) > parser._pos:
                self._start_request_clock()  # a pipelined request is already here
            elif idle:
                when = loop.time() + idle
                self._deadline = when
                if when < self._timer_at:
                    self._arm(when)
            else:
                self._deadline = _INF

    async def _read_head(self, ev: Any) -> RequestHead | None:
        """Wait for the next request's head (``ev`` is what the parser last returned)."""
        parser = self._parser
        while True:
            if ev is None:
                try:
                    await self._wait_data()
                except (ConnectionError, TimeoutError):
                    return None
                ev = parser.next_event()
                continue
            if ev is PEER_CLOSED:
                return None
            assert isinstance(ev, RequestHead)
            return ev

    async def _wait_data(self) -> None:
        if self._closed:
            raise ConnectionResetError("connection closed")
        if self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()
        fut = self.loop.create_future()
        self._waiter = fut
        try:
            await fut
        finally:
            # A handler may cancel a body read (a timeout around it): the cancelled
            # future must not stay behind for data_received to resolve.
            if self._waiter is fut:
                self._waiter = None

    async def _serve_request(
        self, head: RequestHead, handler: Callable[[Response, Request], Awaitable[None]]
    ) -> Response | None:
        cfg = self.cfg
        self._phase = _HANDLER
        if cfg.write_timeout or (head.content_length and cfg.read_timeout):
            now = self.loop.time()
            self._write_deadline = now + cfg.write_timeout if cfg.write_timeout else _INF
            if head.content_length and cfg.read_timeout:
                # read_timeout covers the whole request: from its first byte (Go's t0).
                self._read_deadline = self._req_start + cfg.read_timeout
            else:
                self._read_deadline = _INF
            self._set_deadline(min(self._read_deadline, self._write_deadline))
        else:
            # No deadline while the handler runs; the armed timer sees _INF and stops.
            self._read_deadline = self._write_deadline = self._deadline = _INF
        body = Body(self) if head.content_length else NO_BODY
        self._head = head
        self._body = body
        self._continue_pending = head.expect_continue
        self._continue_sent = False
        limit = cfg.max_body_bytes
        if limit is not None and head.content_length:
            body.limit = limit
            if head.content_length > limit:
                # Declared too large: refused before the handler runs, and no 100 Continue.
                self._continue_pending = False
                self._log(logging.INFO, "bad_request", "http: request body too large from %s")
                await self._refuse(ProtocolError(413, ""))
                return None
        req = Request(head, body, self.conn, self.conn.remote_addr, self._ctx)
        w = Response(req, self)
        try:
            if head.target == "*" and head.method == "OPTIONS" and not cfg.disable_options:
                self._options(w, head)
            else:
                await handler(w, req)
        except asyncio.CancelledError:
            raise
        except AbortHandler:
            self.abort()
            return None
        except (MaxBytesError, ProtocolError) as exc:
            # A body over its limit, or broken framing in it, escaped the handler: the
            # client's fault, not a crash; answered like a refused request when possible.
            if w.committed or self._closed:
                self.abort()
            else:
                w.abort_buffer()
                status = 413 if isinstance(exc, MaxBytesError) else exc.status
                await self._refuse(ProtocolError(status, ""))
            return None
        except Exception as exc:
            self._handler_failed(w, req, exc)
            return None
        finally:
            if req._cancel is not None:
                req._cancel()
            self._continue_pending = False
        if w.hijacked:
            return w
        try:
            await w.finish()
        except ConnectionError:
            return None
        finally:
            if body is not NO_BODY:
                body.close()
            self._phase = _DONE
            self._deadline = _INF
        return w

    def _options(self, w: Response, head: RequestHead) -> None:
        # Go answers "OPTIONS *" itself, reading at most 4 KiB of a body.
        w.header().set("Content-Length", "0")
        if head.content_length < 0 or head.content_length > 4096:
            w.close_after = True

    def _handler_failed(self, w: Response, req: Request, exc: Exception) -> None:
        if isinstance(exc, ConnectionError) and (self._closed or self._peer_eof):
            self.abort()  # the client went away: ordinary, not worth a log line
            return
        self._log(
            logging.ERROR, "handler_error", "http: panic serving %s: %r\n%s",
            exc, "".join(traceback.format_exception(exc))[-65536:],
        )  # fmt: skip
        if not w.committed and not self._closed:
            # Go sends nothing; a 500 tells the client what happened (docs/divergences.md).
            w.abort_buffer()
            self.transport.write(_500)
            self.close_transport()
        else:
            self.abort()
        return None

    async def _refuse(self, exc: ProtocolError) -> None:
        if exc.status:
            self._log(
                logging.INFO, "bad_request", "http: bad request from %s: %d %s",
                exc.status, exc.reason, status=exc.status,
            )  # fmt: skip
        if exc.status and not self._closed:
            self.transport.write(canned_error(exc.status, exc.reason, date_line()))
            # Always linger: the client may still be sending (a refused head is often
            # followed by its body or the next request), and closing on unread bytes
            # would reset the connection before the client reads the answer.
            await self._close_gracefully(linger=True)

    async def _close_gracefully(self, linger: bool = False) -> None:
        """Close without an RST destroying the response: half-close, let the peer finish."""
        if self._closed:
            return
        if (
            not linger
            and self._parser.buffered == 0
            and self._body.at_eof
            and not self._parser.in_body
        ):
            self.close_transport()
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._hijacked = True  # from here on, bytes are discarded, not parsed
        self._hijack_buf.clear()
        deadline = self.loop.time() + RST_AVOIDANCE_DELAY
        while not self._closed and not self._peer_eof:
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                break
            fut = self.loop.create_future()
            self._waiter = fut
            handle = self.loop.call_later(remaining, self._wake)
            try:
                await fut
            finally:
                handle.cancel()
            self._hijack_buf.clear()
        self._hijacked = False
        self.close_transport()

    # -- state -----------------------------------------------------------------------------

    def _set_state(self, state: ConnState) -> None:
        old = self.state
        if old is state:
            return
        if not old._next & state._bit:  # type: ignore[attr-defined]
            raise AssertionError(f"conn state {old} -> {state}")
        self.state = state
        if state is ConnState.CLOSED or state is ConnState.HIJACKED:
            self.hooks.track(self, False)
        hook = self.cfg.conn_state
        if hook is not None:
            hook(self.conn, state)

    def _log(self, level: int, event: str, msg: str, *args: Any, **fields: Any) -> None:
        """Log one event; ``event`` (and the peer, and any fields) ride on the record.

        Kinds: accept_error, bad_request, handler_error, timeout, tls_error. The peer's
        address is inserted as the message's first argument.
        """
        if self.logger.isEnabledFor(level):
            fields["event"] = event
            fields["remote_addr"] = self.conn.remote_addr
            self.logger.log(level, msg, self.conn.remote_addr, *args, extra=fields)

    def _remote(self) -> str:
        return self.conn.remote_addr

    # -- BodySource --------------------------------------------------------------------------

    async def read_body_event(self) -> bytes | EndOfMessage:
        """Return the next piece of the request body, or its end."""
        if self._continue_pending:
            self._continue_pending = False
            self._continue_sent = True
            self.transport.write(_CONTINUE)
        parser = self._parser
        while True:
            try:
                ev = parser.next_event()
            except ProtocolError as exc:
                if not exc.status:  # the peer went away mid-body
                    raise ConnectionResetError("client disconnected mid-body") from None
                raise
            if ev is not None:
                assert isinstance(ev, bytes | EndOfMessage)
                return ev
            if self._read_expired or self._read_deadline <= self.loop.time():
                self._read_expired = True
                raise TimeoutError("read deadline exceeded")
            self._watch(writing=False)
            try:
                await self._wait_data()
            finally:
                self._stall_at = _INF

    # -- ResponseSink ------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue ``data`` on the transport."""
        if self._closed or self.transport.is_closing():
            raise ConnectionResetError("client disconnected")
        self.transport.write(data)

    def send_many(self, parts: list[bytes]) -> None:
        """Queue several pieces on the transport in one gathered write (no copy)."""
        if self._closed or self.transport.is_closing():
            raise ConnectionResetError("client disconnected")
        self.transport.writelines(parts)

    def drain(self) -> Awaitable[None] | None:
        """An awaitable while the transport is over its high-water mark, else None."""
        if not self._write_paused:
            return None
        if self._closed:
            raise ConnectionResetError("client disconnected")
        w = self._drain_waiter
        if w is None:
            w = self._drain_waiter = self.loop.create_future()
            self._watch(writing=True)
        return w

    def keep_alive_allowed(self) -> bool:
        """Whether the server lets this connection serve another request."""
        return self.hooks.allow_keep_alive

    async def settle_body(self) -> bool:
        """Discard an unread request body, up to 256 KiB; False means close after."""
        body = self._body
        if body.too_large:
            return False  # Go: a body over its limit never lets the connection be reused
        if body.at_eof:
            return True
        if self._read_expired:
            return False
        head = self._head
        assert head is not None
        if head.expect_continue and not self._continue_sent:
            return False  # 100 never sent: the client may never send the body
        if (
            head.content_length > 0
            and head.content_length - body.bytes_read >= MAX_POST_HANDLER_READ
        ):
            return False
        total = 0
        try:
            while not body.at_eof:
                total += len(await body.read_chunk())
                if total > MAX_POST_HANDLER_READ:
                    return False
        except (ProtocolError, ConnectionError, TimeoutError, RuntimeError):
            return False
        return True

    def set_deadlines(self, read: float | None, write: float | None) -> None:
        """Move the handler's read and/or write deadline (loop time; inf clears)."""
        if read is not None and not self._read_expired:  # Go: a passed one stays passed
            self._read_deadline = read
        if write is not None:
            self._write_deadline = write
        if self._phase == _HANDLER:
            self._deadline = min(self._read_deadline, self._write_deadline, self._stall_at)
            if self._deadline < self._timer_at:
                self._arm(self._deadline)

    def cancel_continue(self) -> None:
        """The automatic 100 Continue must not be sent any more."""
        self._continue_pending = False

    def hijack(self) -> tuple[Any, bytes]:
        """Hand the connection to the handler: stop parsing, stop tracking."""
        self._hijacked = True
        data = self._parser.take_buffer()
        self._hijack_buf.clear()
        self._phase = _DONE
        self._deadline = _INF
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_at = _INF
        self._set_state(ConnState.HIJACKED)
        return self.conn, data

    async def hijacked_read(self, n: int) -> bytes:
        """Read from a hijacked connection."""
        while not self._hijack_buf:
            if self._closed or self._peer_eof:
                return b""
            await self._wait_data()
        data = bytes(self._hijack_buf[:n])
        del self._hijack_buf[:n]
        return data

    # -- closing -----------------------------------------------------------------------------

    def close_transport(self) -> None:
        """Close the connection (pending writes are flushed first)."""
        t = self.transport
        if t is None:
            if self.task is not None:
                self.task.cancel()  # still in its TLS handshake
        elif not t.is_closing():
            t.close()

    def awaiting_request(self) -> bool:
        """Whether no byte of a next request is here, so closing now loses nothing."""
        if self.state is ConnState.NEW:
            return not self._got_bytes
        # data_received leaves _IDLE at the first byte, before the head is whole: a
        # request on its way in makes the connection busy, not idle.
        return self.state is ConnState.IDLE and self._phase == _IDLE

    def abort(self) -> None:
        """Close the connection now, dropping pending writes."""
        t = self.transport
        if t is None:
            if self.task is not None:
                self.task.cancel()
        else:
            t.abort()
