"""Server lifecycle hooks: start before the first accept, drained after the last request,
and the force phase of shutdown cancelling the handlers still running."""

from __future__ import annotations

import asyncio
import logging

import pytest

import nethttp
from test_lifecycle import Client, quiet_log, run_async, start_server

__all__ = ["quiet_log"]  # the fixture, imported for pytest


def test_start_hooks_run_once_before_the_first_accept(quiet_log: logging.Logger) -> None:
    events: list[str] = []

    async def main() -> None:
        async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
            events.append("request")
            await w.write(b"ok")

        async def slow_start() -> None:
            events.append("start:async")
            await asyncio.sleep(0.2)  # a request arriving now must wait for start-up
            events.append("start:async done")

        srv = nethttp.Server(handler=handler, error_log=quiet_log)
        srv.register_on_start(lambda: events.append("start:sync"))
        srv.register_on_start(slow_start)
        port, serving = await start_server(srv)
        # A second listener shares the single run of the hooks.
        second = asyncio.ensure_future(srv.serve(nethttp.listen("127.0.0.1:0")))
        client = await Client.connect(port)  # the kernel queues it meanwhile
        await client.request()
        status, _, body = await client.response()
        assert (status, body) == (200, b"ok")
        client.close()
        await srv.shutdown(5)
        for task in (serving, second):
            with pytest.raises(nethttp.ServerClosed):
                await task

    run_async(main)
    assert events == ["start:sync", "start:async", "start:async done", "request"]


def test_failing_start_hook_fails_serve_and_accepts_nothing(quiet_log: logging.Logger) -> None:
    async def main() -> None:
        def broken() -> None:
            raise RuntimeError("database unreachable")

        srv = nethttp.Server(handler=lambda w, r: None, error_log=quiet_log)
        srv.register_on_start(broken)
        listener = nethttp.listen("127.0.0.1:0")
        port = listener.port
        with pytest.raises(RuntimeError, match="database unreachable"):
            await srv.serve(listener)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)  # the listener is closed
        # Another listener sees the same failure rather than serving half-started.
        with pytest.raises(RuntimeError, match="database unreachable"):
            await srv.serve(nethttp.listen("127.0.0.1:0"))

    run_async(main)


def test_drained_hooks_run_after_the_last_response(quiet_log: logging.Logger) -> None:
    events: list[str] = []

    async def main() -> None:
        started = asyncio.Event()

        async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
            started.set()
            await asyncio.sleep(0.3)
            events.append("response")
            await w.write(b"done")

        async def cleanup() -> None:
            events.append("drained")

        def broken() -> None:
            raise RuntimeError("boom")

        srv = nethttp.Server(handler=handler, error_log=quiet_log)
        srv.register_on_shutdown(lambda: events.append("shutdown"))
        srv.register_on_drained(broken)  # logged; the next hook still runs
        srv.register_on_drained(cleanup)
        port, serving = await start_server(srv)
        client = await Client.connect(port)
        await client.request()
        await started.wait()
        await srv.shutdown(5)
        status, _, body = await client.response()
        assert (status, body) == (200, b"done")
        client.close()
        await srv.shutdown(5)  # runs the shutdown hooks again, as Go does; not the drained ones
        with pytest.raises(nethttp.ServerClosed):
            await serving

    run_async(main)
    assert events == ["shutdown", "response", "drained", "shutdown"]


def test_force_phase_cancels_handlers_before_the_drained_hooks(
    quiet_log: logging.Logger,
) -> None:
    events: list[str] = []

    async def main() -> None:
        started = asyncio.Event()

        async def stuck(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                events.append("handler cancelled")
                raise
            finally:
                events.append("handler unwound")

        srv = nethttp.Server(handler=stuck, error_log=quiet_log)
        srv.register_on_drained(lambda: events.append("drained"))
        port, serving = await start_server(srv)
        client = await Client.connect(port)
        await client.request()
        await started.wait()
        with pytest.raises(TimeoutError):
            await srv.shutdown(0.2)
        assert await client.at_eof(1)
        client.close()
        with pytest.raises(nethttp.ServerClosed):
            await serving

    run_async(main)
    assert events == ["handler cancelled", "handler unwound", "drained"]


def test_shutdown_never_closes_a_connection_with_a_request_on_its_way_in(
    quiet_log: logging.Logger,
) -> None:
    async def main() -> None:
        async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
            await w.write(r.url.path.encode())

        srv = nethttp.Server(handler=handler, error_log=quiet_log)
        port, serving = await start_server(srv)
        client = await Client.connect(port)
        await client.request("/first")
        assert (await client.response())[2] == b"/first"  # now idle, kept alive
        client.writer.write(b"GET /second HTTP/1.1\r\n")  # half a head: no longer idle
        await asyncio.sleep(0.1)
        stopping = asyncio.ensure_future(srv.shutdown(5))
        await asyncio.sleep(0.1)
        assert not stopping.done()
        client.writer.write(b"Host: a\r\n\r\n")
        status, fields, body = await client.response()
        assert (status, body, fields["connection"]) == (200, b"/second", "close")
        await stopping
        client.close()
        with pytest.raises(nethttp.ServerClosed):
            await serving

    run_async(main)
