"""ServeMux patterns: parsing, and how two patterns relate (a port of Go's ``pattern.go``).

A pattern is ``[METHOD ][HOST]/[PATH]``. PATH is made of segments: a literal (compared
after percent-decoding that one segment, so ``/%61`` is ``/a`` and ``%2F`` never splits),
``{name}`` (one segment), ``{name...}`` (the rest of the path, last only) or ``{$}`` (the
end of a path that ends in a slash, last only). A path ending in ``/`` ends in an anonymous
``{...}``.

As in Go, the parsed form differs from the surface syntax so the algorithms stay simple:
a trailing slash is a nameless multi segment, and ``{$}`` is the literal segment ``"/"``
(a request's trailing slash is the segment ``"/"`` too).

Precedence is decided here, once, when a pattern is registered: the most specific pattern
wins, a pattern with a host beats one without, and two patterns that both match some
request with neither more specific *conflict*, which the mux refuses with an explanation
and an example path (``describe_conflict``). Matching itself (``_routing``) never compares
patterns.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import unquote


class Segment(NamedTuple):
    """One piece of a pattern's path: a literal, a ``{name}`` or a ``{name...}``."""

    s: str  # the literal (unescaped), the wildcard name, or "/" for "{$}"
    wild: bool = False
    multi: bool = False


class Pattern:
    """A parsed pattern (build it with ``parse_pattern``)."""

    __slots__ = (
        "host",
        "last_multi",
        "loc",
        "method",
        "named_multi",
        "segments",
        "str",
        "wildcards",
    )

    def __init__(self, s: str, method: str, host: str, segments: tuple[Segment, ...]) -> None:
        self.str = s
        self.method = method
        self.host = host
        self.segments = segments
        self.loc = ""  # where it was registered, for conflict messages
        last = segments[-1]
        self.last_multi = last.multi
        # An anonymous multi (a trailing slash) records no match, as in Go.
        self.named_multi = last.multi and last.s != ""
        self.wildcards = tuple(seg.s for seg in segments if seg.wild and seg.s)

    def __str__(self) -> str:
        return self.str

    def __repr__(self) -> str:
        return f"Pattern({self.str!r})"

    # -- relationships ---------------------------------------------------------------------

    def conflicts_with(self, other: Pattern) -> bool:
        """Whether a request matches both and neither has precedence (Go's conflictsWith)."""
        if self.host != other.host:
            # Either one has a host and wins, or the hosts differ and never both match.
            return False
        rel = self.compare_paths_and_methods(other)
        return rel is Relationship.EQUIVALENT or rel is Relationship.OVERLAPS

    def compare_paths_and_methods(self, other: Pattern) -> Relationship:
        """The relationship of the (method, path) sets of the two patterns."""
        mrel = self.compare_methods(other)
        if mrel is Relationship.DISJOINT:
            return mrel
        return combine_relationships(mrel, self.compare_paths(other))

    def compare_methods(self, other: Pattern) -> Relationship:
        """Compare methods: "" matches all, GET matches GET and HEAD, others themselves."""
        m1, m2 = self.method, other.method
        if m1 == m2:
            return Relationship.EQUIVALENT
        if m1 == "":
            return Relationship.MORE_GENERAL
        if m2 == "":
            return Relationship.MORE_SPECIFIC
        if m1 == "GET" and m2 == "HEAD":
            return Relationship.MORE_GENERAL
        if m1 == "HEAD" and m2 == "GET":
            return Relationship.MORE_SPECIFIC
        return Relationship.DISJOINT

    def compare_paths(self, other: Pattern) -> Relationship:
        """Compare the sets of paths the two patterns match."""
        segs1, segs2 = self.segments, other.segments
        if len(segs1) != len(segs2) and not self.last_multi and not other.last_multi:
            # Without a multi at the end, a pattern only matches its own number of segments.
            return Relationship.DISJOINT
        rel = Relationship.EQUIVALENT
        for s1, s2 in zip(segs1, segs2, strict=False):
            rel = combine_relationships(rel, compare_segments(s1, s2))
            if rel is Relationship.DISJOINT:
                return rel
        if len(segs1) == len(segs2):
            return rel
        # The shorter one can only overlap the longer through its final multi, which is
        # more general than whatever the longer one has left.
        if len(segs1) < len(segs2) and self.last_multi:
            return combine_relationships(rel, Relationship.MORE_GENERAL)
        if len(segs2) < len(segs1) and other.last_multi:
            return combine_relationships(rel, Relationship.MORE_SPECIFIC)
        return Relationship.DISJOINT


class Relationship(StrEnum):
    """How the request sets of two patterns p1 and p2 relate."""

    EQUIVALENT = "equivalent"  # both match the same requests
    MORE_GENERAL = "moreGeneral"  # p1 matches everything p2 does, and more
    MORE_SPECIFIC = "moreSpecific"  # p2 matches everything p1 does, and more
    DISJOINT = "disjoint"  # no request matches both
    OVERLAPS = "overlaps"  # some request matches both, neither is more specific


_INVERSE = {
    Relationship.MORE_GENERAL: Relationship.MORE_SPECIFIC,
    Relationship.MORE_SPECIFIC: Relationship.MORE_GENERAL,
}


def inverse_relationship(r: Relationship) -> Relationship:
    """If p1 has relationship ``r`` to p2, the relationship p2 has to p1."""
    return _INVERSE.get(r, r)


def compare_segments(s1: Segment, s2: Segment) -> Relationship:
    """Compare two corresponding path segments."""
    if s1.multi and s2.multi:
        return Relationship.EQUIVALENT
    if s1.multi:
        return Relationship.MORE_GENERAL
    if s2.multi:
        return Relationship.MORE_SPECIFIC
    if s1.wild and s2.wild:
        return Relationship.EQUIVALENT
    if s1.wild:
        # A single wildcard never matches a trailing slash.
        return Relationship.DISJOINT if s2.s == "/" else Relationship.MORE_GENERAL
    if s2.wild:
        return Relationship.DISJOINT if s1.s == "/" else Relationship.MORE_SPECIFIC
    return Relationship.EQUIVALENT if s1.s == s2.s else Relationship.DISJOINT


def combine_relationships(r1: Relationship, r2: Relationship) -> Relationship:
    """The overall relationship of two patterns from those of two parts of them."""
    if r1 is Relationship.EQUIVALENT:
        return r2
    if r1 is Relationship.DISJOINT:
        return r1
    if r1 is Relationship.OVERLAPS:
        return Relationship.DISJOINT if r2 is Relationship.DISJOINT else Relationship.OVERLAPS
    # r1 is MORE_GENERAL or MORE_SPECIFIC.
    if r2 is Relationship.EQUIVALENT:
        return r1
    if r2 is _INVERSE[r1]:
        return Relationship.OVERLAPS
    return r2


# -- parsing -------------------------------------------------------------------------------

# RFC 9110 §5.6.2 tchar: a method is a token.
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A valid %XX everywhere, or the segment is kept as written (Go's PathUnescape fails).
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def valid_method(method: str) -> bool:
    """Whether ``method`` is a token (Go's validMethod)."""
    return _TOKEN_RE.fullmatch(method) is not None


def is_valid_wildcard_name(name: str) -> bool:
    """Whether ``name`` is a Go identifier: letters, digits and _, not starting with a digit."""
    if not name:
        return False
    for i, c in enumerate(name):
        if not c.isalpha() and c != "_" and (i == 0 or unicodedata.category(c) != "Nd"):
            return False
    return True


def path_unescape(s: str) -> str:
    """Percent-decode ``s``; an invalid escape leaves it unchanged (Go's pathUnescape).

    Bytes that are not UTF-8 decode to lone surrogates, the same way for patterns and
    request paths, so they still compare equal.
    """
    if "%" not in s or _BAD_ESCAPE_RE.search(s):
        return s
    return unquote(s, errors="surrogateescape")


def clean_path(p: str) -> str:
    """Return the canonical path for ``p`` (Go's cleanPath): no ``.``, ``..`` or ``//``."""
    if p[:1] == "/" and "//" not in p and "/." not in p:
        return p  # nothing to clean (every request pays for this check, normpath is slow)
    if not p:
        return "/"
    if p[0] != "/":
        p = "/" + p
    np = posixpath.normpath(p)
    if np.startswith("//"):
        np = "/" + np.lstrip("/")  # POSIX keeps two leading slashes; Go's path.Clean does not
    if p.endswith("/") and np != "/":
        np += "/"
    return np


def go_quote(s: str) -> str:
    """Quote ``s`` the way Go's ``%q`` does, for messages that match Go's."""
    out = ['"']
    for c in s:
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        elif c in _GO_ESCAPES:
            out.append(_GO_ESCAPES[c])
        elif 0xDC80 <= ord(c) <= 0xDCFF:
            out.append(f"\\x{ord(c) - 0xDC00:02x}")  # an undecodable byte
        elif ord(c) < 0x80:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_GO_ESCAPES["\v"] = "\\v"


def _fail(s: str, off: int, msg: str) -> ValueError:
    # Go counts the offset in bytes.
    return ValueError(f"at offset {len(s[:off].encode('utf-8', 'surrogatepass'))}: {msg}")


def parse_pattern(s: str) -> Pattern:
    """Parse ``s`` into a ``Pattern``; raise ValueError with Go's message if it is invalid."""
    if not s:
        raise ValueError("empty pattern")
    method, rest, found = s, "", False
    m = re.search(r"[ \t]", s)
    if m is not None:
        i = m.start()
        method, rest, found = s[:i], s[i + 1 :].lstrip(" \t"), True
    if not found:
        rest, method = method, ""
    if method and not valid_method(method):
        raise _fail(s, 0, f"invalid method {go_quote(method)}")
    off = len(method) + 1 if found else 0
    i = rest.find("/")
    if i < 0:
        raise _fail(s, off, "host/path missing /")
    host, rest = rest[:i], rest[i:]
    j = host.find("{")
    if j >= 0:
        raise _fail(s, off + j, "host contains '{' (missing initial '/'?)")
    off += i
    # Paths are cleaned before matching, so an unclean one could never match.
    if method and method != "CONNECT" and rest != clean_path(rest):
        raise _fail(s, off, "non-CONNECT pattern with unclean path can never match")
    return Pattern(s, method, host, _parse_segments(s, rest))


def _parse_segments(s: str, rest: str) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    seen: set[str] = set()
    while rest:
        rest = rest[1:]  # invariant: rest starts with "/"
        off = len(s) - len(rest)
        if not rest:
            segments.append(Segment("", wild=True, multi=True))  # trailing slash
            break
        i = rest.find("/")
        if i < 0:
            i = len(rest)
        seg, rest = rest[:i], rest[i:]
        brace = seg.find("{")
        if brace < 0:
            segments.append(Segment(path_unescape(seg)))
            continue
        if brace != 0:
            raise _fail(s, off, "bad wildcard segment (must start with '{')")
        if seg[-1] != "}":
            raise _fail(s, off, "bad wildcard segment (must end with '}')")
        name = seg[1:-1]
        if name == "$":
            if rest:
                raise _fail(s, off, "{$} not at end")
            segments.append(Segment("/"))
            break
        multi = name.endswith("...")
        if multi:
            name = name[:-3]
            if rest:
                raise _fail(s, off, "{...} wildcard not at end")
        if not name:
            raise _fail(s, off, "empty wildcard")
        if not is_valid_wildcard_name(name):
            raise _fail(s, off, f"bad wildcard name {go_quote(name)}")
        if name in seen:
            raise _fail(s, off, f"duplicate wildcard name {go_quote(name)}")
        seen.add(name)
        segments.append(Segment(name, wild=True, multi=multi))
    return tuple(segments)


# -- explaining a conflict -------------------------------------------------------------------


def describe_conflict(p1: Pattern, p2: Pattern) -> str:
    """Explain why two conflicting patterns conflict, with example paths."""
    mrel = p1.compare_methods(p2)
    prel = p1.compare_paths(p2)
    rel = combine_relationships(mrel, prel)
    if rel is Relationship.EQUIVALENT:
        return f"{p1} matches the same requests as {p2}"
    if rel is not Relationship.OVERLAPS:
        raise AssertionError("describe_conflict called with non-conflicting patterns")
    if prel is Relationship.OVERLAPS:
        return (
            f"{p1} and {p2} both match some paths, like {go_quote(common_path(p1, p2))}.\n"
            "But neither is more specific than the other.\n"
            f"{p1} matches {go_quote(difference_path(p1, p2))}, but {p2} doesn't.\n"
            f"{p2} matches {go_quote(difference_path(p2, p1))}, but {p1} doesn't."
        )
    if mrel is Relationship.MORE_GENERAL and prel is Relationship.MORE_SPECIFIC:
        return f"{p1} matches more methods than {p2}, but has a more specific path pattern"
    if mrel is Relationship.MORE_SPECIFIC and prel is Relationship.MORE_GENERAL:
        return f"{p1} matches fewer methods than {p2}, but has a more general path pattern"
    return (
        f"bug: unexpected way for two patterns {p1} and {p2} to conflict: "
        f"methods {mrel}, paths {prel}"
    )


def _write_segment(b: list[str], s: Segment) -> None:
    b.append("/")
    if not s.multi and s.s != "/":
        b.append(s.s)


def common_path(p1: Pattern, p2: Pattern) -> str:
    """A path both patterns match (they must overlap)."""
    b: list[str] = []
    segs1, segs2 = p1.segments, p2.segments
    for s1, s2 in zip(segs1, segs2, strict=False):
        _write_segment(b, s2 if s1.wild else s1)
    n = min(len(segs1), len(segs2))
    for s in segs1[n:] or segs2[n:]:
        _write_segment(b, s)
    return "".join(b)


def difference_path(p1: Pattern, p2: Pattern) -> str:
    """A path ``p1`` matches and ``p2`` does not (there must be one)."""
    b: list[str] = []
    segs1, segs2 = p1.segments, p2.segments
    for s1, s2 in zip(segs1, segs2, strict=False):
        if s1.multi and s2.multi:
            # From here on both match the same paths: the difference came earlier.
            b.append("/")
            return "".join(b)
        if s1.multi and not s2.multi:
            # A trailing slash tells them apart, unless s2 is {$}: then any segment does.
            b.append("/")
            if s2.s == "/":
                b.append(s1.s or "x")
            return "".join(b)
        if not s1.multi and s2.multi:
            _write_segment(b, s1)
        elif s1.wild and s2.wild:
            _write_segment(b, s1)  # both match anything here: use the first name
        elif s1.wild:
            # Anything but s2's literal: the wildcard's name, unless that is the literal.
            if s1.s != s2.s:
                _write_segment(b, s1)
            else:
                b.append("/" + s2.s + "x")
        elif s2.wild:
            _write_segment(b, s1)
        else:
            if s1.s != s2.s:
                raise AssertionError(f"literals differ: {s1.s!r} and {s2.s!r}")
            _write_segment(b, s1)
    n = min(len(segs1), len(segs2))
    for s in segs1[n:] or segs2[n:]:
        _write_segment(b, s)
    return "".join(b)
