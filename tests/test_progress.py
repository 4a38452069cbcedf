"""The no-progress limit: a body read or a blocked write that moves no byte ends the connection."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

import nethttp
from conftest import Running


def test_stalled_upload_is_cut_off(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    outcome: list[str] = []

    async def reader(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            await r.body.read()
        except ConnectionError:
            outcome.append("disconnected")
            raise

    srv: Running = serve(reader, progress_timeout=0.3, read_header_timeout=5)
    with caplog.at_level(logging.INFO, logger="nethttp.test"), srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n123")
        start = time.monotonic()
        s.settimeout(5)
        assert s.recv(100) == b""  # closed, with no response
        assert 0.25 < time.monotonic() - start < 3
    time.sleep(0.1)
    assert outcome == ["disconnected"]
    assert any("no progress" in rec.getMessage() for rec in caplog.records)
    assert not any("panic" in rec.getMessage() for rec in caplog.records)


def test_reader_that_never_reads_is_cut_off(serve: Any) -> None:
    outcome: list[str] = []

    async def flood(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            for _ in range(2000):  # 128 MiB: never fits in the socket buffers
                await w.write(b"z" * 65536)
        except ConnectionError:
            outcome.append("disconnected")
            raise

    srv: Running = serve(flood, progress_timeout=0.3)
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        deadline = time.monotonic() + 5
        while not outcome and time.monotonic() < deadline:
            time.sleep(0.05)  # the client reads nothing
    assert outcome == ["disconnected"]


def test_slow_but_steady_upload_is_not_cut_off(serve: Any) -> None:
    async def reader(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        data = await r.body.read()
        await w.write(b"%d" % len(data))

    srv: Running = serve(reader, progress_timeout=0.3)
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n")
        for _ in range(8):  # 1.6 s in all, but a byte every 0.2 s
            time.sleep(0.2)
            s.sendall(b"x")
        s.settimeout(5)
        assert s.recv(1000).endswith(b"\r\n\r\n8")


def test_progress_timeout_none_disables_it(serve: Any) -> None:
    async def reader(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await asyncio.sleep(0)
        data = await r.body.read()
        await w.write(data)

    srv: Running = serve(reader, progress_timeout=None)
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n1")
        time.sleep(0.5)
        s.sendall(b"2")
        s.settimeout(5)
        assert s.recv(1000).endswith(b"\r\n\r\n12")
