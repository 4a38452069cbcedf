"""The routing tree and the conflict index (Go's routing_tree_test.go, routing_index_test.go)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from nethttp._pattern import Pattern, parse_pattern
from nethttp._routing import RoutingIndex, RoutingNode, _split


def build_tree(*patterns: str) -> RoutingNode[str]:
    root: RoutingNode[str] = RoutingNode()
    for p in patterns:
        root.add_pattern(parse_pattern(p), p)
    return root


def dump(n: RoutingNode[str], level: int = 0) -> list[str]:
    """The tree as Go's test prints it: "" for a wildcard child, MULTI for a multi."""
    indent = "    " * level
    out = [f'{indent}"{n.pattern}"'] if n.pattern is not None else []
    if n.empty_child is not None:
        out += [f'{indent}"":', *dump(n.empty_child, level + 1)]
    for k in sorted(n.children):
        out += [f'{indent}"{k}":', *dump(n.children[k], level + 1)]
    if n.multi_child is not None:
        out += [f"{indent}MULTI:", *dump(n.multi_child, level + 1)]
    return out


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("/a/b/c", ["a", "b", "c"]),
        ("/a/b/", ["a", "b", "/"]),
        ("/", ["/"]),
        ("/a/%62/c", ["a", "b", "c"]),
        ("/a%2Fb%2fc", ["a/b/c"]),
        ("", []),
        ("//", ["", "/"]),
        ("/a//b", ["a", "", "b"]),
        ("/%2F", ["/"]),  # as in Go: an escaped slash alone reads as the trailing slash
    ],
)
def test_split_segments(path: str, want: list[str]) -> None:
    segs, raw = _split(path)
    assert segs == want
    assert "/" + "/".join(raw) == path or not path


GO_TREE = ("/a", "/a/b", "/a/{x}", "/g/h/i", "/g/{x}/j", "/a/b/{x...}", "/a/b/{y}", "/a/b/{$}")


def test_add_pattern_builds_go_tree() -> None:
    want = """\
"":
    "":
        "a":
            "/a"
            "":
                "/a/{x}"
            "b":
                "/a/b"
                "":
                    "/a/b/{y}"
                "/":
                    "/a/b/{$}"
                MULTI:
                    "/a/b/{x...}"
        "g":
            "":
                "j":
                    "/g/{x}/j"
            "h":
                "i":
                    "/g/h/i"
"""
    assert "\n".join(dump(build_tree(*GO_TREE))) + "\n" == want


ITEM_TREE = (
    "/item/",
    "POST /item/{user}",
    "GET /item/{user}",
    "/item/{user}",
    "/item/{user}/{id}",
    "/item/{user}/new",
    "/item/{$}",
    "POST alt.com/item/{user}",
    "GET /headwins",
    "HEAD /headwins",
    "/path/{p...}",
)
P1, P2, P3 = "/a/b/{$}", "/a/b/{w}", "/a/b/{w...}"

# (tree, method, host, path, pattern or "" for no match, wildcard values)
MATCH_CASES = [
    (GO_TREE, "GET", "", "/a", "/a", []),
    (GO_TREE, "Get", "", "/b", "", None),
    (GO_TREE, "Get", "", "/a/b", "/a/b", []),
    (GO_TREE, "Get", "", "/a/c", "/a/{x}", ["c"]),
    (GO_TREE, "Get", "", "/a/b/", "/a/b/{$}", []),
    (GO_TREE, "Get", "", "/a/b/c", "/a/b/{y}", ["c"]),
    (GO_TREE, "Get", "", "/a/b/c/d", "/a/b/{x...}", ["c/d"]),
    (GO_TREE, "Get", "", "/g/h/i", "/g/h/i", []),
    (GO_TREE, "Get", "", "/g/h/j", "/g/{x}/j", ["h"]),  # backtracking out of /g/h
    (ITEM_TREE, "GET", "", "/item/jba", "GET /item/{user}", ["jba"]),
    (ITEM_TREE, "POST", "", "/item/jba", "POST /item/{user}", ["jba"]),
    (ITEM_TREE, "HEAD", "", "/item/jba", "GET /item/{user}", ["jba"]),
    (ITEM_TREE, "get", "", "/item/jba", "/item/{user}", ["jba"]),  # methods are case-sensitive
    (ITEM_TREE, "POST", "", "/item/jba/17", "/item/{user}/{id}", ["jba", "17"]),
    (ITEM_TREE, "GET", "", "/item/jba/new", "/item/{user}/new", ["jba"]),
    (ITEM_TREE, "GET", "", "/item/", "/item/{$}", []),
    (ITEM_TREE, "GET", "", "/item/jba/17/line2", "/item/", []),
    (ITEM_TREE, "POST", "alt.com", "/item/jba", "POST alt.com/item/{user}", ["jba"]),
    (ITEM_TREE, "GET", "alt.com", "/item/jba", "GET /item/{user}", ["jba"]),
    (ITEM_TREE, "GET", "", "/item", "", None),
    (ITEM_TREE, "GET", "", "/headwins", "GET /headwins", []),
    (ITEM_TREE, "HEAD", "", "/headwins", "HEAD /headwins", []),  # HEAD beats GET
    (ITEM_TREE, "GET", "", "/path/to/file", "/path/{p...}", ["to/file"]),
    (ITEM_TREE, "GET", "", "/path/*", "/path/{p...}", ["*"]),
    # {$} matches only a trailing slash.
    ((P1,), "GET", "", "/a/b", "", None),
    ((P1,), "GET", "", "/a/b/", P1, []),
    ((P1,), "GET", "", "/a/b/c", "", None),
    ((P1,), "GET", "", "/a/b/c/d", "", None),
    # A single wildcard never matches a trailing slash.
    ((P2,), "GET", "", "/a/b", "", None),
    ((P2,), "GET", "", "/a/b/", "", None),
    ((P2,), "GET", "", "/a/b/c", P2, ["c"]),
    ((P2,), "GET", "", "/a/b/c/d", "", None),
    # A multi matches both, and the empty rest.
    ((P3,), "GET", "", "/a/b", "", None),
    ((P3,), "GET", "", "/a/b/", P3, [""]),
    ((P3,), "GET", "", "/a/b/c", P3, ["c"]),
    ((P3,), "GET", "", "/a/b/c/d", P3, ["c/d"]),
    # All three together.
    ((P1, P2, P3), "GET", "", "/a/b", "", None),
    ((P1, P2, P3), "GET", "", "/a/b/", P1, []),
    ((P1, P2, P3), "GET", "", "/a/b/c", P2, ["c"]),
    ((P1, P2, P3), "GET", "", "/a/b/c/d", P3, ["c/d"]),
    # Beyond Go's table: escapes are decoded per segment, the multi's value as a whole.
    (("/f/{p...}",), "GET", "", "/f/a%2Fb/c", "/f/{p...}", ["a/b/c"]),
    (("/n/{n}/{o...}",), "GET", "", "/n/%2fjohn/address", "/n/{n}/{o...}", ["/john", "address"]),
    (("/%7B/%7D",), "GET", "", "/%7b/}", "/%7B/%7D", []),
    (("/a/b/",), "GET", "", "/a%2Fb/", "", None),  # one segment "a/b", not two
    (("/x/{y}",), "GET", "", "/x/%E9", "/x/{y}", ["\udce9"]),
    (("example.com/",), "GET", "example.com", "/q", "example.com/", []),
    (("example.com/",), "GET", "Example.com", "/q", "", None),  # hosts compare exactly
    (("/a/",), "GET", "", "", "", None),  # the empty path (CONNECT host:port) matches nothing
]


@pytest.mark.parametrize(("tree", "method", "host", "path", "want", "values"), MATCH_CASES)
def test_routing_node_match(
    tree: tuple[str, ...],
    method: str,
    host: str,
    path: str,
    want: str,
    values: list[str] | None,
) -> None:
    found = build_tree(*tree).match(host, method, path)
    if not want:
        assert found is None
        return
    assert found is not None
    node, matches = found
    assert node.pattern is not None and node.pattern.str == want and node.handler == want
    assert matches == values


def test_literal_empty_segment_is_not_a_wildcard() -> None:
    # Go files a literal "" under the wildcard child, so "/a//b" would match "/a/x/b";
    # here it is a literal, tried before the wildcard.
    tree = build_tree("/a//b", "/a/{x}/b")
    found = tree.match("", "CONNECT", "/a//b")
    assert found is not None and str(found[0].pattern) == "/a//b"
    found = tree.match("", "GET", "/a/x/b")
    assert found is not None and str(found[0].pattern) == "/a/{x}/b"
    assert build_tree("/a//b").match("", "GET", "/a/x/b") is None


HOST_TREE = ("GET a.com/", "PUT b.com/", "POST /foo/{x}")


@pytest.mark.parametrize(
    ("tree", "host", "path", "want"),
    [
        (("POST /",), "", "/foo", "POST"),
        (("GET /",), "", "/foo", "GET,HEAD"),
        (HOST_TREE, "", "/foo", ""),
        (HOST_TREE, "", "/foo/bar", "POST"),
        (HOST_TREE, "a.com", "/foo/bar", "GET,HEAD,POST"),
        (HOST_TREE, "b.com", "/bar", "PUT"),
        (("/",), "", "/", ""),  # a method-less pattern is never listed
        (("GET /x", "DELETE /x", "PATCH /{y}"), "", "/x", "DELETE,GET,HEAD,PATCH"),
    ],
)
def test_matching_methods(tree: tuple[str, ...], host: str, path: str, want: str) -> None:
    methods: set[str] = set()
    build_tree(*tree).matching_methods(host, path, methods)
    assert ",".join(sorted(methods)) == want


# -- the index ---------------------------------------------------------------------------------


def generate_patterns() -> Iterator[Pattern]:
    """Every combination of a sample of parts (Go's generatePatterns, one segment shorter)."""
    methods = ["", "GET ", "HEAD ", "POST "]
    hosts = ["", "h1", "h2"]
    segs = ["/a", "/b", "/{x}"]
    finals = ["/a", "/b", "/{f}", "/{m...}", "/{$}"]
    for method, host in itertools.product(methods, hosts):
        for n in range(3):
            for middle in itertools.product(segs, repeat=n):
                for final in finals:
                    s, k = "", 0
                    for part in (*middle, final):
                        if part == "/{x}":
                            part, k = f"/{{x{k}}}", k + 1  # distinct wildcard names
                        s += part
                    yield parse_pattern(method + host + s)


def test_index_finds_every_conflict() -> None:
    # Compare what the index offers with an exhaustive comparison, pattern by pattern.
    idx = RoutingIndex()
    seen: list[Pattern] = []
    conflicts = 0
    for pat in generate_patterns():
        got = sorted(
            {p.str for p in idx.possibly_conflicting_patterns(pat) if pat.conflicts_with(p)}
        )
        want = sorted(p.str for p in seen if pat.conflicts_with(p))
        assert got == want, pat.str
        conflicts += len(want)
        idx.add_pattern(pat)
        seen.append(pat)
    assert len(seen) == 4 * 3 * 13 * 5
    assert conflicts > 1000  # the sample does exercise conflicts


def test_index_prunes_by_literal() -> None:
    idx = RoutingIndex()
    for i in range(100):
        idx.add_pattern(parse_pattern(f"/a/b{i}/c"))
    idx.add_pattern(parse_pattern("/a/{x}/c"))
    idx.add_pattern(parse_pattern("/z/"))
    # The position with the fewest candidates decides: "b7" (2), not "a" or "c" (101).
    got = [p.str for p in idx.possibly_conflicting_patterns(parse_pattern("/a/b7/c"))]
    assert got == ["/z/", "/a/b7/c", "/a/{x}/c"]
    got = [p.str for p in idx.possibly_conflicting_patterns(parse_pattern("/a/b7/d"))]
    assert got == ["/z/"]  # nothing has "d" third
    got = [p.str for p in idx.possibly_conflicting_patterns(parse_pattern("/q/{$}"))]
    assert got == ["/z/"]
