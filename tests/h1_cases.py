"""Tables for tests/test_h1.py: one request per row, success rows and error rows.

Every row is fed three ways by the tests (whole, byte by byte, whole followed by a second
pipelined request), so a row states only what one request must produce.

Where the expectation differs from Go it is on purpose and the row says why: the module
docstring of ``nethttp._h1`` documents stricter framing than Go (RFC 9112 allows it).
Reasons follow Go: a non-empty reason only where Go's server answers with a
``statusError`` (``missing required Host header``, ``malformed Host header``,
``invalid header name`` for a space before the colon, ``unsupported protocol version``);
every other refusal is Go's plain ``400 Bad Request`` (reason ``""``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_MAX = 1 << 20
SMALL_MAX = 1024  # max_header_bytes of the size-limit rows

Fields = tuple[tuple[bytes, bytes], ...]


def req(line: bytes, *fields: bytes, body: bytes = b"") -> bytes:
    """A request: ``line``, each field line, the blank line, then ``body``."""
    return line + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n" + body


def get(*fields: bytes, line: bytes = b"GET / HTTP/1.1") -> bytes:
    """A GET with ``Host: a`` first and then ``fields``."""
    return req(line, b"Host: a", *fields)


def chunked(body: bytes, *fields: bytes) -> bytes:
    """A chunked POST whose encoded body is ``body``."""
    return req(b"POST / HTTP/1.1", b"Host: a", b"Transfer-Encoding: chunked", *fields, body=body)


def post(body: bytes, *fields: bytes) -> bytes:
    """A POST with ``fields`` (put the framing header there) and raw ``body`` bytes."""
    return req(b"POST / HTTP/1.1", b"Host: a", *fields, body=body)


@dataclass(frozen=True)
class Ok:
    """A request that parses: ``head`` lists RequestHead attributes to check."""

    id: str
    data: bytes
    head: Mapping[str, object] = field(default_factory=dict)
    body: bytes = b""
    trailers: Fields = ()
    max_header_bytes: int = DEFAULT_MAX


@dataclass(frozen=True)
class Bad:
    """A request refused with ProtocolError(status, reason).

    ``in_body`` says the head was accepted (and delivered) before the body failed.
    """

    id: str
    data: bytes
    status: int
    reason: str = ""
    in_body: bool = False
    max_header_bytes: int = DEFAULT_MAX


MISSING_HOST = "missing required Host header"
BAD_HOST = "malformed Host header"
BAD_NAME = "invalid header name"
BAD_VERSION = "unsupported protocol version"

# -- success rows ---------------------------------------------------------------------------

OK_ROWS: list[Ok] = [
    # Methods: any token, case kept (Go's validMethod).
    Ok("method-GET", get(), {"method": "GET", "target": "/", "version": "HTTP/1.1"}),
    Ok("method-lowercase-kept", get(line=b"get / HTTP/1.1"), {"method": "get"}),
    Ok("method-PURGE", get(line=b"PURGE /x HTTP/1.1"), {"method": "PURGE", "target": "/x"}),
    Ok("method-M-SEARCH", get(line=b"M-SEARCH * HTTP/1.1"), {"method": "M-SEARCH"}),
    Ok(
        "method-all-tchars",
        get(line=b"!#$%&'*+-.^_`|~09aZ / HTTP/1.1"),
        {"method": "!#$%&'*+-.^_`|~09aZ"},
    ),
    Ok(
        "method-OPTIONS-star", get(line=b"OPTIONS * HTTP/1.1"), {"method": "OPTIONS", "target": "*"}
    ),
    # Targets (RFC 9112 §3.2).
    Ok("target-origin-query", get(line=b"GET /a/b?c=d&e#f HTTP/1.1"), {"target": "/a/b?c=d&e#f"}),
    Ok("target-percent-escapes", get(line=b"GET /%41%2f%e9 HTTP/1.1"), {"target": "/%41%2f%e9"}),
    # Bytes >= 0x80 pass as in Go; the target is decoded as latin-1.
    Ok("target-obs-text-bytes", get(line=b"GET /caf\xc3\xa9 HTTP/1.1"), {"target": "/caf\xc3\xa9"}),
    Ok(
        "target-absolute-host-wins",
        req(b"GET http://h/x HTTP/1.1", b"Host: other"),
        {"target": "http://h/x", "host": "h"},
    ),
    Ok(
        "target-absolute-port-query",
        req(b"GET http://h:8080?q HTTP/1.1", b"Host: other"),
        {"host": "h:8080"},
    ),
    Ok(
        "target-absolute-https",
        req(b"GET https://h.example/ HTTP/1.1", b"Host: x"),
        {"host": "h.example"},
    ),
    # CONNECT authority form needs no Host; Go sets Request.Host from the authority.
    Ok(
        "target-connect-authority",
        req(b"CONNECT example.com:443 HTTP/1.1"),
        {"method": "CONNECT", "target": "example.com:443", "host": "example.com:443"},
    ),
    Ok(
        "target-connect-with-host",
        req(b"CONNECT example.com:443 HTTP/1.1", b"Host: example.com:443"),
        {"target": "example.com:443", "host": "example.com:443"},
    ),
    # Versions: HTTP/1.x with x >= 1 is served as 1.1; the version string is kept.
    Ok(
        "version-1.0-no-host",
        req(b"GET / HTTP/1.0"),
        {"version": "HTTP/1.0", "proto_minor": 0, "host": "", "keep_alive": False},
    ),
    Ok(
        "version-1.0-with-host", req(b"GET / HTTP/1.0", b"Host: a"), {"host": "a", "proto_minor": 0}
    ),
    Ok("version-1.1", get(), {"version": "HTTP/1.1", "proto_minor": 1, "keep_alive": True}),
    Ok(
        "version-1.2",
        get(line=b"GET / HTTP/1.2"),
        {"version": "HTTP/1.2", "proto_minor": 1, "keep_alive": True},
    ),
    Ok("version-1.9", get(line=b"GET / HTTP/1.9"), {"version": "HTTP/1.9", "proto_minor": 1}),
    # The HTTP/2 preface is handed over (Go, for h2c hijack); it needs no Host.
    Ok(
        "pri-star-2.0",
        req(b"PRI * HTTP/2.0"),
        {"method": "PRI", "target": "*", "version": "HTTP/2.0", "content_length": 0},
    ),
    # Host (RFC 9112 §3.2, Go's ValidHostHeader).
    Ok(
        "host-port", req(b"GET / HTTP/1.1", b"Host: example.com:8080"), {"host": "example.com:8080"}
    ),
    Ok("host-ipv6", req(b"GET / HTTP/1.1", b"Host: [::1]:8080"), {"host": "[::1]:8080"}),
    Ok("host-empty-allowed", req(b"GET / HTTP/1.1", b"Host:"), {"host": ""}),  # Go: present
    Ok("host-ows-trimmed", req(b"GET / HTTP/1.1", b"Host: \t a.b \t"), {"host": "a.b"}),
    Ok(
        "host-sub-delims",
        req(b"GET / HTTP/1.1", b"Host: a_b-c~d!$&'()*+,;=%41"),
        {"host": "a_b-c~d!$&'()*+,;=%41"},
    ),
    Ok("host-name-case", req(b"GET / HTTP/1.1", b"hOsT: a"), {"host": "a"}),
    # keep_alive: by version and Connection tokens (case-insensitive).
    Ok("conn-1.1-close", get(b"Connection: close"), {"keep_alive": False}),
    Ok("conn-1.1-CLOSE", get(b"Connection: CLOSE"), {"keep_alive": False}),
    Ok("conn-1.1-keep-alive", get(b"Connection: keep-alive"), {"keep_alive": True}),
    Ok("conn-1.1-close-in-list", get(b"Connection: foo, close"), {"keep_alive": False}),
    Ok(
        "conn-1.1-two-lines",
        get(b"Connection: keep-alive", b"Connection: close"),
        {"keep_alive": False},
    ),
    Ok(
        "conn-1.0-keep-alive",
        req(b"GET / HTTP/1.0", b"Connection: keep-alive"),
        {"keep_alive": True},
    ),
    Ok("conn-1.0-close", req(b"GET / HTTP/1.0", b"Connection: close"), {"keep_alive": False}),
    Ok(
        "conn-1.0-Keep-Alive-Upgrade",
        req(b"GET / HTTP/1.0", b"Connection: Keep-Alive, Upgrade"),
        {"keep_alive": True, "upgrade": True},
    ),
    Ok(
        "conn-1.1-Keep-Alive-Upgrade",
        get(b"Connection: Keep-Alive, Upgrade"),
        {"keep_alive": True, "upgrade": True},
    ),
    # Upgrade: only as a Connection option (RFC 9110 §7.8).
    Ok(
        "upgrade-websocket",
        get(b"Connection: Upgrade", b"Upgrade: websocket"),
        {"upgrade": True, "keep_alive": True},
    ),
    Ok(
        "upgrade-close-upgrade",
        get(b"Connection: close,upgrade", b"Upgrade: h2c"),
        {"upgrade": True, "keep_alive": False},
    ),
    Ok("upgrade-header-alone", get(b"Upgrade: websocket"), {"upgrade": False}),
    Ok("no-upgrade", get(), {"upgrade": False}),
    # Expect: 100-continue only on 1.1 with a body (Go's readRequest).
    Ok(
        "expect-cl",
        post(b"hello", b"Content-Length: 5", b"Expect: 100-continue"),
        {"expect_continue": True, "content_length": 5},
        body=b"hello",
    ),
    Ok(
        "expect-case",
        post(b"hello", b"Content-Length: 5", b"Expect: 100-Continue"),
        {"expect_continue": True},
        body=b"hello",
    ),
    Ok(
        "expect-chunked",
        chunked(b"5\r\nhello\r\n0\r\n\r\n", b"Expect: 100-continue"),
        {"expect_continue": True, "chunked": True},
        body=b"hello",
    ),
    Ok("expect-no-body", get(b"Expect: 100-continue"), {"expect_continue": False}),
    Ok(
        "expect-cl-0",
        post(b"", b"Content-Length: 0", b"Expect: 100-continue"),
        {"expect_continue": False, "content_length": 0},
    ),
    Ok(
        "expect-1.0",
        req(b"POST / HTTP/1.0", b"Content-Length: 2", b"Expect: 100-continue", body=b"hi"),
        {"expect_continue": False},
        body=b"hi",
    ),
    # raw_headers: in order, names as sent, values trimmed of OWS on both sides.
    Ok(
        "raw-headers-order-trim",
        get(b"X-B:  two \t", b"x-a:one", b"X-B: three", b"X-Empty:", b"X-Blank:   "),
        {
            "raw_headers": [
                (b"Host", b"a"),
                (b"X-B", b"two"),
                (b"x-a", b"one"),
                (b"X-B", b"three"),
                (b"X-Empty", b""),
                (b"X-Blank", b""),
            ]
        },
    ),
    Ok(
        "raw-headers-inner-ws-kept",
        get(b"X: a \t b"),
        {"raw_headers": [(b"Host", b"a"), (b"X", b"a \t b")]},
    ),
    Ok(
        "raw-headers-obs-text",
        get(b"X: caf\xc3\xa9 \x80\xff"),
        {"raw_headers": [(b"Host", b"a"), (b"X", b"caf\xc3\xa9 \x80\xff")]},
    ),
    Ok(
        "raw-headers-all-tchar-name",
        get(b"!#$%&'*+-.^_`|~09aZ: v"),
        {"raw_headers": [(b"Host", b"a"), (b"!#$%&'*+-.^_`|~09aZ", b"v")]},
    ),
    Ok(
        "raw-headers-quotes-and-seps",
        get(b'X: "a, b"; q=0.5 (c) <d> @[]{}\\/?='),
        {"raw_headers": [(b"Host", b"a"), (b"X", b'"a, b"; q=0.5 (c) <d> @[]{}\\/?=')]},
    ),
    # RFC 9112 §2.2: empty lines before a request line are ignored.
    Ok("leading-crlf", b"\r\n" + get(), {"method": "GET"}),
    Ok("leading-crlf-many", b"\r\n\r\n\r\n" + get(), {"method": "GET"}),
    # Content-Length bodies.
    Ok(
        "cl-5",
        post(b"hello", b"Content-Length: 5"),
        {"content_length": 5, "chunked": False},
        body=b"hello",
    ),
    Ok(
        "cl-leading-zeros",
        post(b"hello", b"Content-Length: 005"),
        {"content_length": 5},
        body=b"hello",
    ),
    Ok("cl-ows", post(b"hello", b"Content-Length: \t5 \t"), {"content_length": 5}, body=b"hello"),
    Ok("cl-name-case", post(b"hello", b"content-LENGTH: 5"), {"content_length": 5}, body=b"hello"),
    Ok(
        "cl-binary-body",
        post(b"\r\n\x00GET / HTTP/1.1\r\n", b"Content-Length: 19"),
        {"content_length": 19},
        body=b"\r\n\x00GET / HTTP/1.1\r\n",
    ),
    Ok("cl-0-no-events", post(b"", b"Content-Length: 0"), {"content_length": 0}),
    Ok("no-cl-no-body", post(b""), {"content_length": 0, "chunked": False}),
    Ok(
        "cl-1.0",
        req(b"POST / HTTP/1.0", b"Content-Length: 3", body=b"abc"),
        {"content_length": 3},
        body=b"abc",
    ),
    # Chunked bodies (RFC 9112 §7.1).
    Ok(
        "chunked-one",
        chunked(b"5\r\nhello\r\n0\r\n\r\n"),
        {"chunked": True, "content_length": -1},
        body=b"hello",
    ),
    Ok("chunked-many", chunked(b"1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n"), body=b"abcdef"),
    Ok("chunked-empty", chunked(b"0\r\n\r\n"), {"chunked": True}),
    Ok("chunked-uppercase-hex", chunked(b"A\r\n0123456789\r\n0\r\n\r\n"), body=b"0123456789"),
    Ok("chunked-lowercase-hex", chunked(b"a\r\n0123456789\r\n0\r\n\r\n"), body=b"0123456789"),
    Ok("chunked-mixed-hex", chunked(b"1F\r\n" + b"x" * 31 + b"\r\n0\r\n\r\n"), body=b"x" * 31),
    Ok("chunked-leading-zeros", chunked(b"0005\r\nhello\r\n000\r\n\r\n"), body=b"hello"),
    Ok("chunked-ext", chunked(b"5;name=value\r\nhello\r\n0;last\r\n\r\n"), body=b"hello"),
    Ok("chunked-ext-quoted", chunked(b'5;a;b="q s\\"";c=d\r\nhello\r\n0\r\n\r\n'), body=b"hello"),
    Ok("chunked-bws-before-ext", chunked(b"5 ;a=b\r\nhello\r\n0\t;x\r\n\r\n"), body=b"hello"),
    Ok(
        "chunked-trailers",
        chunked(b"5\r\nhello\r\n0\r\nX-T: 1\r\nx-y:  two \r\n\r\n"),
        body=b"hello",
        trailers=((b"X-T", b"1"), (b"x-y", b"two")),
    ),
    Ok(
        "chunked-empty-trailers",
        chunked(b"0\r\nChecksum: abc\r\n\r\n"),
        trailers=((b"Checksum", b"abc"),),
    ),
    Ok(
        "chunked-data-looks-like-request",
        chunked(b"12\r\nGET / HTTP/1.1\r\n\r\n\r\n0\r\n\r\n"),
        body=b"GET / HTTP/1.1\r\n\r\n",
    ),
    Ok(
        "chunked-name-value-case",
        req(
            b"POST / HTTP/1.1",
            b"Host: a",
            b"transfer-encoding: Chunked",
            body=b"2\r\nhi\r\n0\r\n\r\n",
        ),
        {"chunked": True},
        body=b"hi",
    ),
    Ok(
        "chunked-te-ows",
        req(
            b"POST / HTTP/1.1",
            b"Host: a",
            b"Transfer-Encoding:  chunked \t",
            body=b"2\r\nhi\r\n0\r\n\r\n",
        ),
        {"chunked": True},
        body=b"hi",
    ),
    Ok(
        "chunked-1.2",
        req(
            b"POST / HTTP/1.2",
            b"Host: a",
            b"Transfer-Encoding: chunked",
            body=b"2\r\nhi\r\n0\r\n\r\n",
        ),
        {"chunked": True},
        body=b"hi",
    ),
    # Size limits: a head well under max_header_bytes is fine.
    Ok("head-under-limit", get(b"X: " + b"a" * 900), {"method": "GET"}, max_header_bytes=SMALL_MAX),
    Ok(
        "trailers-under-limit",
        chunked(b"0\r\nX: " + b"a" * 900 + b"\r\n\r\n"),
        trailers=((b"X", b"a" * 900),),
        max_header_bytes=SMALL_MAX,
    ),
    Ok(
        "body-not-counted-in-limit",
        post(b"b" * 5000, b"Content-Length: 5000"),
        {"content_length": 5000},
        body=b"b" * 5000,
        max_header_bytes=SMALL_MAX,
    ),
]

# -- error rows -----------------------------------------------------------------------------

BAD_ROWS: list[Bad] = [
    # Request line: Go's parseRequestLine, validMethod, ParseHTTPVersion, ParseRequestURI.
    Bad("line-bare-lf", b"GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
    Bad("line-empty-method", get(line=b" / HTTP/1.1"), 400),
    Bad("line-bad-method-char", get(line=b"GE(T / HTTP/1.1"), 400),
    Bad("line-method-nonascii", get(line=b"G\xc3\x89T / HTTP/1.1"), 400),
    Bad("line-two-spaces", get(line=b"GET  / HTTP/1.1"), 400),
    Bad("line-tab-separator", get(line=b"GET\t/ HTTP/1.1"), 400),
    Bad("line-space-in-target", get(line=b"GET /x y HTTP/1.1"), 400),
    Bad("line-trailing-space", get(line=b"GET / HTTP/1.1 "), 400),
    Bad("line-no-version", get(line=b"GET /"), 400),
    Bad("line-http-0.9-form", b"GET /\r\n\r\n", 400),
    Bad("line-empty-target", get(line=b"GET  HTTP/1.1"), 400),
    Bad("line-only-method", b"GET\r\n\r\n", 400),
    Bad("target-ctl", get(line=b"GET /a\x01b HTTP/1.1"), 400),
    Bad("target-nul", get(line=b"GET /a\x00b HTTP/1.1"), 400),
    Bad("target-del", get(line=b"GET /a\x7fb HTTP/1.1"), 400),
    Bad("target-tab", get(line=b"GET /a\tb HTTP/1.1"), 400),
    Bad("target-cr", get(line=b"GET /a\rb HTTP/1.1"), 400),
    Bad("target-bad-escape-zz", get(line=b"GET /%zz HTTP/1.1"), 400),
    Bad("target-bad-escape-short", get(line=b"GET /a%4 HTTP/1.1"), 400),
    Bad("target-bad-escape-end", get(line=b"GET /a% HTTP/1.1"), 400),
    # Go's url.ParseRequestURI: "invalid URI for request" (RFC 9112 §3.2: origin-form
    # starts with "/"; authority-form is for CONNECT only).
    Bad("target-relative", get(line=b"GET foo HTTP/1.1"), 400),
    Bad("target-authority-not-connect", get(line=b"GET example.com:80 HTTP/1.1"), 400),
    Bad("version-lowercase", get(line=b"GET / http/1.1"), 400),
    Bad("version-1.10", get(line=b"GET / HTTP/1.10"), 400),
    Bad("version-no-minor", get(line=b"GET / HTTP/1"), 400),
    Bad("version-11", get(line=b"GET / HTTP/11"), 400),
    Bad("version-letters", get(line=b"GET / HTTP/a.b"), 400),
    Bad("version-plus", get(line=b"GET / HTTP/+.1"), 400),
    Bad("version-trailing", get(line=b"GET / HTTP/1.1x"), 400),
    Bad("version-other-proto", get(line=b"GET / FTP/1.1"), 400),
    Bad("version-2.0", get(line=b"GET / HTTP/2.0"), 505, BAD_VERSION),
    Bad("version-0.9", get(line=b"GET / HTTP/0.9"), 505, BAD_VERSION),
    Bad("version-3.0", get(line=b"GET / HTTP/3.0"), 505, BAD_VERSION),
    Bad("version-9.9", get(line=b"GET / HTTP/9.9"), 505, BAD_VERSION),
    Bad("pri-not-star", req(b"PRI / HTTP/2.0"), 505, BAD_VERSION),
    Bad("pri-2.1", req(b"PRI * HTTP/2.1"), 505, BAD_VERSION),
    Bad("get-star-2.0", req(b"GET * HTTP/2.0"), 505, BAD_VERSION),
    # Host (RFC 9112 §3.2: a 1.1 request without exactly one Host is answered 400).
    Bad("host-missing-1.1", req(b"GET / HTTP/1.1"), 400, MISSING_HOST),
    Bad("host-missing-1.2", req(b"GET / HTTP/1.2"), 400, MISSING_HOST),
    Bad("host-missing-absolute", req(b"GET http://h/x HTTP/1.1"), 400, MISSING_HOST),
    Bad(
        "host-missing-other-fields",
        req(b"POST / HTTP/1.1", b"Content-Length: 0"),
        400,
        MISSING_HOST,
    ),
    Bad("host-twice", get(b"Host: b"), 400),  # Go: "too many Host headers", a plain 400
    Bad("host-twice-equal", get(b"Host: a"), 400),
    Bad("host-twice-case", get(b"HOST: a"), 400),
    Bad("host-twice-1.0", req(b"GET / HTTP/1.0", b"Host: a", b"Host: b"), 400),
    Bad("host-space", req(b"GET / HTTP/1.1", b"Host: a b"), 400, BAD_HOST),
    Bad("host-slash", req(b"GET / HTTP/1.1", b"Host: a/b"), 400, BAD_HOST),
    Bad("host-at", req(b"GET / HTTP/1.1", b"Host: u@a"), 400, BAD_HOST),
    Bad("host-unclosed-ipv6", req(b"GET / HTTP/1.1", b"Host: [::1"), 400, BAD_HOST),
    Bad("host-backslash", req(b"GET / HTTP/1.1", b"Host: a\\b"), 400, BAD_HOST),
    Bad("host-obs-text", req(b"GET / HTTP/1.1", b"Host: caf\xc3\xa9"), 400, BAD_HOST),
    Bad("host-malformed-1.0", req(b"GET / HTTP/1.0", b"Host: a b"), 400, BAD_HOST),
    # Go checks the Host field even when an absolute-form target supplies the host.
    Bad("host-malformed-absolute", req(b"GET http://h/x HTTP/1.1", b"Host: a b"), 400, BAD_HOST),
    # Field syntax (RFC 9110 §5.5, RFC 9112 §5): each line checked whole, Go's plain 400.
    Bad("field-nul", get(b"X: a\x00b"), 400),
    Bad("field-ctl-01", get(b"X: a\x01b"), 400),
    Bad("field-vt", get(b"X: a\x0bb"), 400),
    Bad("field-del", get(b"X: a\x7fb"), 400),
    Bad("field-bare-cr", get(b"X: a\rb"), 400),
    Bad("field-bare-cr-injection", get(b"X: a\rSet-Cookie: b"), 400),  # CVE-2020-7695 shape
    Bad("field-bare-lf-inside", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n", 400),
    Bad("field-bare-lf-end", b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400),
    Bad("field-bare-lf-blank", b"GET / HTTP/1.1\r\nHost: a\r\n\n", 400),
    Bad("field-obs-fold-space", get(b"X: a", b" b"), 400),  # RFC 9112 §5.2 allows rejecting
    Bad("field-obs-fold-tab", get(b"X: a", b"\tb"), 400),
    Bad("field-leading-ws-first-line", req(b"GET / HTTP/1.1", b" Host: a"), 400),
    Bad("field-no-colon", get(b"Xv"), 400),
    Bad("field-empty-name", get(b": v"), 400),
    Bad("field-name-paren", get(b"X(: v"), 400),
    Bad("field-name-slash", get(b"X/Y: v"), 400),
    Bad("field-name-nonascii", get(b"X\xe9: v"), 400),
    Bad("field-name-nul", get(b"X\x00: v"), 400),
    Bad("field-space-before-colon", get(b"X : v"), 400, BAD_NAME),  # Go: invalid header name
    Bad("field-tab-before-colon", get(b"X\t: v"), 400),
    # Go reads every line before judging names: any malformed line makes it a plain 400
    # (checked against Go 1.27's server, byte for byte).
    Bad("field-space-in-name", get(b"X Y: v"), 400, BAD_NAME),
    Bad("field-space-in-name-no-colon", get(b"! o"), 400),
    Bad("field-space-in-name-then-no-colon", get(b"X Y: v", b"Z"), 400),
    Bad("field-no-colon-then-space-in-name", get(b"Z", b"X Y: v"), 400),
    Bad("field-space-in-name-then-ctl", get(b"X Y: v", b"A: \x01"), 400),
    Bad("field-space-before-colon-cl", post(b"hello", b"Content-Length : 5"), 400, BAD_NAME),
    # Content-Length (RFC 9110 §8.6: 1*DIGIT, one field).
    Bad("cl-plus", post(b"hello", b"Content-Length: +5"), 400),
    Bad("cl-minus", post(b"", b"Content-Length: -5"), 400),
    Bad("cl-inner-space", post(b"hello", b"Content-Length: 5 5"), 400),
    Bad("cl-hex", post(b"hello", b"Content-Length: 0x5"), 400),
    Bad("cl-empty", post(b"", b"Content-Length:"), 400),
    Bad("cl-blank", post(b"", b"Content-Length:   "), 400),
    Bad("cl-list", post(b"hello", b"Content-Length: 5, 5"), 400),
    Bad("cl-letter", post(b"hello", b"Content-Length: 5a"), 400),
    Bad("cl-decimal", post(b"hello", b"Content-Length: 5.0"), 400),
    Bad("cl-unicode-digit", post(b"hello", b"Content-Length: \xd9\xa5"), 400),
    Bad("cl-duplicate-equal", post(b"hello", b"Content-Length: 5", b"Content-Length: 5"), 400),
    Bad("cl-duplicate-differ", post(b"hello", b"Content-Length: 5", b"Content-Length: 6"), 400),
    Bad("cl-19-digits", post(b"", b"Content-Length: 10000000000000000000"), 400),
    Bad("cl-20-digits", post(b"", b"Content-Length: 99999999999999999999"), 400),
    # Transfer-Encoding (RFC 9112 §6.1, §6.3; the smuggling CVEs).
    Bad("te-cl", post(b"0\r\n\r\n", b"Transfer-Encoding: chunked", b"Content-Length: 5"), 400),
    Bad("cl-te", post(b"0\r\n\r\n", b"Content-Length: 5", b"Transfer-Encoding: chunked"), 400),
    Bad("cl0-te", post(b"0\r\n\r\n", b"Content-Length: 0", b"Transfer-Encoding: chunked"), 400),
    Bad("te-cl-gzip", post(b"", b"Transfer-Encoding: gzip", b"Content-Length: 0"), 400),
    Bad("te-1.0", req(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), 400),
    Bad("te-1.0-gzip", req(b"POST / HTTP/1.0", b"Transfer-Encoding: gzip"), 400),
    Bad("te-gzip", post(b"", b"Transfer-Encoding: gzip"), 501),
    Bad("te-identity", post(b"", b"Transfer-Encoding: identity"), 501),
    Bad("te-gzip-chunked", post(b"0\r\n\r\n", b"Transfer-Encoding: gzip, chunked"), 501),
    Bad("te-chunked-gzip", post(b"0\r\n\r\n", b"Transfer-Encoding: chunked, gzip"), 501),
    Bad("te-chunked-chunked", post(b"0\r\n\r\n", b"Transfer-Encoding: chunked, chunked"), 501),
    Bad(
        "te-two-fields-chunked",
        post(b"0\r\n\r\n", b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"),
        501,
    ),
    # CVE-2024-1135 (gunicorn): a second TE field must not be ignored.
    Bad(
        "te-two-fields-identity",
        post(b"0\r\n\r\n", b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity"),
        501,
    ),
    Bad("te-xchunked", post(b"0\r\n\r\n", b"Transfer-Encoding: xchunked"), 501),
    Bad("te-chunkedx", post(b"0\r\n\r\n", b"Transfer-Encoding: chunkedx"), 501),
    Bad("te-chunked-semicolon", post(b"0\r\n\r\n", b"Transfer-Encoding: chunked;q=1"), 501),
    Bad("te-leading-comma", post(b"0\r\n\r\n", b"Transfer-Encoding: ,chunked"), 501),
    Bad("te-empty", post(b"", b"Transfer-Encoding:"), 501),
    Bad("te-vt-chunked", post(b"0\r\n\r\n", b"Transfer-Encoding: \x0bchunked"), 400),
    Bad("te-chunked-vt", post(b"0\r\n\r\n", b"Transfer-Encoding: chunked\x0b"), 400),
    Bad("te-space-before-colon", post(b"0\r\n\r\n", b"Transfer-Encoding : chunked"), 400, BAD_NAME),
    # Expect (RFC 9110 §10.1.1): anything but 100-continue is 417.
    Bad("expect-foo", get(b"Expect: foo"), 417),
    Bad("expect-foo-body", post(b"hello", b"Content-Length: 5", b"Expect: 102-processing"), 417),
    # Chunked framing (RFC 9112 §7.1).
    Bad("chunk-size-0x", chunked(b"0x5\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-size-minus", chunked(b"-1\r\nh\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-size-plus", chunked(b"+5\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-size-leading-space", chunked(b" 5\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-size-empty", chunked(b"\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-size-not-hex", chunked(b"g\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-size-inner-space", chunked(b"5 5\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad(
        "chunk-size-16-digits",
        chunked(b"1000000000000000\r\nhello\r\n0\r\n\r\n"),
        400,
        in_body=True,
    ),
    Bad("chunk-size-16-f", chunked(b"ffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    # Go's parseHexUint counts every digit, leading zeros too.
    Bad(
        "chunk-size-16-zeros", chunked(b"0000000000000005\r\nhello\r\n0\r\n\r\n"), 400, in_body=True
    ),
    Bad("chunk-size-huge", chunked(b"f" * 40 + b"\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-line-bare-lf", chunked(b"5\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-last-bare-lf", chunked(b"5\r\nhello\r\n0\n\r\n"), 400, in_body=True),
    Bad("chunk-line-bare-cr", chunked(b"5\rhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-ext-bare-lf", chunked(b"5;a\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-ext-ctl", chunked(b"5;a=\x01\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-ext-nul", chunked(b"5;\x00\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-ext-bare-cr", chunked(b"5;a\rb\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    # CVE-2025-43859 (h11): the two bytes after chunk data must be CRLF, not any two bytes.
    Bad("chunk-data-no-crlf", chunked(b"5\r\nhelloXX0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-data-lf-only", chunked(b"5\r\nhello\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-data-cr-only", chunked(b"5\r\nhello\r0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-data-too-long", chunked(b"3\r\nhello\r\n0\r\n\r\n"), 400, in_body=True),
    Bad("chunk-data-lf-cr", chunked(b"5\r\nhello\n\r0\r\n\r\n"), 400, in_body=True),
    Bad(
        "chunk-line-over-4k",
        chunked(b"5;" + b"a" * 4200 + b"\r\nhello\r\n0\r\n\r\n"),
        400,
        in_body=True,
    ),
    Bad(
        "chunk-zeros-over-4k", chunked(b"0" * 4200 + b"5\r\nhello\r\n0\r\n\r\n"), 400, in_body=True
    ),
    Bad("trailer-bare-lf", chunked(b"0\r\nX: 1\n\r\n"), 400, in_body=True),
    Bad("trailer-end-bare-lf", chunked(b"0\r\nX: 1\r\n\n"), 400, in_body=True),
    Bad("trailer-no-colon", chunked(b"0\r\nbad trailer\r\n\r\n"), 400, in_body=True),
    Bad("trailer-obs-fold", chunked(b"0\r\nX: 1\r\n 2\r\n\r\n"), 400, in_body=True),
    Bad("trailer-space-before-colon", chunked(b"0\r\nX : 1\r\n\r\n"), 400, in_body=True),
    Bad("trailer-nul", chunked(b"0\r\nX: a\x00b\r\n\r\n"), 400, in_body=True),
    Bad("trailer-bare-cr", chunked(b"0\r\nX: a\rb\r\n\r\n"), 400, in_body=True),
    # Size limits (max_header_bytes = 1024).
    Bad(
        "line-over-limit",
        get(line=b"GET /" + b"a" * 2000 + b" HTTP/1.1"),
        414,
        max_header_bytes=SMALL_MAX,
    ),
    Bad("line-over-limit-no-lf", b"GET /" + b"a" * 2000, 414, max_header_bytes=SMALL_MAX),
    Bad("head-one-huge-field", get(b"X: " + b"a" * 2000), 431, max_header_bytes=SMALL_MAX),
    Bad(
        "head-many-fields",
        get(*(b"X-%d: v" % i for i in range(150))),
        431,
        max_header_bytes=SMALL_MAX,
    ),
    Bad(
        "head-huge-field-no-end",
        b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 2000,
        431,
        max_header_bytes=SMALL_MAX,
    ),
    Bad(
        "trailers-one-huge",
        chunked(b"0\r\nX: " + b"a" * 2000 + b"\r\n\r\n"),
        431,
        in_body=True,
        max_header_bytes=SMALL_MAX,
    ),
    Bad(
        "trailers-many",
        chunked(b"0\r\n" + b"".join(b"T-%d: v\r\n" % i for i in range(150)) + b"\r\n"),
        431,
        in_body=True,
        max_header_bytes=SMALL_MAX,
    ),
]
