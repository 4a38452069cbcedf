"""The public surface: ``__all__`` is sorted and matches what the package exports."""

import nethttp


def test_all_is_sorted() -> None:
    assert nethttp.__all__ == sorted(nethttp.__all__)


def test_all_matches_public_names() -> None:
    public = {
        name
        for name in vars(nethttp)
        if not name.startswith("_") and not isinstance(getattr(nethttp, name), type(nethttp))
    }
    assert public == set(nethttp.__all__)


def test_every_public_name_is_documented() -> None:
    for name in nethttp.__all__:
        obj = getattr(nethttp, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"
