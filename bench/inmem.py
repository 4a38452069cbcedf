"""Serve requests over an in-memory transport: the server's own cost, without the kernel.

    python bench/inmem.py               # CPU µs per request (min of 5 rounds), three modes
    python bench/inmem.py --count 2500  # one plain run of N woken requests (for callgrind)
    python bench/inmem.py --asgi        # the same through nethttp.asgi.ASGIHandler
    python bench/inmem.py --floor       # bench/servers/floor.py: Python + asyncio alone

One ``_Connection`` is fed requests the way uvloop would feed it (``data_received``),
and its responses land in a fake transport. "woken" hands over one request at a time
and waits for the response, like a keep-alive client (the event loop wakes the
connection's task for each); "pipelined" hands over 500 at once. The handler is the
benchmark's hello through a ``ServeMux``; with ``--asgi``, the raw ASGI hello app of
``bench/servers/asgi_app.py`` through ``ASGIHandler`` (no mux, as the ASGI servers run
it). For instruction counts, which do not move with other load on the machine, see
``bench/callgrind.sh`` (``bench/callgrind.sh --asgi`` for the adapter).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "servers"))

import uvloop

import nethttp
from nethttp._conn import _Connection
from nethttp._server import Server
from nethttp.asgi import ASGIHandler

ASGI = False  # --asgi: serve the raw ASGI app instead of the native hello
FLOOR = False  # --floor: the reference protocol of bench/servers/floor.py, no nethttp

REQ = b"GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"
REQ12 = (
    b"GET / HTTP/1.1\r\nHost: localhost:8080\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\n"
    b"Cookie: session=6f1c2a9e3b7d4e0f8a5c; theme=dark\r\nReferer: https://example.com/a\r\n"
    b"Upgrade-Insecure-Requests: 1\r\nCache-Control: max-age=0\r\n"
    b"X-Forwarded-For: 203.0.113.7\r\nX-Request-Id: 3f9d1c2b-7a4e-4b8f\r\n\r\n"
)


async def hello(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    w.header().set("Content-Type", "text/plain")
    await w.write(b"Hello, World!")


class Transport:
    """Just enough of an asyncio transport: counts responses, wakes the driver."""

    def __init__(self) -> None:
        self.responses = 0
        self.waiter: asyncio.Future[None] | None = None

    def write(self, data: bytes) -> None:
        self.responses += 1
        if self.waiter is not None:
            self.waiter.set_result(None)
            self.waiter = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    abort = pause_reading = resume_reading = close


def connection(loop: asyncio.AbstractEventLoop) -> tuple[Any, Transport]:
    """A connection fed by hand, its serving task already started."""
    if FLOOR:
        import floor  # bench/servers

        f = floor.Conn()
        t = Transport()
        f.connection_made(t)  # type: ignore[arg-type]  # starts its own task
        return f, t
    if ASGI:
        from asgi_app import app  # bench/servers: the app every ASGI server hosts

        srv = Server(handler=ASGIHandler(app, lifespan="off"))
    else:
        mux = nethttp.ServeMux()
        mux.handle_func("/", hello)
        mux.handle_func("/echo", hello)
        srv = Server(handler=mux)
    a, _ = socket.socketpair()
    c = _Connection(srv._config(), srv, nethttp.background(), None, loop, a, ("127.0.0.1", 1))
    t = Transport()
    c.connection_made(t)  # type: ignore[arg-type]
    c.task = loop.create_task(c.serve())
    return c, t


async def woken(n: int, req: bytes, rounds: int) -> float:
    loop = asyncio.get_running_loop()
    c, t = connection(loop)
    await asyncio.sleep(0)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(n):
            t.waiter = loop.create_future()
            c.data_received(req)
            await t.waiter
        best = min(best, time.process_time() - start)
    c.task.cancel()
    return best / n * 1e6


async def pipelined(n: int, req: bytes, rounds: int) -> float:
    loop = asyncio.get_running_loop()
    c, t = connection(loop)
    await asyncio.sleep(0)
    blob, best, done = req * 500, float("inf"), 0
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(n // 500):
            c.data_received(blob)
            done += 500
            while t.responses < done:
                await asyncio.sleep(0)
        best = min(best, time.process_time() - start)
    c.task.cancel()
    return best / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, help="one plain run of N woken requests")
    ap.add_argument("--headers12", action="store_true", help="with --count: the 12-field request")
    ap.add_argument("--asgi", action="store_true", help="serve the ASGI hello app")
    ap.add_argument("--floor", action="store_true", help="bench/servers/floor.py, no nethttp")
    args = ap.parse_args()
    global ASGI, FLOOR
    ASGI, FLOOR = args.asgi, args.floor
    if args.count:
        uvloop.run(woken(args.count, REQ12 if args.headers12 else REQ, 1))
        return
    print(f"woken, 1 field:    {uvloop.run(woken(10000, REQ, 5)):6.2f} µs/request")
    print(f"woken, 12 fields:  {uvloop.run(woken(10000, REQ12, 5)):6.2f} µs/request")
    print(f"pipelined, 1 field:{uvloop.run(pipelined(10000, REQ, 5)):6.2f} µs/request")


if __name__ == "__main__":
    main()
