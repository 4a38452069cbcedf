"""The floor: what one core of Python + uvloop costs per request before any server logic.

Usage: python floor.py PORT            (run.py: --only floor,nethttp,go --scenarios plaintext-c64)

Not a server anyone should deploy: no timeouts, no limits, no validation, no routing,
no request object. It has exactly the shape nethttp has (one task per connection,
woken through a future per request, an ``async def`` handler awaited per request, a
``Date`` cached per second) and nothing else, so the gap between it and nethttp is what
nethttp's semantics cost, and the gap between it and Go is what Python and asyncio
cost. Only bodiless requests (the plaintext and headers12 scenarios) are understood.
"""

import asyncio
import sys
import time
from email.utils import formatdate

import uvloop

_date = [0, b""]


def date_line() -> bytes:
    now = int(time.time())
    if now != _date[0]:
        _date[0], _date[1] = now, f"Date: {formatdate(now, usegmt=True)}\r\n".encode()
    return _date[1]


async def hello() -> bytes:
    return b"Hello, World!"


class Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = b""
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        self.task = self.loop.create_task(self.serve())

    def data_received(self, data: bytes) -> None:
        self.buf = self.buf + data if self.buf else data
        w = self.waiter
        if w is not None:
            self.waiter = None
            w.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        w = self.waiter
        if w is not None:
            self.waiter = None
            w.set_result(None)

    async def serve(self) -> None:
        while not self.closed:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                self.waiter = self.loop.create_future()
                await self.waiter
                continue
            self.buf = self.buf[end + 4 :]
            body = await hello()
            self.transport.write(  # type: ignore[attr-defined]
                b"".join(
                    (
                        b"HTTP/1.1 200 OK\r\n",
                        date_line(),
                        b"Content-Length: %d\r\nContent-Type: text/plain\r\n\r\n" % len(body),
                        body,
                    )
                )
            )


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Conn, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
