"""Open many keep-alive connections, make one request on each, hold them idle.

Usage: python idle_client.py PORT COUNT

run.py starts this pinned to the load-generator core and talks to it over
stdin/stdout so the server's RSS is sampled while every connection is open:

    client -> "open N"    N of the COUNT connections connected and answered;
                          the rest failed or stalled for 5 s
    runner -> "check"     (a line on stdin) once it has sampled the server
    client -> "alive K"   how many of the N the server still holds open
    runner closes stdin   the client closes every socket and exits

A request on each connection matters: a server may allocate per-connection
state lazily, on the first request, and idle keep-alive connections in
production have all served at least one request.
"""

import asyncio
import socket
import sys

from _lib import raise_nofile  # this script runs from bench/, beside _lib

_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# Enough simultaneous handshakes to be quick, few enough not to overflow the
# server's accept backlog (a dropped SYN costs a 1 s retransmit).
_PARALLEL = 128
# A server that stops answering new connections (granian, past its
# --backpressure) must not stall the suite: give up after this long
# without a single connection completing, and report how many got through.
_STALL = 5.0


async def _read_response(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """Read one response with a Content-Length body (the hello route's)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await loop.sock_recv(sock, 4096)
        if not chunk:
            raise ConnectionError("closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = await loop.sock_recv(sock, 4096)
        if not chunk:
            raise ConnectionError("closed inside the response body")
        body += chunk


async def _open_one(port: int, gate: asyncio.Semaphore) -> socket.socket | None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    async with gate:
        try:
            await loop.sock_connect(sock, ("127.0.0.1", port))
            await loop.sock_sendall(sock, _REQUEST)
            await _read_response(loop, sock)
        except BaseException as exc:  # also cancellation, when the server stalls
            sock.close()
            if isinstance(exc, OSError):
                return None
            raise
    return sock


def _still_open(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""  # data would be odd, but open
    except BlockingIOError:
        return True  # nothing to read and no EOF: the server still holds it
    except OSError:
        return False


async def main(port: int, count: int) -> None:
    raise_nofile(count + 64)
    gate = asyncio.Semaphore(_PARALLEL)
    pending = {asyncio.create_task(_open_one(port, gate)) for _ in range(count)}
    socks: list[socket.socket] = []
    while pending:
        done, pending = await asyncio.wait(
            pending, timeout=_STALL, return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            break
        socks += [s for s in (t.result() for t in done) if s is not None]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    print(f"open {len(socks)}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line.strip() == "check":
            print(f"alive {sum(_still_open(s) for s in socks)}", flush=True)
            await loop.run_in_executor(None, sys.stdin.readline)  # wait for EOF
    finally:
        for s in socks:
            s.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
