"""Listening sockets: TCP from Go-style addresses, and Unix sockets built safely.

``listen(":8080")`` means every interface, IPv4 and IPv6, as in Go; ``"127.0.0.1:0"``
picks a free port and ``Listener.addr`` tells which.

``listen_unix`` binds, chmods, then listens: until ``listen()`` nobody can connect, so no
client ever sees the socket with wider permissions than ``mode``. An existing path is
removed only when it is a socket that nobody answers on (a stale one).

A listener may expect the PROXY protocol (v1 text or v2 binary, haproxy's spec) from the
peers it trusts: ``listen(addr, proxy_protocol=["10.0.0.0/8"])``. A trusted peer must
open each connection with the header, and the client address it names becomes the
connection's ``remote_addr``; the header is read byte-exactly off the socket before TLS
and HTTP, so nothing after it is lost. Peers outside the list are served as plain HTTP:
a PROXY line from them is not a request (400), so no client can claim another's
address. Unix-socket peers count as trusted: the socket file's mode decides who they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import socket
import stat
import struct
from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeAlias

from ._connection import wait_readable

_Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = [
    "Listener",
    "listen",
    "listen_unix",
    "parse_addr",
    "parse_networks",
    "parse_proxy_header",
    "peer_in",
    "read_proxy_header",
]


def _backlog() -> int:
    # Go uses the kernel's somaxconn; the kernel caps the value anyway.
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return socket.SOMAXCONN


def parse_addr(addr: str) -> tuple[str, int]:
    """Split a Go-style ``host:port`` (``":8080"``, ``"[::1]:0"``, ``":http"``)."""
    host, sep, port = addr.rpartition(":")
    if not sep:
        raise ValueError(f"address {addr!r}: missing port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"address {addr!r}: too many colons (bracket IPv6 hosts)")
    if port.isdigit():
        number = int(port)
    else:
        try:
            number = socket.getservbyname(port, "tcp")
        except OSError:
            raise ValueError(f"address {addr!r}: unknown port {port!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"address {addr!r}: port out of range")
    return host, number


class Listener:
    """A listening socket; ``addr`` is the bound address as ``host:port`` (or a path)."""

    __slots__ = ("_closed", "_unlink", "proxy_protocol", "socket")

    def __init__(
        self,
        sock: socket.socket,
        unlink_path: str | None = None,
        *,
        proxy_protocol: Iterable[str] | None = None,
    ) -> None:
        sock.setblocking(False)
        self.socket = sock
        self._unlink = unlink_path
        self._closed = False
        #: The peers (IPs, CIDRs, ``"*"``) whose connections open with a PROXY header;
        #: None: the PROXY protocol is off.
        self.proxy_protocol: tuple[_Network, ...] | None = (
            None if proxy_protocol is None else parse_networks(proxy_protocol)
        )

    @property
    def addr(self) -> str:
        """The bound address: ``host:port`` for TCP, the path for a Unix socket."""
        name = self.socket.getsockname()
        if isinstance(name, tuple):
            host = name[0]
            return f"[{host}]:{name[1]}" if ":" in host else f"{host}:{name[1]}"
        return name.decode() if isinstance(name, bytes) else str(name)

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self.socket.getsockname()[1])

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def fileno(self) -> int:
        """The socket's file descriptor."""
        return self.socket.fileno()

    def close(self) -> None:
        """Close the socket (and remove a Unix socket's path). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.socket.close()
        if self._unlink is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._unlink)

    def __repr__(self) -> str:
        return f"<Listener {self.addr if not self._closed else 'closed'}>"


def listen(addr: str, *, proxy_protocol: Iterable[str] | None = None) -> Listener:
    """Listen on TCP ``addr`` (Go's ``net.Listen("tcp", addr)``).

    ``proxy_protocol``: the peers (IPs, CIDRs, ``"*"``) that send a PROXY header.
    """
    lst = _listen_tcp(addr)
    if proxy_protocol is not None:
        lst.proxy_protocol = parse_networks(proxy_protocol)
    return lst


def _listen_tcp(addr: str) -> Listener:
    host, port = parse_addr(addr)
    if not host:
        return _listen_any(port)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(sockaddr)
            sock.listen(_backlog())
            return Listener(sock)
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError(f"cannot listen on {addr}")


def _listen_any(port: int) -> Listener:
    # One dual-stack socket serves IPv4 and IPv6, as Go's ":port" does.
    if socket.has_ipv6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(("::", port))
            sock.listen(_backlog())
            return Listener(sock)
        except OSError:
            sock.close()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))
        sock.listen(_backlog())
    except OSError:
        sock.close()
        raise
    return Listener(sock)


def _remove_stale(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise FileExistsError(errno.EEXIST, "exists and is not a socket", path)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # stale: its server is gone
        return
    except OSError:
        raise
    finally:
        probe.close()
    raise OSError(errno.EADDRINUSE, "a server is answering on this socket", path)


def listen_unix(
    path: str, mode: int = 0o660, *, proxy_protocol: Iterable[str] | None = None
) -> Listener:
    """Listen on a Unix socket at ``path`` with permissions ``mode``; removed on close.

    ``proxy_protocol``: not None makes every peer open with a PROXY header.
    """
    _remove_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound = False
    try:
        sock.bind(path)
        bound = True
        os.chmod(path, mode)
        sock.listen(_backlog())
    except OSError:
        sock.close()
        if bound:  # never remove a path another process bound first
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    return Listener(sock, unlink_path=path, proxy_protocol=proxy_protocol)


# -- the PROXY protocol (haproxy.org/download/2.9/doc/proxy-protocol.txt) -----------------

_V2_SIG: Final = b"\r\n\r\n\x00\r\nQUIT\n"
_V1_MAX: Final = 107  # the longest v1 line, CRLF included (spec 2.1)
_V2_MAX: Final = 16 + 0xFFFF


def parse_networks(items: Iterable[str]) -> tuple[_Network, ...]:
    """Parse IPs and CIDRs (``"*"`` is every address) for allow lists."""
    nets: list[_Network] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if item == "*":
            nets += [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
        else:
            nets.append(ipaddress.ip_network(item, strict=False))
    return tuple(nets)


def peer_in(peer: Any, nets: Sequence[_Network]) -> bool:
    """Whether a socket peer address is in ``nets`` (Unix-socket peers always are)."""
    if not isinstance(peer, tuple):
        return True
    try:
        ip = ipaddress.ip_address(peer[0].partition("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in nets)


def parse_proxy_header(data: bytes) -> tuple[int, tuple[str, int] | None] | None:
    """Parse a PROXY header at the start of ``data``.

    Returns None while more bytes are needed, else (its length, the client address, or
    None for LOCAL/UNKNOWN connections such as health checks). Raises ValueError.
    """
    if data[:1] == b"P":
        return _parse_v1(data)
    if data[:1] == b"\r":
        return _parse_v2(data)
    if data:
        raise ValueError("not a PROXY protocol header")
    return None


def _parse_v1(data: bytes) -> tuple[int, tuple[str, int] | None] | None:
    end = data.find(b"\r\n", 0, _V1_MAX)
    if end < 0:
        if len(data) >= _V1_MAX or not b"PROXY ".startswith(data[:6]) or b"\n" in data:
            raise ValueError("bad PROXY v1 header")
        return None
    parts = data[:end].split(b" ")
    if parts[0] != b"PROXY" or len(parts) < 2:
        raise ValueError("bad PROXY v1 header")
    if parts[1] == b"UNKNOWN":
        return end + 2, None
    if len(parts) != 6 or parts[1] not in (b"TCP4", b"TCP6"):
        raise ValueError("bad PROXY v1 header")
    try:
        src = ipaddress.ip_address(parts[2].decode("ascii"))
        ipaddress.ip_address(parts[3].decode("ascii"))
        ports = [int(p) for p in parts[4:6] if p.isdigit() and (p == b"0" or p[:1] != b"0")]
    except (UnicodeDecodeError, ValueError):
        raise ValueError("bad PROXY v1 address") from None
    if len(ports) != 2 or max(ports) > 65535 or src.version != (4 if parts[1] == b"TCP4" else 6):
        raise ValueError("bad PROXY v1 address")
    return end + 2, (str(src), ports[0])


def _parse_v2(data: bytes) -> tuple[int, tuple[str, int] | None] | None:
    if not _V2_SIG.startswith(data[:12]):
        raise ValueError("not a PROXY protocol header")
    if len(data) < 16:
        return None
    ver_cmd, family, length = data[12], data[13], struct.unpack_from("!H", data, 14)[0]
    if ver_cmd >> 4 != 2 or ver_cmd & 0xF > 1:
        raise ValueError("bad PROXY v2 version or command")
    total = 16 + length
    if len(data) < total:
        return None
    if ver_cmd & 0xF == 0:  # LOCAL: the proxy's own connection (a health check)
        return total, None
    body = data[16:total]
    if family == 0x11 and length >= 12:  # TCP over IPv4
        return total, (str(ipaddress.IPv4Address(body[:4])), struct.unpack_from("!H", body, 8)[0])
    if family == 0x21 and length >= 36:  # TCP over IPv6
        return total, (str(ipaddress.IPv6Address(body[:16])), struct.unpack_from("!H", body, 32)[0])
    if family in (0x00, 0x31):  # UNSPEC, or a Unix-socket client: no address to name
        return total, None
    raise ValueError("bad PROXY v2 address family")


async def read_proxy_header(
    sock: socket.socket, peer: Any, allow: Sequence[_Network], timeout: float | None
) -> tuple[str, int] | None:
    """Read a trusted peer's PROXY header off ``sock``, leaving what follows unread.

    Returns the client address it names (None: keep the socket's peer). Raises
    ValueError for a bad header, TimeoutError, or ConnectionError at EOF.
    """
    if not peer_in(peer, allow):
        return None
    buf = b""
    async with asyncio.timeout(timeout):
        while True:
            await wait_readable(sock)
            peek = sock.recv(_V2_MAX - len(buf), socket.MSG_PEEK)
            if not peek:
                raise ConnectionError("closed before the PROXY header ended")
            got = parse_proxy_header(buf + peek)
            if got is None:
                # All of it belongs to the header: take it, so the next peek sees new bytes.
                buf += sock.recv(len(peek))
                continue
            size, src = got
            _discard(sock, size - len(buf))
            return src


def _discard(sock: socket.socket, n: int) -> None:
    # The bytes were peeked, so they are in the kernel's buffer: recv returns them now.
    while n > 0:
        got = sock.recv(n)
        if not got:
            raise ConnectionError("closed inside the PROXY header")
        n -= len(got)
