"""Structured log events: every operational event carries a kind operators can count."""

from __future__ import annotations

import logging
import socket
import ssl
import time
from typing import Any

import httpx
import pytest
import trustme

import nethttp
from conftest import Running, recv_all


def _events(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (rec.event, rec.getMessage())  # type: ignore[attr-defined]
        for rec in caplog.records
        if hasattr(rec, "event")
    ]


def test_bad_request_handler_error_and_timeout_events(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        raise RuntimeError("kaput")

    srv: Running = serve(boom, read_header_timeout=0.2)
    with caplog.at_level(logging.DEBUG, logger="nethttp.test"):
        with srv.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")  # no Host
            recv_all(s)
        with srv.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert recv_all(s).startswith(b"HTTP/1.1 500 ")
        with srv.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # never finished
            recv_all(s)
        time.sleep(0.1)
    events = _events(caplog)
    kinds = [kind for kind, _ in events]
    assert "bad_request" in kinds and "handler_error" in kinds and "timeout" in kinds, events
    bad = next(msg for kind, msg in events if kind == "bad_request")
    assert "400 missing required Host header" in bad and "127.0.0.1:" in bad
    for rec in caplog.records:
        if hasattr(rec, "event"):
            assert rec.remote_addr.startswith("127.0.0.1:")  # type: ignore[attr-defined]


def test_tls_error_event(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)

    async def hello(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"hi")

    srv: Running = serve(hello, tls=ctx)
    with caplog.at_level(logging.INFO, logger="nethttp.test"):
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")  # plaintext to a TLS port
            recv_all(s)
        time.sleep(0.2)
    assert any(kind == "tls_error" for kind, _ in _events(caplog))


@pytest.mark.parametrize(
    ("first", "answered"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
        (b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", True),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", True),
        (b"DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", False),  # not in Go's list: a TLS error
        (b"\x00\x01garbage\r\n\r\n", False),
    ],
)
def test_plain_http_on_a_tls_port_gets_gos_400(
    serve: Any, caplog: pytest.LogCaptureFixture, first: bytes, answered: bool
) -> None:
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)

    async def hello(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await w.write(b"hi")

    srv: Running = serve(hello, tls=ctx)
    with caplog.at_level(logging.INFO, logger="nethttp.test"):
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            s.sendall(first)
            try:
                data = recv_all(s)
            except ConnectionResetError:
                data = b""
        time.sleep(0.2)
    if answered:
        assert data == (
            b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
        )
    else:
        assert b"HTTP/1.0 400" not in data
    assert any(kind == "tls_error" for kind, _ in _events(caplog))
    # A real TLS client is still served.
    client = ssl.create_default_context()
    ca.configure_trust(client)
    assert httpx.get(f"https://127.0.0.1:{srv.port}/", verify=client).text == "hi"
