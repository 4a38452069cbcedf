"""Listening sockets: TCP from Go-style addresses, and Unix sockets built safely.

``listen(":8080")`` means every interface, IPv4 and IPv6, as in Go; ``"127.0.0.1:0"``
picks a free port and ``Listener.addr`` tells which.

``listen_unix`` binds, chmods, then listens: until ``listen()`` nobody can connect, so no
client ever sees the socket with wider permissions than ``mode``. An existing path is
removed only when it is a socket that nobody answers on (a stale one).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat

__all__ = ["Listener", "listen", "listen_unix", "parse_addr"]


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

    __slots__ = ("_closed", "_unlink", "socket")

    def __init__(self, sock: socket.socket, unlink_path: str | None = None) -> None:
        sock.setblocking(False)
        self.socket = sock
        self._unlink = unlink_path
        self._closed = False

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


def listen(addr: str) -> Listener:
    """Listen on TCP ``addr`` (Go's ``net.Listen("tcp", addr)``)."""
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


def listen_unix(path: str, mode: int = 0o660) -> Listener:
    """Listen on a Unix socket at ``path`` with permissions ``mode``; removed on close."""
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
    return Listener(sock, unlink_path=path)
