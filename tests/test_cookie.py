"""Cookies: Go's cookie_test.go tables (same cases, our own tables), then over a real server.

The tables check serialising (``str(cookie)``), the lenient readers (``read_cookies``,
``read_set_cookies``), the strict parsers and ``validate``; the server tests check that a
cookie set by a handler reaches a real client and one sent by it reaches ``r.cookie``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from nethttp import Header, httptest
from nethttp._cookie import (
    MAX_COOKIES,
    Cookie,
    SameSite,
    parse_cookie,
    parse_set_cookie,
    read_cookies,
    read_set_cookies,
    sanitize_cookie_path,
    sanitize_cookie_value,
    set_cookie,
)
from nethttp._errors import NoCookie

# -- writing: Go's writeSetCookiesTests ------------------------------------------------------

WRITE_SET_COOKIES = [
    (Cookie("cookie-1", "v$1"), "cookie-1=v$1"),
    (Cookie("cookie-2", "two", max_age=3600), "cookie-2=two; Max-Age=3600"),
    (Cookie("cookie-3", "three", domain=".example.com"), "cookie-3=three; Domain=example.com"),
    (Cookie("cookie-4", "four", path="/restricted/"), "cookie-4=four; Path=/restricted/"),
    (Cookie("cookie-5", "five", domain="wrong;bad.abc"), "cookie-5=five"),
    (Cookie("cookie-6", "six", domain="bad-.abc"), "cookie-6=six"),
    (Cookie("cookie-7", "seven", domain="127.0.0.1"), "cookie-7=seven; Domain=127.0.0.1"),
    (Cookie("cookie-8", "eight", domain="::1"), "cookie-8=eight"),
    (
        Cookie("cookie-9", "expiring", expires=datetime.fromtimestamp(1257894000, UTC)),
        "cookie-9=expiring; Expires=Tue, 10 Nov 2009 23:00:00 GMT",
    ),
    # RFC 6265 §5.1.1.5: the year cannot be less than 1601.
    (
        Cookie("cookie-10", "expiring-1601", expires=datetime(1601, 1, 1, 1, 1, 1, 1, UTC)),
        "cookie-10=expiring-1601; Expires=Mon, 01 Jan 1601 01:01:01 GMT",
    ),
    (
        Cookie("cookie-11", "invalid-expiry", expires=datetime(1600, 1, 1, 1, 1, 1, 1, UTC)),
        "cookie-11=invalid-expiry",
    ),
    (
        Cookie("cookie-12", "samesite-default", same_site=SameSite.DEFAULT),
        "cookie-12=samesite-default",
    ),
    (
        Cookie("cookie-13", "samesite-lax", same_site=SameSite.LAX),
        "cookie-13=samesite-lax; SameSite=Lax",
    ),
    (
        Cookie("cookie-14", "samesite-strict", same_site=SameSite.STRICT),
        "cookie-14=samesite-strict; SameSite=Strict",
    ),
    (
        Cookie("cookie-15", "samesite-none", same_site=SameSite.NONE),
        "cookie-15=samesite-none; SameSite=None",
    ),
    (
        Cookie("cookie-16", "partitioned", same_site=SameSite.NONE, secure=True, path="/",
               partitioned=True),
        "cookie-16=partitioned; Path=/; Secure; SameSite=None; Partitioned",
    ),
    # Values with commas or spaces: disallowed by RFC 6265, common in the wild, quoted.
    (Cookie("special-1", "a z"), 'special-1="a z"'),
    (Cookie("special-2", " z"), 'special-2=" z"'),
    (Cookie("special-3", "a "), 'special-3="a "'),
    (Cookie("special-4", " "), 'special-4=" "'),
    (Cookie("special-5", "a,z"), 'special-5="a,z"'),
    (Cookie("special-6", ",z"), 'special-6=",z"'),
    (Cookie("special-7", "a,"), 'special-7="a,"'),
    (Cookie("special-8", ","), 'special-8=","'),
    (Cookie("empty-value", ""), "empty-value="),
    (Cookie(""), ""),
    (Cookie("\t"), ""),
    (Cookie("\r"), ""),
    (Cookie("a\nb", "v"), ""),
    (Cookie("a\rb", "v"), ""),
    # Quoted values (Go issue #46443)
    (Cookie("cookie", "quoted", quoted=True), 'cookie="quoted"'),
    (Cookie("cookie", "quoted with spaces", quoted=True), 'cookie="quoted with spaces"'),
    (Cookie("cookie", "quoted,with,commas", quoted=True), 'cookie="quoted,with,commas"'),
    # Attributes together, in Go's order; http_only and naive datetimes (read as UTC).
    (
        Cookie("all", "v", path="/p", domain="example.com", expires=datetime(2009, 11, 10, 23),
               max_age=-1, http_only=True, secure=True, same_site=SameSite.LAX),
        "all=v; Path=/p; Domain=example.com; Expires=Tue, 10 Nov 2009 23:00:00 GMT; "
        "Max-Age=0; HttpOnly; Secure; SameSite=Lax",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("cookie", "want"), WRITE_SET_COOKIES)
def test_write_set_cookie(cookie: Cookie, want: str) -> None:
    assert str(cookie) == want


def test_invalid_domain_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nethttp"):
        assert str(Cookie("cookie-5", "five", domain="wrong;bad.abc")) == "cookie-5=five"
    assert "dropping domain attribute" in caplog.text


def test_set_cookie_adds_fields_and_drops_invalid_ones() -> None:
    rec = httptest.ResponseRecorder()
    set_cookie(rec, Cookie("cookie-1", "one", path="/restricted/"))
    set_cookie(rec, Cookie("cookie-2", "two", max_age=3600))
    set_cookie(rec, Cookie("bad name", "x"))
    assert rec.header().values("Set-Cookie") == [
        "cookie-1=one; Path=/restricted/",
        "cookie-2=two; Max-Age=3600",
    ]


# Go's addCookieTests, through Request.add_cookie on a test request.
ADD_COOKIES: list[tuple[list[Cookie], str]] = [
    ([], ""),
    ([Cookie("cookie-1", "v$1")], "cookie-1=v$1"),
    (
        [Cookie("cookie-1", "v$1"), Cookie("cookie-2", "v$2"), Cookie("cookie-3", "v$3")],
        "cookie-1=v$1; cookie-2=v$2; cookie-3=v$3",
    ),
    (
        [
            Cookie("cookie-1", "quoted", quoted=True),
            Cookie("cookie-2", "quoted with spaces", quoted=True),
            Cookie("cookie-3", "quoted,with,commas", quoted=True),
        ],
        'cookie-1="quoted"; cookie-2="quoted with spaces"; cookie-3="quoted,with,commas"',
    ),
]


@pytest.mark.parametrize(("cookies", "want"), ADD_COOKIES)
def test_add_cookie(cookies: list[Cookie], want: str) -> None:
    req = httptest.new_request("GET", "http://example.com/")
    for c in cookies:
        req.add_cookie(c)
    assert req.header.get("Cookie") == want


# -- reading Set-Cookie: Go's readSetCookiesTests / TestParseSetCookie -------------------------

NID = "NID=99=YsDT5i3E-CXax-; expires=Wed, 23-Nov-2011 01:05:03 GMT; path=/; domain=.google.ch; HttpOnly"  # noqa: E501
ASPX = ".ASPXAUTH=7E3AA; expires=Wed, 07-Mar-2012 14:25:06 GMT; path=/; HttpOnly"

PARSE_SET_COOKIE = [
    ("Cookie-1=v$1", Cookie("Cookie-1", "v$1", raw="Cookie-1=v$1")),
    (
        NID,
        Cookie("NID", "99=YsDT5i3E-CXax-", path="/", domain=".google.ch", http_only=True,
               expires=datetime(2011, 11, 23, 1, 5, 3, tzinfo=UTC),
               raw_expires="Wed, 23-Nov-2011 01:05:03 GMT", raw=NID),
    ),
    (
        ASPX,
        Cookie(".ASPXAUTH", "7E3AA", path="/", expires=datetime(2012, 3, 7, 14, 25, 6, tzinfo=UTC),
               raw_expires="Wed, 07-Mar-2012 14:25:06 GMT", http_only=True, raw=ASPX),
    ),
    (
        "ASP.NET_SessionId=foo; path=/; HttpOnly",
        Cookie("ASP.NET_SessionId", "foo", path="/", http_only=True,
               raw="ASP.NET_SessionId=foo; path=/; HttpOnly"),
    ),
    (
        "samesitedefault=foo; SameSite",
        Cookie("samesitedefault", "foo", same_site=SameSite.DEFAULT,
               raw="samesitedefault=foo; SameSite"),
    ),
    (
        "samesiteinvalidisdefault=foo; SameSite=invalid",
        Cookie("samesiteinvalidisdefault", "foo", same_site=SameSite.DEFAULT,
               raw="samesiteinvalidisdefault=foo; SameSite=invalid"),
    ),
    (
        "samesitelax=foo; SameSite=Lax",
        Cookie("samesitelax", "foo", same_site=SameSite.LAX, raw="samesitelax=foo; SameSite=Lax"),
    ),
    (
        "samesitestrict=foo; SameSite=Strict",
        Cookie("samesitestrict", "foo", same_site=SameSite.STRICT,
               raw="samesitestrict=foo; SameSite=Strict"),
    ),
    (
        "samesitenone=foo; SameSite=None",
        Cookie("samesitenone", "foo", same_site=SameSite.NONE,
               raw="samesitenone=foo; SameSite=None"),
    ),
    ("special-1=a z", Cookie("special-1", "a z", raw="special-1=a z")),
    ('special-2=" z"', Cookie("special-2", " z", quoted=True, raw='special-2=" z"')),
    ('special-3="a "', Cookie("special-3", "a ", quoted=True, raw='special-3="a "')),
    ('special-4=" "', Cookie("special-4", " ", quoted=True, raw='special-4=" "')),
    ("special-5=a,z", Cookie("special-5", "a,z", raw="special-5=a,z")),
    ('special-6=",z"', Cookie("special-6", ",z", quoted=True, raw='special-6=",z"')),
    ("special-7=a,", Cookie("special-7", "a,", raw="special-7=a,")),
    ('special-8=","', Cookie("special-8", ",", quoted=True, raw='special-8=","')),
    # A name followed by spaces is read back trimmed.
    ('special-9 =","', Cookie("special-9", ",", quoted=True, raw='special-9 =","')),
    ('cookie="quoted"', Cookie("cookie", "quoted", quoted=True, raw='cookie="quoted"')),
    # Attributes Go does not understand are kept, raw, in unparsed.
    (
        "a=b; Max-Age=012; Expires=soon; Partitioned; Foo=bar",
        Cookie("a", "b", partitioned=True, raw_expires="soon",
               unparsed=["Max-Age=012", "Expires=soon", "Foo=bar"],
               raw="a=b; Max-Age=012; Expires=soon; Partitioned; Foo=bar"),
    ),
    (
        "a=b; Max-Age=0; Secure",
        Cookie("a", "b", max_age=-1, secure=True, raw="a=b; Max-Age=0; Secure"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("line", "want"), PARSE_SET_COOKIE)
def test_parse_set_cookie(line: str, want: Cookie) -> None:
    assert parse_set_cookie(line) == want
    # read_set_cookies reads the same, and does not change its input (Go reads it twice).
    h = Header({"Set-Cookie": [line]})
    assert read_set_cookies(h) == [want]
    assert read_set_cookies(h) == [want]


@pytest.mark.parametrize(
    ("line", "err"),
    [
        ("", "http: blank cookie"),
        ("equal-not-found", "http: '=' not found in cookie"),
        ("=v1", "http: invalid cookie name"),
        ("k1=\\", "http: invalid cookie value"),
    ],
)
def test_parse_set_cookie_errors(line: str, err: str) -> None:
    with pytest.raises(ValueError, match=err):
        parse_set_cookie(line)
    assert read_set_cookies(Header({"Set-Cookie": [line]})) == []


def test_read_set_cookies_limit() -> None:
    assert read_set_cookies(Header({"Set-Cookie": ["a="] * (MAX_COOKIES + 1)})) == []
    assert len(read_set_cookies(Header({"Set-Cookie": ["a="] * MAX_COOKIES}))) == MAX_COOKIES


def test_set_cookie_double_quotes() -> None:
    # Go's TestSetCookieDoubleQuotes: a quoted attribute value is not understood.
    lines = ["quoted0=none; max-age=30", 'quoted1="cookieValue"; max-age=31',
             'quoted2=cookieAV; max-age="32"', 'quoted3="both"; max-age="33"']  # fmt: skip
    got = [(c.name, c.value, c.max_age) for c in read_set_cookies(Header({"Set-Cookie": lines}))]
    assert got == [("quoted0", "none", 30), ("quoted1", "cookieValue", 31),
                   ("quoted2", "cookieAV", 0), ("quoted3", "both", 0)]  # fmt: skip


# -- reading Cookie: Go's readCookiesTests / TestParseCookie ---------------------------------

READ_COOKIES: list[tuple[list[str], str, list[Cookie]]] = [
    (["Cookie-1=v$1", "c2=v2"], "", [Cookie("Cookie-1", "v$1"), Cookie("c2", "v2")]),
    (["Cookie-1=v$1", "c2=v2"], "c2", [Cookie("c2", "v2")]),
    (["Cookie-1=v$1; c2=v2"], "", [Cookie("Cookie-1", "v$1"), Cookie("c2", "v2")]),
    (["Cookie-1=v$1; c2=v2"], "c2", [Cookie("c2", "v2")]),
    (['Cookie-1="v$1"; c2="v2"'], "",
     [Cookie("Cookie-1", "v$1", quoted=True), Cookie("c2", "v2", quoted=True)]),
    (['Cookie-1="v$1"; c2=v2;'], "", [Cookie("Cookie-1", "v$1", quoted=True), Cookie("c2", "v2")]),
    ([""], "", []),
    # Pairs that cannot be read are skipped, not fatal.
    (["bad name=1; ok=2; v=\\; =x; noeq"], "", [Cookie("ok", "2"), Cookie("noeq", "")]),
    # The limit counts cookies over every Cookie field.
    ([";".join(["a="] * (MAX_COOKIES + 1))], "", []),
    (["a="] * (MAX_COOKIES + 1), "", []),
    (["a="] * MAX_COOKIES, "", [Cookie("a")] * MAX_COOKIES),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "name", "want"), READ_COOKIES)
def test_read_cookies(lines: list[str], name: str, want: list[Cookie]) -> None:
    h = Header({"Cookie": lines})
    assert read_cookies(h, name) == want
    assert read_cookies(h, name) == want


def test_read_cookies_real_world_line() -> None:
    # From Go's BenchmarkReadCookies: long percent-encoded values are kept as sent.
    line = (
        "de=; client_region=0; rpld1=0:hispeed.ch|20:che|21:zh|22:zurich|23:47.36|24:8.53|; "
        "rpld0=1:08|; backplane-channel=newspaper.com:1471; devicetype=0; osfam=0; rplmct=2; "
        "s_pers=%20s_vmonthnum%3D1472680800496%2526vn%253D1%7C1472680800496%3B"
    )
    got = [(c.name, c.value) for c in read_cookies(Header({"Cookie": [line]}))]
    assert got == [
        ("de", ""), ("client_region", "0"),
        ("rpld1", "0:hispeed.ch|20:che|21:zh|22:zurich|23:47.36|24:8.53|"), ("rpld0", "1:08|"),
        ("backplane-channel", "newspaper.com:1471"), ("devicetype", "0"), ("osfam", "0"),
        ("rplmct", "2"),
        ("s_pers", "%20s_vmonthnum%3D1472680800496%2526vn%253D1%7C1472680800496%3B"),
    ]  # fmt: skip
    assert parse_cookie(line) == read_cookies(Header({"Cookie": [line]}))


PARSE_COOKIE: list[tuple[str, list[Cookie] | str]] = [
    ("Cookie-1=v$1", [Cookie("Cookie-1", "v$1")]),
    ("Cookie-1=v$1;c2=v2", [Cookie("Cookie-1", "v$1"), Cookie("c2", "v2")]),
    (
        'Cookie-1="v$1";c2="v2"',
        [Cookie("Cookie-1", "v$1", quoted=True), Cookie("c2", "v2", quoted=True)],
    ),
    ("k1=", [Cookie("k1", "")]),
    ("", "http: blank cookie"),
    ("equal-not-found", "http: '=' not found in cookie"),
    ("=v1", "http: invalid cookie name"),
    ("k1=\\", "http: invalid cookie value"),
    (";".join(["a="] * (MAX_COOKIES + 1)), "http: number of cookies exceeded limit"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "want"), PARSE_COOKIE)
def test_parse_cookie(line: str, want: list[Cookie] | str) -> None:
    if isinstance(want, str):
        with pytest.raises(ValueError, match=want):
            parse_cookie(line)
    else:
        assert parse_cookie(line) == want


# -- sanitising and validating ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "quoted", "want"),
    [
        ("foo", False, "foo"),
        ("foo;bar", False, "foobar"),
        ("foo\\bar", False, "foobar"),
        ('foo"bar', False, "foobar"),
        ("\x00\x7e\x7f\x80", False, "\x7e"),
        ("withquotes", True, '"withquotes"'),
        ('"withquotes"', True, '"withquotes"'),  # double quotes are not valid octets
        ("a z", False, '"a z"'),
        (" z", False, '" z"'),
        ("a ", False, '"a "'),
        ("a,z", False, '"a,z"'),
        (",z", False, '",z"'),
        ("a,", False, '"a,"'),
        ("", True, '""'),
        ("é", False, ""),  # non-ASCII is dropped whole
    ],
)
def test_sanitize_cookie_value(value: str, quoted: bool, want: str) -> None:
    assert sanitize_cookie_value(value, quoted) == want


def test_sanitizing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nethttp"):
        assert sanitize_cookie_path("/just;no;semicolon\x00orstuff/") == "/justnosemicolonorstuff/"
    assert "dropping invalid bytes" in caplog.text
    assert sanitize_cookie_path("/path with space/") == "/path with space/"


@pytest.mark.parametrize(
    ("cookie", "error"),
    [
        (Cookie(""), "invalid Cookie.Name"),
        (Cookie("invalid-value", 'foo"bar'), "invalid byte"),
        (Cookie("invalid-path", path="/foo;bar/"), "invalid byte"),
        (Cookie("p", "foo", path="/", partitioned=True), "partitioned cookies must be set"),
        (Cookie("invalid-domain", domain="example.com:80"), "invalid Cookie.Domain"),
        (Cookie("invalid-expiry", expires=datetime(1600, 1, 1, 1, 1, 1, 1, UTC)), "Expires"),
        (Cookie("valid-empty"), None),
        (Cookie("valid-expires", "foo", path="/bar", domain="example.com",
                expires=datetime.fromtimestamp(0, UTC)), None),
        (Cookie("valid-max-age", "foo", path="/bar", domain="example.com", max_age=60), None),
        (Cookie("valid-partitioned", "foo", path="/", secure=True, partitioned=True), None),
    ],
)  # fmt: skip
def test_validate(cookie: Cookie, error: str | None) -> None:
    if error is None:
        cookie.validate()
    else:
        with pytest.raises(ValueError, match=error):
            cookie.validate()


# -- Request.cookie, cookies_named (Go's TestRequestCookie, TestRequestCookiesByName) ----------


def test_request_cookie() -> None:
    req = httptest.new_request("GET", "http://example.com/")
    req.add_cookie(Cookie("foo", "bar"))
    assert req.cookie("foo") == Cookie("foo", "bar")
    with pytest.raises(NoCookie, match="named cookie not present"):
        req.cookie("")  # Go issue 53181: an empty name never matches the first cookie
    with pytest.raises(LookupError):
        req.cookie("missing")


@pytest.mark.parametrize(
    ("sent", "name", "want"),
    [
        ([("foo", "foo-1"), ("bar", "bar")], "foo", [("foo", "foo-1")]),
        (
            [("foo", "foo-1"), ("foo", "foo-2"), ("bar", "bar")],
            "foo",
            [("foo", "foo-1"), ("foo", "foo-2")],
        ),
        ([("bar", "bar")], "foo", []),
        ([("bar", "bar")], "", []),
    ],
)  # fmt: skip
def test_cookies_named(sent: list[tuple[str, str]], name: str, want: list[tuple[str, str]]) -> None:
    req = httptest.new_request("GET", "/")
    for n, v in sent:
        req.add_cookie(Cookie(n, v))
    assert [(c.name, c.value) for c in req.cookies_named(name)] == want
    assert [(c.name, c.value) for c in req.cookies()] == sent


# -- over a real server ----------------------------------------------------------------------


async def cookie_handler(w: Any, r: Any) -> None:
    try:
        seen = r.cookie("session").value
    except NoCookie:
        seen = "none"
    set_cookie(w, Cookie("session", "s3cr3t v", path="/", http_only=True, same_site=SameSite.LAX))
    set_cookie(w, Cookie("gone", max_age=-1))
    await w.write(f"{seen} {len(r.cookies())}".encode())


def test_cookies_over_a_real_server(serve: Any) -> None:
    srv = serve(cookie_handler)
    first = httpx.get(srv.url + "/")
    assert first.text == "none 0"
    assert first.headers.get_list("set-cookie") == [
        'session="s3cr3t v"; Path=/; HttpOnly; SameSite=Lax',
        "gone=; Max-Age=0",
    ]
    second = httpx.get(srv.url + "/", headers={"Cookie": 'a=1; session="s3cr3t v"; b=2'})
    assert second.text == "s3cr3t v 3"


def test_cookies_against_the_recorder() -> None:
    req = httptest.new_request("GET", "/")
    req.add_cookie(Cookie("session", "abc"))
    rec = httptest.serve(cookie_handler, req)
    assert rec.body == b"abc 1"
    assert [(c.name, c.value, c.max_age) for c in rec.result().cookies()] == [
        ("session", "s3cr3t v", 0),
        ("gone", "", -1),
    ]
