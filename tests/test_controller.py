"""ResponseController: deadlines, flush, full duplex and hijack, through wrappers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import nethttp
from conftest import Running, recv_all, recv_response


class Wrapped:
    """A middleware's writer: it forwards the basics and exposes the inner one via unwrap()."""

    def __init__(self, inner: nethttp.ResponseWriter) -> None:
        self.inner = inner

    def header(self) -> nethttp.Header:
        return self.inner.header()

    def write_header(self, code: int) -> None:
        self.inner.write_header(code)

    async def write(self, data: bytes) -> int:
        return await self.inner.write(data)

    def unwrap(self) -> nethttp.ResponseWriter:
        return self.inner


def test_write_deadline_extends_the_server_write_timeout(serve: Any) -> None:
    async def streamer(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        rc = nethttp.ResponseController(Wrapped(w))
        rc.set_write_deadline(time.monotonic() + 3)
        await asyncio.sleep(0.5)  # past write_timeout=0.2
        await w.write(b"late but allowed")

    srv: Running = serve(streamer, write_timeout=0.2)
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert recv_response(s).endswith(b"late but allowed")


def test_write_deadline_cuts_the_connection(serve: Any) -> None:
    async def slow(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        nethttp.ResponseController(w).set_write_deadline(time.monotonic() + 0.2)
        await asyncio.sleep(0.6)
        await w.write(b"too late")

    srv: Running = serve(slow)
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert recv_all(s) == b""


def test_read_deadline_fails_a_body_read(serve: Any) -> None:
    async def reader(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        nethttp.ResponseController(w).set_read_deadline(time.monotonic() + 0.2)
        try:
            await r.body.read()
        except TimeoutError:
            await w.write(b"timed out")

    srv: Running = serve(reader)
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12")
        reply = recv_all(s)
    assert reply.endswith(b"timed out") and b"Connection: close" in reply


def test_flush_full_duplex_and_hijack_through_a_wrapper(serve: Any) -> None:
    async def duplex(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        rc = nethttp.ResponseController(Wrapped(w))
        rc.enable_full_duplex()
        await w.write(b"first;")
        await rc.flush()  # the head and "first;" leave now, before the body is read
        data = await r.body.read()
        await w.write(b"got " + data)

    srv: Running = serve(duplex)
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n")
        s.settimeout(5)
        head = s.recv(4096)
        assert b"Transfer-Encoding: chunked" in head and b"first;" in head
        s.sendall(b"abc")
        rest = b""
        while not rest.endswith(b"0\r\n\r\n"):
            data = s.recv(4096)
            assert data, rest
            rest += data
        assert b"got abc" in rest

    async def taker(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        conn, _ = nethttp.ResponseController(Wrapped(w)).hijack()
        await conn.write(b"raw bytes")
        conn.close()

    srv2: Running = serve(taker)
    with srv2.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert recv_all(s) == b"raw bytes"


def test_missing_feature_is_not_supported() -> None:
    class Bare:
        pass

    with pytest.raises(nethttp.NotSupported):
        nethttp.ResponseController(Bare()).enable_full_duplex()
