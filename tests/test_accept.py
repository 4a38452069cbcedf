"""The accept loop when descriptors run out; framing of Upgrade requests not upgraded."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path
from typing import Any

import nethttp
from conftest import Running, answer_all, recv_all, start_script

SERVER = textwrap.dedent(
    """
    import asyncio, logging, resource, sys
    import nethttp

    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    # Descriptors used by other parts of the process (files, clients of other services):
    # the server's own max_connections cap cannot see them, so accept() runs out.
    held = [open("/dev/null") for _ in range(16)]
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")

    async def hello(w, r):
        await w.write(b"hello")

    async def main():
        srv = nethttp.Server(handler=hello)
        listener = nethttp.listen("127.0.0.1:0")
        print(listener.port, flush=True)
        try:
            await srv.serve(listener)
        except nethttp.ServerClosed:
            pass

    asyncio.run(main())
    """
)


def test_out_of_descriptors_backs_off_and_drops_nobody(tmp_path: Path) -> None:
    proc, port = start_script(tmp_path, SERVER)
    try:
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
        for c in clients:
            c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        # Each answered client frees a descriptor in the server: a queued one gets in.
        answered = answer_all(clients, b"HTTP/1.1 200 OK")
        assert answered == 60, "a connection was accepted and dropped, or never served"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    log = err.decode()
    assert "http: Accept error:" in log and "retrying in 5ms" in log, log[-2000:]


def test_unupgraded_upgrade_request_body_is_not_a_request(serve: object) -> None:
    async def echo(w, r):  # type: ignore[no-untyped-def]
        data = await r.body.read()
        await w.write(b"[" + data + b"]")

    srv: Running = serve(echo)  # type: ignore[operator]
    with srv.connect() as s:
        s.sendall(
            b"POST /a HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: evil\r\n"
            b"Content-Length: 30\r\n\r\nGET /smuggled HTTP/1.1\r\nX: y\r\n"
            b"POST /b HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\nUpgrade: evil\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n"
        )
        data = recv_all(s)
    # Two responses, each echoing its own body; neither body was read as a request.
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert b"[GET /smuggled HTTP/1.1\r\nX: y\r\n]" in data
    assert data.endswith(b"[GET /]")


def test_a_full_server_stops_accepting_and_drops_nobody(serve: Any) -> None:
    live: set[object] = set()
    peak = [0]

    def track(conn: object, state: object) -> None:
        if state in (nethttp.ConnState.CLOSED, nethttp.ConnState.HIJACKED):
            live.discard(conn)
        else:
            live.add(conn)
            peak[0] = max(peak[0], len(live))

    async def hello(w, r):  # type: ignore[no-untyped-def]
        await w.write(b"hi")

    srv: Running = serve(hello, max_connections=5, conn_state=track)
    clients = [srv.connect() for _ in range(12)]
    for c in clients:
        c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert answer_all(clients, b"\r\n\r\nhi", timeout=20) == 12
    assert peak[0] <= 5, peak[0]
