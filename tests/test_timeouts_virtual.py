"""Every timeout at its exact instant, on a virtual clock (tests/virtual_clock.py).

Each test runs a real server and real clients over 127.0.0.1 on one event loop whose
clock jumps to the next timer when nothing else can happen. The assertions are on that
clock: the slowloris is cut at 10.000 s with the default configuration, the idle
connection at 60.000 s, and a whole suite of minutes runs in a fraction of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import nethttp
from virtual_clock import closed_at, now, run_virtual

EPS = 0.01  # the loop's own clock resolution and a few callbacks; far below any timeout
LOG = logging.getLogger("nethttp.test.virtual")

Handler = Callable[[nethttp.ResponseWriter, nethttp.Request], Awaitable[None]]


async def hello(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    await w.write(b"hello")


@contextlib.asynccontextmanager
async def server(handler: Handler = hello, **options: Any) -> AsyncIterator[nethttp.Server]:
    srv = nethttp.Server(handler=handler, error_log=LOG, **options)
    listener = nethttp.listen("127.0.0.1:0")
    srv.addr = listener.addr
    serving = asyncio.ensure_future(srv.serve(listener))
    await asyncio.sleep(0)
    try:
        yield srv
    finally:
        srv.close()
        with contextlib.suppress(nethttp.ServerClosed):
            await serving


async def dial(srv: nethttp.Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, _, port = srv.addr.rpartition(":")
    return await asyncio.open_connection(host, int(port))


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


def test_default_config_cuts_a_slowloris_at_ten_seconds() -> None:
    async def main() -> None:
        async with server() as srv:
            reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\n")
            start = now()

            async def drip() -> None:
                # A header byte a second keeps the socket busy but never ends the head.
                with contextlib.suppress(ConnectionError):
                    for _ in range(60):
                        await asyncio.sleep(1)
                        writer.write(b"X")
                        await writer.drain()

            dripping = asyncio.ensure_future(drip())
            at, data = await closed_at(reader)
            dripping.cancel()
            writer.close()
            assert data == b"", "a partial head is closed silently, as in Go"
            assert at - start == pytest.approx(10.0, abs=EPS)

    run_virtual(main)


def test_default_idle_keep_alive_closed_at_sixty_seconds() -> None:
    async def main() -> None:
        async with server() as srv:
            reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert (await read_response(reader)).endswith(b"hello")
            served = now()
            at, data = await closed_at(reader)
            writer.close()
            assert data == b""
            assert at - served == pytest.approx(60.0, abs=EPS)

    run_virtual(main)


def test_header_clock_starts_at_the_first_byte_not_at_idle() -> None:
    async def main() -> None:
        async with server() as srv:
            reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            await read_response(reader)
            await asyncio.sleep(55)  # idle, inside idle_timeout
            writer.write(b"GET / HTTP/1.1\r\n")  # the second request starts ...
            started = now()
            at, _ = await closed_at(reader)  # ... and never ends
            writer.close()
            assert at - started == pytest.approx(10.0, abs=EPS)

    run_virtual(main)


def test_stalled_upload_cut_by_the_default_progress_limit() -> None:
    seen: list[str] = []

    async def reader_handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            await r.body.read()
        except ConnectionError:
            seen.append(f"read failed at {now() - t0[0]:.3f}")
            raise

    t0 = [0.0]

    async def main() -> None:
        async with server(reader_handler) as srv:
            reader, writer = await dial(srv)
            writer.write(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc")
            t0[0] = now()
            at, data = await closed_at(reader)
            writer.close()
            assert data == b""
            assert at - t0[0] == pytest.approx(60.0, abs=EPS)

    run_virtual(main)
    assert seen == ["read failed at 60.000"]


def test_client_that_never_reads_cut_by_the_default_progress_limit() -> None:
    outcome: list[float] = []

    async def flood(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            for _ in range(1600):  # 100 MiB in 64 KiB writes
                await w.write(b"z" * 65536)
        except ConnectionError:
            outcome.append(now())
            raise

    async def main() -> None:
        async with server(flood) as srv:
            _reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            await asyncio.sleep(0.5)  # the handler fills every buffer, then blocks
            blocked = now()
            while not outcome:
                await asyncio.sleep(1)  # the client reads nothing
            writer.close()
            assert outcome[0] - blocked == pytest.approx(59.5, abs=0.5 + EPS)

    run_virtual(main)


def test_write_timeout_closes_and_cancels_the_context_at_the_deadline() -> None:
    cancelled: list[float] = []

    async def slow(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        start = now()
        await r.context().done()
        cancelled.append(now() - start)

    async def main() -> None:
        async with server(slow, write_timeout=5.0) as srv:
            reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            sent = now()
            at, data = await closed_at(reader)
            writer.close()
            assert data == b""
            assert at - sent == pytest.approx(5.0, abs=EPS)

    run_virtual(main)
    assert cancelled == [pytest.approx(5.0, abs=EPS)]


def test_read_timeout_covers_head_and_body() -> None:
    failures: list[float] = []

    async def read_all(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            await r.body.read()
        except (ConnectionError, nethttp.DeadlineExceeded, TimeoutError):
            failures.append(now())
            raise

    async def main() -> None:
        async with server(read_all, read_timeout=3.0) as srv:
            reader, writer = await dial(srv)
            writer.write(b"POST / HTTP/1.1\r\n")
            start = now()
            await asyncio.sleep(2)
            writer.write(b"Host: a\r\nContent-Length: 10\r\n\r\n12345")
            at, _ = await closed_at(reader)
            writer.close()
            assert at - start == pytest.approx(3.0, abs=EPS)

    run_virtual(main)
    assert len(failures) == 1


def test_context_deadline_from_a_handler_fires_on_the_loop_clock() -> None:
    waited: list[float] = []

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        ctx, cancel = r.context().with_timeout(7.5)
        start = now()
        await ctx.done()
        cancel()
        waited.append(now() - start)
        assert isinstance(ctx.err(), nethttp.DeadlineExceeded)
        await w.write(b"late")

    async def main() -> None:
        async with server(handler) as srv:
            reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert (await read_response(reader)).endswith(b"late")
            writer.close()

    run_virtual(main)
    assert waited == [pytest.approx(7.5, abs=EPS)]


def test_shutdown_timeout_forces_at_its_deadline() -> None:
    async def stuck(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await asyncio.sleep(3600)

    async def main() -> None:
        async with server(stuck) as srv:
            reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            await asyncio.sleep(1)
            start = now()
            with pytest.raises(TimeoutError):
                await srv.shutdown(30)
            assert now() - start == pytest.approx(30.0, abs=EPS)
            at, data = await closed_at(reader)
            writer.close()
            assert data == b"" and at - start == pytest.approx(30.0, abs=EPS)

    run_virtual(main)


def test_idle_timeout_none_keeps_a_connection_for_a_virtual_day() -> None:
    async def main() -> None:
        async with server(idle_timeout=None, read_header_timeout=None) as srv:
            reader, writer = await dial(srv)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            await read_response(reader)
            await asyncio.sleep(86400)
            writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert (await read_response(reader)).endswith(b"hello")
            writer.close()

    run_virtual(main)
