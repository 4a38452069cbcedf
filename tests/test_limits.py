"""Body limits: max_body_bytes on the server, max_bytes_handler / max_bytes_reader per route."""

from __future__ import annotations

import threading
from typing import Any

import nethttp
from conftest import Running, recv_all, recv_response

CANNED_413 = (
    b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\n413 Request Entity Too Large"
)


def _echo_len(calls: list[int]) -> Any:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        calls.append(1)
        data = await r.body.read()
        await w.write(b"%d" % len(data))

    return handler


def test_declared_body_over_the_limit_gets_413_before_the_handler(serve: Any) -> None:
    calls: list[int] = []
    srv: Running = serve(_echo_len(calls), max_body_bytes=1000)
    with srv.connect() as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n"
        )
        assert recv_all(s) == CANNED_413  # no 100 Continue first, then closed
    assert calls == []


def test_body_within_the_limit_is_served_and_the_connection_kept(serve: Any) -> None:
    calls: list[int] = []
    srv: Running = serve(_echo_len(calls), max_body_bytes=1000)
    with srv.connect() as s:
        for _ in range(2):
            s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000)
            assert recv_response(s).endswith(b"\r\n\r\n1000")
    assert calls == [1, 1]


def test_huge_upload_is_answered_413_while_the_client_still_sends(serve: Any) -> None:
    srv: Running = serve(_echo_len([]), max_body_bytes=1 << 20)
    size = 100 << 20
    with srv.connect(timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % size)

        def send() -> None:
            chunk = b"y" * (1 << 16)
            try:
                for _ in range(size // len(chunk)):
                    s.sendall(chunk)
            except OSError:
                pass  # the server hung up after answering: expected

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        head = recv_response(s)
        sender.join(15)
    assert head == CANNED_413


def test_chunked_body_over_the_limit_escaping_the_handler_is_413(serve: Any) -> None:
    srv: Running = serve(_echo_len([]), max_body_bytes=10)
    with srv.connect() as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"
        )
        assert recv_all(s) == CANNED_413


def test_route_limit_the_handler_answers_itself_and_the_connection_closes(serve: Any) -> None:
    async def careful(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            await r.body.read()
        except nethttp.MaxBytesError as exc:
            w.write_header(413)
            await w.write(b"limit %d" % exc.limit)
            return
        await w.write(b"fine")

    mux = nethttp.ServeMux()
    mux.handle("/small", nethttp.max_bytes_handler(careful, 4))
    mux.handle("/any", careful)
    srv: Running = serve(mux)
    with srv.connect() as s:
        s.sendall(b"POST /any HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n12345")
        assert recv_response(s).endswith(b"fine")  # other routes are not limited
        s.sendall(b"POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n12345")
        reply = recv_all(s)  # the connection closes after a body over its limit
    assert reply.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
    assert b"Connection: close\r\n" in reply and reply.endswith(b"limit 4")
