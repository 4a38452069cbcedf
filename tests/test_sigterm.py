"""SIGTERM with requests in flight: every one is answered in full, then the process exits 0."""

from __future__ import annotations

import signal
import socket
import textwrap
import time
from pathlib import Path

from conftest import recv_all, start_script

SERVER = textwrap.dedent(
    """
    import asyncio, sys
    import nethttp

    async def slow(w, r):
        await asyncio.sleep(0.5)
        await w.write(b"done " + r.url.path.encode())

    listener = nethttp.listen("127.0.0.1:0")
    print(listener.port, flush=True)
    nethttp.run(slow, listener=listener, shutdown_timeout=10)
    """
)


def test_sigterm_answers_every_request_in_flight(tmp_path: Path) -> None:
    proc, port = start_script(tmp_path, SERVER)
    try:
        clients = []
        for i in range(50):
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            c.sendall(b"GET /%d HTTP/1.1\r\nHost: a\r\n\r\n" % i)
            clients.append(c)
        time.sleep(0.2)  # every request is read and its handler sleeping
        proc.send_signal(signal.SIGTERM)
        for i, c in enumerate(clients):
            reply = recv_all(c, timeout=10)  # answered, then closed (keep-alive off)
            assert reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply
            assert b"Connection: close\r\n" in reply
            assert reply.endswith(b"done /%d" % i)
            c.close()
        assert proc.wait(10) == 0
        # After the drain the listener is gone: new clients are refused.
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            refused = False
        except OSError:
            refused = True
        assert refused
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
