"""A raw-socket HTTP/1.1 client for byte-exact tests: reads responses in tiny pieces.

Shared by the writer and protocol tests; ``close_wires`` (autouse where imported) closes
every connection a test opened before its servers shut down.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_DATE_LINE = re.compile(rb"Date: [^\r\n]*\r\n")


def norm(raw: bytes) -> bytes:
    """Replace the value of every Date line with ``D``."""
    return _DATE_LINE.sub(b"Date: D\r\n", raw)


class Wire:
    """A raw client connection that reads responses in tiny pieces."""

    def __init__(self, sock: socket.socket, piece: int = 7) -> None:
        self.sock = sock
        self.piece = piece
        self.buf = b""
        sock.settimeout(3)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self) -> None:
        data = self.sock.recv(self.piece)
        if not data:
            raise EOFError(f"connection closed; unread {self.buf!r}")
        self.buf += data

    def until(self, delim: bytes) -> bytes:
        while (i := self.buf.find(delim)) < 0:
            self._more()
        end = i + len(delim)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self) -> bytes:
        """Everything up to the peer's close (a reset counts as a close)."""
        out = self.buf
        self.buf = b""
        try:
            while data := self.sock.recv(4096):
                out += data
        except ConnectionResetError:
            pass
        return out

    def at_eof(self, timeout: float = 2.0) -> bool:
        """Whether the server closed the connection (within ``timeout``)."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        finally:
            self.sock.settimeout(3)

    def quiet(self, timeout: float = 0.15) -> bool:
        """Whether nothing arrives within ``timeout`` (and the connection stays open)."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            self.buf += self.sock.recv(self.piece)
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(3)
        return False

    def response(self, head_only: bool = False) -> bytes:
        """Read one response, head and framed body, exactly as sent."""
        head = self.until(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        lower = head.lower()
        if head_only or status < 200 or status in (204, 304):
            return head
        if b"\r\ntransfer-encoding: chunked\r\n" in lower:
            out = head
            while True:
                line = self.until(b"\r\n")
                out += line
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while (trailer := self.until(b"\r\n")) != b"\r\n":
                        out += trailer
                    return out + b"\r\n"
                out += self.exactly(size + 2)
        m = re.search(rb"\r\ncontent-length: (\d+)\r\n", lower)
        if m:
            return head + self.exactly(int(m.group(1)))
        return head + self.rest()

    def close(self) -> None:
        self.sock.close()


_open_wires: list[Wire] = []


@pytest.fixture(autouse=True)
def close_wires(serve: Callable[..., Any]) -> Iterator[None]:
    # Depends on ``serve`` so that client sockets close before the servers shut down.
    yield
    while _open_wires:
        _open_wires.pop().close()


def open_wire(srv: Any) -> Wire:
    """Connect to ``srv``; the connection is closed when the test ends."""
    wire = Wire(srv.connect())
    _open_wires.append(wire)
    return wire
