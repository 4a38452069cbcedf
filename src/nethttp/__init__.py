"""nethttp: the server half of Go's net/http, for Python on asyncio.

    import nethttp

    async def hello(w, r):
        await w.write(b"Hello, World!")

    nethttp.run(hello, addr="127.0.0.1:8080")

Go's names in snake_case: ``Server``, ``ServeMux``, ``handle_func``, ``ResponseWriter``,
``Request``, ``ConnState``, ``listen_and_serve``... See README.md and docs/.
"""

from ._connection import Conn, ConnState, TLSInfo
from ._context import Context, Done, background
from ._errors import (
    AbortHandler,
    BodyNotAllowed,
    BodyReadAfterClose,
    Canceled,
    ContentLengthMismatch,
    DeadlineExceeded,
    Hijacked,
    MaxBytesError,
    NetHTTPError,
    NotSupported,
    ProtocolError,
    ServerClosed,
)
from ._header import Header, canonical_header_key
from ._listen import Listener, listen, listen_unix
from ._mux import (
    Handler,
    HandlerFunc,
    ServeMux,
    as_handler,
    default_serve_mux,
    handle,
    handle_func,
    max_bytes_handler,
    set_handler_threads,
)
from ._request import URL, BlockingBody, Body, Request, max_bytes_reader
from ._response import (
    BlockingResponseWriter,
    ResponseController,
    ResponseWriter,
    error,
    not_found,
)
from ._server import SERVER_CONTEXT_KEY, Server, run
from ._sniff import detect_content_type
from ._status import status_text

__all__ = [  # noqa: RUF022 - plain sorted order, checked by tests/test_exports.py
    "AbortHandler",
    "BlockingBody",
    "BlockingResponseWriter",
    "Body",
    "BodyNotAllowed",
    "BodyReadAfterClose",
    "Canceled",
    "Conn",
    "ConnState",
    "ContentLengthMismatch",
    "Context",
    "DeadlineExceeded",
    "Done",
    "Handler",
    "HandlerFunc",
    "Header",
    "Hijacked",
    "Listener",
    "MaxBytesError",
    "NetHTTPError",
    "NotSupported",
    "ProtocolError",
    "Request",
    "ResponseController",
    "ResponseWriter",
    "SERVER_CONTEXT_KEY",
    "ServeMux",
    "Server",
    "ServerClosed",
    "TLSInfo",
    "URL",
    "as_handler",
    "background",
    "canonical_header_key",
    "default_serve_mux",
    "detect_content_type",
    "error",
    "handle",
    "handle_func",
    "listen",
    "listen_unix",
    "max_bytes_handler",
    "max_bytes_reader",
    "not_found",
    "run",
    "set_handler_threads",
    "status_text",
]
