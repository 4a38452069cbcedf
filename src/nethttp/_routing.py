"""The decision tree that matches requests to patterns, and the index for conflict checks.

A port of Go's ``routing_tree.go`` and ``routing_index.go``. The tree's root branches on
the host, the next level on the method, and each level below on one path segment, so a
lookup costs the same with ten patterns or ten thousand: one dict lookup per level.

Precedence needs no comparisons here: at each level a literal child is tried first, then
the single wildcard, then the multi wildcard. Registration has already refused any pair
of patterns where that order would pick the less specific one (``Pattern.conflicts_with``),
so the first leaf reached is the most specific match. Backtracking happens when a literal
branch dead-ends: for ``/a/b/z`` and ``/a/{x}/c``, the path ``/a/b/c`` tries the first
and then finds the second.

The index keeps registration fast: a new pattern is compared only with the patterns that
share a literal (or a wildcard) at one of its literal positions, and with every multi.

Request paths arrive escaped; each segment is percent-decoded on its own, so ``%2F`` stays
inside its segment. A path ending in ``/`` ends with the segment ``"/"``, which is what a
``{$}`` pattern is made of and what a single wildcard refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from ._pattern import Pattern, Segment, path_unescape

H = TypeVar("H")


class RoutingNode(Generic[H]):
    """A node of the decision tree; a leaf holds a pattern and its handler."""

    __slots__ = ("children", "empty_child", "handler", "multi_child", "pattern")

    def __init__(self) -> None:
        self.pattern: Pattern | None = None
        self.handler: H | None = None
        # Literal keys, including the literal empty segment; the host-less and method-less
        # branches and the single wildcard live in empty_child, as in Go.
        self.children: dict[str, RoutingNode[H]] = {}
        self.empty_child: RoutingNode[H] | None = None
        self.multi_child: RoutingNode[H] | None = None

    # -- building ------------------------------------------------------------------------

    def add_pattern(self, p: Pattern, handler: H) -> None:
        """Add ``p`` under this root (host, then method, then the path segments)."""
        n = self._add_child(p.host)._add_child(p.method)
        for seg in p.segments:
            if seg.multi:
                if n.multi_child is None:
                    n.multi_child = RoutingNode()
                n = n.multi_child
            elif seg.wild:
                n = n._add_child("")
            else:
                n = n._add_literal(seg.s)
        if n.pattern is not None:
            raise AssertionError(f"{p} reached the leaf of {n.pattern}")
        # The handler first: a lookup on another thread treats a node without a pattern as
        # an inner node, so it sees either no leaf or a complete one.
        n.handler = handler
        n.pattern = p

    def _add_child(self, key: str) -> RoutingNode[H]:
        if key == "":
            if self.empty_child is None:
                self.empty_child = RoutingNode()
            return self.empty_child
        return self._add_literal(key)

    def _add_literal(self, key: str) -> RoutingNode[H]:
        c = self.children.get(key)
        if c is None:
            c = self.children[key] = RoutingNode()
        return c

    # -- matching ------------------------------------------------------------------------

    def match(self, host: str, method: str, path: str) -> tuple[RoutingNode[H], list[str]] | None:
        """The leaf for host, method and escaped path, and the wildcard values in order.

        Patterns with the request's host are tried first, then those without a host.
        """
        segs, raw = _split(path)
        if host:
            hn = self.children.get(host)
            if hn is not None:
                found = hn._match_method_and_path(method, segs, raw)
                if found is not None:
                    return found
        if self.empty_child is None:
            return None
        return self.empty_child._match_method_and_path(method, segs, raw)

    def _match_method_and_path(
        self, method: str, segs: list[str], raw: list[str]
    ) -> tuple[RoutingNode[H], list[str]] | None:
        c = self.children.get(method)
        if c is not None:
            found = c._match_path(segs, raw, 0, [])
            if found is not None:
                return found
        if method == "HEAD":
            c = self.children.get("GET")  # GET patterns serve HEAD too
            if c is not None:
                found = c._match_path(segs, raw, 0, [])
                if found is not None:
                    return found
        c = self.empty_child
        return c._match_path(segs, raw, 0, []) if c is not None else None

    def _match_path(
        self, segs: list[str], raw: list[str], i: int, matches: list[str]
    ) -> tuple[RoutingNode[H], list[str]] | None:
        # Go's recursive matchPath, with the last alternative at each level taken in a
        # loop instead of a call (most levels have only one way on). On failure the
        # wildcard values added here are removed again, as the caller expects.
        n, base, end = self, len(matches), len(segs)
        while i < end:
            seg = segs[i]
            c = n.children.get(seg)
            e = n.empty_child if seg != "/" else None  # a wildcard never takes the slash
            m = n.multi_child
            if c is not None:
                if e is None and m is None:
                    n, i = c, i + 1
                    continue
                found = c._match_path(segs, raw, i + 1, matches)
                if found is not None:
                    return found
            if e is not None:
                matches.append(seg)
                if m is None:
                    n, i = e, i + 1
                    continue
                found = e._match_path(segs, raw, i + 1, matches)
                if found is not None:
                    return found
                matches.pop()
            if m is not None:
                assert m.pattern is not None  # a multi child is always a leaf
                if m.pattern.named_multi:
                    matches.append(path_unescape("/".join(raw[i:])))
                return m, matches
            del matches[base:]
            return None
        if n.pattern is not None:
            return n, matches
        del matches[base:]
        return None

    def matching_methods(self, host: str, path: str, methods: set[str]) -> None:
        """Add to ``methods`` every method that would match host and path."""
        if host:
            hn = self.children.get(host)
            if hn is not None:
                hn._matching_methods_path(path, methods)
        if self.empty_child is not None:
            self.empty_child._matching_methods_path(path, methods)
        if "GET" in methods:
            methods.add("HEAD")

    def _matching_methods_path(self, path: str, methods: set[str]) -> None:
        # Method-less patterns (empty_child) would match any method: they are not asked,
        # since this runs only after the request's own method found nothing.
        segs, raw = _split(path)
        for method, c in self.children.items():
            if c._match_path(segs, raw, 0, []) is not None:
                methods.add(method)


def _split(path: str) -> tuple[list[str], list[str]]:
    """Split an escaped path into its decoded segments, and the raw ones for a multi."""
    if not path:
        return [], []
    raw = path[1:].split("/")
    if "%" in path:
        segs = [path_unescape(s) for s in raw]
    elif raw[-1] == "":
        segs = raw.copy()
    else:
        return raw, raw
    if raw[-1] == "":
        segs[-1] = "/"  # the trailing slash
    return segs, raw


class RoutingIndex:
    """Finds the registered patterns that might conflict with a new one (Go's routingIndex).

    It may return patterns that cannot conflict, never miss one that can.
    """

    __slots__ = ("multis", "segments")

    def __init__(self) -> None:
        # (position, literal or "" for a wildcard) -> the patterns with it there.
        self.segments: dict[tuple[int, str], list[Pattern]] = {}
        # Patterns ending in a multi: few in practice, so they are not indexed.
        self.multis: list[Pattern] = []

    def add_pattern(self, p: Pattern) -> None:
        """Index ``p``."""
        if p.last_multi:
            self.multis.append(p)
            return
        for pos, seg in enumerate(p.segments):
            self.segments.setdefault((pos, "" if seg.wild else seg.s), []).append(p)

    def possibly_conflicting_patterns(self, p: Pattern) -> Iterator[Pattern]:
        """Yield every indexed pattern that might conflict with ``p``."""
        yield from self.multis
        last: Segment = p.segments[-1]
        if not last.wild and last.s == "/":
            # A {$} pattern only matches paths ending in a slash, which only multis and
            # other {$} patterns (with the {$} at the same position) also match.
            yield from self.segments.get((len(p.segments) - 1, "/"), ())
            return
        # Otherwise a conflict needs the same literal or a wildcard at each literal
        # position; take the position with the fewest candidates.
        best: tuple[list[Pattern], list[Pattern]] | None = None
        fewest = -1
        for pos, seg in enumerate(p.segments):
            if seg.multi:
                break
            if not seg.wild:
                lits = self.segments.get((pos, seg.s), [])
                wilds = self.segments.get((pos, ""), [])
                if best is None or len(lits) + len(wilds) < fewest:
                    best, fewest = (lits, wilds), len(lits) + len(wilds)
        if best is not None:
            yield from best[0]
            yield from best[1]
            return
        # All wildcards: compare with everything.
        for pats in list(self.segments.values()):
            yield from pats
