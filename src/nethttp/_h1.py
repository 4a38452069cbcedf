"""The HTTP/1.1 wire layer: request bytes in, events out; response heads and chunks out.

No sockets, no event loop, no ``Request`` objects: only bytes and small value types, so
every rule here is testable by feeding bytes (whole, byte by byte, with trailing data).

Theory of operation. ``RequestParser`` is pull-based, like h11: ``feed()`` stores bytes,
``next_event()`` parses as far as the caller asks and returns one of

    RequestHead      the request line and header block of the next request
    bytes            a piece of the current request's body (never empty)
    EndOfMessage     the body is complete (with trailers, if chunked); a head whose
                     content_length is 0 has neither body pieces nor EndOfMessage
    None             more bytes are needed
    PEER_CLOSED      the peer closed the connection between requests

and raises ``ProtocolError`` (carrying the status to answer with) on bad input. Once it
has raised, it raises the same error forever: nothing more is read from that connection.
Parsing only on demand is what bounds memory: bytes wait unparsed in one buffer whose
size the connection caps by pausing the transport.

Who checks what:
- The request line is parsed with Go's rules (any token method, case kept; HTTP/1.x
  served as 1.1; 0.9, 2.0 and 3.x refused), and a checked line is remembered.
- Field lines are split on CRLF and each is checked whole against RFC 9112 §5 (a token
  name, no whitespace before the colon, value bytes VCHAR / obs-text / SP / HTAB); this
  refuses obs-fold, bare CR or LF, and CTL or NUL anywhere in a field. Checked lines are
  remembered too: the same lines arrive request after request.
- Bodies are framed here: Content-Length by counting, chunked by the small decoder below.
  One framing path for every request, Upgrade requests included, means a body's bytes
  can never be read as the next request.

Framing rules (RFC 9112 §6.1, §6.3, §7.1; the hardening issue's table):

    input                                                 answer
    Transfer-Encoding: chunked (HTTP/1.1)                 framed by chunks
    any other transfer-coding list                        501, close
    Content-Length together with Transfer-Encoding        400, close
    Transfer-Encoding on an HTTP/1.0 request              400, close
    repeated Content-Length (even equal), non-1*DIGIT     400, close
    bad chunk size, missing CRLF after data, bare LF      400, close
    chunk-size line longer than 4 KiB                     400, close
    obs-fold, space before colon, CTL in a field          400, close
    missing / repeated Host on 1.1, malformed Host        400, close
    version HTTP/1.x (x != 0, 1)                          served as HTTP/1.1
    version HTTP/0.9, 2.0 (except PRI), 3.x               505, close
    request line longer than max_header_bytes             414, close
    request line + header block over max_header_bytes     431, close
"""

from __future__ import annotations

import re
from typing import Final

from ._errors import ProtocolError

__all__ = [
    "LAST_CHUNK",
    "PEER_CLOSED",
    "EndOfMessage",
    "RequestHead",
    "RequestParser",
    "canned_error",
    "chunk_header",
    "serialize_trailers",
]

_METHOD_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Request targets: no controls, no spaces (RFC 9112 §3.2); bytes >= 0x80 pass, as in Go.
_BAD_TARGET_RE = re.compile(rb"[\x00-\x20\x7f]")
_BAD_ESCAPE_RE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_VERSION_RE = re.compile(rb"HTTP/(\d)\.(\d)")
# uri-host [ ":" port ] (RFC 9110 §7.2): an IP-literal or a reg-name.
_HOST_RE = re.compile(r"(?:\[[0-9A-Fa-f:.vV]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?")
_DIGITS_RE = re.compile(rb"[0-9]+")
_HEX_RE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_FIELD_RE = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*"
    rb"((?:[\x21-\x7e\x80-\xff]|[ \t]+[\x21-\x7e\x80-\xff])*)[ \t]*"
)
# A field line Go's textproto reads without complaint, spaces in the name allowed (Go
# keeps such a key, then refuses it as an "invalid header name"); values: HTAB, SP,
# VCHAR, obs-text (its validHeaderValueByte).
_GO_LINE_RE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z ]+):[\t\x20-\x7e\x80-\xff]*")
_CHUNK_EXT_BAD_RE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

# Decoded once: the common methods and versions skip the token check and the decode.
_METHODS: Final = {
    m: m.decode() for m in (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS")
}
_VERSIONS: Final = {b"HTTP/1.1": "HTTP/1.1", b"HTTP/1.0": "HTTP/1.0"}
_MAX_CHUNK_LINE: Final = 4096
_MAX_CL_DIGITS: Final = 18  # fits in 63 bits, as Go requires

# Parser states.
_LINE, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS, _END, _ERROR = range(8)


class _PeerClosed:
    __slots__ = ()

    def __repr__(self) -> str:
        return "PEER_CLOSED"


PEER_CLOSED: Final = _PeerClosed()


class RequestHead:
    """The request line and header block of one request, as parsed and checked."""

    __slots__ = (
        "chunked",
        "content_length",
        "expect_continue",
        "host",
        "keep_alive",
        "method",
        "proto_minor",
        "raw_headers",
        "target",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: str,
        proto_minor: int,
        raw_headers: list[tuple[bytes, bytes]],
        host: str,
        content_length: int,
        chunked: bool,
        keep_alive: bool,
        expect_continue: bool,
        upgrade: bool,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version  # as sent, e.g. "HTTP/1.1"
        self.proto_minor = proto_minor  # 0 or 1: every HTTP/1.x with x >= 1 is served as 1.1
        self.raw_headers = raw_headers  # (name, value) as received; values trimmed of OWS
        self.host = host
        self.content_length = content_length  # -1 when chunked
        self.chunked = chunked
        self.keep_alive = keep_alive  # what the client asked for, by version and Connection
        self.expect_continue = expect_continue
        self.upgrade = upgrade  # the client asked to switch protocols (Connection: upgrade)

    def __repr__(self) -> str:
        return f"RequestHead({self.method} {self.target} {self.version})"


class EndOfMessage:
    """The end of a request body; ``trailers`` holds chunked trailer fields."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.trailers = trailers or []

    def __repr__(self) -> str:
        return f"EndOfMessage({self.trailers!r})"


_END_PLAIN: Final = EndOfMessage()

Event = RequestHead | bytes | EndOfMessage | _PeerClosed | None


class RequestParser:
    """Parse a stream of HTTP/1.1 requests; see the module docstring for the contract."""

    __slots__ = (
        "_body_left",
        "_buf",
        "_eof",
        "_error",
        "_head_bytes",
        "_max_header_bytes",
        "_pos",
        "_scan",
        "_state",
        "_trailers",
    )

    def __init__(self, max_header_bytes: int = 1 << 20) -> None:
        self._max_header_bytes = max_header_bytes
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._state = _LINE
        self._eof = False
        self._error: ProtocolError | None = None
        self._head_bytes = 0  # bytes of the current head (line + fields, or trailers)
        self._body_left = 0
        self._trailers: list[tuple[bytes, bytes]] = []
        self._scan = 0  # how far past _pos the current head was already searched

    # -- input ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Store ``data`` (bytes from the peer) for later parsing."""
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            self._buf = data  # the common case: everything before was consumed
        elif type(buf) is bytearray:
            if pos:
                del buf[:pos]
            buf += data  # amortised O(1): a head trickling in is not copied each time
        else:
            acc = bytearray(buf[pos:])
            acc += data
            self._buf = acc
        self._pos = 0

    def feed_eof(self) -> None:
        """Record that the peer will send nothing more."""
        self._eof = True

    @property
    def buffered(self) -> int:
        """How many received bytes wait unparsed."""
        return len(self._buf) - self._pos

    @property
    def between_requests(self) -> bool:
        """True when no request is partly read (nothing of the next one has arrived)."""
        return self._state == _LINE and self._pos >= len(self._buf)

    @property
    def in_body(self) -> bool:
        """True while the current request's body has not reached its end."""
        return _BODY <= self._state < _END

    def take_buffer(self) -> bytes:
        """Hand over every unparsed byte (for hijack) and stop parsing."""
        data = bytes(self._buf[self._pos :])
        self._buf = b""
        self._pos = 0
        self._state = _ERROR
        self._error = ProtocolError(400, "connection hijacked")
        return data

    # -- output --------------------------------------------------------------------------

    def next_event(self) -> Event:
        """Parse and return the next event, or None when more bytes are needed."""
        state = self._state
        try:
            if state == _LINE:
                return self._read_head()
            if state == _BODY:
                return self._read_body()
            if state == _END:
                self._state = _LINE
                trailers = self._trailers
                if trailers:
                    self._trailers = []
                    return EndOfMessage(trailers)
                return _END_PLAIN
            if state == _ERROR:
                assert self._error is not None
                raise self._error
            return self._read_chunked()
        except ProtocolError as exc:
            self._state = _ERROR
            self._error = exc
            raise

    def _need_more(self) -> None:
        if self._eof:
            # Truncated mid-message: no response can be framed for it, answer nothing.
            raise ProtocolError(0, "unexpected EOF")

    def _read_head(self) -> Event:
        buf = self._buf
        pos = self._pos
        if buf.startswith(b"\r\n", pos):
            # RFC 9112 §2.2: ignore empty lines before a request line (old clients send
            # CRLF after a POST body).
            while buf.startswith(b"\r\n", pos):
                pos += 2
            self._pos = pos
        # Resume the search where the last one stopped: a head trickling in byte by byte
        # must not be rescanned from its start each time.
        end = buf.find(b"\r\n\r\n", pos + self._scan)
        if end < 0:
            return self._head_incomplete(buf, pos)
        self._scan = 0
        line_end = buf.find(b"\r\n", pos, end + 2)
        if line_end - pos > self._max_header_bytes:
            raise ProtocolError(414, "")
        if end + 4 - pos > self._max_header_bytes:
            raise ProtocolError(431, "")
        line = buf[pos:line_end]
        if type(line) is not bytes:
            line = bytes(line)
        parsed = _lines.get(line)
        if parsed is None:
            parsed = self._parse_line(line)
            if len(line) <= 256 and len(_lines) < 4096:
                # A checked request line is remembered: the same few lines repeat on every
                # connection (polling, health checks, the same pages), and checking one
                # costs more than a dict lookup.
                _lines[line] = parsed
        method, target, version, minor = parsed
        self._pos = end + 4
        fields: list[tuple[bytes, bytes]] = []
        if end > line_end:
            block = buf[line_end + 2 : end]
            if type(block) is not bytes:
                block = bytes(block)  # a bytearray's lines would not be hashable
            cache = _fields
            try:
                for raw in block.split(b"\r\n"):
                    field = cache.get(raw)
                    fields.append(_parse_field(raw) if field is None else field)
            except ProtocolError:
                raise _fields_error(block) from None
        return self._finish_head(method, target, version, minor, fields)

    def _head_incomplete(self, buf: bytes | bytearray, pos: int) -> Event:
        avail = len(buf) - pos
        if avail > self._max_header_bytes:
            if buf.find(b"\r\n", pos, pos + self._max_header_bytes + 2) < 0:
                raise ProtocolError(414, "")
            raise ProtocolError(431, "")
        if buf.find(b"\n\n", pos + self._scan) >= 0:
            raise ProtocolError(400, "")  # a head ended by bare LFs (RFC 9112 §2.2)
        self._scan = max(0, avail - 3)
        if self._eof:
            if not avail:
                return PEER_CLOSED
            raise ProtocolError(0, "unexpected EOF")
        return None

    @staticmethod
    def _parse_line(line: bytes) -> tuple[str, str, str, int]:
        method, _, rest = line.partition(b" ")
        target, _, version = rest.partition(b" ")
        name = _METHODS.get(method)
        if name is None:
            if not _METHOD_RE.fullmatch(method):
                raise ProtocolError(400, "")
            name = method.decode("ascii")
        if not target or _BAD_TARGET_RE.search(target):
            raise ProtocolError(400, "")
        if (
            target[0] != 47
            and target != b"*"
            and not (b"://" in target or (method == b"CONNECT" and b"/" not in target))
        ):
            raise ProtocolError(400, "")  # Go: "invalid URI for request"
        if b"%" in target and _BAD_ESCAPE_RE.search(target):
            raise ProtocolError(400, "")  # Go's url.ParseRequestURI refuses a broken %-escape
        if version == b"HTTP/1.1":
            minor = 1
        else:
            m = _VERSION_RE.fullmatch(version)
            if m is None:
                raise ProtocolError(400, "")
            major = m.group(1)[0] - 48
            if major == 1:
                minor = 0 if m.group(2) == b"0" else 1
            elif major == 2 and method == b"PRI" and target == b"*" and m.group(2) == b"0":
                minor = 1  # the HTTP/2 preface: Go hands it to the handler (to hijack)
            else:
                raise ProtocolError(505, "unsupported protocol version")
        return name, target.decode("latin-1"), _VERSIONS.get(version) or version.decode(), minor

    def _finish_head(
        self, method: str, target: str, version: str, minor: int, fields: list[tuple[bytes, bytes]]
    ) -> RequestHead:
        host: bytes | None = None
        framing: list[tuple[bytes, bytes]] | None = None  # fields that decide framing
        for name, value in fields:
            # A length test first: most fields are none of the five this layer reads.
            if len(name) in _INTERESTING_LENGTHS:
                lname = name.lower()
                if lname == b"host" and host is None:
                    host = value
                elif lname in _FRAMING_NAMES:
                    if framing is None:
                        framing = []
                    framing.append((lname, value))
        if framing is None:
            content_length, chunked, expect_continue, upgrade = 0, False, False, False
            keep_alive = minor == 1
        else:
            content_length, chunked, keep_alive, expect_continue, upgrade = self._framing(
                framing, minor
            )
        if host is None:
            host_s = ""
            if minor and method != "CONNECT" and method != "PRI":
                raise ProtocolError(400, "missing required Host header")
        else:
            known = _good_hosts.get(host)
            if known is not None:
                host_s = known
            else:
                host_s = host.decode("latin-1")
                if not _HOST_RE.fullmatch(host_s):
                    raise ProtocolError(400, "malformed Host header")
                if len(_good_hosts) < 1024:
                    _good_hosts[host] = host_s  # a site sees few hosts: skip the regex next time
        if target[0] != "/" and target != "*":
            if method == "CONNECT" and "://" not in target:
                host_s = target  # authority form: the target is the host (Go's URL.Host)
            else:
                # Absolute form: its authority wins over Host (RFC 9112 §3.2.2), as in Go.
                host_s = target.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
        if chunked:
            self._state = _CHUNK_SIZE
        elif content_length:
            self._state = _BODY
            self._body_left = content_length
        # else: no body, no body events; the state stays _LINE for the next request
        return RequestHead(
            method,
            target,
            version,
            minor,
            fields,
            host_s,
            content_length,
            chunked,
            keep_alive,
            expect_continue,
            upgrade,
        )

    def _framing(
        self, framing: list[tuple[bytes, bytes]], minor: int
    ) -> tuple[int, bool, bool, bool, bool]:
        """Judge the fields that frame the body and decide keep-alive (the table above)."""
        content_length = 0
        has_cl = False
        te: bytes = b""
        tes = 0
        connection: list[bytes] = []
        expect = b""
        for lname, value in framing:
            if lname == b"host":
                raise ProtocolError(400, "")  # a second Host field
            if lname == b"content-length":
                if has_cl or not _DIGITS_RE.fullmatch(value) or len(value) > _MAX_CL_DIGITS:
                    raise ProtocolError(400, "")
                has_cl = True
                content_length = int(value)
            elif lname == b"transfer-encoding":
                tes += 1
                te = value
            elif lname == b"connection":
                tokens = _connection_tokens.get(value)
                if tokens is None:
                    tokens = _split_tokens(value)
                connection.extend(tokens)
            else:
                expect = value
        chunked = False
        if tes:
            if minor == 0:
                raise ProtocolError(400, "")  # RFC 9112 §6.1: 1.0 never has TE
            if has_cl:
                raise ProtocolError(400, "")
            if tes > 1 or te.lower() != b"chunked":
                raise ProtocolError(501, "")
            chunked = True
            content_length = -1
        keep_alive = b"close" not in connection if minor else b"keep-alive" in connection
        expect_continue = False
        if expect:
            if expect.lower() != b"100-continue":
                raise ProtocolError(417, "")
            expect_continue = minor == 1 and content_length != 0
        return content_length, chunked, keep_alive, expect_continue, b"upgrade" in connection

    def _read_body(self) -> Event:
        avail = len(self._buf) - self._pos
        if not avail:
            self._need_more()
            return None
        left = self._body_left
        pos = self._pos
        if avail <= left:
            data = self._buf if pos == 0 else self._buf[pos:]
            self._buf = b""
            self._pos = 0
            left -= avail
        else:
            data = self._buf[pos : pos + left]
            self._pos = pos + left
            left = 0
        self._body_left = left
        if not left:
            self._state = _END
        return data if type(data) is bytes else bytes(data)

    # -- chunked (RFC 9112 §7.1) -----------------------------------------------------------

    def _read_chunked(self) -> Event:
        while True:
            state = self._state
            if state == _CHUNK_SIZE:
                if not self._read_chunk_size():
                    return None
            elif state == _CHUNK_DATA:
                data = self._read_body()
                if data is not None and self._state == _END:
                    self._state = _CHUNK_CRLF
                return data
            elif state == _CHUNK_CRLF:
                buf, pos = self._buf, self._pos
                if len(buf) - pos < 2:
                    if buf[pos : pos + 1] not in (b"", b"\r"):
                        raise ProtocolError(400, "")
                    self._need_more()
                    return None
                if buf[pos : pos + 2] != b"\r\n":
                    raise ProtocolError(400, "")
                self._pos = pos + 2
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                if not self._read_trailers():
                    return None
                return self.next_event()
            else:  # pragma: no cover - next_event dispatches only chunked states here
                raise AssertionError(state)

    def _read_chunk_size(self) -> bool:
        buf, pos = self._buf, self._pos
        end = buf.find(b"\n", pos)
        if end < 0:
            if len(buf) - pos > _MAX_CHUNK_LINE:
                raise ProtocolError(400, "")
            self._need_more()
            return False
        if end - pos > _MAX_CHUNK_LINE or end == pos or buf[end - 1] != 13:
            raise ProtocolError(400, "")
        line = buf[pos : end - 1]
        size, _, ext = line.partition(b";")
        if ext and _CHUNK_EXT_BAD_RE.search(ext):
            raise ProtocolError(400, "")
        size = size.rstrip(b" \t")  # BWS before a chunk-ext (RFC 9112 §7.1.1)
        if not _HEX_RE.fullmatch(size):
            raise ProtocolError(400, "")
        n = int(size, 16)
        self._pos = end + 1
        if n:
            self._body_left = n
            self._state = _CHUNK_DATA
        else:
            self._state = _TRAILERS
            self._head_bytes = 0
        return True

    def _read_trailers(self) -> bool:
        buf = self._buf
        while True:
            pos = self._pos
            end = buf.find(b"\n", pos)
            if end < 0:
                if self._head_bytes + len(buf) - pos > self._max_header_bytes:
                    raise ProtocolError(431, "")
                self._need_more()
                return False
            self._head_bytes += end + 1 - pos
            if self._head_bytes > self._max_header_bytes:
                raise ProtocolError(431, "")
            if end == pos or buf[end - 1] != 13:
                raise ProtocolError(400, "")
            self._pos = end + 1
            if end - 1 == pos:
                self._state = _END
                return True
            m = _FIELD_RE.fullmatch(buf, pos, end - 1)
            if m is None:
                raise ProtocolError(400, "")
            self._trailers.append((bytes(m.group(1)), bytes(m.group(2))))


# Lengths of the names _finish_head looks at: host, expect, connection, content-length,
# transfer-encoding. A length test skips the lower() of every other field.
_INTERESTING_LENGTHS: Final = frozenset({4, 6, 10, 14, 17})
_FRAMING_NAMES: Final = frozenset(
    {b"host", b"content-length", b"transfer-encoding", b"connection", b"expect"}
)
_good_hosts: dict[bytes, str] = {}
# Connection values and their lowercased tokens: "keep-alive" on nearly every browser
# request; splitting it anew cost 0.7 us of a 12-field head (bench: see the commit).
_connection_tokens: dict[bytes, tuple[bytes, ...]] = {}


def _split_tokens(value: bytes) -> tuple[bytes, ...]:
    tokens = tuple(t.strip().lower() for t in value.split(b","))
    if len(value) <= 64 and len(_connection_tokens) < 256:
        _connection_tokens[value] = tokens
    return tokens


_lines: dict[bytes, tuple[str, str, str, int]] = {}
# Checked field lines, as (name, value): the same lines ("Accept: */*", a browser's
# User-Agent) arrive on request after request, and a dict lookup costs a fraction of
# the regex (bench/inmem.py, 12 fields: see the commit). Bounded, like _lines.
_fields: dict[bytes, tuple[bytes, bytes]] = {}


def _parse_field(line: bytes) -> tuple[bytes, bytes]:
    """Check one field line (RFC 9112 §5) and split it into name and trimmed value."""
    m = _FIELD_RE.fullmatch(line)
    if m is None:
        # obs-fold, bare CR or LF, a CTL or NUL in the value, no colon, a non-token name.
        raise ProtocolError(400, "")
    field = (m.group(1), m.group(2))
    if len(line) <= 256 and len(_fields) < 4096:
        _fields[line] = field
    return field


def _fields_error(block: bytes) -> ProtocolError:
    """The 400 for a header block with a bad line, with the reason Go would give.

    Go reads every line first (any malformed one: a plain 400), and only then refuses
    a name holding a space as an "invalid header name".
    """
    lines = block.split(b"\r\n")
    if any(line[:1] in (b" ", b"\t") or not _GO_LINE_RE.fullmatch(line) for line in lines):
        return ProtocolError(400, "")
    return ProtocolError(400, "invalid header name")


def chunk_header(size: int) -> bytes:
    """Return the chunk-size line for a chunk of ``size`` bytes."""
    return b"%x\r\n" % size


LAST_CHUNK: Final = b"0\r\n"


def serialize_trailers(fields: list[tuple[str, str]]) -> bytes:
    """Return the last chunk, the trailer section and the final CRLF."""
    parts = [LAST_CHUNK]
    for name, value in fields:
        parts.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))
    parts.append(b"\r\n")
    return b"".join(parts)


_ERROR_HEADERS: Final = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
_STATUS_TEXT: Final = {
    400: b"Bad Request",
    413: b"Request Entity Too Large",
    414: b"Request URI Too Long",
    417: b"Expectation Failed",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
    505: b"HTTP Version Not Supported",
}


def canned_error(status: int, reason: str, date: bytes = b"") -> bytes:
    """Return Go's exact bytes for a request the server refuses before any handler runs.

    ``date`` is the ``Date`` field line, used by the one refusal Go sends through its
    normal response path (417).
    """
    text = _STATUS_TEXT.get(status, b"Bad Request")
    if status == 501:
        # The transfer-coding is not echoed back, to keep attacker bytes off the page.
        return b"HTTP/1.1 501 Not Implemented" + _ERROR_HEADERS + b"Unsupported transfer encoding"
    if status == 417:
        return (
            b"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\n"
            + date
            + b"Content-Length: 0\r\n\r\n"
        )
    public = b"%d %s" % (status, text)
    if reason:
        public += b": " + reason.encode("ascii")
    return b"HTTP/1.1 " + public + _ERROR_HEADERS + public
