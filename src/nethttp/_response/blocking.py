"""``BlockingResponseWriter``: the writer plain ``def`` handlers get in their threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._errors import BodyNotAllowed
from .._header import Header
from .._status import body_allowed

if TYPE_CHECKING:
    from . import Response


class BlockingResponseWriter:
    """The ``ResponseWriter`` given to plain ``def`` handlers, which run in worker threads.

    ``write`` buffers on the thread's side and crosses to the event loop only when 64 KiB
    have piled up or on ``flush()``; a handler whose whole body fits never crosses at all,
    so Go's automatic Content-Length still applies. Use from the handler's thread only.
    """

    __slots__ = ("_buf", "_loop", "_pending", "_w")

    CROSS_AT: Final = 65536

    def __init__(self, w: Response, loop: asyncio.AbstractEventLoop) -> None:
        self._w = w
        self._loop = loop
        self._buf: list[bytes] = []
        self._pending = 0

    def header(self) -> Header:
        """The header map that ``write_header`` will send."""
        return self._w.header()

    def write_header(self, code: int) -> None:
        """Send the status code (see ``Response.write_header``)."""
        if 100 <= code < 200 and code != 101:
            self._call(self._sync_call(self._w.write_header, code))
        else:
            self._w.write_header(code)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write body bytes; blocks while the client is slow to read."""
        if not self._w.status:
            self._w.write_header(200)
        n = len(data)
        if not body_allowed(self._w.status) and n:
            raise BodyNotAllowed()
        self._buf.append(bytes(data))
        self._pending += n
        if self._pending >= self.CROSS_AT:
            self._push(flush=False)
        return n

    def flush(self) -> None:
        """Send the head and everything written so far."""
        self._push(flush=True)

    def hijack(self) -> tuple[Any, bytes]:
        """Take over the connection (see ``Response.hijack``)."""
        self._push(flush=False)
        conn, data = self._call(self._sync_call(self._w.hijack))
        return conn, data

    def enable_full_duplex(self) -> None:
        """Let the handler read the body after writing."""
        self._w.enable_full_duplex()

    def set_read_deadline(self, deadline: float | None) -> None:
        """Body reads fail after ``deadline`` (``time.monotonic()`` clock; None: none)."""
        self._call(self._sync_call(self._w.set_read_deadline, deadline))

    def set_write_deadline(self, deadline: float | None) -> None:
        """The connection is cut if the response is not done by ``deadline``."""
        self._call(self._sync_call(self._w.set_write_deadline, deadline))

    def _push(self, flush: bool) -> None:
        data = b"".join(self._buf)
        self._buf.clear()
        self._pending = 0
        self._call(self._push_async(data, flush))

    async def _push_async(self, data: bytes, flush: bool) -> None:
        if data:
            await self._w.write(data)
        if flush:
            await self._w.flush()

    @staticmethod
    async def _sync_call(fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def close(self) -> None:
        """Hand what is still buffered to the loop's writer (called on the loop)."""
        if self._buf and not self._w.hijacked:
            data = b"".join(self._buf)
            self._buf.clear()
            await self._w.write(data)
