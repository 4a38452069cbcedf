"""``proxy_headers``: who the client is, believed only from trusted proxies.

Unit tables for the trust list and the header parsers, then a real server on 127.0.0.1
(the peer every request here comes from) with trust lists that do or do not include it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

import nethttp
from apps.cli_runner import client
from conftest import Running
from nethttp._proxy import (
    TrustedProxies,
    choose_client,
    parse_forwarded,
    parse_x_forwarded,
    proxy_headers,
    split_host_port,
)


@pytest.mark.parametrize(
    ("trusted", "peer", "expected"),
    [
        ("127.0.0.1", "127.0.0.1:5000", True),
        ("127.0.0.1", "127.0.0.2:5000", False),
        ("10.0.0.0/8", "10.1.2.3:1", True),
        ("10.0.0.0/8", "11.0.0.1:1", False),
        ("10.0.0.0/8", "[::ffff:10.0.0.1]:1", True),  # IPv4 peer on a dual-stack listener
        ("::1", "[::1]:80", True),
        ("fd00::/8", "[fd12::1]:80", True),
        ("*", "198.51.100.1:1", True),
        ("*", "@", True),
        ("127.0.0.1", "@", False),
        ("unix", "@", True),
        ("unix", "/run/peer.sock", True),
        ("unix", "127.0.0.1:1", False),
        (["127.0.0.1", " 10.0.0.1 ", ""], "10.0.0.1:9", True),
    ],
)
def test_trusted_peers(trusted: str | list[str], peer: str, expected: bool) -> None:
    assert TrustedProxies(trusted).trusts_peer(peer) is expected


@pytest.mark.parametrize("bad", ["10.0.0.300", "10.0.0.0/33", "example.com", "1.2.3.4/x"])
def test_trust_list_refuses_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        TrustedProxies(bad)


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("1.2.3.4:80", ("1.2.3.4", "80")),
        ("[2001:db8::1]:443", ("2001:db8::1", "443")),
        ("2001:db8::1", ("2001:db8::1", "")),
        ("1.2.3.4", ("1.2.3.4", "")),
        ("[2001:db8::1]", ("2001:db8::1", "")),
        ("@", ("@", "")),
    ],
)
def test_split_host_port(addr: str, expected: tuple[str, str]) -> None:
    assert split_host_port(addr) == expected


def test_parse_forwarded() -> None:
    hops = parse_forwarded(
        [
            'for=192.0.2.60;proto=https;host="example.com:8443";by=203.0.113.43, '
            'For="[2001:db8:cafe::17]:4711"',
            'for=_hidden;proto=http, for="\\"quoted\\", odd"',
        ]
    )
    assert [(h.node, h.proto, h.host) for h in hops] == [
        ("192.0.2.60", "https", "example.com:8443"),
        ("[2001:db8:cafe::17]:4711", "", ""),
        ("_hidden", "http", ""),
        ('"quoted", odd', "", ""),
    ]


def test_parse_x_forwarded_aligns_or_uses_the_last() -> None:
    hops = parse_x_forwarded(["1.1.1.1, 2.2.2.2", "3.3.3.3"], ["https, http, http"], ["a, b, c"])
    assert [(h.node, h.proto, h.host) for h in hops] == [
        ("1.1.1.1", "https", "a"),
        ("2.2.2.2", "http", "b"),
        ("3.3.3.3", "http", "c"),
    ]
    hops = parse_x_forwarded(["1.1.1.1, 2.2.2.2"], ["https"], [])
    assert [(h.proto, h.host) for h in hops] == [("https", ""), ("https", "")]


@pytest.mark.parametrize(
    ("xff", "trusted", "client"),
    [
        ("6.6.6.6, 203.0.113.5", "127.0.0.1", "203.0.113.5"),  # the spoofed entry is not reached
        ("203.0.113.5, 10.0.0.2", "10.0.0.0/8", "203.0.113.5"),  # past a trusted proxy
        ("10.0.0.3, 10.0.0.2", "10.0.0.0/8", "10.0.0.3"),  # all trusted: the leftmost
        ("unknown, 10.0.0.2", "10.0.0.0/8", "unknown"),  # an identifier ends the chain
        ("2001:db8::9, 10.0.0.2", "10.0.0.0/8", "2001:db8::9"),
    ],
)
def test_choose_client(xff: str, trusted: str, client: str) -> None:
    chosen = choose_client(parse_x_forwarded([xff], [], []), TrustedProxies(trusted))
    assert chosen is not None and chosen.node == client


# -- over real sockets --------------------------------------------------------------------


async def report(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    body = {"remote_addr": r.remote_addr, "scheme": r.scheme, "host": r.host}
    await w.write(json.dumps(body).encode())


def _ask(srv: Running, headers: list[tuple[str, str]]) -> dict[str, str]:
    r = client().get(srv.url, headers=headers)
    assert r.status_code == 200
    result: dict[str, str] = r.json()
    return result


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], {"scheme": "http"}),
        (
            [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")],
            {"remote_addr": "203.0.113.7:0", "scheme": "https"},
        ),
        (
            [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.7, 127.0.0.1")],
            {"remote_addr": "203.0.113.7:0"},  # repeated fields are one list; loopback trusted
        ),
        ([("X-Forwarded-Proto", "wss")], {"scheme": "https"}),
        ([("X-Forwarded-Proto", "gopher")], {"scheme": "http"}),
        ([("X-Forwarded-Host", "public.example:8443")], {"host": "public.example:8443"}),
        ([("X-Forwarded-Host", "bad host/../")], {"host": "127.0.0.1"}),
        (
            [("Forwarded", 'for="[2001:db8::5]:4711";proto=https;host=api.example')],
            {"remote_addr": "[2001:db8::5]:4711", "scheme": "https", "host": "api.example"},
        ),
        (
            [("Forwarded", "for=198.51.100.2"), ("X-Forwarded-For", "203.0.113.7")],
            {"remote_addr": "198.51.100.2:0"},  # Forwarded wins
        ),
        ([("X-Forwarded-For", "203.0.113.7:5555")], {"remote_addr": "203.0.113.7:5555"}),
    ],
)
def test_trusted_peer(
    serve: Callable[..., Running], headers: list[tuple[str, str]], expected: dict[str, str]
) -> None:
    srv = serve(proxy_headers(report, trusted=["127.0.0.1"]))
    seen = _ask(srv, headers)
    for key, value in expected.items():
        if key == "host" and value == "127.0.0.1":
            assert seen["host"].startswith("127.0.0.1:")
        else:
            assert seen[key] == value, seen
    if "remote_addr" not in expected:
        assert seen["remote_addr"].startswith("127.0.0.1:")


def test_untrusted_peer_cannot_spoof(serve: Callable[..., Running]) -> None:
    srv = serve(proxy_headers(report, trusted="10.0.0.0/8, 192.168.0.1"))
    seen = _ask(
        srv,
        [
            ("X-Forwarded-For", "203.0.113.7"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "evil.example"),
            ("Forwarded", "for=198.51.100.9;proto=https"),
        ],
    )
    assert seen["remote_addr"].startswith("127.0.0.1:")
    assert seen["scheme"] == "http"
    assert seen["host"].startswith("127.0.0.1:")


def test_default_trust_is_loopback_and_unix(serve: Callable[..., Running]) -> None:
    srv = serve(proxy_headers(report))
    assert _ask(srv, [("X-Forwarded-For", "203.0.113.8")])["remote_addr"] == "203.0.113.8:0"
    assert "unix" in repr(proxy_headers(report).trusted)  # type: ignore[attr-defined]
