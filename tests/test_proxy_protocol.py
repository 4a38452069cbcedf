"""The PROXY protocol (v1 and v2) on a listener: parsed from trusted peers only."""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nethttp
from conftest import Running, recv_all
from nethttp._listen import parse_networks, parse_proxy_header, peer_in

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(cmd: int, family: int, body: bytes) -> bytes:
    return SIG + bytes([0x20 | cmd, family]) + struct.pack("!H", len(body)) + body


def v2_tcp4(src: str, sport: int, dst: str = "10.0.0.1", dport: int = 80) -> bytes:
    body = (
        ipaddress.IPv4Address(src).packed
        + ipaddress.IPv4Address(dst).packed
        + struct.pack("!HH", sport, dport)
    )
    return v2(1, 0x11, body)


def v2_tcp6(src: str, sport: int) -> bytes:
    body = (
        ipaddress.IPv6Address(src).packed
        + ipaddress.IPv6Address("::1").packed
        + struct.pack("!HH", sport, 443)
    )
    return v2(1, 0x21, body)


TLV = b"\x04\x00\x03abc"  # a type-length-value the server skips (PP2_TYPE_NOOP)

PARSED = [
    (b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n", ("203.0.113.7", 5555)),
    (b"PROXY TCP6 2001:db8::7 2001:db8::1 1 443\r\n", ("2001:db8::7", 1)),
    (b"PROXY TCP4 1.2.3.4 5.6.7.8 65535 0\r\n", ("1.2.3.4", 65535)),
    (b"PROXY UNKNOWN\r\n", None),
    (b"PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n", None),
    (v2_tcp4("198.51.100.9", 40000), ("198.51.100.9", 40000)),
    (v2_tcp6("2001:db8::9", 8443), ("2001:db8::9", 8443)),
    (v2(1, 0x11, v2_tcp4("192.0.2.1", 7)[16:] + TLV), ("192.0.2.1", 7)),
    (v2(0, 0x00, b""), None),  # LOCAL: a health check from the proxy itself
    (v2(0, 0x11, v2_tcp4("192.0.2.1", 7)[16:]), None),  # LOCAL ignores the addresses
    (v2(1, 0x00, b""), None),  # UNSPEC
    (v2(1, 0x31, b"\x00" * 216), None),  # a Unix-socket client
]

REJECTED = [
    b"GET / HTTP/1.1\r\n",
    b"PROXY TCP4 203.0.113.7 10.0.0.1 5555\r\n",  # a port missing
    b"PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n",  # family and address disagree
    b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",  # port out of range
    b"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",  # a leading zero
    b"PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n",
    b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
    b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",  # two spaces
    b"PROXY\r\n",
    b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",  # bare LF
    b"PROXY " + b"9" * 110,  # no CRLF within 107 bytes
    SIG[:11] + b"X",
    v2(1, 0x11, b"\x00" * 11),  # too short for IPv4
    v2(1, 0x21, b"\x00" * 35),  # too short for IPv6
    v2(1, 0x12, b"\x00" * 12),  # UDP
    v2(2, 0x11, b"\x00" * 12),  # unknown command
    bytes(SIG) + b"\x11\x11\x00\x00",  # version 1 in a v2 header
]


@pytest.mark.parametrize(("data", "want"), PARSED)
def test_parse_whole_and_growing(data: bytes, want: tuple[str, int] | None) -> None:
    assert parse_proxy_header(data + b"GET / HTTP/1.1\r\n") == (len(data), want)
    for n in range(len(data)):
        assert parse_proxy_header(data[:n]) is None, n  # more bytes needed, never an error


@pytest.mark.parametrize("data", REJECTED)
def test_parse_rejects(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_proxy_header(data + b"\r\n" * 60)


def test_allow_lists() -> None:
    nets = parse_networks(["10.0.0.0/8", " 2001:db8::/32", "127.0.0.1", ""])
    assert peer_in(("10.9.8.7", 1), nets)
    assert peer_in(("::ffff:10.1.2.3", 1, 0, 0), nets)  # an IPv4-mapped peer
    assert peer_in(("2001:db8::5", 1, 0, 0), nets)
    assert not peer_in(("11.0.0.1", 1), nets)
    assert not peer_in(("fe80::1%eth0", 1, 0, 2), nets)
    assert peer_in("", nets)  # a Unix-socket peer
    assert peer_in(("8.8.8.8", 1), parse_networks(["*"]))
    with pytest.raises(ValueError):
        parse_networks(["not-an-ip"])


async def whoami(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    await w.write(f"{r.remote_addr} {r.conn.remote_addr}".encode())


def proxied(serve: Any, allow: list[str], **options: Any) -> Running:
    listener = nethttp.listen("127.0.0.1:0", proxy_protocol=allow)
    return serve(whoami, listener=listener, **options)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("header", "client"),
    [
        (b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n", "203.0.113.7:5555"),
        (v2_tcp4("198.51.100.9", 40000), "198.51.100.9:40000"),
        (v2_tcp6("2001:db8::9", 8443), "[2001:db8::9]:8443"),
    ],
)
@pytest.mark.parametrize("bytewise", [False, True])
def test_trusted_proxy_sets_the_client_address(
    serve: Any, header: bytes, client: str, bytewise: bool
) -> None:
    srv = proxied(serve, ["127.0.0.1"])
    request = header + b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    with srv.connect() as s:
        if bytewise:
            for i in range(len(request)):
                s.sendall(request[i : i + 1])
                time.sleep(0.001)
        else:
            s.sendall(request)  # header and request in one segment: nothing after is lost
        data = recv_all(s)
    assert data.startswith(b"HTTP/1.1 200 OK"), data
    assert data.endswith(f"{client} {client}".encode())


def test_local_command_keeps_the_real_peer(serve: Any) -> None:
    srv = proxied(serve, ["127.0.0.0/8"])
    with srv.connect() as s:
        port = s.getsockname()[1]
        s.sendall(v2(0, 0, b"") + b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert recv_all(s).endswith(f"127.0.0.1:{port} 127.0.0.1:{port}".encode())


def test_untrusted_peer_cannot_claim_an_address(serve: Any) -> None:
    srv = proxied(serve, ["10.0.0.0/8"])  # 127.0.0.1 is not a trusted proxy
    with srv.connect() as s:
        s.sendall(b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        data = recv_all(s)
    assert data.startswith(b"HTTP/1.1 400 Bad Request"), data
    assert b"203.0.113.7" not in data
    with srv.connect() as s:  # without a header it is an ordinary client
        port = s.getsockname()[1]
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert recv_all(s).endswith(f"127.0.0.1:{port} 127.0.0.1:{port}".encode())


def test_trusted_peer_without_a_header_is_closed_and_logged(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    srv = proxied(serve, ["127.0.0.1"])
    with caplog.at_level(logging.INFO, logger="nethttp.test"), srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        try:
            data = recv_all(s)
        except ConnectionResetError:  # closed with the request unread
            data = b""
        assert data == b""  # never served: the header is what makes it trusted
    time.sleep(0.1)
    events = [getattr(rec, "event", None) for rec in caplog.records]
    assert "proxy_error" in events


def test_silent_proxy_connection_times_out(serve: Any) -> None:
    srv = proxied(serve, ["127.0.0.1"], read_header_timeout=0.3)
    with srv.connect() as s:
        start = time.monotonic()
        s.sendall(b"PROXY TCP4 1.2.3.4")
        assert recv_all(s) == b""
        assert 0.25 < time.monotonic() - start < 3


def test_proxy_header_then_tls(serve: Any, tmp_path: Any) -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    srv = proxied(serve, ["127.0.0.1"], tls=server_ctx)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as raw:
        raw.sendall(v2_tcp4("192.0.2.44", 1234))
        with client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            data = recv_all(s)  # type: ignore[arg-type]
    assert data.endswith(b"192.0.2.44:1234 192.0.2.44:1234"), data


def test_unix_listener_with_proxy_protocol(serve: Any, tmp_path: Any) -> None:
    path = str(tmp_path / "p.sock")
    listener = nethttp.listen_unix(path, proxy_protocol=[])
    serve(whoami, listener=listener)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"PROXY TCP4 203.0.113.8 10.0.0.1 6000 80\r\n")
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert recv_all(s).endswith(b"203.0.113.8:6000 203.0.113.8:6000")


# -- hypothesis: any bytes, any prefix ---------------------------------------------------------

ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
ports = st.integers(0, 65535)


@st.composite
def proxy_headers(draw: st.DrawFn) -> tuple[bytes, tuple[str, int] | None]:
    """A valid header (v1 or v2, any family) and the client address it names."""
    kind = draw(st.sampled_from(["v1-4", "v1-6", "v1-unknown", "v2-4", "v2-6", "v2-local"]))
    if kind == "v1-4":
        src, dst, sp, dp = draw(ipv4), draw(ipv4), draw(ports), draw(ports)
        return f"PROXY TCP4 {src} {dst} {sp} {dp}\r\n".encode(), (src, sp)
    if kind == "v1-6":
        src, dst, sp, dp = draw(ipv6), draw(ipv6), draw(ports), draw(ports)
        return f"PROXY TCP6 {src} {dst} {sp} {dp}\r\n".encode(), (src, sp)
    if kind == "v1-unknown":
        return b"PROXY UNKNOWN\r\n", None
    tlvs = draw(st.binary(max_size=40))
    if kind == "v2-4":
        src, sp = draw(ipv4), draw(ports)
        return v2(1, 0x11, v2_tcp4(src, sp)[16:] + tlvs), (src, sp)
    if kind == "v2-6":
        src, sp = draw(ipv6), draw(ports)
        return v2(1, 0x21, v2_tcp6(src, sp)[16:] + tlvs), (src, sp)
    return v2(0, draw(st.sampled_from([0x00, 0x11, 0x21])), tlvs), None


@settings(max_examples=300, deadline=None)
@given(proxy_headers(), st.binary(max_size=30))
def test_any_valid_header_parses_whole_and_never_errs_on_a_prefix(
    case: tuple[bytes, tuple[str, int] | None], rest: bytes
) -> None:
    header, client = case
    assert parse_proxy_header(header + rest) == (len(header), client)
    for n in range(len(header)):
        assert parse_proxy_header(header[:n]) is None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=120), proxy_headers().map(lambda c: c[0][:-1] + b"\x00")))
def test_any_bytes_give_a_header_more_or_valueerror(data: bytes) -> None:
    # Never another exception, never a length past the input, prefixes consistent.
    try:
        got = parse_proxy_header(data)
    except ValueError:
        return
    if got is not None:
        assert 0 < got[0] <= len(data)
