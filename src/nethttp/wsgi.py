"""Host a WSGI (PEP 3333) application on nethttp: ``WSGIHandler(app)`` is a nethttp handler.

    import nethttp
    from nethttp.wsgi import WSGIHandler

    nethttp.run(WSGIHandler(flask_app), addr=":8000")

Theory of operation. The app runs in a bounded thread pool of the handler's own; the
event loop never blocks on it. ``serve_http`` builds the environ on the loop (cheap
dict work), hands one ``_Call`` to a worker thread and then pumps what the thread
produces into the ``ResponseWriter``.

The two sides meet in ``_Call``: a list of body blocks under a lock, a byte count, and
a "wake-up on its way" flag so that the thread schedules at most one loop callback per
batch, however many blocks it adds meanwhile. A response given as a list (all in
memory already) is handed over in one batch with the end of the call: one thread hop
in, one back. A streamed response (a generator, ``write()``) wakes the loop per batch,
and each batch is flushed at once, as PEP 3333 requires ("must not delay the
transmission of any block"). Back-pressure: past ``_QUEUE_LIMIT`` queued bytes the
thread waits until the loop has written them, and the loop's writes wait while the
client is slow, so a slow reader pauses the app. The request body goes the other way
through ``wsgi.input`` (``BlockingBody``): read in pieces, on demand, never buffered
whole.

Errors: an exception before the first body block is sent (or an app that never called
``start_response``) is a 500 through nethttp's crash path; after it, the exception is
logged and the connection aborted. A body longer or shorter than the app's
Content-Length aborts the connection too. ``close()`` of the returned iterable is
always called, in the worker thread.

Only nethttp's public API is used here, as DESIGN.md asks of adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Final, Protocol
from urllib.parse import unquote

from nethttp import (
    AbortHandler,
    BlockingBody,
    Body,
    Request,
    ResponseWriter,
    Server,
)
from nethttp._context import running_loop
from nethttp.asgi import _Endpoints, _server_logger, _split_hostport, _target_parts

__all__ = ["StartResponse", "WSGIApp", "WSGIHandler"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
Environ = dict[str, Any]


class StartResponse(Protocol):
    """The ``start_response`` callable of PEP 3333."""

    def __call__(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
        /,
    ) -> Callable[[bytes], object]: ...


WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_QUEUE_LIMIT: Final = 256 << 10  # body bytes a thread may queue before it waits for the loop
_KEY_CACHE_MAX: Final = 1024
_SPECIAL: Final = {b"content-type": "CONTENT_TYPE", b"content-length": "CONTENT_LENGTH"}
_environ_keys: dict[bytes, str] = {}


def _environ_key(name: bytes) -> str:
    """``b"X-Request-Id"`` -> ``"HTTP_X_REQUEST_ID"``; "" for a name holding ``_``.

    Such a name would collide with its ``-`` spelling in the environ, a known way to
    smuggle a header past a proxy that checks only one of them (nginx, Apache drop it).
    """
    key = _environ_keys.get(name)
    if key is None:
        lower = name.lower()
        if lower in _SPECIAL:
            key = _SPECIAL[lower]
        elif b"_" in name:
            key = ""
        else:
            key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        if len(_environ_keys) < _KEY_CACHE_MAX:
            _environ_keys[name] = key
    return key


class _NoInput:
    """``wsgi.input`` of a request without a body (shared: it holds no state)."""

    def read(self, size: int | None = -1) -> bytes:
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        return b""

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return []

    def __iter__(self) -> Iterator[bytes]:
        return iter(())


_NO_INPUT: Final = _NoInput()


class _Input:
    """``wsgi.input``: the request body, read from the worker thread (PEP 3333).

    Ends where the body ends, for a Content-Length and a chunked body alike (hence
    ``wsgi.input_terminated``). Reads cross to the loop in pieces of up to 64 KiB.
    """

    __slots__ = ("_body",)

    def __init__(self, body: BlockingBody) -> None:
        self._body = body

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all of the rest when ``size`` is None or < 0)."""
        return self._body.read(-1 if size is None else size)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, up to and including b"\\n" (or ``size`` bytes)."""
        return self._body.readline(-1 if size is None else size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines until the end, or until they add up to ``hint`` bytes."""
        lines: list[bytes] = []
        total = 0
        while hint is None or hint <= 0 or total < hint:
            line = self._body.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)


class _Pool:
    """A bounded pool of worker threads fed from one queue.

    Lighter than ``ThreadPoolExecutor``: no Future (and its Condition) per call, since
    a call reports through its ``_Call``. Threads start on demand, up to ``size``.
    """

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # workers waiting for a call, not yet claimed by a submit
        self._closed = False

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in a worker thread (it must not raise)."""
        if self._closed:
            raise RuntimeError("the WSGI handler was closed")
        self._queue.put(fn)
        with self._lock:
            if self._idle:
                self._idle -= 1  # an idle worker takes it
                return
            if self._threads >= self._size:
                return  # all busy: it waits its turn
            self._threads += 1
            n = self._threads
        threading.Thread(target=self._work, name=f"{self._name}-{n}", daemon=True).start()

    def _work(self) -> None:
        get = self._queue.get
        while True:
            fn = get()
            if fn is None:
                return
            fn()
            with self._lock:
                self._idle += 1

    def close(self) -> None:
        """Let the workers exit once the calls queued before this one are done."""
        self._closed = True
        with self._lock:
            n = self._threads
        for _ in range(n):
            self._queue.put(None)


class _Waker:
    """Wakes the loop for calls with news, one callback per batch, not per call.

    Under load many calls finish between two turns of the loop; they share one
    ``call_soon_threadsafe`` (a write to the loop's wake-up pipe).
    """

    __slots__ = ("_lock", "_pending", "_ready", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._ready: list[_Call] = []
        self._pending = False

    def wake(self, call: _Call) -> None:
        """Schedule ``call._wake`` on the loop (from a worker thread)."""
        with self._lock:
            self._ready.append(call)
            if self._pending:
                return
            self._pending = True
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self.loop.call_soon_threadsafe(self._run)

    def _run(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
            self._pending = False
        for call in ready:
            call._wake()


class WSGIHandler:
    """A nethttp handler that serves a WSGI (PEP 3333) application in worker threads.

    ``threads`` bounds the pool the app runs in (requests beyond it wait their turn);
    ``root_path`` is the ``SCRIPT_NAME`` the app is mounted at (a prefix removed
    before requests reach the handler). The environ also carries the nethttp
    ``Request`` as ``nethttp.request``. Errors are logged to the serving Server's
    ``error_log`` (``logger`` outside a Server). ``serve_http`` runs on the loop.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        threads: int = 40,
        root_path: str = "",
        logger: logging.Logger | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError("a WSGI handler needs at least one thread")
        if root_path and (root_path[0] != "/" or root_path.endswith("/")):
            raise ValueError(f"root_path must start with '/' and not end with one: {root_path!r}")
        self.app = app
        self.threads = threads
        self.root_path = root_path
        self.logger = logger or logging.getLogger("nethttp.wsgi")
        self._pool = _Pool(threads, "nethttp-wsgi")
        self._wakers: dict[asyncio.AbstractEventLoop, _Waker] = {}
        self._endpoints = _Endpoints()
        self._servers: dict[str, tuple[str, str]] = {}
        self._clients: dict[tuple[str, int] | None, tuple[str, str]] = {}

    def attach(self, server: Server) -> WSGIHandler:
        """Stop the worker threads once ``server`` has drained its last request."""
        server.register_on_drained(self.close)
        return self

    def close(self) -> None:
        """Let the worker threads exit once the calls running in them end."""
        self._pool.close()

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        """Serve one request through the app, in a worker thread."""
        loop = running_loop()
        waker = self._wakers.get(loop)
        if waker is None:
            waker = self._wakers[loop] = _Waker(loop)
        call = _Call(self.app, self._environ(r, r.body, loop), loop, waker)
        self._pool.submit(call.run)
        try:
            await call.pump(w)
        except Exception as exc:
            if isinstance(exc, AbortHandler) or not call.head_written:
                raise  # nethttp's crash path: logged, and a 500 (413, 400) if it can
            if exc is not call.error and isinstance(exc, ConnectionError):
                raise  # the client went away: ordinary, not logged
            _server_logger(r, self.logger).error(
                "nethttp.wsgi: exception in WSGI application serving %s",
                r.remote_addr,
                exc_info=exc,
                extra={"event": "handler_error", "remote_addr": r.remote_addr},
            )
            raise AbortHandler() from exc
        finally:
            call.abort()  # a no-op once the thread is done; else it stops at its next block

    def _environ(self, r: Request, body: Any, loop: asyncio.AbstractEventLoop) -> Environ:
        raw_path, query = _target_parts(r)
        server_name, server_port = self._server(r)
        env: Environ = {
            "REQUEST_METHOD": r.method,
            "SCRIPT_NAME": self.root_path,
            # PEP 3333: the percent-decoded bytes, carried as latin-1 text.
            "PATH_INFO": unquote(raw_path, "latin-1") if "%" in raw_path else raw_path,
            "QUERY_STRING": query,
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": r.proto,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": r.scheme,
            "wsgi.input": _Input(BlockingBody(body, loop))
            if isinstance(body, Body) and not body.at_eof
            else _NO_INPUT,
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "nethttp.request": r,
        }
        client = self._client(r.remote_addr)
        if client[0]:
            env["REMOTE_ADDR"], env["REMOTE_PORT"] = client
        for name, value in r.raw_headers:
            key = _environ_key(name)
            if not key:
                continue
            v = value.decode("latin-1")
            if key in env:
                # Repeated fields are one list (RFC 9110 §5.3); cookies join with "; ".
                v = env[key] + ("; " if key == "HTTP_COOKIE" else ", ") + v
            env[key] = v
        if r.host:
            env["HTTP_HOST"] = r.host  # the absolute-form target's, or a trusted proxy's
        return env

    def _server(self, r: Request) -> tuple[str, str]:
        server = self._endpoints.server(r.conn)
        if server is None or server[1] is None:
            # A Unix socket has no host and port: take them from the Host field.
            hp = _split_hostport(r.host)
            if hp is not None:
                return hp[0], str(hp[1])
            return r.host or "localhost", "443" if r.scheme == "https" else "80"
        found = self._servers.get(server[0])
        if found is None:
            found = self._servers[server[0]] = (server[0], str(server[1]))
        return found

    def _client(self, remote: str) -> tuple[str, str]:
        addr = self._endpoints.client(remote)
        found = self._clients.get(addr)
        if found is None:
            if len(self._clients) >= _KEY_CACHE_MAX:
                self._clients.clear()
            found = self._clients[addr] = ("", "") if addr is None else (addr[0], str(addr[1]))
        return found

    def __repr__(self) -> str:
        return f"WSGIHandler({self.app!r}, threads={self.threads})"


def _parse_status(status: str) -> int:
    code = status[:3]
    if not (isinstance(status, str) and code.isdigit() and status[3:4] in ("", " ")):
        raise RuntimeError(f"invalid WSGI status {status!r}")
    return int(code)


class _Call:
    """One request's meeting point between the worker thread and the event loop.

    Thread side: ``run``, ``start_response``, ``write``. Loop side: ``pump``, ``abort``.
    ``lock`` guards ``items``, ``queued``, ``woken``, ``done``, ``head`` and ``aborted``.
    """

    __slots__ = (
        "aborted",
        "app",
        "done",
        "environ",
        "error",
        "head",
        "head_sent",
        "head_written",
        "headers",
        "items",
        "lock",
        "loop",
        "queued",
        "space",
        "status",
        "waiter",
        "waker",
        "woken",
    )

    def __init__(
        self, app: WSGIApp, environ: Environ, loop: asyncio.AbstractEventLoop, waker: _Waker
    ) -> None:
        self.app = app
        self.environ = environ
        self.loop = loop
        self.waker = waker
        self.lock = threading.Lock()
        # Made on first need: most calls never queue enough to wait for room.
        self.space: threading.Condition | None = None
        self.items: list[bytes] = []
        self.queued = 0
        self.woken = False  # a wake-up callback is on its way to the loop
        self.done = False
        self.aborted = False
        self.error: BaseException | None = None
        self.status: str | None = None  # as start_response last set it (thread side)
        self.headers: list[tuple[str, str]] = []
        self.head_sent = False  # thread side: a block went out, the head is final
        self.head: tuple[str, list[tuple[str, str]]] | None = None  # the final head
        self.head_written = False  # loop side: the head reached the writer
        self.waiter: asyncio.Future[None] | None = None

    # -- the worker thread -----------------------------------------------------------------

    def run(self) -> None:
        """Call the app and hand its body to the loop; always ends with ``done``."""
        try:
            result = self.app(self.environ, self.start_response)
            try:
                # A list is all in memory already: one hand-over at the end is enough.
                wake = type(result) is not list and type(result) is not tuple
                for block in result:
                    if block:
                        self._emit(block, wake)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:
            self.error = exc
        finally:
            with self.lock:
                if self.head is None and self.status is not None and self.error is None:
                    self.head = (self.status, self.headers)  # no body: the head alone
                self.done = True
                signal = not self.woken
                self.woken = True
            if signal:
                self._signal()

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
        /,
    ) -> Callable[[bytes], object]:
        """PEP 3333's start_response: store the head until the first block goes out."""
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif self.status is not None:
            raise AssertionError("start_response called a second time without exc_info")
        _parse_status(status)
        for name, value in headers:
            if type(name) is not str or type(value) is not str:
                raise TypeError(f"WSGI header fields must be str: {name!r}: {value!r}")
        self.status = status
        self.headers = headers
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333's write(): send ``data`` now (the legacy imperative API)."""
        if self.status is None:
            raise AssertionError("write() before start_response()")
        if data:
            self._emit(data, True)

    def _emit(self, block: bytes, wake: bool) -> None:
        if type(block) is not bytes:
            if not isinstance(block, bytes | bytearray | memoryview):
                raise TypeError(f"a WSGI body block must be bytes, not {type(block).__name__}")
            block = bytes(block)
        head = None
        if not self.head_sent:
            if self.status is None:
                raise AssertionError("the app sent a body before calling start_response()")
            self.head_sent = True
            head = (self.status, list(self.headers))
        with self.lock:
            if self.aborted:
                raise ConnectionResetError("client disconnected")
            if head is not None:
                self.head = head
            self.items.append(block)
            self.queued += len(block)
            signal = wake and not self.woken
            if signal:
                self.woken = True
        if signal:
            self._signal()
        if wake and self.queued > _QUEUE_LIMIT:
            with self.lock:
                if self.space is None:
                    self.space = threading.Condition(self.lock)
                while self.queued > _QUEUE_LIMIT and not self.aborted:
                    self.space.wait()  # until the loop wrote some: the client is slow
                if self.aborted:
                    raise ConnectionResetError("client disconnected")

    def _signal(self) -> None:
        self.waker.wake(self)

    # -- the event loop --------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def pump(self, w: ResponseWriter) -> None:
        """Write what the thread produces until it is done; raise what the app raised."""
        declared = -1
        written = 0
        while True:
            with self.lock:
                items, self.items = self.items, []
                self.woken = False
                done = self.done
                head = self.head
            if head is not None and not self.head_written:
                declared = self._write_head(w, head)
            if items:
                size = 0
                try:
                    for block in items:
                        size += len(block)
                        await w.write(block)
                    if not done:
                        await w.flush()  # PEP 3333: no block may be held back
                finally:
                    with self.lock:
                        self.queued -= size
                        if self.space is not None:
                            self.space.notify_all()
                written += size
            if done:
                break
            if not items:
                self.waiter = self.loop.create_future()
                try:
                    await self.waiter
                finally:
                    self.waiter = None
        if self.error is not None:
            raise self.error
        if not self.head_written:
            raise RuntimeError("the WSGI app returned without calling start_response()")
        if declared >= 0 and written != declared:
            raise RuntimeError(
                f"the WSGI app sent {written} body bytes, not its Content-Length {declared}"
            )

    def _write_head(self, w: ResponseWriter, head: tuple[str, list[tuple[str, str]]]) -> int:
        """Apply the head; return the declared Content-Length (-1: none, or no body)."""
        self.head_written = True
        status, headers = head
        code = _parse_status(status)
        declared = -1
        h = w.header()
        for name, value in headers:
            if len(name) == 14 and name.lower() == "content-length":
                value = value.strip()
                if not value.isdigit():
                    raise RuntimeError(f"invalid Content-Length {value!r}")
                declared = int(value)
            h.add(name, value)
        w.write_header(code)
        if code < 200 or code == 204 or code == 304 or self.environ["REQUEST_METHOD"] == "HEAD":
            return -1  # no body goes out, whatever was declared
        return declared

    def abort(self) -> None:
        """Stop the thread at its next block (the client is gone or the handler ended)."""
        with self.lock:
            if not self.done:
                self.aborted = True
                if self.space is not None:
                    self.space.notify_all()
