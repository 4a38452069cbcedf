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
from ._cookie import Cookie, SameSite, parse_cookie, parse_set_cookie, set_cookie
from ._errors import (
    AbortHandler,
    BodyNotAllowed,
    BodyReadAfterClose,
    Canceled,
    ContentLengthMismatch,
    DeadlineExceeded,
    FormError,
    HandlerTimeout,
    Hijacked,
    MaxBytesError,
    MissingBoundary,
    MissingFile,
    NetHTTPError,
    NoCookie,
    NotMultipart,
    NotSupported,
    ProtocolError,
    ServerClosed,
)
from ._form.multipart import FileHeader, MultipartForm
from ._handlers import (
    allow_query_semicolons,
    not_found_handler,
    redirect,
    redirect_handler,
    strip_prefix,
    timeout_handler,
)
from ._header import Header, canonical_header_key
from ._listen import Listener, listen, listen_unix
from ._middleware import access_log, limit_concurrency
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
from ._proxy import proxy_headers
from ._request import URL, BlockingBody, Body, Request, max_bytes_reader
from ._response import (
    ResponseController,
    ResponseWriter,
    error,
    not_found,
)
from ._response.blocking import BlockingResponseWriter
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
    "Cookie",
    "DeadlineExceeded",
    "Done",
    "FileHeader",
    "FormError",
    "Handler",
    "HandlerFunc",
    "HandlerTimeout",
    "Header",
    "Hijacked",
    "Listener",
    "MaxBytesError",
    "MissingBoundary",
    "MissingFile",
    "MultipartForm",
    "NetHTTPError",
    "NoCookie",
    "NotMultipart",
    "NotSupported",
    "ProtocolError",
    "Request",
    "ResponseController",
    "ResponseWriter",
    "SERVER_CONTEXT_KEY",
    "SameSite",
    "ServeMux",
    "Server",
    "ServerClosed",
    "TLSInfo",
    "URL",
    "access_log",
    "allow_query_semicolons",
    "as_handler",
    "background",
    "canonical_header_key",
    "default_serve_mux",
    "detect_content_type",
    "error",
    "handle",
    "handle_func",
    "limit_concurrency",
    "listen",
    "listen_unix",
    "max_bytes_handler",
    "max_bytes_reader",
    "not_found",
    "not_found_handler",
    "parse_cookie",
    "parse_set_cookie",
    "proxy_headers",
    "redirect",
    "redirect_handler",
    "run",
    "set_cookie",
    "set_handler_threads",
    "status_text",
    "strip_prefix",
    "timeout_handler",
]
