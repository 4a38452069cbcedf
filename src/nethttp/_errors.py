"""Every exception nethttp raises, in one tree.

    Exception
    ├── NetHTTPError                  base of everything below
    │   ├── ServerClosed              serve()/listen_and_serve() after shutdown() or close()
    │   ├── ProtocolError             a request broke HTTP/1.1; carries the status to answer
    │   ├── BodyNotAllowed            write() on HEAD-less statuses (1xx, 204, 304)
    │   ├── ContentLengthMismatch     wrote more than the declared Content-Length
    │   ├── Hijacked                  the connection was taken over by hijack()
    │   ├── BodyReadAfterClose        body read after the response finished
    │   ├── MaxBytesError             a body went over a max_bytes limit
    │   ├── NotSupported              a ResponseController feature the writer lacks
    │   ├── FormError (ProtocolError) a form body or query that cannot be parsed (400, 413)
    │   │   ├── NotMultipart          parse_multipart_form on a non-multipart body
    │   │   └── MissingBoundary       multipart/form-data without a boundary
    │   ├── HandlerTimeout            a write after timeout_handler answered 503
    │   ├── NoCookie (LookupError)    r.cookie(name) for a cookie not sent
    │   └── MissingFile (LookupError) r.form_file(name) for a file not sent
    ├── AbortHandler                  raise it to abort a response without a log line
    ├── Canceled                      a Context was cancelled
    └── DeadlineExceeded (TimeoutError)  a Context's deadline passed

Error bodies never echo request bytes: a ProtocolError's reason is a fixed string.
"""

from __future__ import annotations


class NetHTTPError(Exception):
    """Base class of nethttp's own errors."""


class ServerClosed(NetHTTPError):
    """Raised by ``serve`` once the server is shut down or closed (Go's ErrServerClosed)."""

    def __init__(self, msg: str = "http: Server closed") -> None:
        super().__init__(msg)


class ProtocolError(NetHTTPError):
    """A request the server will not serve; ``status`` and ``reason`` say how it answers."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(f"{status} {reason}".rstrip())
        self.status = status
        self.reason = reason


class BodyNotAllowed(NetHTTPError):
    """The request method or response status does not allow a body."""

    def __init__(self) -> None:
        super().__init__("http: request method or response status code does not allow body")


class ContentLengthMismatch(NetHTTPError):
    """The handler wrote more bytes than its declared Content-Length."""

    def __init__(self) -> None:
        super().__init__("http: wrote more than the declared Content-Length")


class Hijacked(NetHTTPError):
    """The connection has been hijacked; the ResponseWriter can no longer be used."""

    def __init__(self) -> None:
        super().__init__("http: connection has been hijacked")


class BodyReadAfterClose(NetHTTPError):
    """The request body was read after the response finished."""

    def __init__(self) -> None:
        super().__init__("http: invalid Read on closed Body")


class MaxBytesError(NetHTTPError):
    """A request body exceeded the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__("http: request body too large")
        self.limit = limit


class NotSupported(NetHTTPError):
    """The ResponseWriter (and what it unwraps to) lacks a feature (Go's ErrNotSupported)."""

    def __init__(self, feature: str) -> None:
        super().__init__(f"feature not supported: {feature}")
        self.feature = feature


class FormError(ProtocolError):
    """A form that cannot be parsed; ``status`` is 400, or 413 for one over a size limit.

    Escaping a handler, it is answered like a refused request (no crash log line).
    """

    def __init__(self, msg: str, status: int = 400) -> None:
        super().__init__(status, "")
        self.args = (msg,)


class NotMultipart(FormError):
    """The request is not ``multipart/form-data`` (Go's ErrNotMultipart)."""

    def __init__(self) -> None:
        super().__init__("request Content-Type isn't multipart/form-data")


class MissingBoundary(FormError):
    """A multipart Content-Type without a boundary (Go's ErrMissingBoundary)."""

    def __init__(self) -> None:
        super().__init__("no multipart boundary param in Content-Type")


class HandlerTimeout(NetHTTPError):
    """A handler wrote after ``timeout_handler`` answered for it (Go's ErrHandlerTimeout)."""

    def __init__(self) -> None:
        super().__init__("http: Handler timeout")


class NoCookie(NetHTTPError, LookupError):
    """The request has no cookie of that name (Go's ErrNoCookie)."""

    def __init__(self) -> None:
        super().__init__("http: named cookie not present")


class MissingFile(NetHTTPError, LookupError):
    """The multipart form has no file of that name (Go's ErrMissingFile)."""

    def __init__(self) -> None:
        super().__init__("http: no such file")


class AbortHandler(Exception):
    """Raise from a handler to abort the response silently (Go's ErrAbortHandler)."""


class Canceled(Exception):
    """A Context was cancelled (Go's context.Canceled)."""

    def __init__(self, msg: str = "context canceled") -> None:
        super().__init__(msg)


class DeadlineExceeded(TimeoutError):
    """A Context's deadline passed (Go's context.DeadlineExceeded)."""

    def __init__(self, msg: str = "context deadline exceeded") -> None:
        super().__init__(msg)
