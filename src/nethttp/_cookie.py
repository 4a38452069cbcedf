"""HTTP cookies: Go's ``cookie.go``, rule for rule.

``Cookie`` is Go's struct as a dataclass; ``str(cookie)`` is Go's ``String()``: the
``Set-Cookie`` value, or "" for a cookie whose name is not a token (``set_cookie`` then
drops it silently, as Go does). Serialising sanitises instead of failing: bytes a cookie
value or path may not hold are dropped with a log line, a value with a space or comma is
quoted (golang.org/issue/7243), an invalid ``Domain`` is left out (the cookie becomes
host-only), an ``Expires`` before 1601 is left out (RFC 6265 §5.1.1).

Parsing is lenient where Go is: ``read_cookies`` skips pairs it cannot read instead of
failing the request, and a request with more than 3000 cookies gets none (Go's
``httpcookiemaxnum`` default). ``parse_cookie`` and ``parse_set_cookie`` are the strict
forms and raise ``ValueError`` with Go's messages.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, Protocol

from ._header import Header, valid_field_name

__all__ = [
    "Cookie",
    "SameSite",
    "parse_cookie",
    "parse_set_cookie",
    "read_cookies",
    "read_set_cookies",
    "set_cookie",
]

MAX_COOKIES: Final = 3000  # Go's httpcookiemaxnum default: more than this and none are read

_log = logging.getLogger("nethttp")


class SameSite(enum.IntEnum):
    """The ``SameSite`` attribute's modes (Go's ``SameSiteDefaultMode`` ...)."""

    DEFAULT = 1  # the attribute without a known value; serialised as nothing
    LAX = 2
    STRICT = 3
    NONE = 4


@dataclasses.dataclass
class Cookie:
    """An HTTP cookie, as sent in ``Set-Cookie`` or received in ``Cookie`` (Go's ``Cookie``).

    ``max_age``: 0 means no attribute, a negative value means ``Max-Age=0`` (delete now),
    a positive one is seconds. ``expires`` is a datetime (naive means UTC) or None.
    ``raw``, ``raw_expires`` and ``unparsed`` are filled by parsing only.
    """

    name: str
    value: str = ""
    quoted: bool = False  # the value was (or is to be) sent in double quotes
    path: str = ""
    domain: str = ""
    expires: datetime | None = None
    raw_expires: str = ""
    max_age: int = 0
    secure: bool = False
    http_only: bool = False
    same_site: SameSite | None = None
    partitioned: bool = False
    raw: str = ""
    unparsed: list[str] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        """The ``Set-Cookie`` serialisation; "" when the name is not a valid token."""
        if not valid_field_name(self.name):
            return ""
        parts = [self.name, "=", sanitize_cookie_value(self.value, self.quoted)]
        if self.path:
            parts += "; Path=", sanitize_cookie_path(self.path)
        if self.domain:
            if _valid_domain(self.domain):
                # A leading dot is allowed but not sent (RFC 6265 §5.2.3 ignores it).
                parts += "; Domain=", self.domain.removeprefix(".")
            else:
                _log.warning(
                    "net/http: invalid Cookie.Domain %r; dropping domain attribute", self.domain
                )
        if self.expires is not None and _valid_expires(self.expires):
            parts += "; Expires=", format_http_time(self.expires)
        if self.max_age > 0:
            parts += "; Max-Age=", str(self.max_age)
        elif self.max_age < 0:
            parts.append("; Max-Age=0")
        if self.http_only:
            parts.append("; HttpOnly")
        if self.secure:
            parts.append("; Secure")
        if self.same_site is not None and self.same_site is not SameSite.DEFAULT:
            parts += "; SameSite=", self.same_site.name.capitalize()
        if self.partitioned:
            parts.append("; Partitioned")
        return "".join(parts)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first thing wrong with the cookie (Go's ``Valid``)."""
        if not valid_field_name(self.name):
            raise ValueError("http: invalid Cookie.Name")
        if self.expires is not None and not _valid_expires(self.expires):
            raise ValueError("http: invalid Cookie.Expires")
        for c in self.value:
            if not _valid_value_char(c):
                raise ValueError(f"http: invalid byte {c!r} in Cookie.Value")
        for c in self.path:
            if not _valid_path_char(c):
                raise ValueError(f"http: invalid byte {c!r} in Cookie.Path")
        if self.domain and not _valid_domain(self.domain):
            raise ValueError("http: invalid Cookie.Domain")
        if self.partitioned and not self.secure:
            raise ValueError("http: partitioned cookies must be set with Secure")


class _HasHeader(Protocol):
    def header(self) -> Header: ...


def set_cookie(w: _HasHeader, cookie: Cookie) -> None:
    """Add a ``Set-Cookie`` field for ``cookie`` to ``w``'s header; an invalid one is dropped."""
    value = str(cookie)
    if value:
        w.header().add("Set-Cookie", value)


# -- serialising -----------------------------------------------------------------------------

_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip


def format_http_time(t: datetime) -> str:
    """Format ``t`` as Go's ``TimeFormat`` (``Mon, 02 Jan 2006 15:04:05 GMT``) in UTC."""
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT"
    )


def _valid_expires(t: datetime) -> bool:
    # RFC 6265 §5.1.1.5: the year must not be less than 1601.
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.year >= 1601


def _valid_value_char(c: str) -> bool:
    # cookie-octet, loosened for space and comma (quoted on output), as Go does
    return " " <= c < "\x7f" and c not in '";\\'


def _valid_path_char(c: str) -> bool:
    return " " <= c < "\x7f" and c != ";"


def _sanitize(field: str, valid: Callable[[str], bool], v: str) -> str:
    if all(valid(c) for c in v):
        return v
    bad = next(c for c in v if not valid(c))
    _log.warning("net/http: invalid byte %r in %s; dropping invalid bytes", bad, field)
    return "".join(c for c in v if valid(c))


def sanitize_cookie_value(v: str, quoted: bool) -> str:
    """Drop bytes a cookie-value may not hold; quote it if asked or if it has a space or comma."""
    v = _sanitize("Cookie.Value", _valid_value_char, v)
    if quoted or " " in v or "," in v:
        return f'"{v}"'
    return v


def sanitize_cookie_path(v: str) -> str:
    """Drop bytes a Path attribute may not hold."""
    return _sanitize("Cookie.Path", _valid_path_char, v)


def sanitize_cookie_name(n: str) -> str:
    """Replace CR and LF in a name with dashes (Go's ``sanitizeCookieName``)."""
    return n.replace("\n", "-").replace("\r", "-")


_LABEL_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _is_cookie_domain_name(s: str) -> bool:
    # Go's isCookieDomainName: net.isDomainName without '_', a leading dot allowed.
    if not s or len(s) > 255:
        return False
    if s[0] == ".":
        s = s[1:]
    last = "."
    ok = False  # true once a letter was seen
    partlen = 0
    for c in s:
        if c in _LABEL_CHARS:
            ok = ok or c.isalpha()
            partlen += 1
        elif c == "-":
            if last == ".":
                return False
            partlen += 1
        elif c == ".":
            if last in ".-" or partlen > 63 or partlen == 0:
                return False
            partlen = 0
        else:
            return False
        last = c
    return ok and last != "-" and partlen <= 63


def _valid_domain(v: str) -> bool:
    if _is_cookie_domain_name(v):
        return True
    try:
        ipaddress.IPv4Address(v)  # an IP literal is allowed, but not an IPv6 one
    except ValueError:
        return False
    return True


# -- parsing ---------------------------------------------------------------------------------


def _trim(s: str) -> str:
    return s.strip(" \t\r\n")  # textproto.TrimString: ASCII space only


def _parse_value(raw: str, allow_quotes: bool) -> tuple[str, bool, bool]:
    """Return (value, quoted, ok) for a cookie-value (``allow_quotes``) or attribute value."""
    quoted = False
    if allow_quotes and len(raw) > 1 and raw[0] == '"' and raw[-1] == '"':
        raw = raw[1:-1]
        quoted = True
    for c in raw:
        if not _valid_value_char(c):
            return "", quoted, False
    return raw, quoted, True


def read_cookies(h: Header, name: str = "") -> list[Cookie]:
    """The cookies in ``h``'s ``Cookie`` fields (only those named ``name`` when given).

    Pairs that cannot be read are skipped; more than 3000 cookies in all give none.
    """
    lines = h.values("Cookie")
    if not lines:
        return []
    if sum(line.count(";") + 1 for line in lines) > MAX_COOKIES:
        return []
    cookies: list[Cookie] = []
    for line in lines:
        for part in _trim(line).split(";"):
            part = _trim(part)
            if not part:
                continue
            key, _, val = part.partition("=")
            key = _trim(key)
            if not valid_field_name(key) or (name and key != name):
                continue
            value, quoted, ok = _parse_value(val, True)
            if ok:
                cookies.append(Cookie(key, value, quoted))
    return cookies


def parse_cookie(line: str) -> list[Cookie]:
    """Parse a ``Cookie`` field value strictly (Go's ``ParseCookie``); raise ``ValueError``."""
    n = line.count(";") + 1
    if n > MAX_COOKIES:
        raise ValueError("http: number of cookies exceeded limit")
    if n == 1 and not _trim(line):
        raise ValueError("http: blank cookie")
    cookies: list[Cookie] = []
    for part in line.split(";"):
        key, eq, val = _trim(part).partition("=")
        if not eq:
            raise ValueError("http: '=' not found in cookie")
        if not valid_field_name(key):
            raise ValueError("http: invalid cookie name")
        value, quoted, ok = _parse_value(val, True)
        if not ok:
            raise ValueError("http: invalid cookie value")
        cookies.append(Cookie(key, value, quoted))
    return cookies


_TIME_RE: Final = re.compile(
    r"([A-Za-z]{3}), (\d\d)[ -]([A-Za-z]{3})[ -](\d{4}) (\d\d):(\d\d):(\d\d) ([A-Z]{3,5})"
)


def _parse_expires(val: str) -> datetime | None:
    """Go's two layouts: RFC 1123 and ``Mon, 02-Jan-2006 15:04:05 MST``; the zone name is
    read as UTC, as Go reads a zone abbreviation it does not know."""
    m = _TIME_RE.fullmatch(val)
    if m is None:
        return None
    wday, day, mon, year, hh, mm, ss, _ = m.groups()
    sep_ok = val[7] == val[11]  # both spaces (RFC 1123) or both dashes
    months = [x.lower() for x in _MONTHS]
    if not sep_ok or mon.lower() not in months or wday.lower() not in (d.lower() for d in _DAYS):
        return None
    try:
        return datetime(
            int(year), months.index(mon.lower()) + 1, int(day),
            int(hh), int(mm), int(ss), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None


_INT_RE: Final = re.compile(r"[+-]?[0-9]+")


def _apply_attr(c: Cookie, attr: str, val: str) -> bool:
    """Set one attribute; False when it is not understood (it then goes to ``unparsed``)."""
    if attr == "samesite":
        c.same_site = {"lax": SameSite.LAX, "strict": SameSite.STRICT, "none": SameSite.NONE}.get(
            val.lower() if val.isascii() else "", SameSite.DEFAULT
        )
    elif attr == "secure":
        c.secure = True
    elif attr == "httponly":
        c.http_only = True
    elif attr == "domain":
        c.domain = val
    elif attr == "max-age":
        if not _INT_RE.fullmatch(val) or not -(1 << 63) <= (secs := int(val)) < 1 << 63:
            return False
        if secs != 0 and val[0] == "0":
            return False  # a leading zero is not a valid delta-seconds
        c.max_age = secs if secs > 0 else -1
    elif attr == "expires":
        c.raw_expires = val
        t = _parse_expires(val)
        c.expires = t
        return t is not None
    elif attr == "path":
        c.path = val
    elif attr == "partitioned":
        c.partitioned = True
    else:
        return False
    return True


def parse_set_cookie(line: str) -> Cookie:
    """Parse a ``Set-Cookie`` field value (Go's ``ParseSetCookie``); raise ``ValueError``."""
    parts = _trim(line).split(";")
    if len(parts) == 1 and parts[0] == "":
        raise ValueError("http: blank cookie")
    key, eq, val = _trim(parts[0]).partition("=")
    if not eq:
        raise ValueError("http: '=' not found in cookie")
    key = _trim(key)
    if not valid_field_name(key):
        raise ValueError("http: invalid cookie name")
    value, quoted, ok = _parse_value(val, True)
    if not ok:
        raise ValueError("http: invalid cookie value")
    c = Cookie(key, value, quoted, raw=line)
    for part in parts[1:]:
        part = _trim(part)
        if not part:
            continue
        attr, _, val = part.partition("=")
        if not attr.isascii():
            continue
        val, _, ok = _parse_value(val, False)
        if not ok or not _apply_attr(c, attr.lower(), val):
            c.unparsed.append(part)
    return c


def read_set_cookies(h: Header) -> list[Cookie]:
    """The cookies in ``h``'s ``Set-Cookie`` fields that parse; none past 3000 fields."""
    lines = h.values("Set-Cookie")
    if len(lines) > MAX_COOKIES:
        return []
    cookies = []
    for line in lines:
        try:
            cookies.append(parse_set_cookie(line))
        except ValueError:
            continue
    return cookies
