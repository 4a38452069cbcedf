"""Wrapping handlers for operations: ``access_log`` and ``limit_concurrency``.

``access_log`` writes one line per request through ``logging`` (logger
``nethttp.access`` unless given one), in the common or combined log format, each line
ending with the request's duration in seconds (nginx's ``$request_time``), or as one
JSON object. It needs the status and the body bytes the handler wrote. nethttp's own
writer counts both already, so when the wrapper receives it, it passes it on untouched
and reads its counters after the handler returns: nothing is added per write, and a plain
``def`` handler inside (which needs that writer) keeps working. Any other writer (a test
recorder, another wrapper) is wrapped in a counting writer whose ``unwrap()`` returns it,
so ``ResponseController`` still finds flush, hijack and deadlines underneath.

Request bytes that reach a log line (the request line, Referer, User-Agent) are escaped
as Apache does (``\\xhh`` for control characters, quotes and non-ASCII), so a client
cannot forge log lines or send terminal escapes to whoever reads them (CVE-2020-7694).

``limit_concurrency`` answers ``503 Service Unavailable`` (with ``Connection: close``)
once ``n`` requests are being handled in this process, as uvicorn's
``--limit-concurrency`` does, but counting requests in flight rather than connections,
so idle keep-alive clients do not use up the limit.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Final

from ._errors import MaxBytesError, ProtocolError
from ._mux import Handler, as_handler
from ._proxy import split_host_port
from ._request import Request
from ._response import Response, ResponseWriter, error

__all__ = ["access_log", "limit_concurrency"]

FORMATS: Final = ("common", "combined", "json")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip
_UNSAFE: Final = re.compile(r'[^\x20-\x7e]|["\\]')


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in '"\\':
        return "\\" + ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def escape(s: str) -> str:
    """Escape ``s`` for a log line: printable ASCII stays, the rest becomes ``\\xhh``."""
    return _UNSAFE.sub(_escape_char, s) if _UNSAFE.search(s) else s


_clf_second = -1
_clf_time = ""


def _clf_timestamp(t: float) -> str:
    """``10/Oct/2000:13:55:36 -0700`` in local time (English months, whatever the locale)."""
    global _clf_second, _clf_time
    second = int(t)
    if second != _clf_second:
        lt = time.localtime(second)
        offset = lt.tm_gmtoff // 60
        sign = "-" if offset < 0 else "+"
        _clf_time = (
            f"{lt.tm_mday:02d}/{_MONTHS[lt.tm_mon - 1]}/{lt.tm_year}:"
            f"{lt.tm_hour:02d}:{lt.tm_min:02d}:{lt.tm_sec:02d} "
            f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
        )
        _clf_second = second
    return _clf_time


def _iso_timestamp(t: float) -> str:
    lt = time.localtime(t)
    offset = lt.tm_gmtoff // 60
    sign = "-" if offset < 0 else "+"
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", lt)
        + f".{int(t * 1000) % 1000:03d}{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    )


class _CountingWriter:
    """A ResponseWriter that records the status and the body bytes written through it."""

    __slots__ = ("_w", "flushed", "status", "written")

    def __init__(self, w: ResponseWriter) -> None:
        self._w = w
        self.status = 0
        self.written = 0
        self.flushed = False

    def header(self) -> Any:
        """The header map of the writer underneath."""
        return self._w.header()

    def write_header(self, code: int) -> None:
        """Send the status code (1xx codes are not the final status)."""
        if not self.status and (code >= 200 or code == 101):
            self.status = code
        self._w.write_header(code)

    async def write(self, data: bytes) -> int:
        """Write body bytes, counting them."""
        if not self.status:
            self.status = 200
        n = await self._w.write(data)
        self.written += n
        return n

    async def flush(self) -> None:
        """Send the head and everything buffered."""
        if not self.status:
            self.status = 200
        self.flushed = True
        await self._w.flush()

    def unwrap(self) -> ResponseWriter:
        """The writer underneath (for ``ResponseController``)."""
        return self._w


def _failed_status(exc: BaseException) -> int:
    # What the connection answers when an exception escapes before anything was sent.
    if isinstance(exc, MaxBytesError):
        return 413
    if isinstance(exc, ProtocolError):
        return exc.status
    return 500


class _AccessLog:
    __slots__ = ("format", "handler", "logger")

    def __init__(self, handler: Handler, fmt: str, logger: logging.Logger) -> None:
        self.handler = handler
        self.format = fmt
        self.logger = logger

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            await self.handler.serve_http(w, r)
            return
        started = time.time()
        t0 = time.perf_counter()
        counting = None if isinstance(w, Response) else _CountingWriter(w)
        failure: BaseException | None = None
        try:
            await self.handler.serve_http(w if counting is None else counting, r)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            duration = time.perf_counter() - t0
            if counting is None:
                assert isinstance(w, Response)
                status, written, sent = w.status, w.written, w.committed
            else:
                status, written = counting.status, counting.written
                sent = counting.flushed or counting.written > 0
            if failure is not None and not sent:
                status = _failed_status(failure)
            self.log(r, status or 200, written, started, duration)

    def log(self, r: Request, status: int, written: int, started: float, duration: float) -> None:
        """Write the line for one finished request."""
        size = 0 if r.method == "HEAD" else written
        uri = r.request_uri
        extra = {
            "event": "access",
            "remote_addr": r.remote_addr,
            "method": r.method,
            "uri": uri,
            "status": status,
            "bytes": size,
            "duration": duration,
        }
        if self.format == "json":
            line = json.dumps(
                {
                    "time": _iso_timestamp(started),
                    "remote_addr": r.remote_addr,
                    "method": r.method,
                    "uri": uri,
                    "proto": r.proto,
                    "host": r.host,
                    "status": status,
                    "bytes": size,
                    "duration": round(duration, 6),
                    "referer": r.referer(),
                    "user_agent": r.user_agent(),
                }
            )
            self.logger.info("%s", line, extra=extra)
            return
        host = split_host_port(r.remote_addr)[0] or "-"
        request_line = escape(f"{r.method} {uri} {r.proto}")
        tail = ""
        if self.format == "combined":
            tail = f' "{escape(r.referer()) or "-"}" "{escape(r.user_agent()) or "-"}"'
        self.logger.info(
            '%s - - [%s] "%s" %d %s%s %.6f',
            host, _clf_timestamp(started), request_line, status, size or "-", tail, duration,
            extra=extra,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"access_log({self.handler!r}, format={self.format!r})"


def access_log(
    handler: object, format: str = "common", logger: logging.Logger | None = None
) -> Handler:
    """Wrap ``handler`` to log each request: ``"common"``, ``"combined"`` or ``"json"``.

    Lines go to ``logger`` (default ``logging.getLogger("nethttp.access")``) at INFO,
    each record carrying ``event="access"``, ``remote_addr``, ``method``, ``uri``,
    ``status``, ``bytes`` and ``duration`` (seconds) as attributes. When the logger is not
    enabled for INFO the wrapper costs one check per request.
    """
    if format not in FORMATS:
        raise ValueError(f"access log format must be one of {', '.join(FORMATS)}")
    return _AccessLog(as_handler(handler), format, logger or logging.getLogger("nethttp.access"))


class _ConcurrencyLimit:
    __slots__ = ("active", "handler", "limit")

    def __init__(self, handler: Handler, limit: int) -> None:
        self.handler = handler
        self.limit = limit
        self.active = 0

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        if self.active >= self.limit:
            w.header().set("Connection", "close")
            await error(w, "Service Unavailable", 503)
            return
        self.active += 1
        try:
            await self.handler.serve_http(w, r)
        finally:
            self.active -= 1

    def __repr__(self) -> str:
        return f"limit_concurrency({self.handler!r}, {self.limit})"


def limit_concurrency(handler: object, limit: int) -> Handler:
    """Wrap ``handler`` to answer 503 while ``limit`` requests are already in flight.

    Counts requests being handled (not open connections) in this process; the 503 carries
    ``Connection: close`` so a shed client frees its connection. Use on one event loop.
    """
    if limit < 1:
        raise ValueError("the concurrency limit must be at least 1")
    return _ConcurrencyLimit(as_handler(handler), limit)
