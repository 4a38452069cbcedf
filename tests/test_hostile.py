"""Hostile requests over real sockets, with a smuggling canary behind each.

Every refused row of the wire table (tests/h1_cases.py) is sent to a real server, whole
and byte by byte, followed by a pipelined ``GET /canary``. The server must answer with
the row's status, close the connection, and never serve the canary: a canary hit would
mean bytes of the hostile request were read as a second request.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

import nethttp
from conftest import Running, recv_all
from h1_cases import BAD_ROWS, Bad

CANARY = b"GET /canary HTTP/1.1\r\nHost: a\r\n\r\n"
ROWS = [row for row in BAD_ROWS if row.status]  # status 0 rows are truncations, not refusals


def _server(serve: Any, row: Bad) -> tuple[Running, list[str]]:
    hits: list[str] = []

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        hits.append(r.url.path)
        await r.body.read()  # a broken body fails here and is answered by the server
        await w.write(b"ok")

    return serve(handler, max_header_bytes=row.max_header_bytes), hits


def _send(sock: socket.socket, data: bytes, bytewise: bool) -> None:
    if not bytewise:
        sock.sendall(data)
        return
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        for i in range(len(data)):
            sock.send(data[i : i + 1])
    except OSError:
        pass  # the server may refuse and close before the last byte: that is the point


# Byte by byte for every row that is not huge (a byte per packet for a megabyte takes
# minutes); huge rows are sent whole, and the wire tests feed them byte by byte anyway.
CASES = [
    pytest.param(row, bytewise, id=f"{row.id}-{'bytewise' if bytewise else 'whole'}")
    for row in ROWS
    for bytewise in (False, True)
    if not (bytewise and len(row.data) > 8192)
]


@pytest.mark.parametrize(("row", "bytewise"), CASES)
def test_hostile_request_is_refused_and_smuggles_nothing(
    serve: Any, row: Bad, bytewise: bool
) -> None:
    srv, hits = _server(serve, row)
    with srv.connect(timeout=10) as s:
        _send(s, row.data + CANARY, bytewise)
        reply = recv_all(s, timeout=10)  # the server closes: recv_all returns
    assert reply.startswith(b"HTTP/1.1 %d " % row.status), reply[:200]
    assert "/canary" not in hits, hits
