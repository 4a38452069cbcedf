"""Testing handlers: Go's ``net/http/httptest``.

Without sockets::

    rec = httptest.serve(handler, httptest.new_request("GET", "/hello"))
    assert rec.code == 200 and rec.body == b"hi"

``ResponseRecorder`` is a ``ResponseWriter`` that records (Go's rules: implicit 200, the
Content-Type sniffed on the first write, the header snapshotted at ``write_header``);
``new_request`` builds a real ``nethttp.Request`` as a server would hand it over (host
``example.com``, remote address ``192.0.2.1:1234``); ``serve`` runs a handler, async or
plain ``def``, against both on an event loop of its own (``serve_async`` inside async code).

Over real sockets::

    with httptest.Server(handler) as srv:
        httpx.get(srv.url + "/hello")

``Server`` listens on 127.0.0.1 on a free port as soon as it is built, serves on an
event loop in a background thread once entered (or started), and on ``close()`` shuts
down gracefully and joins the thread. In async code, ``async with`` serves on the running
loop instead. ``TLSServer`` does the same over TLS with a built-in certificate for
127.0.0.1, ::1, localhost and example.com; ``client_ssl_context()`` trusts it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import ssl
import tempfile
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Final

from ._context import background
from ._cookie import Cookie, read_set_cookies
from ._errors import BodyNotAllowed, ServerClosed
from ._h1 import EndOfMessage, RequestHead
from ._handlers import ThreadView
from ._header import Header, canonical_header_key
from ._listen import listen
from ._mux import as_handler
from ._request import NO_BODY, Body, Request
from ._response.head import _BAD_TRAILERS, TRAILER_PREFIX
from ._server import Server as _HTTPServer
from ._server import _new_loop
from ._sniff import SNIFF_LEN, detect_content_type
from ._status import body_allowed, status_text

__all__ = [
    "CERT_PEM",
    "KEY_PEM",
    "RecordedResponse",
    "ResponseRecorder",
    "Server",
    "TLSServer",
    "new_request",
    "serve",
    "serve_async",
]

# -- ResponseRecorder ------------------------------------------------------------------------


class RecordedResponse:
    """A snapshot of a recorded response (the fields of Go's ``http.Response`` it fills)."""

    __slots__ = ("body", "content_length", "header", "proto", "status", "status_code", "trailer")

    def __init__(self, status_code: int, header: Header, body: bytes, trailer: Header) -> None:
        self.status_code = status_code
        self.status = f"{status_code:03d} {status_text(status_code)}"
        self.proto = "HTTP/1.1"
        self.header = header
        self.body = body
        cl = header.get("Content-Length").strip(" \t\r\n")
        n = int(cl) if cl.isdigit() and cl.isascii() else -1
        self.content_length = n if n < 1 << 63 else -1  # Go: ParseUint(cl, 10, 63)
        self.trailer = trailer

    def cookies(self) -> list[Cookie]:
        """The cookies set by the response's ``Set-Cookie`` fields."""
        return read_set_cookies(self.header)

    def __repr__(self) -> str:
        return f"<RecordedResponse {self.status} {len(self.body)} bytes>"


class ResponseRecorder:
    """A ``ResponseWriter`` that records what a handler does (Go's ``ResponseRecorder``).

    ``code`` (200 until set), ``header_map`` (the live header), ``body`` (everything
    written), ``flushed``; ``result()`` gives the response as a client would see it.
    Use from one task or thread at a time.
    """

    def __init__(self) -> None:
        self.code = 200
        self.header_map = Header()
        self.body = bytearray()
        self.flushed = False
        self._wrote_header = False
        self._snap: Header | None = None
        self._result: RecordedResponse | None = None

    def header(self) -> Header:
        """The header map; ``result()`` shows it as it was at ``write_header``."""
        return self.header_map

    def write_header(self, code: int) -> None:
        """Record ``code``; later calls are ignored (as in Go's recorder, without a log)."""
        if self._wrote_header:
            return
        if not 100 <= code <= 999:
            raise ValueError(f"invalid WriteHeader code {code}")
        self.code = code
        self._wrote_header = True
        self._snap = self.header_map.clone()

    def _implicit_header(self, first: bytes) -> None:
        if self._wrote_header:
            return
        m = self.header_map
        if "Content-Type" not in m and not m.get("Transfer-Encoding"):
            m.set("Content-Type", detect_content_type(first[:SNIFF_LEN]))
        self.write_header(200)

    def write_sync(self, data: bytes | bytearray | memoryview) -> int:
        """Record body bytes (``write`` without the ``await``)."""
        if isinstance(data, str):
            raise TypeError("write() takes bytes, not str")
        self._implicit_header(bytes(data))
        self.body += data
        if not body_allowed(self.code):
            raise BodyNotAllowed()  # Go records the bytes anyway, then fails the write
        return len(data)

    async def write(self, data: bytes | bytearray | memoryview) -> int:
        """Record body bytes, sniffing the Content-Type on the first write."""
        return self.write_sync(data)

    def flush_sync(self) -> None:
        """Mark the response flushed (``flush`` without the ``await``)."""
        if not self._wrote_header:
            self.write_header(200)
        self.flushed = True

    async def flush(self) -> None:
        """Mark the response flushed (reached through ``ResponseController`` too)."""
        self.flush_sync()

    def blocking_writer(self) -> ThreadView:
        """The writer a plain ``def`` handler gets when it runs against this recorder."""
        return ThreadView(self)

    def result(self) -> RecordedResponse:
        """The response as recorded (built once; later writes do not change it)."""
        if self._result is not None:
            return self._result
        snap = self._snap if self._snap is not None else self.header_map.clone()
        res = RecordedResponse(self.code or 200, snap, bytes(self.body), self._trailers(snap))
        self._result = res
        return res

    def _trailers(self, snap: Header) -> Header:
        trailer = Header()
        live = self.header_map
        for declared in snap.values("Trailer"):
            for k in declared.split(","):
                k = canonical_header_key(k.strip(" \t"))
                if k in _BAD_TRAILERS or k not in live:
                    continue
                trailer[k] = list(live[k])
        for k, vs in live.items():
            if k.startswith(TRAILER_PREFIX):
                for v in vs:
                    trailer.add(k[len(TRAILER_PREFIX) :], v)
        return trailer


# -- requests --------------------------------------------------------------------------------


class _MemorySource:
    """A request body held in memory, handed out as a connection would."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks[::-1]

    async def read_body_event(self) -> bytes | EndOfMessage:
        return self._chunks.pop() if self._chunks else EndOfMessage()


class _SSLState:
    """What ``r.tls`` shows for an ``https://`` target: a finished TLS 1.2 handshake."""

    def __init__(self, server_hostname: str) -> None:
        self.server_hostname = server_hostname

    def version(self) -> str:
        """The protocol, as ``ssl.SSLObject.version()`` names it."""
        return "TLSv1.2"

    def selected_alpn_protocol(self) -> str | None:
        """No ALPN was negotiated."""
        return None


class _TestConn:
    """The ``r.conn`` of a request built by ``new_request``."""

    def __init__(self, tls: Any) -> None:
        self.tls = tls
        self.remote_addr = REMOTE_ADDR
        self.local_addr = "example.com:80"


class _TLSInfo:
    def __init__(self, host: str) -> None:
        self.ssl_object = _SSLState(host)


REMOTE_ADDR: Final = "192.0.2.1:1234"  # TEST-NET-1 (RFC 5737), as Go's NewRequest uses
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_TARGET: Final = re.compile(r"[\x00-\x20\x7f]")


def new_request(
    method: str = "GET", target: str = "/", body: bytes | str | Iterable[bytes] | None = None
) -> Request:
    """Build an incoming server ``Request`` for tests (Go's ``httptest.NewRequest``).

    ``target`` is a path (``/a?b=c``) or an absolute URL, whose host becomes ``r.host``
    (``example.com`` otherwise); an ``https://`` target makes ``r.tls`` non-None. ``body``
    may be bytes, str (sent as UTF-8) or an iterable of bytes (sent as a chunked body).
    """
    method = method or "GET"
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"invalid method {method!r}")
    if not target or _BAD_TARGET.search(target):
        raise ValueError(f"invalid request target {target!r}")
    if not (target[0] == "/" or target == "*" or "://" in target or method == "CONNECT"):
        raise ValueError(f"invalid request target {target!r}: a path or an absolute URL")
    # As it would arrive: UTF-8 on the wire, read back as latin-1 like every target.
    target = target.encode().decode("latin-1")
    host = ""
    if "://" in target and target[0] != "/":
        host = re.split(r"[/?#]", target.split("://", 1)[1], maxsplit=1)[0]
    elif method == "CONNECT" and target[0] != "/":
        host = target
    chunks, length = _body_chunks(body)
    head = RequestHead(
        method, target, "HTTP/1.1", 1, [], host or "example.com",
        length, length < 0, True, False, False,
    )  # fmt: skip
    tls = _TLSInfo(host or "example.com") if target.lower().startswith("https://") else None
    req_body = NO_BODY if chunks is None else Body(_MemorySource(chunks))
    return Request(head, req_body, _TestConn(tls), REMOTE_ADDR, background())


def _body_chunks(body: bytes | str | Iterable[bytes] | None) -> tuple[list[bytes] | None, int]:
    if body is None:
        return None, 0
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
        return ([data] if data else None), len(data)
    return [bytes(c) for c in body if c], -1


# -- running a handler against a recorder -----------------------------------------------------


async def serve_async(handler: object, req: Request | None = None) -> ResponseRecorder:
    """Run ``handler`` (async or plain ``def``) on ``req``; return what it recorded."""
    rec = ResponseRecorder()
    await as_handler(handler).serve_http(rec, req if req is not None else new_request())
    return rec


def serve(handler: object, req: Request | None = None) -> ResponseRecorder:
    """``serve_async`` on an event loop of its own, for plain test functions."""
    if _loop_running():
        raise RuntimeError("httptest.serve runs its own loop; in async code use serve_async")
    return asyncio.run(serve_async(handler, req))


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# -- Server ----------------------------------------------------------------------------------

_log = logging.getLogger("nethttp.httptest")


class Server:
    """A real nethttp ``Server`` on 127.0.0.1 for tests (Go's ``httptest.Server``).

    The listener is bound when the object is built, so ``url`` is known at once. Serving
    starts with ``start()`` (a background thread with its own event loop) or on entering
    ``with`` / ``async with`` (the latter on the running loop). ``close()`` shuts down
    gracefully: in-flight requests finish, for at most ``timeout`` seconds, then the rest
    is closed. ``config`` (also ``server``) is the nethttp ``Server``; ``server_options``
    go to it.
    """

    scheme = "http"

    def __init__(self, handler: object = None, **server_options: Any) -> None:
        self.config = _HTTPServer(handler=handler, **server_options)
        self.listener = listen("127.0.0.1:0")
        self.url = f"{self.scheme}://127.0.0.1:{self.listener.port}"
        self._tls: ssl.SSLContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._closed = False

    @property
    def server(self) -> _HTTPServer:
        """The nethttp ``Server`` (same as ``config``)."""
        return self.config

    async def _serve(self) -> None:
        try:
            await self.config.serve(self.listener, tls=self._tls)
        except ServerClosed:
            pass
        except BaseException as exc:  # kept for close(), which raises it
            self._error = exc

    def start(self) -> None:
        """Serve in a background thread with its own event loop."""
        if self._loop is not None or self._closed:
            raise RuntimeError("httptest: Server already started")
        loop = self._loop = _new_loop()
        started = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            self._task = loop.create_task(self._serve())
            loop.call_soon(started.set)
            try:
                loop.run_forever()  # until close(), even if serving failed
            finally:
                _finish_loop(loop)

        self._thread = threading.Thread(target=main, name="httptest-server", daemon=True)
        self._thread.start()
        started.wait()

    def close(self, timeout: float = 5.0) -> None:
        """Shut down gracefully (at most ``timeout`` seconds), stop the thread, re-raise errors."""
        if self._closed:
            return
        loop, thread = self._loop, self._thread
        if loop is not None and thread is None:
            raise RuntimeError("httptest: a Server started with async with closes with aclose()")
        self._closed = True
        if loop is None or thread is None:
            self.listener.close()
        else:
            try:
                asyncio.run_coroutine_threadsafe(self._stop(timeout), loop).result()
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join()
        self._raise_error()

    async def aclose(self, timeout: float = 5.0) -> None:
        """``close()`` for a server serving on the running loop."""
        if self._closed:
            return
        self._closed = True
        if self._task is None:
            self.listener.close()
        else:
            await self._stop(timeout)
        self._raise_error()

    async def _stop(self, timeout: float) -> None:
        assert self._task is not None
        if not self._task.done():
            await self._shutdown(timeout)
        await self._task

    async def _shutdown(self, timeout: float) -> None:
        try:
            await self.config.shutdown(timeout)
        except TimeoutError:
            _log.warning("httptest: Server.close: requests still busy after %gs, cut off", timeout)

    def _raise_error(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Server:
        if self._loop is not None or self._closed:
            raise RuntimeError("httptest: Server already started")
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.ensure_future(self._serve())
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<httptest.Server {self.url}>"


def _finish_loop(loop: asyncio.AbstractEventLoop) -> None:
    # Handlers still running (a cut-off request, a late timeout_handler task) are cancelled,
    # and transports get the loop iterations they need to close, before the loop goes.
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=2))
    loop.run_until_complete(asyncio.sleep(0))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


# The built-in certificate (as Go's internal/testcert): ECDSA P-256, self-signed, a CA for
# itself, valid 2000-01-01 to 2084-01-29, for IP 127.0.0.1 and ::1 and DNS localhost,
# example.com and *.example.com. Generated once with openssl; the key is public, so never
# use it outside tests.
CERT_PEM: Final = """-----BEGIN CERTIFICATE-----
MIICMDCCAdegAwIBAgIBATAKBggqhkjOPQQDAjA+MRkwFwYDVQQKDBBuZXRodHRw
IGh0dHB0ZXN0MSEwHwYDVQQDDBhuZXRodHRwIHRlc3QgY2VydGlmaWNhdGUwIBcN
MDAwMTAxMDAwMDAwWhgPMjA4NDAxMjkxNjAwMDBaMD4xGTAXBgNVBAoMEG5ldGh0
dHAgaHR0cHRlc3QxITAfBgNVBAMMGG5ldGh0dHAgdGVzdCBjZXJ0aWZpY2F0ZTBZ
MBMGByqGSM49AgEGCCqGSM49AwEHA0IABKbV13qjuwDMeOOfNQSqjwvefVR0Eqcb
AbrNzt/CsxnbadoO/t0YseuXQv2ZnS/h5SICpdv7Xr8vNH/6ksUD5hijgcMwgcAw
SAYDVR0RBEEwP4cEfwAAAYcQAAAAAAAAAAAAAAAAAAAAAYIJbG9jYWxob3N0ggtl
eGFtcGxlLmNvbYINKi5leGFtcGxlLmNvbTAPBgNVHRMBAf8EBTADAQH/MA4GA1Ud
DwEB/wQEAwIChDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUPKh3OM/C
F88K1O8tISjJWvpYpT4wHwYDVR0jBBgwFoAUPKh3OM/CF88K1O8tISjJWvpYpT4w
CgYIKoZIzj0EAwIDRwAwRAIgF6HZPltqkJk3c67X9dSdvTEl6WoGr4hcps+0nn/A
CcICIDNEFpu2zEzfELiQmohJXtGihdadT/m/ZE/dPQLixRsI
-----END CERTIFICATE-----
"""
KEY_PEM: Final = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguIDGrlfQdb6X3NVp
MJ5cL7nxXJGTE3EBGAbFxN13+/uhRANCAASm1dd6o7sAzHjjnzUEqo8L3n1UdBKn
GwG6zc7fwrMZ22naDv7dGLHrl0L9mZ0v4eUiAqXb+16/LzR/+pLFA+YY
-----END PRIVATE KEY-----
"""


def _server_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # load_cert_chain reads files only: write the pair to a private directory, then drop it.
    with tempfile.TemporaryDirectory(prefix="nethttp-cert-") as d:
        path = os.path.join(d, "cert.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(CERT_PEM + KEY_PEM)
        ctx.load_cert_chain(path)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class TLSServer(Server):
    """A ``Server`` over TLS with the built-in certificate (Go's ``NewTLSServer``).

    ``tls`` is the server's ``ssl.SSLContext`` (change it before starting);
    ``client_ssl_context()`` gives a client context that trusts the certificate.
    """

    scheme = "https"

    def __init__(self, handler: object = None, **server_options: Any) -> None:
        super().__init__(handler, **server_options)
        self._tls = _server_context()

    @property
    def tls(self) -> ssl.SSLContext:
        """The server's TLS configuration."""
        assert self._tls is not None
        return self._tls

    def certificate(self) -> str:
        """The server's certificate, PEM-encoded."""
        return CERT_PEM

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client ``ssl.SSLContext`` that trusts the server's certificate (and only it)."""
        return ssl.create_default_context(cadata=CERT_PEM)
