"""``Request``, its ``URL`` and its body readers.

A ``Request`` is built for every request, so it is built cheaply: it keeps the wire
layer's ``RequestHead`` and derives ``header``, ``url`` and the context on first use. A
handler that reads only ``r.method`` and ``r.url.path`` never pays for a ``Header``.

The body reader pulls events from a ``BodySource`` (the connection, one layer up, which
implements this small protocol), so reading never copies bytes through queues and a
handler that does not read leaves the bytes in the kernel (back-pressure for free).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, quote, unquote

from . import _form
from ._context import Context, background
from ._cookie import Cookie, read_cookies, sanitize_cookie_name, sanitize_cookie_value
from ._errors import BodyReadAfterClose, MaxBytesError, NoCookie
from ._form import DEFAULT_MAX_MEMORY, FormState
from ._h1 import EndOfMessage, RequestHead
from ._header import Header, canonical_header_key

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable
    from typing import BinaryIO

    from ._form.multipart import FileHeader, MultipartForm


class BodySource(Protocol):
    """What a body reader needs from the connection under it."""

    async def read_body_event(self) -> bytes | EndOfMessage:
        """Return the next piece of the body, or its end; raise on a broken body."""
        ...


def _escape(path: str) -> str:
    # Go's PathEscape set; surrogates stand for bytes that were not UTF-8 (see URL).
    return quote(path, safe="/:@!$&'()*+,;=", errors="surrogateescape")


class URL:
    """The parsed request target (Go's ``url.URL`` as ``ParseRequestURI`` fills it)."""

    __slots__ = ("fragment", "host", "opaque", "path", "raw_path", "raw_query", "scheme")

    def __init__(self, target: str) -> None:
        self.scheme = ""
        self.host = ""
        self.opaque = ""
        self.fragment = ""
        if target[:1] == "/" and "%" not in target and "?" not in target and target.isascii():
            # The common case, a plain path: nothing to split or unescape.
            self.path = target
            self.raw_path = self.raw_query = ""
            return
        if not target.isascii():
            # The wire's bytes arrive as latin-1; a path is UTF-8 text, and bytes that
            # are not UTF-8 survive as surrogates (as os.fsdecode does), so re-escaping
            # gives back exactly the bytes that were sent.
            target = target.encode("latin-1").decode("utf-8", "surrogateescape")
        rest = target
        if rest[:1] != "/" and "://" in rest:
            # Absolute form (RFC 9112 §3.2.2).
            scheme, _, rest = rest.partition("://")
            self.scheme = scheme.lower()
            slash = rest.find("/")
            quest = rest.find("?")
            cut = min(i for i in (slash, quest, len(rest)) if i >= 0)
            self.host, rest = rest[:cut], rest[cut:]
        elif rest[:1] != "/" and rest != "*":
            # Authority form (CONNECT host:port) or something opaque.
            self.host = rest if ":" in rest else ""
            self.opaque = "" if self.host else rest
            rest = ""
        path, _, self.raw_query = rest.partition("?")
        self.path = unquote(path, errors="surrogateescape") if "%" in path else path
        # raw_path is set only when the path's escaping is not the default one (Go).
        self.raw_path = path if "%" in path and _escape(self.path) != path else ""

    def escaped_path(self) -> str:
        """Return the path as sent (raw_path when set, else the path re-escaped)."""
        return self.raw_path or _escape(self.path)

    def query(self) -> dict[str, list[str]]:
        """Parse ``raw_query`` into a dict of value lists (Go's ``URL.Query()``)."""
        return parse_qs(self.raw_query, keep_blank_values=True)

    def request_uri(self) -> str:
        """Return the path and query as they would appear in a request line."""
        uri = self.escaped_path() or "/"
        return f"{uri}?{self.raw_query}" if self.raw_query else uri

    def __str__(self) -> str:
        prefix = f"{self.scheme}://{self.host}" if self.scheme else ""
        return prefix + self.request_uri()

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"


class Body:
    """A request body, read with ``await body.read(n)`` or ``async for``; one reader at a time.

    ``trailers`` holds the chunked trailer fields once the body reached its end.
    Not safe to use after the handler returned.
    """

    __slots__ = ("_closed", "_eof", "_pending", "_source", "_trailers", "bytes_read", "limit")

    def __init__(self, source: BodySource) -> None:
        self._source = source
        self._pending = b""
        self._eof = False
        self._closed = False
        self._trailers: Header | None = None
        self.bytes_read = 0
        self.limit = -1  # max bytes the body may have (-1: no limit); see max_bytes_reader

    @property
    def at_eof(self) -> bool:
        """True once the whole body was read."""
        return self._eof and not self._pending

    @property
    def trailers(self) -> Header:
        """The trailer fields (empty until the end of the body was read)."""
        if self._trailers is None:
            self._trailers = Header()
        return self._trailers

    async def _next(self) -> bytes:
        if self._closed:
            raise BodyReadAfterClose()
        ev = await self._source.read_body_event()
        if isinstance(ev, EndOfMessage):
            self._eof = True
            if ev.trailers:
                self._trailers = Header(
                    (n.decode("latin-1"), v.decode("latin-1")) for n, v in ev.trailers
                )
            return b""
        self.bytes_read += len(ev)
        if 0 <= self.limit < self.bytes_read:
            raise MaxBytesError(self.limit)
        return ev

    @property
    def too_large(self) -> bool:
        """Whether more than ``limit`` bytes arrived (the connection will not be reused)."""
        return 0 <= self.limit < self.bytes_read

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all of the rest when ``n`` < 0); b"" at the end."""
        if n == 0:
            return b""
        if n < 0:
            parts = [self._pending] if self._pending else []
            self._pending = b""
            while not self._eof:
                chunk = await self._next()
                if chunk:
                    parts.append(chunk)
            return b"".join(parts)
        data = self._pending
        if not data:
            if self._eof:
                return b""
            data = await self._next()
        if len(data) > n:
            self._pending = data[n:]
            return data[:n]
        self._pending = b""
        return data

    async def read_chunk(self) -> bytes:
        """Return the next piece of the body as it arrived; b"" at the end."""
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        while not self._eof:
            data = await self._next()
            if data:
                return data
        return b""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self.read_chunk()
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        """Refuse further reads (the server calls it when the response is finished)."""
        self._closed = True


class _NoBody(Body):
    """The body of a request that has none: always at its end."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(_NO_SOURCE)
        self._eof = True

    def close(self) -> None:
        pass  # shared by every body-less request: it must never become closed


class _NoSource:
    async def read_body_event(self) -> bytes | EndOfMessage:  # pragma: no cover - unused
        return EndOfMessage()


_NO_SOURCE = _NoSource()
NO_BODY: Body = _NoBody()


class BlockingBody:
    """A request body for a plain ``def`` handler: ``read`` blocks its worker thread.

    Reads cross to the event loop in pieces of up to 64 KiB, so a handler reading
    byte by byte does not pay a thread hop per byte.
    """

    __slots__ = ("_body", "_buf", "_loop")

    def __init__(self, body: Body, loop: asyncio.AbstractEventLoop) -> None:
        self._body = body
        self._loop = loop
        self._buf = b""

    def _fetch(self) -> bytes:
        fut = asyncio.run_coroutine_threadsafe(self._body.read(65536), self._loop)
        return fut.result()

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all of the rest when ``n`` < 0); b"" at the end."""
        if n < 0:
            fut = asyncio.run_coroutine_threadsafe(self._body.read(-1), self._loop)
            data, self._buf = self._buf + fut.result(), b""
            return data
        if not self._buf:
            self._buf = self._fetch()
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def readline(self, limit: int = -1) -> bytes:
        """Read one line, up to and including b"\\n" (or ``limit`` bytes)."""
        parts: list[bytes] = []
        size = 0
        while limit < 0 or size < limit:
            if not self._buf:
                self._buf = self._fetch()
                if not self._buf:
                    break
            want = len(self._buf) if limit < 0 else min(len(self._buf), limit - size)
            nl = self._buf.find(b"\n", 0, want)
            cut = want if nl < 0 else nl + 1
            parts.append(self._buf[:cut])
            self._buf = self._buf[cut:]
            size += cut
            if nl >= 0:
                break
        return b"".join(parts)

    def __iter__(self) -> BlockingBody:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    @property
    def trailers(self) -> Header:
        """The trailer fields (empty until the end of the body was read)."""
        return self._body.trailers


def max_bytes_reader(w: object, body: Body | BlockingBody, n: int) -> Body | BlockingBody:
    """Limit ``body`` to ``n`` bytes (Go's MaxBytesReader): reading more raises MaxBytesError.

    The limit applies to the body object itself, so a handler may simply call it on
    ``r.body``; a connection whose body went over its limit is closed after the response.
    ``w`` is accepted for Go's signature (the connection learns of the limit by itself).
    """
    if n < 0:
        raise ValueError("a body limit cannot be negative")
    inner = body._body if isinstance(body, BlockingBody) else body
    if isinstance(inner, Body) and inner is not NO_BODY:
        inner.limit = n if inner.limit < 0 else min(inner.limit, n)
    return body


class Request:
    """An HTTP request as the server received it (Go's ``http.Request``).

    Fields are plain attributes; ``header``, ``url`` and ``context()`` are built on
    first use. A handler may replace ``body`` (for example with a size-limited reader).
    """

    __slots__ = (
        "_cancel",
        "_ctx",
        "_forms",
        "_header",
        "_parent_ctx",
        "_path_values",
        "_scheme",
        "_url",
        "body",
        "close",
        "conn",
        "content_length",
        "head",
        "host",
        "method",
        "pattern",
        "remote_addr",
        "request_uri",
    )

    def __init__(
        self,
        head: RequestHead,
        body: Body | BlockingBody,
        conn: Any,
        remote_addr: str,
        parent_ctx: Context | None = None,
    ) -> None:
        self.head = head
        self.method = head.method
        self.request_uri = head.target
        self.host = head.host
        self.content_length = head.content_length
        self.close = not head.keep_alive
        self.body = body
        self.conn = conn
        self.remote_addr = remote_addr
        self.pattern = ""
        self._parent_ctx = parent_ctx
        self._ctx: Context | None = None
        self._cancel: Callable[[], None] | None = None
        self._forms: FormState | None = None  # built by the first form call
        self._header: Header | None = None
        self._url: URL | None = None
        self._path_values: dict[str, str] | None = None
        self._scheme = ""  # set by a trusted proxy's word (proxy_headers); "" derives it

    # -- lazily derived fields ---------------------------------------------------------------

    @property
    def header(self) -> Header:
        """The request's fields with canonical keys (without Host and Transfer-Encoding)."""
        h = self._header
        if h is None:
            h = Header()
            m = h._map
            for n, v in self.head.raw_headers:
                key = canonical_header_key(n.decode("latin-1"))
                if key == "Host" or key == "Transfer-Encoding":
                    continue
                vs = m.get(key)
                if vs is None:
                    m[key] = [v.decode("latin-1")]
                else:
                    vs.append(v.decode("latin-1"))
            self._header = h
        return h

    @header.setter
    def header(self, value: Header) -> None:
        self._header = value

    @property
    def url(self) -> URL:
        """The parsed request target."""
        u = self._url
        if u is None:
            u = self._url = URL(self.head.target)
        return u

    @url.setter
    def url(self, value: URL) -> None:
        self._url = value

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The header fields as received: (name, value) bytes, in order."""
        return self.head.raw_headers

    @property
    def proto(self) -> str:
        """The protocol version as sent, e.g. "HTTP/1.1"."""
        return self.head.version

    @property
    def proto_major(self) -> int:
        """The major protocol version (1)."""
        return ord(self.head.version[5]) - 48

    @property
    def proto_minor(self) -> int:
        """The minor protocol version as sent (0, 1, ...)."""
        return ord(self.head.version[7]) - 48

    def proto_at_least(self, major: int, minor: int) -> bool:
        """Whether the request's protocol is at least ``major.minor``."""
        return (self.proto_major, self.proto_minor) >= (major, minor)

    @property
    def transfer_encoding(self) -> list[str]:
        """["chunked"] for a chunked body, else []."""
        return ["chunked"] if self.head.chunked else []

    @property
    def tls(self) -> ssl.SSLObject | None:
        """The TLS connection state, or None on a plaintext connection."""
        info = getattr(self.conn, "tls", None)
        return getattr(info, "ssl_object", None) if info is not None else None

    @property
    def scheme(self) -> str:
        """The client's scheme, "http" or "https": the connection's, or a trusted proxy's word."""
        return self._scheme or ("http" if self.tls is None else "https")

    @scheme.setter
    def scheme(self, value: str) -> None:
        self._scheme = value

    @property
    def trailer(self) -> Header:
        """The body's trailer fields, filled once the body was read to its end."""
        body = self.body
        return body.trailers if isinstance(body, Body | BlockingBody) else Header()

    def user_agent(self) -> str:
        """The User-Agent field, or ""."""
        return self.header.get("User-Agent")

    def referer(self) -> str:
        """The Referer field, or ""."""
        return self.header.get("Referer")

    # -- context ---------------------------------------------------------------------------

    def context(self) -> Context:
        """The request's context: cancelled when the client goes away or the handler returns."""
        ctx = self._ctx
        if ctx is None:
            parent = self._parent_ctx if self._parent_ctx is not None else background()
            ctx, self._cancel = parent.with_cancel()
            self._ctx = ctx
        return ctx

    def with_context(self, ctx: Context) -> Request:
        """Return a shallow copy of the request that carries ``ctx``."""
        if not isinstance(ctx, Context):
            raise TypeError("with_context needs a Context")
        r = copy.copy(self)
        r._ctx = ctx
        r._cancel = None
        return r

    def clone(self, ctx: Context) -> Request:
        """Return a deep copy (header, url, path values) carrying ``ctx``; the body is shared."""
        r = self.with_context(ctx)
        r._header = self.header.clone()
        r._url = copy.copy(self.url)
        if self._path_values is not None:
            r._path_values = dict(self._path_values)
        if self._forms is not None:
            r._forms = self._forms.clone()
        return r

    # -- path values (set by ServeMux) -------------------------------------------------------

    def path_value(self, name: str) -> str:
        """The value of wildcard ``name`` in the matched pattern, or ""."""
        pv = self._path_values
        return pv.get(name, "") if pv else ""

    def set_path_value(self, name: str, value: str) -> None:
        """Set the value ``path_value(name)`` returns."""
        if self._path_values is None:
            self._path_values = {}
        self._path_values[name] = value

    # -- cookies (Go's Cookies, CookiesNamed, Cookie, AddCookie) ---------------------------

    def cookies(self) -> list[Cookie]:
        """The cookies the request carries; pairs that cannot be read are skipped."""
        return read_cookies(self.header)

    def cookies_named(self, name: str) -> list[Cookie]:
        """The cookies called ``name``, in the order sent ([] when none)."""
        return read_cookies(self.header, name) if name else []

    def cookie(self, name: str) -> Cookie:
        """The first cookie called ``name``; raise ``NoCookie`` when there is none."""
        found = read_cookies(self.header, name) if name else []
        if not found:
            raise NoCookie()
        return found[0]

    def add_cookie(self, c: Cookie) -> None:
        """Add ``c``'s name and value to the request's single ``Cookie`` field (for tests)."""
        pair = f"{sanitize_cookie_name(c.name)}={sanitize_cookie_value(c.value, c.quoted)}"
        old = self.header.get("Cookie")
        self.header.set("Cookie", f"{old}; {pair}" if old else pair)

    # -- forms: awaited in async handlers, blocking in plain def ones (see _form.py) --------

    def _form_state(self) -> FormState:
        st = self._forms
        if st is None:
            st = self._forms = FormState()
        return st

    @property
    def form(self) -> dict[str, list[str]] | None:
        """Query and body values once parsed (body values first); None before."""
        return self._forms.form if self._forms is not None else None

    @form.setter
    def form(self, value: dict[str, list[str]] | None) -> None:
        self._form_state().form = value

    @property
    def post_form(self) -> dict[str, list[str]] | None:
        """Body values of a POST, PUT or PATCH once parsed; None before."""
        return self._forms.post_form if self._forms is not None else None

    @post_form.setter
    def post_form(self, value: dict[str, list[str]] | None) -> None:
        self._form_state().post_form = value

    @property
    def multipart_form(self) -> MultipartForm | None:
        """The parsed multipart form (values and files); None before."""
        return self._forms.multipart_form if self._forms is not None else None

    @multipart_form.setter
    def multipart_form(self, value: MultipartForm | None) -> None:
        self._form_state().multipart_form = value

    def parse_form(self) -> Awaitable[None]:
        """Fill ``form`` and ``post_form`` (Go's ParseForm); raise ``FormError`` and others.

        ``await`` it in an async handler; from a plain def handler it parses at once.
        """
        return _form.run_steps(self.body, _form.parse_form_steps(self, self._form_state()))

    def parse_multipart_form(self, max_memory: int = DEFAULT_MAX_MEMORY) -> Awaitable[None]:
        """Parse a multipart/form-data body, files past ``max_memory`` bytes spilled to disk.

        ``await`` it in an async handler; from a plain def handler it parses at once.
        """
        steps = _form.parse_multipart_form_steps(self, self._form_state(), max_memory)
        return _form.run_steps(self.body, steps)

    def form_value(self, key: str) -> str:
        """The first value of ``key`` (body, query, multipart); "" when absent.

        Async handlers parse first; plain def handlers parse implicitly, as Go does.
        """
        return _form.form_value(self, self._form_state(), key)

    def post_form_value(self, key: str) -> str:
        """The first body value of ``key`` (the query is ignored); "" when absent."""
        return _form.post_form_value(self, self._form_state(), key)

    def form_file(self, key: str) -> tuple[BinaryIO, FileHeader]:
        """The first file sent as ``key``: an open reader and its header; ``MissingFile``."""
        return _form.form_file(self, self._form_state(), key)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.request_uri} {self.proto}>"
