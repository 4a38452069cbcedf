"""Near-valid requests: valid grammar with one targeted corruption, fuzzed with hypothesis.

Each example is a request built from the grammar (method, target, fields, a body framed
by Content-Length or chunks) with exactly one defect picked from a catalogue of what
smuggling CVEs and RFC 9112 name, followed by a pipelined canary request. The parser
must answer the defect's exact status, emit nothing past the defect, never show the
canary, and do all of it identically whatever way the bytes are split.

``HYPOTHESIS_PROFILE=campaign`` runs the long campaign (see the closing notes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_h1 import METHODS, PCHARS, error_of, field_values, names, run, split_at

settings.register_profile("campaign", max_examples=50_000, deadline=None)
settings.register_profile(
    "ci", max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CANARY = b"GET /canary HTTP/1.1\r\nHost: a\r\n\r\n"


@dataclass
class Req:
    """A request as parts, so a corruption can aim at one of them."""

    method: bytes
    target: bytes
    version: bytes
    fields: list[bytes]  # whole field lines, without CRLF
    body: bytes = b""
    line_end: bytes = b"\r\n"
    max_header_bytes: int = 1 << 20
    notes: list[str] = field(default_factory=list)

    def wire(self) -> bytes:
        head = b" ".join([self.method, self.target, self.version]) + self.line_end
        return head + b"".join(f + b"\r\n" for f in self.fields) + b"\r\n" + self.body


Corruption = Callable[[st.DrawFn, Req], None]
HEAD: dict[str, tuple[int, Corruption]] = {}  # the head is refused: no event at all
BODY: dict[str, tuple[int, Corruption]] = {}  # the head is served, its body's framing fails


def head(name: str, status: int) -> Callable[[Corruption], Corruption]:
    def register(fn: Corruption) -> Corruption:
        HEAD[name] = (status, fn)
        return fn

    return register


def body(name: str) -> Callable[[Corruption], Corruption]:
    def register(fn: Corruption) -> Corruption:
        BODY[name] = (400, fn)
        return fn

    return register


def pick(draw: st.DrawFn, r: Req) -> int:
    return draw(st.integers(0, len(r.fields) - 1))


def insert_at(draw: st.DrawFn, s: bytes, piece: bytes, lo: int = 0, hi: int = -1) -> bytes:
    at = draw(st.integers(lo, len(s) if hi < 0 else hi))
    return s[:at] + piece + s[at:]


CTLS = [bytes([c]) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]
NAME_BREAKERS = [bytes([c]) for c in b'()<>@,;\\"/[]?={} \t\x7f\x80\xe9\x00']
BAD_HOST = [b" ", b"/", b"@", b"\\", b"{", b"\x01", b'"', b"<"]
BAD_LENGTHS = [b"+5", b"-1", b"5 5", b"0x5", b"5a", b"", b"1_0", b"\xb5", b"99999999999999999999"]
BAD_CODINGS = [b"gzip, chunked", b"chunked, chunked", b"identity", b"gzip", b"chunked,", b"x"]


@head("bare LF ends a field line", 400)
def _bare_lf_field(draw: st.DrawFn, r: Req) -> None:
    i = pick(draw, r)
    r.fields[i] = r.fields[i] + b"\n" + draw(st.sampled_from([b"X-A: 1", b"Y: z"]))


@head("bare LF ends the request line", 400)
def _bare_lf_line(draw: st.DrawFn, r: Req) -> None:
    r.line_end = b"\n"


@head("bare CR in a field value", 400)
def _bare_cr(draw: st.DrawFn, r: Req) -> None:
    i = pick(draw, r)
    r.fields[i] = insert_at(draw, r.fields[i], b"\r", r.fields[i].index(b":") + 1)


@head("obs-fold continuation line", 400)
def _obs_fold(draw: st.DrawFn, r: Req) -> None:
    i = pick(draw, r)
    r.fields.insert(i + 1, draw(st.sampled_from([b" folded", b"\tfolded", b" "])))


@head("whitespace before the colon", 400)
def _space_before_colon(draw: st.DrawFn, r: Req) -> None:
    i = pick(draw, r)
    name, _, value = r.fields[i].partition(b":")
    r.fields[i] = name + draw(st.sampled_from([b" ", b"\t", b"  "])) + b":" + value


@head("CTL or NUL in a field value", 400)
def _ctl_in_value(draw: st.DrawFn, r: Req) -> None:
    i = pick(draw, r)
    lo = r.fields[i].index(b":") + 1
    r.fields[i] = insert_at(draw, r.fields[i], draw(st.sampled_from(CTLS)), lo)


@head("a field name that is not a token", 400)
def _bad_name(draw: st.DrawFn, r: Req) -> None:
    i = pick(draw, r)
    name, _, value = r.fields[i].partition(b":")
    if draw(st.booleans()):
        name = insert_at(draw, name, draw(st.sampled_from(NAME_BREAKERS)), 1)
    else:
        name = b""
    r.fields[i] = name + b":" + value


@head("a field line without a colon", 400)
def _no_colon(draw: st.DrawFn, r: Req) -> None:
    r.fields.insert(pick(draw, r), draw(st.sampled_from([b"NoColonHere", b"X-A 1"])))


@head("no Host on HTTP/1.1", 400)
def _no_host(draw: st.DrawFn, r: Req) -> None:
    r.fields = [f for f in r.fields if not f.lower().startswith(b"host:")]


@head("two Host fields", 400)
def _two_hosts(draw: st.DrawFn, r: Req) -> None:
    r.fields.insert(pick(draw, r), draw(st.sampled_from([b"Host: b.example", b"host: a.example"])))


@head("a Host that is not uri-host[:port]", 400)
def _bad_host(draw: st.DrawFn, r: Req) -> None:
    i = next(i for i, f in enumerate(r.fields) if f.lower().startswith(b"host:"))
    # Inside the value: at either end whitespace would be OWS, trimmed, and valid.
    bad = draw(st.sampled_from(BAD_HOST))
    r.fields[i] = b"Host: " + insert_at(draw, b"a.example", bad, 1, len(b"a.example") - 1)


@head("two different Content-Lengths", 400)
def _two_lengths(draw: st.DrawFn, r: Req) -> None:
    n = len(r.body)
    r.fields.insert(pick(draw, r), b"Content-Length: %d" % (n + draw(st.integers(1, 9))))
    r.fields.insert(pick(draw, r), b"Content-Length: %d" % n)


@head("Content-Length that is not 1*DIGIT", 400)
def _bad_length(draw: st.DrawFn, r: Req) -> None:
    r.fields.insert(pick(draw, r), b"Content-Length: " + draw(st.sampled_from(BAD_LENGTHS)))


@head("Content-Length with Transfer-Encoding", 400)
def _length_and_chunked(draw: st.DrawFn, r: Req) -> None:
    r.fields.insert(pick(draw, r), b"Content-Length: %d" % draw(st.integers(0, 50)))
    r.fields.insert(pick(draw, r), b"Transfer-Encoding: chunked")
    r.body = b"0\r\n\r\n"


@head("a transfer-coding list other than chunked", 501)
def _other_coding(draw: st.DrawFn, r: Req) -> None:
    drop_length(r)
    r.fields.insert(pick(draw, r), b"Transfer-Encoding: " + draw(st.sampled_from(BAD_CODINGS)))
    r.body = b"0\r\n\r\n"


@head("Transfer-Encoding on HTTP/1.0", 400)
def _chunked_on_10(draw: st.DrawFn, r: Req) -> None:
    drop_length(r)
    r.version = b"HTTP/1.0"
    r.fields.insert(pick(draw, r), b"Transfer-Encoding: chunked")
    r.body = b"0\r\n\r\n"


@head("a malformed HTTP version", 400)
def _bad_version(draw: st.DrawFn, r: Req) -> None:
    r.version = draw(st.sampled_from([b"http/1.1", b"HTTP/1", b"HTTP/1.10", b"HTTP/ 1.1", b"H"]))


@head("an unsupported HTTP version", 505)
def _unsupported_version(draw: st.DrawFn, r: Req) -> None:
    r.version = draw(st.sampled_from([b"HTTP/2.0", b"HTTP/3.0", b"HTTP/0.9"]))


@head("a request line with extra whitespace", 400)
def _request_line_spaces(draw: st.DrawFn, r: Req) -> None:
    if draw(st.booleans()):
        r.method += b" "
    else:
        r.target = insert_at(draw, r.target, draw(st.sampled_from([b" ", b"\t", b"\x00"])), 1)


@head("a head over max_header_bytes", 431)
def _too_large(draw: st.DrawFn, r: Req) -> None:
    r.fields.append(b"X-Pad: " + b"p" * draw(st.integers(300, 600)))
    r.max_header_bytes = 256


@head("a request line over max_header_bytes", 414)
def _uri_too_long(draw: st.DrawFn, r: Req) -> None:
    r.target = b"/" + b"u" * draw(st.integers(600, 1200))
    r.max_header_bytes = 256


def drop_length(r: Req) -> None:
    """Framing corruptions aim at one rule; a Content-Length beside them would be another."""
    r.fields = [f for f in r.fields if not f.startswith(b"Content-Length")]


def chunked(r: Req) -> None:
    r.fields.insert(0, b"Transfer-Encoding: chunked")


@body("a chunk size that is not hex")
def _chunk_not_hex(draw: st.DrawFn, r: Req) -> None:
    chunked(r)
    # "5 " is not here: Go trims a chunk line's trailing whitespace, and so do we.
    size = draw(st.sampled_from([b"g", b"", b" 5", b"-5", b"0x5", b"+5", b"\x00", b"5\x00"]))
    r.body = size + b"\r\nhello\r\n0\r\n\r\n"


@body("a chunk size past 64 bits")
def _chunk_too_big(draw: st.DrawFn, r: Req) -> None:
    chunked(r)
    r.body = b"1" * draw(st.integers(17, 40)) + b"\r\nhello\r\n0\r\n\r\n"


@body("chunk data not followed by CRLF")
def _chunk_no_crlf(draw: st.DrawFn, r: Req) -> None:
    chunked(r)
    r.body = b"5\r\nhello" + draw(st.sampled_from([b"XX", b"\n", b"x\r\n", b"\r"])) + b"0\r\n\r\n"


@body("a bare LF in chunk framing")
def _chunk_bare_lf(draw: st.DrawFn, r: Req) -> None:
    chunked(r)
    r.body = draw(st.sampled_from([b"5\nhello\r\n0\r\n\r\n", b"5\r\nhello\r\n0\n\r\n"]))


@body("a CTL in a chunk extension")
def _chunk_ext_ctl(draw: st.DrawFn, r: Req) -> None:
    chunked(r)
    r.body = b"5;a=" + draw(st.sampled_from(CTLS)) + b"\r\nhello\r\n0\r\n\r\n"


@body("a malformed trailer field")
def _bad_trailer(draw: st.DrawFn, r: Req) -> None:
    chunked(r)
    r.body = (
        b"0\r\n" + draw(st.sampled_from([b"X : y", b"X: \x00", b" y", b"NoColon"])) + b"\r\n\r\n"
    )


@st.composite
def near_valid(draw: st.DrawFn) -> tuple[bytes, int, bool, int, str]:
    """A corrupted request: (bytes, status, head served first?, max_header_bytes, name)."""
    fields = [
        n + b": " + v for n, v in draw(st.lists(st.tuples(names, field_values()), max_size=4))
    ]
    fields.insert(draw(st.integers(0, len(fields))), b"Host: a.example")
    data = draw(st.binary(max_size=20))
    r = Req(
        method=draw(st.sampled_from(METHODS)).encode(),
        target=b"/" + draw(st.text(PCHARS, max_size=20)).encode(),
        version=b"HTTP/1.1",
        fields=fields,
    )
    if data:
        r.fields.insert(draw(st.integers(0, len(r.fields))), b"Content-Length: %d" % len(data))
        r.body = data
    catalogue = {**HEAD, **BODY}
    name = draw(st.sampled_from(sorted(catalogue)))
    status, corrupt = catalogue[name]
    if name in BODY:
        drop_length(r)
    corrupt(draw, r)
    return r.wire(), status, name in BODY, r.max_header_bytes, name


@given(near_valid(), st.lists(st.integers(0, 2000), max_size=8))
def test_each_corruption_gets_its_status_and_smuggles_nothing(
    case: tuple[bytes, int, bool, int, str], cuts: list[int]
) -> None:
    wire, status, served_head, max_header_bytes, name = case
    stream = wire + CANARY
    events, exc, _ = run([stream], max_header_bytes)
    assert exc is not None, f"{name}: accepted {wire!r}"
    assert exc.status == status, f"{name}: {error_of(exc)} for {wire!r}"
    heads = [e for e in events if e[0] == "head"]
    assert len(heads) == (1 if served_head else 0), f"{name}: {events}"
    assert all(h[1]["target"] != "/canary" for h in heads)
    assert not any(e[0] == "end" for e in events), f"{name}: a broken body ended cleanly"
    # Any split of the same bytes: the same events and the same error.
    split, split_exc, _ = run(split_at(stream, cuts), max_header_bytes)
    assert (split, error_of(split_exc)) == (events, error_of(exc)), name


def test_the_catalogue_covers_the_issue_table() -> None:
    assert len(HEAD) + len(BODY) >= 25
