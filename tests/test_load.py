"""The server under load, in a subprocess: many connections at once, a client that never
reads, and SIGTERM while a load generator runs. Bounded in count and time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import selectors
import signal
import socket
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

from conftest import start_script


def stop(proc: Any) -> tuple[bytes, bytes]:
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=20)
    return bytes(out), bytes(err)


CONNS_SERVER = textwrap.dedent(
    """
    import asyncio
    import nethttp

    WANT = 2000
    open_conns = set()
    all_open = asyncio.Event()

    def track(conn, state):
        if state in (nethttp.ConnState.CLOSED, nethttp.ConnState.HIJACKED):
            open_conns.discard(conn)
        else:
            open_conns.add(conn)
            if len(open_conns) >= WANT:
                all_open.set()

    async def wait_for_all(w, r):
        # Nobody is answered before every client is connected at once.
        await asyncio.wait_for(all_open.wait(), 60)
        await w.write(b"all-open")

    listener = nethttp.listen("127.0.0.1:0")
    print(listener.port, flush=True)
    nethttp.run(wait_for_all, listener=listener, conn_state=track)
    """
)


def test_two_thousand_connections_open_at_once_all_served(tmp_path: Path) -> None:
    proc, port = start_script(tmp_path, CONNS_SERVER)
    clients: list[socket.socket] = []
    sel = selectors.DefaultSelector()  # epoll: select() stops at descriptor 1024
    try:
        for _ in range(2000):
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, bytearray())
            clients.append(c)
        answered = 0
        deadline = time.monotonic() + 60
        while answered < len(clients) and time.monotonic() < deadline:
            for key, _ in sel.select(1.0):
                buf: bytearray = key.data
                chunk = key.fileobj.recv(4096)  # type: ignore[union-attr]
                buf += chunk
                if buf.endswith(b"all-open") or not chunk:
                    assert buf.startswith(b"HTTP/1.1 200 OK\r\n"), bytes(buf)
                    assert buf.endswith(b"all-open"), bytes(buf)
                    answered += 1
                    sel.unregister(key.fileobj)
        assert answered == 2000
    finally:
        sel.close()
        for c in clients:
            c.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        stop(proc)


FLOOD_SERVER = textwrap.dedent(
    """
    import json
    import nethttp

    written = [0]

    def rss_kib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    async def handler(w, r):
        if r.url.path == "/flood":
            block = b"z" * 65536
            for _ in range(1600):  # 100 MiB in 64 KiB writes
                await w.write(block)
                written[0] += len(block)
        else:
            w.header().set("Content-Type", "application/json")
            await w.write(json.dumps({"rss_kib": rss_kib(), "written": written[0]}).encode())

    listener = nethttp.listen("127.0.0.1:0")
    print(listener.port, flush=True)
    nethttp.run(handler, listener=listener, shutdown_timeout=1)
    """
)


def test_client_that_never_reads_a_100mib_response_costs_no_memory(tmp_path: Path) -> None:
    proc, port = start_script(tmp_path, FLOOD_SERVER)

    def stats() -> dict[str, int]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]

    try:
        for _ in range(20):
            stats()  # warm up: the steady state of a served request
        start = stats()["rss_kib"]
        sink = socket.create_connection(("127.0.0.1", port), timeout=10)
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sink.sendall(b"GET /flood HTTP/1.1\r\nHost: a\r\n\r\n")  # and never reads
        time.sleep(1.5)
        first = stats()
        time.sleep(1.0)
        second = stats()
        sink.close()
        # The handler is parked: what it wrote sits in kernel buffers, not in the process.
        assert first["written"] == second["written"] < 16 << 20, (first, second)
        growth = second["rss_kib"] - start
        assert growth < 4096, f"RSS grew {growth} KiB (from {start} KiB): {second}"
    finally:
        stop(proc)


LOAD_SERVER = textwrap.dedent(
    """
    import asyncio, os, random
    import nethttp

    counts = {"read": 0, "answered": 0}

    async def handler(w, r):
        counts["read"] += 1
        await asyncio.sleep(random.random() * 0.05)
        await w.write(b"ok " + r.url.path.encode())
        counts["answered"] += 1

    listener = nethttp.listen("127.0.0.1:0")
    print(listener.port, flush=True)
    nethttp.run(handler, listener=listener, shutdown_timeout=10)
    print(counts["read"], counts["answered"], flush=True)
    """
)


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.full = 0
        self.partial = 0
        self.unanswered = 0  # closed by the server before reading this request
        self.refused = 0
        self.in_flight_at_signal = 0


async def one_client(port: int, n: int, tally: Tally, stop_at: float) -> None:
    """Keep-alive requests until the server refuses us (or a bounded time passes)."""
    i = 0
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            tally.refused += 1
            return
        try:
            while time.monotonic() < stop_at:
                path = f"/{n}/{i}"
                i += 1
                writer.write(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
                tally.sent += 1
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        tally.partial += 1
                    else:
                        tally.unanswered += 1
                    break
                except ConnectionResetError:
                    tally.unanswered += 1
                    break
                body = await reader.readexactly(len(f"ok {path}"))
                if not head.startswith(b"HTTP/1.1 200 OK") or body != f"ok {path}".encode():
                    tally.partial += 1
                    break
                tally.full += 1
                if b"Connection: close" in head:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            tally.partial += 1
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def test_sigterm_under_a_load_generator_loses_nothing(tmp_path: Path) -> None:
    proc, port = start_script(tmp_path, LOAD_SERVER)
    tally = Tally()

    async def generate() -> None:
        stop_at = time.monotonic() + 20
        clients = [asyncio.ensure_future(one_client(port, n, tally, stop_at)) for n in range(64)]
        await asyncio.sleep(1.0)  # load running
        tally.in_flight_at_signal = tally.sent - tally.full
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*clients), 30)

    try:
        asyncio.run(generate())
        assert proc.wait(20) == 0
        out, _ = stop(proc)
    finally:
        stop(proc)
    read, answered = (int(x) for x in out.decode().split()[-2:])
    assert tally.in_flight_at_signal >= 32, vars(tally)  # SIGTERM landed under load
    assert tally.partial == 0, vars(tally)
    # Every request the server read was answered in full, and the client got each answer.
    assert read == answered == tally.full, (read, answered, vars(tally))
    assert tally.full > 200, vars(tally)
    assert tally.refused >= 1, vars(tally)  # the listener closed; the clients stopped
