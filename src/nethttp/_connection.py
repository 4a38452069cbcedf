"""The connection as handlers and hooks see it: ``Conn``, ``ConnState``, ``TLSInfo``.

Also the small contracts between a connection and its server: ``ConnConfig`` (the
immutable settings snapshot a connection receives) and ``ServerHooks`` (what it reports
back). The engine that serves a connection is in ``_conn.py``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import socket
import ssl
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ._mux import Handler

if TYPE_CHECKING:
    from ._conn import _Connection

_INF: Final = math.inf
LOCAL_ADDR_CONTEXT_KEY: Final = "nethttp.local-addr"


class ConnState(enum.Enum):
    """A connection's state, as Go's ``http.ConnState``."""

    NEW = "new"
    ACTIVE = "active"
    IDLE = "idle"
    HIJACKED = "hijacked"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


_TRANSITIONS: Final = {
    ConnState.NEW: {ConnState.ACTIVE, ConnState.CLOSED},
    ConnState.ACTIVE: {ConnState.IDLE, ConnState.HIJACKED, ConnState.CLOSED},
    ConnState.IDLE: {ConnState.ACTIVE, ConnState.CLOSED},
    ConnState.HIJACKED: set(),
    ConnState.CLOSED: set(),
}
# The same table as bit masks on the members: checking a transition twice per request
# must not hash enums (Enum.__hash__ is Python code).
for _i, _s in enumerate(ConnState):
    _s._bit = 1 << _i  # type: ignore[attr-defined]
for _s, _targets in _TRANSITIONS.items():
    _s._next = sum(t._bit for t in _targets)  # type: ignore[attr-defined]


class ConnConfig:
    """The immutable snapshot of server settings a connection needs."""

    __slots__ = (
        "conn_state",
        "disable_options",
        "handler",
        "idle_timeout",
        "logger",
        "max_body_bytes",
        "max_header_bytes",
        "progress_timeout",
        "read_header_timeout",
        "read_timeout",
        "tick",
        "write_timeout",
    )

    def __init__(
        self,
        handler: Handler,
        read_timeout: float | None,
        read_header_timeout: float | None,
        write_timeout: float | None,
        idle_timeout: float | None,
        max_header_bytes: int,
        conn_state: Callable[[Conn, ConnState], None] | None,
        logger: logging.Logger,
        disable_options: bool,
        max_body_bytes: int | None = None,
        progress_timeout: float | None = None,
    ) -> None:
        self.handler = handler
        self.read_timeout = read_timeout
        self.read_header_timeout = read_header_timeout
        self.write_timeout = write_timeout
        self.idle_timeout = idle_timeout
        self.max_header_bytes = max_header_bytes
        self.conn_state = conn_state
        self.logger = logger
        self.disable_options = disable_options
        self.max_body_bytes = max_body_bytes
        self.progress_timeout = progress_timeout
        timeouts = [
            t
            for t in (
                read_timeout,
                read_header_timeout,
                write_timeout,
                idle_timeout,
                progress_timeout,
            )
            if t
        ]
        self.tick = min(timeouts) if timeouts else _INF


class ServerHooks:
    """What a connection reports to, and asks of, its server (implemented one layer up)."""

    shutting_down: bool = False
    allow_keep_alive: bool = True  # False once keep-alives are off or shutdown began

    def track(self, conn: _Connection, add: bool) -> None:  # pragma: no cover - interface
        """Start or stop tracking ``conn``."""
        raise NotImplementedError


class TLSInfo:
    """The TLS state of a connection: version, cipher, ALPN protocol, peer certificate."""

    __slots__ = (
        "alpn_protocol",
        "cipher",
        "peer_certificate",
        "server_name",
        "ssl_object",
        "version",
    )

    def __init__(self, obj: ssl.SSLObject) -> None:
        self.ssl_object = obj
        self.version = obj.version()
        cipher = obj.cipher()
        self.cipher = cipher[0] if cipher else None
        self.alpn_protocol = obj.selected_alpn_protocol()
        self.peer_certificate = obj.getpeercert()
        self.server_name: str | None = getattr(obj, "server_hostname", None)

    def __repr__(self) -> str:
        return f"TLSInfo({self.version}, {self.cipher}, alpn={self.alpn_protocol!r})"


async def wait_readable(sock: socket.socket) -> None:
    """Wait until ``sock`` has bytes (or EOF) to read, without reading them."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await fut
    finally:
        loop.remove_reader(fd)


def _format_addr(addr: Any) -> str:
    if isinstance(addr, tuple):
        host, port = addr[0], addr[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(addr, bytes):
        addr = addr.decode("utf-8", "replace")
    return addr or "@"


class Conn:
    """The network connection under requests (Go's ``net.Conn`` as handlers see it).

    Available as ``r.conn`` and in the ``conn_context`` and ``conn_state`` hooks. After
    ``w.hijack()`` it is also how the handler talks to the peer: ``read``, ``write``,
    ``close``. Use on the event loop only.
    """

    __slots__ = ("_c", "_local", "remote_addr", "socket", "tls")

    def __init__(self, c: _Connection, sock: socket.socket, peer: Any) -> None:
        self._c = c
        self.socket: Any = sock
        self.remote_addr = _format_addr(peer)
        self._local: str | None = None
        self.tls: TLSInfo | None = None

    def _attach(self, transport: asyncio.Transport) -> None:
        self.socket = transport.get_extra_info("socket") or self.socket
        obj = transport.get_extra_info("ssl_object")
        if obj is not None:
            self.tls = TLSInfo(obj)

    @property
    def local_addr(self) -> str:
        """The local address, ``host:port`` (or the Unix socket's path)."""
        if self._local is None:
            try:
                self._local = _format_addr(self.socket.getsockname())
            except OSError:
                self._local = "?"
        return self._local

    @property
    def state(self) -> ConnState:
        """The connection's current state."""
        return self._c.state

    def peer_credentials(self) -> tuple[int, int, int]:
        """Return the peer's (pid, uid, gid) on a Unix socket (``SO_PEERCRED``)."""
        so_peercred = getattr(socket, "SO_PEERCRED", None)
        if so_peercred is None or self.socket is None or self.socket.family != socket.AF_UNIX:
            raise OSError("peer credentials need a Unix socket on Linux")
        raw = self.socket.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i"))
        pid, uid, gid = struct.unpack("3i", raw)
        return pid, uid, gid

    # -- after hijack ----------------------------------------------------------------------

    async def read(self, n: int = 65536) -> bytes:
        """Read up to ``n`` bytes from a hijacked connection; b"" at EOF."""
        return await self._c.hijacked_read(n)

    async def write(self, data: bytes) -> None:
        """Write ``data`` to a hijacked connection, waiting while the peer is slow."""
        self._c.send(data)
        waiter = self._c.drain()
        if waiter is not None:
            await waiter

    def close(self) -> None:
        """Close the connection."""
        self._c.close_transport()

    @property
    def transport(self) -> asyncio.Transport:
        """The asyncio transport (for handing a hijacked connection to other code)."""
        return self._c.transport

    def __repr__(self) -> str:
        return f"<Conn {self.remote_addr} -> {self.local_addr} {self._c.state}>"
