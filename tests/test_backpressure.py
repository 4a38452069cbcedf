"""Back-pressure both ways: memory per connection stays bounded whatever the peer does."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import nethttp
from conftest import Running

CHUNK = b"x" * 65536


def test_slow_reader_pauses_the_writing_handler(serve: Any) -> None:
    peak = [0]
    done = threading.Event()

    async def flood(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        transport = r.conn.transport
        for _ in range(320):  # 20 MiB
            await w.write(CHUNK)
            peak[0] = max(peak[0], transport.get_write_buffer_size())
        done.set()

    srv: Running = serve(flood)
    with srv.connect() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.5)  # the client reads nothing: the handler must be waiting
        assert not done.is_set()
        got = 0
        s.settimeout(10)
        while got < 20 * 65536 * 16:
            data = s.recv(1 << 20)
            if not data:
                break
            got += len(data)
        assert done.wait(10)
    # The transport never held much more than its high-water mark (64 KiB) plus one write.
    assert peak[0] <= 4 * 65536, peak[0]


def test_fast_uploader_is_paused_when_the_handler_does_not_read(serve: Any) -> None:
    seen: list[int] = []
    release = threading.Event()

    async def slow(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        conn = r.conn._c
        for _ in range(10):
            await asyncio.sleep(0.05)
            parser = conn._parser
            seen.append(len(parser._buf) - parser._pos)
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 5)
        total = 0
        async for chunk in r.body:
            total += len(chunk)
        await w.write(str(total).encode())

    srv: Running = serve(slow)
    size = 16 << 20
    with srv.connect() as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % size)
        sender = threading.Thread(target=lambda: s.sendall(b"y" * size), daemon=True)
        sender.start()
        time.sleep(0.8)
        release.set()
        sender.join(20)
        s.settimeout(10)
        reply = b""
        while not reply.endswith(str(size).encode()):
            data = s.recv(65536)
            if not data:
                break
            reply += data
    assert reply.endswith(str(size).encode())
    # Unparsed bytes held by the server stayed near the read cap (64 KiB) plus one read.
    assert max(seen) <= 64 * 1024 + 512 * 1024, seen
