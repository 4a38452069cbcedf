"""The HTTP/1 ``ResponseWriter``: Go's write pipeline, byte for byte where it is visible.

Writes go into a 2048-byte buffer. If the handler finishes with everything still in it,
the response gets an automatic ``Content-Length`` and goes out in one transport write,
head and body together (the common case, and the fast one). A write that overflows the
buffer, or a ``flush()``, commits the head: ``Transfer-Encoding: chunked`` on HTTP/1.1,
a close-delimited body on HTTP/1.0. After that, small writes are still merged in the
buffer, and each overflow or flush becomes one chunk.

The head is built once, at commit, from the header map as it is then (later changes do
not reach the wire, except trailers), the precomputed status line, a ``Date`` value
cached per second, and the server's own fields in Go's order: handler fields sorted,
then ``Date``, ``Content-Length``, ``Content-Type``, ``Connection``,
``Transfer-Encoding``. Encoded ``name: value`` lines are cached, since most responses
repeat the same few.

States: OPEN (nothing sent) -> COMMITTED (head chosen) -> FINISHED, or -> HIJACKED.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import time
from collections.abc import Awaitable
from typing import Any, Final, Protocol, runtime_checkable

from .._errors import BodyNotAllowed, ContentLengthMismatch, Hijacked, NotSupported
from .._h1 import LAST_CHUNK, chunk_header, serialize_trailers
from .._header import Header, canonical_header_key, sanitize_value, valid_field_name
from .._request import Request
from .._sniff import SNIFF_LEN, detect_content_type
from .._status import STATUS_LINE_10, STATUS_LINE_11, status_line
from .blocking import BlockingResponseWriter
from .head import (
    _BAD_TRAILERS,
    _CL_LINES,
    _CT_LINES,
    _RAW_FIELDS_MAX,
    BUFFER_SIZE,
    TRAILER_PREFIX,
    RawFields,
    _field_line,
    _plain_commit,
    _raw_fields,
    _RawFields,
    _Snapshot,
    _snapshot,
    date_line,
)

_JOIN_MAX: Final = 16384  # above this, framing and body are written separately, not joined


OPEN, COMMITTED, FINISHED, HIJACKED = range(4)


@runtime_checkable
class ResponseWriter(Protocol):
    """What a handler writes its response through (Go's ``http.ResponseWriter``)."""

    def header(self) -> Header:
        """The header map that ``write_header`` will send."""
        ...

    def write_header(self, code: int) -> None:
        """Send the status code (once; 1xx codes may precede the final one)."""
        ...

    async def write(self, data: bytes) -> int:
        """Write body bytes, committing an implicit 200 first."""
        ...

    async def flush(self) -> None:
        """Send the head and everything buffered now."""
        ...


class ResponseSink(Protocol):
    """What the writer needs from the connection under it (implemented one layer up)."""

    logger: logging.Logger

    def send(self, data: bytes) -> None:
        """Queue bytes on the transport; raise ConnectionError if it is gone."""
        ...

    def send_many(self, parts: list[bytes]) -> None:
        """Queue several pieces at once (one gathered write, no copy)."""
        ...

    def drain(self) -> Awaitable[None] | None:
        """Return an awaitable while the transport is over its high-water mark, else None."""
        ...

    def keep_alive_allowed(self) -> bool:
        """Whether the server still lets this connection serve another request."""
        ...

    async def settle_body(self) -> bool:
        """Discard what the handler left unread; False means the connection must close."""
        ...

    def cancel_continue(self) -> None:
        """The automatic ``100 Continue`` must not be sent any more."""
        ...

    def hijack(self) -> tuple[Any, bytes]:
        """Take the connection over; return it and the bytes read but not parsed."""
        ...

    def set_deadlines(self, read: float | None, write: float | None) -> None:
        """Move the read and/or write deadline (loop time; ``inf`` clears; None keeps)."""
        ...


class Response:
    """The HTTP/1 ``ResponseWriter`` given to async handlers; use only on the event loop."""

    __slots__ = (
        "_body_ok",
        "_buf",
        "_buffered",
        "_chunked",
        "_declared",
        "_full_duplex",
        "_header",
        "_is_head",
        "_minor",
        "_raw",
        "_req",
        "_simple",
        "_sink",
        "_snap",
        "_state",
        "_trailer_names",
        "close_after",
        "hijacked",
        "status",
        "written",
    )

    def __init__(self, req: Request, sink: ResponseSink) -> None:
        self._req = req
        self._sink = sink
        self._minor = req.head.proto_minor
        self._header: Header | None = None
        self._raw: _RawFields | None = None  # fields from add_raw_headers, not yet a Header
        self._snap: _Snapshot | None = None
        self._state = OPEN
        self._buf: list[bytes] = []
        self._buffered = 0
        self._chunked = False
        self._body_ok = True
        self._declared = -1  # the handler's Content-Length, -1 when none
        self._is_head = req.method == "HEAD"
        # HTTP/1.1, kept alive, not HEAD: the fixed half of the fast path's condition.
        self._simple = self._minor == 1 and req.head.keep_alive and not self._is_head
        self._full_duplex = False
        self._trailer_names: list[str] = []
        self.status = 0
        self.written = 0  # body bytes the handler wrote (counted on HEAD too)
        self.close_after = False  # the connection closes after this response
        self.hijacked = False  # the handler took the connection over

    # -- the handler's API -----------------------------------------------------------------

    def header(self) -> Header:
        """The header map; changes after the status is committed do not reach the wire."""
        h = self._header
        if h is None:
            raw = self._raw
            if raw is None:
                h = self._header = Header()
            else:
                self._raw = None
                h = self._header = raw.header()
        return h

    def add_raw_headers(self, pairs: list[tuple[bytes, bytes]] | RawFields) -> None:
        """Add fields given as (name, value) bytes pairs, as ``header().add`` would.

        Names are canonicalised and both halves decoded as latin-1; when the head is
        written, invalid names are dropped and CR, LF and NUL in values become spaces,
        exactly as for fields set through ``header()``. Before anything else touched
        the header map, the pairs are converted once per distinct list and no
        ``Header`` is built unless the handler asks for one (the ASGI adapter's path).
        """
        if self._header is not None or self._raw is not None or self.status:
            h = self.header()
            for name, value in pairs:
                h.add(name.decode("latin-1"), value.decode("latin-1"))
            return
        key = pairs if type(pairs) is tuple else tuple(pairs)
        try:
            raw = _raw_fields.get(key)
        except TypeError:  # pairs given as lists: fine, but not a cache key
            self._raw = _RawFields(key)
            return
        if raw is None:
            raw = _RawFields(key)
            if len(_raw_fields) < _RAW_FIELDS_MAX:
                _raw_fields[key] = raw
        self._raw = raw

    def write_header(self, code: int) -> None:
        """Send ``code``: 1xx at once (repeatable), others once; a repeat is logged, not raised."""
        if not 100 <= code <= 999:
            raise ValueError(f"invalid WriteHeader code {code}")
        if self._state == HIJACKED:
            self._log_misuse("response.WriteHeader on hijacked connection")
            return
        if self.status:
            self._log_misuse("superfluous response.WriteHeader call")
            return
        raw = self._raw
        if raw is not None:
            known = raw.snaps.get(code)
            if known is not None:
                # Converted pairs committed before with this status: same snapshot.
                self.status = code
                self._snap, self._declared = known
                return
            self.header()  # build the Header: the full path below may change it
        if code < 200 and code != 101:
            self._send_informational(code)
            return
        self.status = code
        self._body_ok = code >= 200 and code != 204 and code != 304
        h = self._header
        if h is not None and h._map:
            m = h._map
            if (cls := m.get("Content-Length")) is not None:
                cl = cls[0].strip() if cls else ""
                if cl.isdigit() and cl.isascii():
                    self._declared = int(cl)
                else:
                    self._sink.logger.error("http: invalid Content-Length of %r", cl)
                    del m["Content-Length"]
            if "Trailer" in m:
                self._declare_trailers(m["Trailer"])
            self._snap = snap = _snapshot(m, code, self._sink.logger)
            if raw is not None and _plain_commit(m, raw, snap, code):
                raw.snaps[code] = (snap, self._declared)

    async def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write body bytes; waits while the client is slow to read."""
        state = self._state
        if state > COMMITTED:
            if state == HIJACKED:
                if data:
                    self._log_misuse("response.Write on hijacked connection")
                raise Hijacked()
            raise RuntimeError("write after the handler returned")
        if not self.status:
            if self._header is None and self._raw is None:
                self.status = 200  # implicit 200 with no fields: nothing to snapshot
            else:
                self.write_header(200)
        n = len(data)
        if not n:
            return 0
        if not self._body_ok:
            raise BodyNotAllowed()
        self.written += n
        if self._declared >= 0 and self.written > self._declared:
            raise ContentLengthMismatch()
        if type(data) is not bytes:
            data = bytes(data)
        buffered = self._buffered
        if buffered + n <= BUFFER_SIZE:
            self._buf.append(data)
            self._buffered = buffered + n
            return n
        # Overflow, the way Go's 2 KiB bufio.Writer does it: fill the buffer and send it
        # as one chunk, or send a large write at once when the buffer is empty.
        buf = self._buf
        if buffered:
            fill = BUFFER_SIZE - buffered
            buf.append(data[:fill])
            data = data[fill:]
            first = b"".join(buf)
        else:
            first, data = data, b""
        buf.clear()
        self._buffered = 0
        head = await self._commit(False, first) if state == OPEN else b""
        self._send_body(first, head)
        if data:
            if len(data) > BUFFER_SIZE:
                self._send_body(data)
            else:
                buf.append(data)
                self._buffered = len(data)
        waiter = self._sink.drain()
        if waiter is not None:
            await waiter
        return n

    async def flush(self) -> None:
        """Commit the head and send everything buffered; waits while the client is slow."""
        if self._state == HIJACKED:
            raise Hijacked()
        if self._state == FINISHED:
            return
        if not self.status:
            self.write_header(200)
        data = self._take_buffer()
        head = await self._commit(False, data) if self._state == OPEN else b""
        if data:
            self._send_body(data, head)
        elif head:
            self._sink.send(head)
        waiter = self._sink.drain()
        if waiter is not None:
            await waiter

    def hijack(self) -> tuple[Any, bytes]:
        """Take over the connection: return its ``Conn`` and the bytes already read."""
        if self._state == HIJACKED:
            raise Hijacked()
        if self._state == FINISHED:
            raise RuntimeError("hijack after the handler returned")
        self._sink.cancel_continue()
        if self.status and self._state == OPEN:
            # A 101 written before the hijack goes out first (Go flushes it).
            self._sink.send(self._build_head(False, b""))
        self._state = HIJACKED
        self.hijacked = True
        return self._sink.hijack()

    def enable_full_duplex(self) -> None:
        """Let the handler read the body after writing (Go's EnableFullDuplex)."""
        self._full_duplex = True

    def set_read_deadline(self, deadline: float | None) -> None:
        """Set when body reads start failing (a ``time.monotonic()`` value; None clears)."""
        self._sink.set_deadlines(_loop_time(deadline), None)

    def set_write_deadline(self, deadline: float | None) -> None:
        """Set when the connection is cut if the response is not done (None clears)."""
        self._sink.set_deadlines(None, _loop_time(deadline))

    # -- the connection's API --------------------------------------------------------------

    @property
    def committed(self) -> bool:
        """Whether any byte of the head may have reached the transport."""
        return self._state != OPEN

    async def finish(self) -> None:
        """End the response after the handler returned (Go's finishRequest)."""
        state = self._state
        if state == OPEN:
            if not self.status:
                self.write_header(200)
            if self._req.content_length and not self._full_duplex:
                await self._settle()
            data = self._take_buffer()
            head = self._build_head(True, data)
            if self._chunked:
                # Declared trailers force chunking even for a body that fit the buffer.
                chunk = chunk_header(len(data)) + data + b"\r\n" if data else b""
                self._sink.send(head + chunk + self._trailer_block())
            elif data and not self._is_head:
                self._sink.send(head + data)
            else:
                self._sink.send(head)
        elif state == COMMITTED:
            data = self._take_buffer()
            if data:
                self._send_body(data)
            if self._chunked:
                self._sink.send(self._trailer_block())
            if self._full_duplex and not await self._sink.settle_body():
                self.close_after = True
        else:
            return
        self._state = FINISHED
        mismatch = self._declared >= 0 and self._declared != self.written
        if mismatch and not self._is_head and self._body_ok:
            self.close_after = True

    def abort_buffer(self) -> None:
        """Drop what the handler buffered (its response is replaced by an error)."""
        self._buf.clear()
        self._buffered = 0
        self._state = FINISHED

    # -- internals -------------------------------------------------------------------------

    def _take_buffer(self) -> bytes:
        buf = self._buf
        if not buf:
            return b""
        data = buf[0] if len(buf) == 1 else b"".join(buf)
        buf.clear()
        self._buffered = 0
        return data

    async def _settle(self) -> None:
        if self._req.close or not self._sink.keep_alive_allowed():
            return  # closing anyway: nothing to gain from reading the rest
        if not await self._sink.settle_body():
            self.close_after = True

    async def _commit(self, final: bool, first: bytes) -> bytes:
        """Decide the head (it goes out with the first body bytes, in one write)."""
        if self._req.content_length and not self._full_duplex:
            await self._settle()
        self._sink.cancel_continue()
        self._state = COMMITTED
        return self._build_head(final, first)

    def _send_body(self, data: bytes, head: bytes = b"") -> None:
        """Send body bytes (and the head, when this is the first send) in one write."""
        if self._is_head:
            if head:
                self._sink.send(head)
            return  # HEAD: counted and sniffed, never sent
        parts = [head, chunk_header(len(data)), data, b"\r\n"] if self._chunked else [head, data]
        if len(data) <= _JOIN_MAX:
            self._sink.send(b"".join(parts))
        else:
            # A large body is not copied into a joined buffer: the pieces go to the
            # transport as they are, in one gathered write.
            self._sink.send_many(parts)

    def _build_head(self, final: bool, first: bytes) -> bytes:
        """Serialise the head; ``final``: the handler returned and ``first`` is the body."""
        status = self.status
        minor = self._minor
        table = STATUS_LINE_11 if minor else STATUS_LINE_10
        line = table.get(status) or status_line(minor, status)
        snap = self._snap
        if (
            final
            and self._simple
            and self._body_ok
            and (snap is None or snap.plain)
            and not (self._trailer_names or self.close_after)
            and self._sink.keep_alive_allowed()
        ):
            # The common case, one join: a complete small body on a kept-alive HTTP/1.1
            # connection, and fields that need no framing decisions.
            cl = _CL_LINES[len(first)]
            if snap is None:
                if not first:
                    return b"".join((line, date_line(), cl, b"\r\n"))
                return b"".join((line, date_line(), cl, self._sniffed(first), b"\r\n"))
            if snap.has_ct:
                return b"".join((line, snap.before, snap.after, date_line(), cl, b"\r\n"))
            return b"".join(
                (line, snap.before, snap.after, date_line(), cl, self._sniffed(first), b"\r\n")
            )
        allowed = self._body_ok
        keep = self._req.head.keep_alive and self._sink.keep_alive_allowed()
        if snap is None:
            parts = [line, date_line()]
            has_cl = has_ct = handler_close = False
            te = ""
        else:
            parts = [line, snap.before, snap.connection, snap.after]
            if not snap.has_date:
                parts.append(date_line())
            has_cl = snap.has_cl
            has_ct = snap.has_ct or snap.encoded
            te = snap.te
            handler_close = snap.close
            keep = keep and not handler_close
        # Framing (Go's chunkWriter.writeHeader).
        if not allowed or self._is_head:
            if self._is_head and final and not has_cl and first and allowed:
                parts.append(b"Content-Length: %d\r\n" % len(first))
        elif has_cl:
            pass
        elif final and not self._trailer_names and not te:
            parts.append(b"Content-Length: %d\r\n" % len(first))
        elif minor and te != "identity":
            self._chunked = True
        else:
            keep = False  # the body ends when the connection does
        if allowed and not has_ct and first and not te:
            parts.append(self._sniffed(first))
        if self.close_after:
            keep = False
        if status == 101:
            pass  # the handler's "Connection: Upgrade" stands (Go issue #36381)
        elif not keep:
            self.close_after = True
            if minor and not handler_close:
                if snap is not None and snap.connection:
                    parts[2] = b""  # Go replaces the handler's Connection line
                parts.append(b"Connection: close\r\n")
        elif not minor and not (snap is not None and snap.connection):
            parts.append(b"Connection: keep-alive\r\n")
        if self._chunked:
            parts.append(b"Transfer-Encoding: chunked\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

    @staticmethod
    def _sniffed(first: bytes) -> bytes:
        if not first:
            return b""
        ctype = detect_content_type(first[:SNIFF_LEN])
        line = _CT_LINES.get(ctype)
        if line is None:
            line = _CT_LINES[ctype] = b"Content-Type: " + ctype.encode("ascii") + b"\r\n"
        return line

    def _declare_trailers(self, values: list[str]) -> None:
        for v in values:
            for name in v.split(","):
                name = canonical_header_key(name.strip())
                if name and name not in _BAD_TRAILERS:
                    self._trailer_names.append(name)

    def _trailer_block(self) -> bytes:
        fields: list[tuple[str, str]] = []
        h = self._header
        if h is not None:
            for name in self._trailer_names:
                for v in h.values(name):
                    fields.append((name, sanitize_value(v)))
            for k, vs in h.items():
                if k[:8] == TRAILER_PREFIX:
                    name = canonical_header_key(k[8:])
                    if valid_field_name(name) and name not in _BAD_TRAILERS:
                        fields.extend((name, sanitize_value(v)) for v in vs)
        if not fields:
            return LAST_CHUNK + b"\r\n"
        fields.sort(key=lambda f: f[0])  # Go writes trailers as a Header: sorted keys
        return serialize_trailers(fields)

    def _send_informational(self, code: int) -> None:
        if code == 100:
            self._sink.cancel_continue()
        parts = [status_line(self._minor, code)]
        if self._header is not None:
            for k, vs in sorted(self._header.items()):
                if k in ("Content-Length", "Transfer-Encoding") or k[:8] == TRAILER_PREFIX:
                    continue
                parts.extend(_field_line(k, v) for v in vs)
        parts.append(b"\r\n")
        self._sink.send(b"".join(parts))

    def _log_misuse(self, what: str) -> None:
        frame = sys._getframe(2)
        self._sink.logger.error(
            "http: %s from %s (%s:%d)", what, frame.f_code.co_name,
            frame.f_code.co_filename, frame.f_lineno,
        )  # fmt: skip


def _loop_time(deadline: float | None) -> float:
    # Deadlines are given on time.monotonic()'s clock; the connection keeps the loop's.
    if deadline is None:
        return math.inf
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())


class ResponseController:
    """Per-request control of a response (Go's ``http.ResponseController``).

    Each method looks for the feature on the writer, then on what ``w.unwrap()`` returns,
    and so on, so wrappers (timeouts, loggers, compressors) stay transparent as long as
    they provide ``unwrap()``. A missing feature raises ``NotSupported``. On the loop only.
    """

    __slots__ = ("_w",)

    def __init__(self, w: object) -> None:
        self._w = w

    def _find(self, feature: str) -> Any:
        w = self._w
        for _ in range(100):  # a chain of wrappers, not a cycle
            if hasattr(w, feature):
                return w
            unwrap = getattr(w, "unwrap", None)
            if unwrap is None:
                break
            w = unwrap()
        raise NotSupported(feature)

    async def flush(self) -> None:
        """Send the head and everything buffered."""
        await self._find("flush").flush()

    def hijack(self) -> tuple[Any, bytes]:
        """Take the connection over (see ``Response.hijack``)."""
        result: tuple[Any, bytes] = self._find("hijack").hijack()
        return result

    def enable_full_duplex(self) -> None:
        """Allow reading the request body after the response started."""
        self._find("enable_full_duplex").enable_full_duplex()

    def set_read_deadline(self, deadline: float | None) -> None:
        """Body reads fail after ``deadline`` (``time.monotonic()`` clock; None: none).

        A deadline already passed cannot be extended, as in Go.
        """
        self._find("set_read_deadline").set_read_deadline(deadline)

    def set_write_deadline(self, deadline: float | None) -> None:
        """The connection is cut if the response is not done by ``deadline`` (None: none).

        This is how a streaming handler gets more time than the server's write_timeout.
        """
        self._find("set_write_deadline").set_write_deadline(deadline)


def error(w: ResponseWriter | BlockingResponseWriter, message: str, code: int) -> Any:
    """Reply with ``message`` as plain text and status ``code`` (Go's ``http.Error``).

    Returns an awaitable for async writers; a blocking writer writes at once.
    """
    h = w.header()
    h.delete("Content-Length")
    h.set("Content-Type", "text/plain; charset=utf-8")
    h.set("X-Content-Type-Options", "nosniff")
    w.write_header(code)
    return w.write((message + "\n").encode())


async def not_found(w: ResponseWriter, r: Request) -> None:
    """Reply 404 with Go's body, "404 page not found"."""
    await error(w, "404 page not found", 404)
