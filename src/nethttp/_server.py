"""``Server``: listeners, the accept loop, connection tracking, shutdown; and ``run``.

The accept loop is nethttp's own: a reader callback on the listening socket accepts in
batches with non-blocking ``accept()`` and hands each socket to the loop with
``connect_accepted_socket``. The loop's ``create_server`` would hide what Go's model
needs: running out of file descriptors (uvloop's accepts and drops the connection) and
failed TLS handshakes. On a temporary error (EMFILE, ENFILE, ENOBUFS, ENOMEM,
ECONNABORTED) accepting stops and resumes after a back-off from 5 ms doubling to 1 s,
each retry logged, as in Go; the kernel's backlog holds the clients meanwhile.

Start-up: the ``register_on_start`` hooks run once, before the first accept; if one
fails, ``serve`` raises its error and nothing is accepted (an application that cannot
start never answers a request).

Shutdown, in order: stop accepting, start the ``register_on_shutdown`` hooks, close idle
connections, let each busy one close when its response ends, wait on an event for the
last; past the timeout, cancel the handlers left and close what is left. Last, the
``register_on_drained`` hooks run, so an application's clean-up (an ASGI lifespan
shutdown) never pulls resources from under a request still being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import inspect
import logging
import signal
import socket
import ssl
from collections.abc import Callable
from typing import Any, Final

from ._conn import _Connection
from ._connection import Conn, ConnConfig, ConnState, ServerHooks
from ._context import Context, background
from ._errors import ServerClosed
from ._listen import Listener, listen, read_proxy_header
from ._mux import Handler, as_handler, default_serve_mux

SERVER_CONTEXT_KEY: Final = "nethttp.server"
_FORCE_GRACE: Final = 1.0  # seconds cancelled handlers get to unwind in shutdown's force phase
# Go (issue 22682): a connection still waiting for its first request counts as idle only
# after this long, so one accepted just before shutdown (its request on the way) is served.
_NEW_GRACE: Final = 5.0

_TEMPORARY: Final = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.ECONNABORTED, errno.EPROTO}
)
_ACCEPT_BATCH: Final = 128


class _Acceptor:
    """The accept loop of one listener inside ``Server.serve``."""

    def __init__(
        self,
        server: Server,
        listener: Listener,
        tls: ssl.SSLContext | None,
        ctx: Context,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.server = server
        self.listener = listener
        self.tls = tls
        self.ctx = ctx
        self.loop = loop
        self.done: asyncio.Future[None] = loop.create_future()
        self.delay = 0.0
        self.reading = False
        self.retry: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self.loop.add_reader(self.listener.fileno(), self._accept)
        self.reading = True

    def stop(self, exc: BaseException | None = None) -> None:
        if self.retry is not None:
            self.retry.cancel()
            self.retry = None
        if self.reading and not self.listener.closed:
            self.loop.remove_reader(self.listener.fileno())
        self.reading = False
        self.listener.close()
        if not self.done.done():
            if exc is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(exc)

    def _accept(self) -> None:
        lsock = self.listener.socket
        server = self.server
        for _ in range(_ACCEPT_BATCH):
            if len(server._conns) >= server._conn_limit:
                # Full: stop accepting. New clients wait in the kernel's backlog and are
                # accepted when a connection ends; none is accepted only to be dropped.
                self.pause()
                server._accept_paused = True
                return
            try:
                sock, peer = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _TEMPORARY:
                    self._back_off(exc)
                else:
                    self.stop(exc)
                return
            self.delay = 0.0
            server._start(sock, peer, self.tls, self.ctx, self.loop, self.listener)

    def pause(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.listener.fileno())
            self.reading = False

    def resume(self) -> None:
        if not self.reading and self.retry is None and not self.listener.closed:
            self.loop.add_reader(self.listener.fileno(), self._accept)
            self.reading = True

    def _back_off(self, exc: OSError) -> None:
        self.delay = min(self.delay * 2 or 0.005, 1.0)
        self.server.error_log.error(
            "http: Accept error: %s; retrying in %gms", exc, self.delay * 1000,
            extra={"event": "accept_error", "errno": exc.errno},
        )  # fmt: skip
        self.loop.remove_reader(self.listener.fileno())
        self.reading = False
        self.retry = self.loop.call_later(self.delay, self._resume)

    def _resume(self) -> None:
        self.retry = None
        if not self.listener.closed and not self.done.done():
            self.loop.add_reader(self.listener.fileno(), self._accept)
            self.reading = True


class Server(ServerHooks):
    """An HTTP/1.1 server (Go's ``http.Server``); fields are read when serving starts.

    Timeouts are seconds; ``None`` disables one. Defaults are safe, unlike Go's zeros:
    ``read_header_timeout`` 10 s and ``idle_timeout`` 60 s (see docs/divergences.md).
    ``max_connections`` (16,384, kept below the descriptor limit) stops accepting when
    reached: new clients wait in the kernel's backlog, none is accepted and dropped.
    ``max_body_bytes`` (None: no limit) answers a larger declared body with 413 before
    the handler runs, and makes a longer chunked body fail with ``MaxBytesError``.
    ``progress_timeout`` (60 s): a body read or a blocked write that moves no byte for
    that long ends the connection, whatever the other timeouts say.
    Use from one event loop.
    """

    def __init__(
        self,
        addr: str = "",
        handler: object | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        read_timeout: float | None = None,
        read_header_timeout: float | None = 10.0,
        write_timeout: float | None = None,
        idle_timeout: float | None = 60.0,
        max_header_bytes: int = 1 << 20,
        conn_state: Callable[[Conn, ConnState], None] | None = None,
        base_context: Callable[[Listener], Context] | None = None,
        conn_context: Callable[[Context, Conn], Context] | None = None,
        error_log: logging.Logger | None = None,
        disable_general_options_handler: bool = False,
        tls_handshake_timeout: float | None = 10.0,
        max_connections: int | None = 16384,
        max_body_bytes: int | None = None,
        progress_timeout: float | None = 60.0,
    ) -> None:
        self.addr = addr
        self.handler = handler
        self.tls = tls
        self.read_timeout = read_timeout
        self.read_header_timeout = read_header_timeout
        self.write_timeout = write_timeout
        self.idle_timeout = idle_timeout
        self.max_header_bytes = max_header_bytes
        self.conn_state = conn_state
        self.base_context = base_context
        self.conn_context = conn_context
        self.error_log = error_log or logging.getLogger("nethttp")
        self.disable_general_options_handler = disable_general_options_handler
        self.tls_handshake_timeout = tls_handshake_timeout
        self.max_connections = max_connections
        self.max_body_bytes = max_body_bytes
        self.progress_timeout = progress_timeout
        self._conn_limit = 1 << 62  # the effective max_connections, fixed when serving starts
        self._accept_paused = False
        self.shutting_down = False
        self.allow_keep_alive = True
        self._keep_alives = True
        self._cfg: ConnConfig | None = None
        self._conns: set[_Connection] = set()
        self._acceptors: set[_Acceptor] = set()
        self._on_shutdown: list[Callable[[], Any]] = []
        self._on_start: list[Callable[[], Any]] = []
        self._on_drained: list[Callable[[], Any]] = []
        self._started: asyncio.Future[None] | None = None
        self._drained: asyncio.Event | None = None

    # -- ServerHooks -----------------------------------------------------------------------

    def track(self, conn: _Connection, add: bool) -> None:
        """Start or stop tracking ``conn``; the last one out wakes ``shutdown``."""
        if add:
            self._conns.add(conn)
            return
        self._conns.discard(conn)
        if self._accept_paused and len(self._conns) < self._conn_limit:
            self._accept_paused = False
            for acceptor in self._acceptors:
                acceptor.resume()
        if not self._conns and self._drained is not None:
            self._drained.set()

    # -- serving ---------------------------------------------------------------------------

    def _config(self) -> ConnConfig:
        if self._cfg is None:
            self._conn_limit = _connection_limit(self.max_connections)
            handler: Handler = as_handler(
                self.handler if self.handler is not None else default_serve_mux
            )
            self._cfg = ConnConfig(
                handler,
                self.read_timeout,
                self.read_header_timeout,
                self.write_timeout,
                self.idle_timeout,
                self.max_header_bytes,
                self.conn_state,
                self.error_log,
                self.disable_general_options_handler,
                self.max_body_bytes,
                self.progress_timeout,
            )
        return self._cfg

    def _start(
        self,
        sock: socket.socket,
        peer: Any,
        tls: ssl.SSLContext | None,
        ctx: Context,
        loop: asyncio.AbstractEventLoop,
        listener: Listener,
    ) -> None:
        sock.setblocking(False)
        c = _Connection(self._config(), self, ctx, self.conn_context, loop, sock, peer)
        self._conns.add(c)
        if self.conn_state is not None:
            self.conn_state(c.conn, ConnState.NEW)
        preamble = None
        allow = listener.proxy_protocol
        if allow is not None:
            # The PROXY header is due at once; the header timeout bounds a silent proxy.
            wait = self.read_header_timeout or self.read_timeout or 10.0
            preamble = functools.partial(read_proxy_header, peer=peer, allow=allow, timeout=wait)
        c.task = loop.create_task(c.run(tls, self.tls_handshake_timeout, preamble))

    async def serve(self, listener: Listener, tls: ssl.SSLContext | None = None) -> None:
        """Accept connections on ``listener`` until shutdown; always raises (ServerClosed)."""
        if self.shutting_down:
            listener.close()
            raise ServerClosed()
        loop = asyncio.get_running_loop()
        self._config()
        try:
            await self._run_start_hooks(loop)
        except BaseException:
            listener.close()
            raise
        if self.shutting_down:  # shut down while the start hooks ran
            listener.close()
            raise ServerClosed()
        ctx = self.base_context(listener) if self.base_context is not None else background()
        if not isinstance(ctx, Context):
            raise TypeError("base_context must return a Context")
        ctx = ctx.with_value(SERVER_CONTEXT_KEY, self)
        acceptor = _Acceptor(self, listener, tls if tls is not None else self.tls, ctx, loop)
        self._acceptors.add(acceptor)
        acceptor.start()
        try:
            await acceptor.done
        finally:
            acceptor.stop()
            self._acceptors.discard(acceptor)
        raise ServerClosed()

    async def _run_start_hooks(self, loop: asyncio.AbstractEventLoop) -> None:
        # Several serve() calls (one per listener) share one run of the hooks.
        if self._started is None:
            self._started = loop.create_future()
            try:
                for fn in self._on_start:
                    await _call(fn)
            except BaseException as exc:
                self._started.set_exception(exc)
                # Retrieved here so a lone serve() leaves no "never retrieved" warning.
                self._started.exception()
                raise
            self._started.set_result(None)
        else:
            await asyncio.shield(self._started)

    async def listen_and_serve(self) -> None:
        """Listen on ``addr`` (default ``":http"``) and serve; always raises."""
        if self.shutting_down:
            raise ServerClosed()
        await self.serve(listen(self.addr or (":https" if self.tls else ":http")))

    async def listen_and_serve_tls(self, certfile: str = "", keyfile: str = "") -> None:
        """Listen on ``addr`` (default ``":https"``) and serve TLS; always raises."""
        if self.shutting_down:
            raise ServerClosed()
        ctx = self.tls
        if ctx is None or certfile:
            ctx = ctx or ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(certfile, keyfile or None)
        ctx.set_alpn_protocols(["http/1.1"])
        await self.serve(listen(self.addr or ":https"), tls=ctx)

    # -- stopping --------------------------------------------------------------------------

    def register_on_shutdown(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` when ``shutdown`` starts (async functions run beside the drain)."""
        self._on_shutdown.append(fn)

    def register_on_start(self, fn: Callable[[], Any]) -> None:
        """Run (and await) ``fn`` once before the first connection is accepted.

        An exception from ``fn`` is raised by ``serve``; nothing is accepted then.
        """
        self._on_start.append(fn)

    def register_on_drained(self, fn: Callable[[], Any]) -> None:
        """Run (and await) ``fn`` at the end of ``shutdown``, after the last connection.

        The hooks run in registration order, also when the drain timed out; an
        exception from one is logged and the next still runs.
        """
        self._on_drained.append(fn)

    def set_keep_alives_enabled(self, enabled: bool) -> None:
        """Turn keep-alive on or off; off also closes idle connections now."""
        self._keep_alives = enabled
        self.allow_keep_alive = enabled and not self.shutting_down
        if not enabled:
            self._close_idle()

    def _close_listeners(self) -> None:
        for acceptor in list(self._acceptors):
            acceptor.stop()

    def _close_idle(self) -> bool:
        """Close idle connections; True if some still wait for a first request (young)."""
        young = False
        for c in list(self._conns):
            if not c.awaiting_request():
                continue
            if c.state is ConnState.NEW and c.loop.time() - c._req_start < _NEW_GRACE:
                young = True
                continue
            c.close_transport()
        return young

    async def shutdown(self, timeout: float | None = None) -> None:
        """Stop gracefully: no new connections, finish in-flight requests, then return.

        Past ``timeout`` seconds the remaining connections are closed and
        ``TimeoutError`` is raised.
        """
        self.shutting_down = True
        self.allow_keep_alive = False
        self._close_listeners()
        hooks: list[asyncio.Task[Any]] = []
        for fn in self._on_shutdown:
            result = fn()
            if inspect.isawaitable(result):
                hooks.append(asyncio.ensure_future(result))
        self._drained = asyncio.Event()
        if not self._conns:
            self._drained.set()
        recheck = None
        if self._close_idle():
            recheck = asyncio.get_running_loop().call_later(_NEW_GRACE, self._close_idle)
        try:
            if timeout is None:
                await self._drained.wait()
            else:
                await asyncio.wait_for(self._drained.wait(), timeout)
        except TimeoutError:
            await self._force_close()
            raise
        finally:
            if recheck is not None:
                recheck.cancel()
            if hooks:
                await asyncio.gather(*hooks, return_exceptions=True)
            await self._run_drained_hooks()

    async def _run_drained_hooks(self) -> None:
        hooks, self._on_drained = self._on_drained, []  # once, even if shutdown is repeated
        for fn in hooks:
            try:
                await _call(fn)
            except Exception:
                self.error_log.exception(
                    "nethttp: drained hook %r failed", fn, extra={"event": "hook_error"}
                )

    async def _force_close(self) -> None:
        tasks = []
        for c in list(self._conns):
            c.abort()
            if c.task is not None:
                c.task.cancel()
                tasks.append(c.task)
        if tasks:
            # Let the cancelled handlers unwind (their finally blocks, context callbacks)
            # before the drained hooks tear down what they use; a handler that swallows
            # the cancellation is not waited for past this bound.
            await asyncio.wait(tasks, timeout=_FORCE_GRACE)

    def close(self) -> None:
        """Close the listeners and every connection now; handlers are not waited for."""
        self.shutting_down = True
        self.allow_keep_alive = False
        self._close_listeners()
        for c in list(self._conns):
            c.abort()

    @property
    def connections(self) -> int:
        """How many connections are open (not counting hijacked ones)."""
        return len(self._conns)


async def _call(fn: Callable[[], Any]) -> None:
    result = fn()
    if inspect.isawaitable(result):
        await result


def _connection_limit(wanted: int | None) -> int:
    """``max_connections``, kept below the descriptor limit (None: that limit alone)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        soft = -1  # unknown: no limit from descriptors
    limit = wanted if wanted is not None else 1 << 62
    if soft > 0:
        # Leave room for listeners, log files, the loop's own descriptors and handlers'.
        limit = min(limit, soft - min(64, soft // 4))
    return max(limit, 1)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(
    target: Server | object | None = None,
    addr: str | None = None,
    *,
    shutdown_timeout: float | None = 30.0,
    listener: Listener | None = None,
    **server_options: Any,
) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully and return.

    ``target`` is a ``Server`` or a handler (None means ``default_serve_mux``); a handler
    with an ``attach(server)`` method (``ASGIHandler``, ``WSGIHandler``) is attached to
    the new server, so its start-up and clean-up run around the serving.
    Uses uvloop when it is installed. For scripts; inside async code use ``Server``.
    """
    if isinstance(target, Server):
        srv = target
        if addr is not None:
            srv.addr = addr
    else:
        srv = Server(addr=addr or ":8080", handler=target, **server_options)
        attach = getattr(target, "attach", None)
        if callable(attach):
            attach(srv)  # the adapters' lifespans: start before serving, end after the drain
    log = srv.error_log
    if not logging.getLogger().handlers and not log.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        lst = listener or listen(srv.addr or ":8080")
        scheme = "https" if srv.tls else "http"
        log.info("nethttp: serving on %s://%s", scheme, lst.addr)
        serving = asyncio.ensure_future(srv.serve(lst))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done() and not isinstance(serving.exception(), ServerClosed):
            stopping.cancel()
            serving.result()  # re-raise what broke the accept loop
        log.info("nethttp: shutting down")
        try:
            await srv.shutdown(shutdown_timeout)
        finally:
            stopping.cancel()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            with contextlib.suppress(ServerClosed):
                await serving

    with asyncio.Runner(loop_factory=_new_loop) as runner:
        runner.run(main())
