"""Status codes, their reason phrases, and the precomputed status lines the writer sends."""

from __future__ import annotations

from http import HTTPStatus

# Go's StatusText table differs from Python's HTTPStatus phrases in a few places; the
# wire must say what Go says.
_GO_TEXT: dict[int, str] = {
    418: "I'm a teapot",
    413: "Request Entity Too Large",
    414: "Request URI Too Long",
    416: "Requested Range Not Satisfiable",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
}

_TEXT: dict[int, str] = {s.value: s.phrase for s in HTTPStatus}
_TEXT.update(_GO_TEXT)
_TEXT.pop(306, None)  # unused in HTTP and absent from Go's table


def status_text(code: int) -> str:
    """Return the reason phrase for ``code``, or "" when it is unknown (as Go's StatusText)."""
    return _TEXT.get(code, "")


def _line(version: bytes, code: int) -> bytes:
    text = _TEXT.get(code)
    if text is None:
        # Go: an unknown code goes out as "<code> status code <code>".
        text = f"status code {code}"
    return b"%s %d %s\r\n" % (version, code, text.encode("latin-1"))


# The head of every response starts with one of these; building them once keeps the
# per-request cost to a dict lookup (issue 5, "precomputed status lines").
STATUS_LINE_11: dict[int, bytes] = {c: _line(b"HTTP/1.1", c) for c in range(100, 600)}
STATUS_LINE_10: dict[int, bytes] = {c: _line(b"HTTP/1.0", c) for c in range(100, 600)}


def status_line(proto_minor: int, code: int) -> bytes:
    """Return the status line (with CRLF) for ``code`` on HTTP/1.``proto_minor``."""
    table = STATUS_LINE_11 if proto_minor else STATUS_LINE_10
    line = table.get(code)
    if line is None:
        line = _line(b"HTTP/1.1" if proto_minor else b"HTTP/1.0", code)
    return line


def body_allowed(code: int) -> bool:
    """Whether a response with this status may carry a body (RFC 9110 §6.4.1)."""
    return not (100 <= code < 200 or code == 204 or code == 304)
