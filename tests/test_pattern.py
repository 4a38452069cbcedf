"""Pattern parsing and the relationships between patterns (Go's pattern_test.go, ported)."""

from __future__ import annotations

import pytest

from nethttp._pattern import (
    Pattern,
    Relationship,
    Segment,
    clean_path,
    common_path,
    describe_conflict,
    difference_path,
    go_quote,
    inverse_relationship,
    is_valid_wildcard_name,
    parse_pattern,
    path_unescape,
)

EQ, GEN, SPEC, DIS, OVER = (
    Relationship.EQUIVALENT,
    Relationship.MORE_GENERAL,
    Relationship.MORE_SPECIFIC,
    Relationship.DISJOINT,
    Relationship.OVERLAPS,
)


def lit(s: str) -> Segment:
    return Segment(s)


def wild(s: str) -> Segment:
    return Segment(s, wild=True)


def multi(s: str) -> Segment:
    return Segment(s, wild=True, multi=True)


# -- parsing -----------------------------------------------------------------------------------

PARSE_CASES = [
    ("/", "", "", [multi("")]),
    ("/a", "", "", [lit("a")]),
    ("/a/", "", "", [lit("a"), multi("")]),
    ("/path/to/something", "", "", [lit("path"), lit("to"), lit("something")]),
    ("/{w1}/lit/{w2}", "", "", [wild("w1"), lit("lit"), wild("w2")]),
    ("/{w1}/lit/{w2}/", "", "", [wild("w1"), lit("lit"), wild("w2"), multi("")]),
    ("example.com/", "", "example.com", [multi("")]),
    ("GET /", "GET", "", [multi("")]),
    ("POST example.com/foo/{w}", "POST", "example.com", [lit("foo"), wild("w")]),
    ("/{$}", "", "", [lit("/")]),
    (
        "DELETE example.com/a/{foo12}/{$}",
        "DELETE",
        "example.com",
        [lit("a"), wild("foo12"), lit("/")],
    ),
    ("/foo/{$}", "", "", [lit("foo"), lit("/")]),
    ("/{a}/foo/{rest...}", "", "", [wild("a"), lit("foo"), multi("rest")]),
    ("//", "", "", [lit(""), multi("")]),
    (
        "/foo///./../bar",
        "",
        "",
        [lit("foo"), lit(""), lit(""), lit("."), lit(".."), lit("bar")],
    ),
    ("a.com/foo//", "", "a.com", [lit("foo"), lit(""), multi("")]),
    ("/%61%62/%7b/%", "", "", [lit("ab"), lit("{"), lit("%")]),
    # Any run of spaces and tabs separates the method.
    ("GET\t  /", "GET", "", [multi("")]),
    ("POST \t  example.com/foo/{w}", "POST", "example.com", [lit("foo"), wild("w")]),
    (
        "DELETE    \texample.com/a/{foo12}/{$}",
        "DELETE",
        "example.com",
        [lit("a"), wild("foo12"), lit("/")],
    ),
    # Beyond Go's table: methods are case-sensitive tokens, names may be Unicode letters.
    ("get /x", "get", "", [lit("x")]),
    ("/{größe}/{_1}", "", "", [wild("größe"), wild("_1")]),
    ("/é/%C3%A9", "", "", [lit("é"), lit("é")]),
]


@pytest.mark.parametrize(("src", "method", "host", "segments"), PARSE_CASES)
def test_parse_pattern(src: str, method: str, host: str, segments: list[Segment]) -> None:
    p = parse_pattern(src)
    assert (p.method, p.host, list(p.segments)) == (method, host, segments)
    assert str(p) == src


PARSE_ERRORS = [
    ("", "empty pattern"),
    ("A=B /", "at offset 0: invalid method"),
    (" ", "at offset 1: host/path missing /"),
    ("/{w}x", "at offset 1: bad wildcard segment"),
    ("/x{w}", "at offset 1: bad wildcard segment"),
    ("/{wx", "at offset 1: bad wildcard segment"),
    ("/a/{/}/c", "at offset 3: bad wildcard segment"),
    ("/a/{%61}/c", "at offset 3: bad wildcard name"),  # wildcard names are not unescaped
    ("/{a$}", "at offset 1: bad wildcard name"),
    ("/{}", "at offset 1: empty wildcard"),
    ("POST a.com/x/{}/y", "at offset 13: empty wildcard"),
    ("/{...}", "at offset 1: empty wildcard"),
    ("/{$...}", "at offset 1: bad wildcard"),
    ("/{$}/", "at offset 1: {$} not at end"),
    ("/{$}/x", "at offset 1: {$} not at end"),
    ("/abc/{$}/x", "at offset 5: {$} not at end"),
    ("/{a...}/", "at offset 1: {...} wildcard not at end"),
    ("/{a...}/x", "at offset 1: {...} wildcard not at end"),
    ("{a}/b", "at offset 0: host contains '{' (missing initial '/'?)"),
    ("/a/{x}/b/{x...}", "at offset 9: duplicate wildcard name"),
    ("GET //", "at offset 4: non-CONNECT pattern with unclean path"),
    # Beyond Go's table: the rest of the rules, with Go's exact wording.
    ("GET /a/../b", "at offset 4: non-CONNECT pattern with unclean path can never match"),
    ("/{1x}", 'at offset 1: bad wildcard name "1x"'),
    ("/{a-b}", 'at offset 1: bad wildcard name "a-b"'),
    ("/a/{x}/{x}", 'at offset 7: duplicate wildcard name "x"'),
    ("example.com", "at offset 0: host/path missing /"),
    ("GET example.com", "at offset 4: host/path missing /"),
    ("GET a{b}/", "at offset 5: host contains '{'"),
    ("G(T /", 'at offset 0: invalid method "G(T"'),
    ("/x/{y", "at offset 3: bad wildcard segment (must end with '}')"),
    ("/é/{1}", "at offset 4: bad wildcard name"),  # offsets count bytes, as in Go
]


@pytest.mark.parametrize(("src", "contains"), PARSE_ERRORS)
def test_parse_pattern_error(src: str, contains: str) -> None:
    with pytest.raises(ValueError, match=None) as e:
        parse_pattern(src)
    assert contains in str(e.value)


def test_connect_patterns_may_be_unclean() -> None:
    assert [s.s for s in parse_pattern("CONNECT /a/../b").segments] == ["a", "..", "b"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        *[("a", True), ("_", True), ("a1", True), ("Éa", True), ("1a", False), ("", False)],
        *[("a.b", False), ("a b", False), ("x٣", True), ("٣x", False)],
    ],
)
def test_wildcard_names_are_go_identifiers(name: str, ok: bool) -> None:
    assert is_valid_wildcard_name(name) is ok


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        *[("a", "a"), ("%61", "a"), ("a%2Fb", "a/b"), ("%", "%"), ("%x", "%x")],
        *[("%61%zz", "%61%zz"), ("%C3%A9", "é"), ("%E9", "\udce9"), ("a+b", "a+b")],
    ],
)
def test_path_unescape(raw: str, want: str) -> None:
    assert path_unescape(raw) == want


@pytest.mark.parametrize(
    ("src", "want"),
    [
        *[("//", "/"), ("/x", "/x"), ("//x", "/x"), ("x//", "/x/"), ("a//b/////c", "/a/b/c")],
        *[("/foo/../bar/./..//baz", "/baz"), ("", "/"), ("/..", "/"), ("/a/b/..", "/a")],
        *[("/a/./", "/a/"), ("///a", "/a")],
    ],
)
def test_clean_path(src: str, want: str) -> None:
    assert clean_path(src) == want


def test_go_quote() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("x\ny\t\x01é\udce9") == '"x\\ny\\t\\x01é\\xe9"'


# -- relationships -------------------------------------------------------------------------------

METHOD_CASES = [
    ("/", "/", EQ),
    ("GET /", "GET /", EQ),
    ("HEAD /", "HEAD /", EQ),
    ("POST /", "POST /", EQ),
    ("GET /", "POST /", DIS),
    ("GET /", "/", SPEC),
    ("HEAD /", "/", SPEC),
    ("GET /", "HEAD /", GEN),
]


@pytest.mark.parametrize(("p1", "p2", "want"), METHOD_CASES)
def test_compare_methods(p1: str, p2: str, want: Relationship) -> None:
    pat1, pat2 = parse_pattern(p1), parse_pattern(p2)
    assert pat1.compare_methods(pat2) is want
    assert pat2.compare_methods(pat1) is inverse_relationship(want)


PATH_CASES = [
    # A literal is more specific than anything it overlaps, except itself.
    ("/a", "/a", EQ),
    ("/a", "/b", DIS),
    ("/a", "/", SPEC),
    ("/a", "/{$}", DIS),
    ("/a", "/{x}", SPEC),
    ("/a", "/{x...}", SPEC),
    # Adding a segment doesn't change that.
    ("/b/a", "/b/a", EQ),
    ("/b/a", "/b/b", DIS),
    ("/b/a", "/b/", SPEC),
    ("/b/a", "/b/{$}", DIS),
    ("/b/a", "/b/{x}", SPEC),
    ("/b/a", "/b/{x...}", SPEC),
    ("/{z}/a", "/{z}/a", EQ),
    ("/{z}/a", "/{z}/b", DIS),
    ("/{z}/a", "/{z}/", SPEC),
    ("/{z}/a", "/{z}/{$}", DIS),
    ("/{z}/a", "/{z}/{x}", SPEC),
    ("/{z}/a", "/{z}/{x...}", SPEC),
    # Single wildcard on the left.
    ("/{z}", "/a", GEN),
    ("/{z}", "/a/b", DIS),
    ("/{z}", "/{$}", DIS),
    ("/{z}", "/{x}", EQ),
    ("/{z}", "/", SPEC),
    ("/{z}", "/{x...}", SPEC),
    ("/b/{z}", "/b/a", GEN),
    ("/b/{z}", "/b/a/b", DIS),
    ("/b/{z}", "/b/{$}", DIS),
    ("/b/{z}", "/b/{x}", EQ),
    ("/b/{z}", "/b/", SPEC),
    ("/b/{z}", "/b/{x...}", SPEC),
    # Trailing slash on the left.
    ("/", "/a", GEN),
    ("/", "/a/b", GEN),
    ("/", "/{$}", GEN),
    ("/", "/{x}", GEN),
    ("/", "/", EQ),
    ("/", "/{x...}", EQ),
    ("/b/", "/b/a", GEN),
    ("/b/", "/b/a/b", GEN),
    ("/b/", "/b/{$}", GEN),
    ("/b/", "/b/{x}", GEN),
    ("/b/", "/b/", EQ),
    ("/b/", "/b/{x...}", EQ),
    ("/{z}/", "/{z}/a", GEN),
    ("/{z}/", "/{z}/a/b", GEN),
    ("/{z}/", "/{z}/{$}", GEN),
    ("/{z}/", "/{z}/{x}", GEN),
    ("/{z}/", "/{z}/", EQ),
    ("/{z}/", "/a/", GEN),
    ("/{z}/", "/{z}/{x...}", EQ),
    ("/{z}/", "/a/{x...}", GEN),
    ("/a/{z}/", "/{z}/a/", OVER),
    ("/a/{z}/b/", "/{x}/c/{y...}", OVER),
    # Multi wildcard on the left.
    ("/{m...}", "/a", GEN),
    ("/{m...}", "/a/b", GEN),
    ("/{m...}", "/{$}", GEN),
    ("/{m...}", "/{x}", GEN),
    ("/{m...}", "/", EQ),
    ("/{m...}", "/{x...}", EQ),
    ("/b/{m...}", "/b/a", GEN),
    ("/b/{m...}", "/b/a/b", GEN),
    ("/b/{m...}", "/b/{$}", GEN),
    ("/b/{m...}", "/b/{x}", GEN),
    ("/b/{m...}", "/b/", EQ),
    ("/b/{m...}", "/b/{x...}", EQ),
    ("/b/{m...}", "/a/{x...}", DIS),
    ("/{z}/{m...}", "/{z}/a", GEN),
    ("/{z}/{m...}", "/{z}/a/b", GEN),
    ("/{z}/{m...}", "/{z}/{$}", GEN),
    ("/{z}/{m...}", "/{z}/{x}", GEN),
    ("/{z}/{m...}", "/{w}/", EQ),
    ("/{z}/{m...}", "/a/", GEN),
    ("/{z}/{m...}", "/{z}/{x...}", EQ),
    ("/{z}/{m...}", "/a/{x...}", GEN),
    ("/a/{m...}", "/a/b/{y...}", GEN),
    ("/a/{m...}", "/a/{x}/{y...}", GEN),
    ("/a/{z}/{m...}", "/a/b/{y...}", GEN),
    ("/a/{z}/{m...}", "/{z}/a/", OVER),
    ("/a/{z}/{m...}", "/{z}/b/{y...}", OVER),
    ("/a/{z}/b/{m...}", "/{x}/c/{y...}", OVER),
    ("/a/{z}/a/{m...}", "/{x}/b", DIS),
    # Dollar on the left.
    ("/{$}", "/a", DIS),
    ("/{$}", "/a/b", DIS),
    ("/{$}", "/{$}", EQ),
    ("/{$}", "/{x}", DIS),
    ("/{$}", "/", SPEC),
    ("/{$}", "/{x...}", SPEC),
    ("/b/{$}", "/b", DIS),
    ("/b/{$}", "/b/a", DIS),
    ("/b/{$}", "/b/a/b", DIS),
    ("/b/{$}", "/b/{$}", EQ),
    ("/b/{$}", "/b/{x}", DIS),
    ("/b/{$}", "/b/", SPEC),
    ("/b/{$}", "/b/{x...}", SPEC),
    ("/b/{$}", "/b/c/{x...}", DIS),
    ("/b/{x}/a/{$}", "/{x}/c/{y...}", OVER),
    ("/{x}/b/{$}", "/a/{x}/{y}", DIS),
    ("/{x}/b/{$}", "/a/{x}/c", DIS),
    ("/{z}/{$}", "/{z}/a", DIS),
    ("/{z}/{$}", "/{z}/a/b", DIS),
    ("/{z}/{$}", "/{z}/{$}", EQ),
    ("/{z}/{$}", "/{z}/{x}", DIS),
    ("/{z}/{$}", "/{z}/", SPEC),
    ("/{z}/{$}", "/a/", OVER),
    ("/{z}/{$}", "/a/{x...}", OVER),
    ("/{z}/{$}", "/{z}/{x...}", SPEC),
    ("/a/{z}/{$}", "/{z}/a/", OVER),
]


@pytest.mark.parametrize(("p1", "p2", "want"), PATH_CASES)
def test_compare_paths(p1: str, p2: str, want: Relationship) -> None:
    pat1, pat2 = parse_pattern(p1), parse_pattern(p2)
    assert pat1.compare_paths(pat1) is EQ and pat2.compare_paths(pat2) is EQ
    assert pat1.compare_paths(pat2) is want
    assert pat2.compare_paths(pat1) is inverse_relationship(want)


CONFLICT_CASES = [
    ("/a", "/a", True),
    ("/a", "/ab", False),
    ("/a/b/cd", "/a/b/cd", True),
    ("/a/b/cd", "/a/b/c", False),
    ("/a/b/c", "/a/c/c", False),
    ("/{x}", "/{y}", True),
    ("/{x}", "/a", False),  # more specific
    ("/{x}/{y}", "/{x}/a", False),
    ("/{x}/{y}", "/{x}/a/b", False),
    ("/{x}", "/a/{y}", False),
    ("/{x}/{y}", "/{x}/a/", False),
    ("/{x}", "/a/{y...}", False),  # more specific
    ("/{x}/a/{y}", "/{x}/a/{y...}", False),  # more specific
    ("/{x}/{y}", "/{x}/a/{$}", False),  # more specific
    ("/{x}/{y}/{$}", "/{x}/a/{$}", False),
    ("/a/{x}", "/{x}/b", True),
    ("/", "GET /", False),
    ("/", "GET /foo", False),
    ("GET /", "GET /foo", False),
    ("GET /", "/foo", True),
    ("GET /foo", "HEAD /", True),
    # Hosts: one with a host always wins; different hosts never meet.
    ("example.com/", "/", False),
    ("a.com/{x}", "a.com/{y}", True),
    ("a.com/{x}", "b.com/{y}", False),
    ("GET /x", "HEAD /x", False),
    ("/images/", "/images/thumbnails/", False),
    ("/{$}", "/", False),
    ("GET /", "/index.html", True),
]


@pytest.mark.parametrize(("p1", "p2", "want"), CONFLICT_CASES)
def test_conflicts_with(p1: str, p2: str, want: bool) -> None:
    pat1, pat2 = parse_pattern(p1), parse_pattern(p2)
    assert pat1.conflicts_with(pat2) is want
    assert pat2.conflicts_with(pat1) is want  # commutative


@pytest.mark.parametrize(
    ("p1", "p2", "want"),
    [
        ("/a/{x}", "/a/{y}", "the same requests"),
        ("/", "/{m...}", "the same requests"),
        ("/a/{x}", "/{y}/b", "both match some paths"),
        ("/a", "GET /{x}", "matches more methods than GET /{x}, but has a more specific path"),
        ("GET /a", "HEAD /", "matches more methods than HEAD /, but has a more specific path"),
        ("POST /", "/a", "matches fewer methods than /a, but has a more general path pattern"),
    ],
)
def test_describe_conflict(p1: str, p2: str, want: str) -> None:
    assert want in describe_conflict(parse_pattern(p1), parse_pattern(p2))


def test_describe_overlap_in_full() -> None:
    got = describe_conflict(parse_pattern("/a/{x}"), parse_pattern("/{y}/b"))
    assert got == (
        '/a/{x} and /{y}/b both match some paths, like "/a/b".\n'
        "But neither is more specific than the other.\n"
        '/a/{x} matches "/a/x", but /{y}/b doesn\'t.\n'
        '/{y}/b matches "/y/b", but /a/{x} doesn\'t.'
    )


def test_describe_conflict_refuses_patterns_that_do_not_conflict() -> None:
    with pytest.raises(AssertionError):
        describe_conflict(parse_pattern("/a"), parse_pattern("/b"))


@pytest.mark.parametrize(
    ("p1", "p2", "want"),
    [
        ("/a/{x}", "/{x}/a", "/a/a"),
        ("/a/{z}/", "/{z}/a/", "/a/a/"),
        ("/a/{z}/{m...}", "/{z}/a/", "/a/a/"),
        ("/{z}/{$}", "/a/", "/a/"),
        ("/{z}/{$}", "/a/{x...}", "/a/"),
        ("/a/{z}/{$}", "/{z}/a/", "/a/a/"),
        ("/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/c/b/"),
        ("/a/{x}/b/", "/{x}/c/{y...}", "/a/c/b/"),
        ("/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/c/b/"),
        ("/a/{z}/{x...}", "/{z}/b/{y...}", "/a/b/"),
    ],
)
def test_common_path(p1: str, p2: str, want: str) -> None:
    pat1, pat2 = parse_pattern(p1), parse_pattern(p2)
    assert pat1.compare_paths(pat2) is OVER
    assert common_path(pat1, pat2) == want


@pytest.mark.parametrize(
    ("p1", "p2", "want"),
    [
        ("/a/{x}", "/{x}/a", "/a/x"),
        ("/{x}/a", "/a/{x}", "/x/a"),
        ("/a/{z}/", "/{z}/a/", "/a/z/"),
        ("/{z}/a/", "/a/{z}/", "/z/a/"),
        ("/{a}/a/", "/a/{z}/", "/ax/a/"),
        ("/a/{z}/{x...}", "/{z}/b/{y...}", "/a/z/"),
        ("/{z}/b/{y...}", "/a/{z}/{x...}", "/z/b/"),
        ("/a/b/", "/a/b/c", "/a/b/"),
        ("/a/b/{x...}", "/a/b/c", "/a/b/"),
        ("/a/b/{x...}", "/a/b/c/d", "/a/b/"),
        ("/a/b/{x...}", "/a/b/c/d/", "/a/b/"),
        ("/a/{z}/{m...}", "/{z}/a/", "/a/z/"),
        ("/{z}/a/", "/a/{z}/{m...}", "/z/a/"),
        ("/{z}/{$}", "/a/", "/z/"),
        ("/a/", "/{z}/{$}", "/a/x"),
        ("/{z}/{$}", "/a/{x...}", "/z/"),
        ("/a/{foo...}", "/{z}/{$}", "/a/foo"),
        ("/a/{z}/{$}", "/{z}/a/", "/a/z/"),
        ("/{z}/a/", "/a/{z}/{$}", "/z/a/x"),
        ("/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/x/b/"),
        ("/{x}/c/{y...}", "/a/{x}/b/{y...}", "/x/c/"),
        ("/a/{c}/b/", "/{x}/c/{y...}", "/a/cx/b/"),
        ("/{x}/c/{y...}", "/a/{c}/b/", "/x/c/"),
        ("/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/x/b/"),
        ("/{x}/c/{y...}", "/a/{x}/b/{$}", "/x/c/"),
    ],
)
def test_difference_path(p1: str, p2: str, want: str) -> None:
    pat1, pat2 = parse_pattern(p1), parse_pattern(p2)
    assert pat1.compare_paths(pat2) in (OVER, GEN)
    assert difference_path(pat1, pat2) == want


def test_pattern_precomputes_what_matching_needs() -> None:
    p: Pattern = parse_pattern("GET h.com/a/{x}/{rest...}")
    assert (p.wildcards, p.last_multi, p.named_multi) == (("x", "rest"), True, True)
    p = parse_pattern("/a/{x}/")
    assert (p.wildcards, p.last_multi, p.named_multi) == (("x",), True, False)
    p = parse_pattern("/a/{$}")
    assert (p.wildcards, p.last_multi, p.named_multi) == ((), False, False)
