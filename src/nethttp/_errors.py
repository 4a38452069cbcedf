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
    │   └── NotSupported              a ResponseController feature the writer lacks
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
