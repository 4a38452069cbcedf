"""``Header``: Go's ``http.Header``, a map from canonical field names to lists of values.

The methods (``get``, ``set``, ``add``, ``values``, ``delete``) canonicalise the key as Go's
``textproto.CanonicalMIMEHeaderKey`` does; indexing (``h["X"]``) does not, exactly like
indexing Go's map. A key present with an empty list is how a handler suppresses an
automatic response header (``h["Date"] = []``), the way Go uses a nil slice.

Request headers are built lazily from the raw field lines by the request (a handler that
never looks pays nothing); canonical names are cached, because the same few dozen names
arrive on every request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Go turns CR and LF inside response values into spaces; NUL joins them so a handler can
# never split or truncate a response head (hardening issue).
_BAD_VALUE = re.compile(r"[\r\n\x00]")

_canon_cache: dict[str, str] = {}
_CANON_CACHE_MAX = 4096


def _canonicalize(key: str) -> str:
    if not _TOKEN_RE.fullmatch(key):
        # Go returns keys with non-token bytes unchanged (and the server rejects them).
        return key
    return "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))


def canonical_header_key(key: str) -> str:
    """Return the canonical form of a field name: ``content-type`` -> ``Content-Type``."""
    canon = _canon_cache.get(key)
    if canon is None:
        canon = _canonicalize(key)
        if len(_canon_cache) < _CANON_CACHE_MAX:
            _canon_cache[key] = canon
    return canon


def valid_field_name(name: str) -> bool:
    """Whether ``name`` is an RFC 9110 token, the only legal field name."""
    return _TOKEN_RE.fullmatch(name) is not None


def sanitize_value(value: str) -> str:
    """Trim ``value`` and replace CR, LF and NUL with spaces, as Go does when writing."""
    if _BAD_VALUE.search(value) is not None:
        value = _BAD_VALUE.sub(" ", value)
    return value.strip(" \t")


class Header:
    """Field names mapped to lists of values; not safe to share between threads."""

    __slots__ = ("_map",)

    def __init__(self, items: Iterable[tuple[str, str]] | dict[str, list[str]] | None = None):
        self._map: dict[str, list[str]] = {}
        if items is None:
            return  # a response's empty map, built on every request: the short way
        if isinstance(items, dict):
            for k, vs in items.items():
                self._map[canonical_header_key(k)] = list(vs)
        elif items is not None:
            for k, v in items:
                self.add(k, v)

    # Go's methods, with canonical keys.

    def get(self, key: str) -> str:
        """Return the first value for ``key``, or "" if there is none."""
        vs = self._map.get(key) or self._map.get(canonical_header_key(key))
        return vs[0] if vs else ""

    def values(self, key: str) -> list[str]:
        """Return every value for ``key`` (a copy; empty when absent)."""
        vs = self._map.get(canonical_header_key(key))
        return list(vs) if vs else []

    def set(self, key: str, value: str) -> None:
        """Replace all values of ``key`` with ``value``."""
        self._map[_canon_cache.get(key) or canonical_header_key(key)] = [value]

    def add(self, key: str, value: str) -> None:
        """Append ``value`` to the values of ``key``."""
        k = canonical_header_key(key)
        vs = self._map.get(k)
        if vs is None:
            self._map[k] = [value]
        else:
            vs.append(value)

    def delete(self, key: str) -> None:
        """Remove ``key`` and all its values."""
        self._map.pop(canonical_header_key(key), None)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present, even with no values (canonicalised)."""
        return canonical_header_key(key) in self._map

    def items(self) -> Iterator[tuple[str, list[str]]]:
        """Iterate over (key, values) pairs in insertion order."""
        return iter(self._map.items())

    def keys(self) -> Iterator[str]:
        """Iterate over the keys in insertion order."""
        return iter(self._map)

    def clone(self) -> Header:
        """Return a deep copy."""
        h = Header()
        h._map = {k: list(v) for k, v in self._map.items()}
        return h

    # Raw map access, without canonicalisation, as indexing Go's map.

    def __getitem__(self, key: str) -> list[str]:
        return self._map[key]

    def __setitem__(self, key: str, values: list[str]) -> None:
        self._map[key] = values

    def __delitem__(self, key: str) -> None:
        del self._map[key]

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Header):
            return self._map == other._map
        if isinstance(other, dict):
            return self._map == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Header({self._map!r})"
