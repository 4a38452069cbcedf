"""``access_log`` and ``limit_concurrency``: lines, status and bytes as the client saw them."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import nethttp
from apps.cli_runner import client
from conftest import Running, recv_all
from nethttp._middleware import _clf_timestamp, access_log, escape, limit_concurrency


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.event.set()

    def lines(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def records() -> Iterator[tuple[logging.Logger, _Records]]:
    logger = logging.getLogger("nethttp.test.access")
    handler = _Records()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)


async def app(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    path = r.url.path
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/teapot":
        w.write_header(418)
        await w.write(b"short and stout")
        return
    if path == "/big":
        for _ in range(10):
            await w.write(b"x" * 1000)
        return
    if path == "/late-boom":
        await w.write(b"y" * 5000)  # past the buffer: the head went out
        raise RuntimeError("late")
    await w.write(b"hello")


def _one(handler: _Records) -> logging.LogRecord:
    assert handler.event.wait(5)
    assert len(handler.records) == 1, handler.lines()
    return handler.records[0]


CLF = re.compile(
    r"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
    r'"(?P<req>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)'
    r"(?P<rest>.*) (?P<dur>\d+\.\d{6})$"
)


@pytest.mark.parametrize(
    ("path", "method", "status", "size"),
    [
        ("/", "GET", 200, "5"),
        ("/teapot", "GET", 418, "15"),
        ("/big", "GET", 200, "10000"),
        ("/", "HEAD", 200, "-"),
        ("/boom", "GET", 500, "-"),
    ],
)
def test_common_format(
    serve: Callable[..., Running],
    records: tuple[logging.Logger, _Records],
    path: str,
    method: str,
    status: int,
    size: str,
) -> None:
    logger, handler = records
    srv = serve(access_log(app, "common", logger))
    r = client().request(method, srv.url + path + "?q=1")
    assert r.status_code == status
    record = _one(handler)
    m = CLF.match(record.getMessage())
    assert m is not None, record.getMessage()
    assert m["req"] == f"{method} {path}?q=1 HTTP/1.1"
    assert (int(m["status"]), m["bytes"], m["rest"]) == (status, size, "")
    assert record.status == status  # type: ignore[attr-defined]
    assert record.event == "access"  # type: ignore[attr-defined]
    assert record.uri == path + "?q=1"  # type: ignore[attr-defined]
    assert record.remote_addr.startswith("127.0.0.1:")  # type: ignore[attr-defined]


def test_failure_after_commit_logs_the_status_sent(
    serve: Callable[..., Running], records: tuple[logging.Logger, _Records]
) -> None:
    logger, handler = records
    srv = serve(access_log(app, "common", logger))
    with srv.connect() as c:
        c.sendall(b"GET /late-boom HTTP/1.1\r\nHost: a\r\n\r\n")
        reply = recv_all(c, timeout=10)  # aborted after the first chunk
    assert reply.startswith(b"HTTP/1.1 200 OK")
    m = CLF.match(_one(handler).getMessage())
    assert m is not None and m["status"] == "200" and m["bytes"] == "5000"


def test_combined_format_escapes_client_bytes(
    serve: Callable[..., Running], records: tuple[logging.Logger, _Records]
) -> None:
    logger, handler = records
    srv = serve(access_log(app, "combined", logger))
    with srv.connect() as c:
        c.sendall(
            b'GET /a"b HTTP/1.1\r\nHost: a\r\nReferer: http://r/\xe9\r\n'
            b'User-Agent: evil\\"ua\xff\r\nConnection: close\r\n\r\n'
        )
        assert recv_all(c).startswith(b"HTTP/1.1 200 OK")
    line = _one(handler).getMessage()
    m = CLF.match(line)
    assert m is not None, line
    assert m["req"] == 'GET /a\\"b HTTP/1.1'
    assert m["rest"] == ' "http://r/\\xe9" "evil\\\\\\"ua\\xff"'
    assert line.isascii()


def test_json_format(
    serve: Callable[..., Running], records: tuple[logging.Logger, _Records]
) -> None:
    logger, handler = records
    srv = serve(access_log(app, "json", logger))
    client().post(srv.url + "/teapot", content=b"body", headers={"User-Agent": "ua/1"})
    entry = json.loads(_one(handler).getMessage())
    assert entry["method"] == "POST" and entry["uri"] == "/teapot" and entry["status"] == 418
    assert entry["bytes"] == 15 and entry["user_agent"] == "ua/1" and entry["proto"] == "HTTP/1.1"
    assert entry["remote_addr"].startswith("127.0.0.1:") and entry["host"].startswith("127.0.0.1")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", entry["time"])
    assert isinstance(entry["duration"], float) and entry["duration"] >= 0


def test_sync_handler_inside_and_latency(
    serve: Callable[..., Running], records: tuple[logging.Logger, _Records]
) -> None:
    import time

    def blocking(w: nethttp.BlockingResponseWriter, r: nethttp.Request) -> None:
        time.sleep(0.2)
        w.write(b"from a thread")

    logger, handler = records
    srv = serve(access_log(blocking, "common", logger))
    assert client().get(srv.url).text == "from a thread"
    m = CLF.match(_one(handler).getMessage())
    assert m is not None and m["bytes"] == "13"
    assert float(m["dur"]) >= 0.2  # the handler's own sleep is inside the measured time


class _Wrapper:
    """Another wrapping writer (as a compressor would be), exposing unwrap()."""

    def __init__(self, w: nethttp.ResponseWriter) -> None:
        self._w = w

    def header(self) -> nethttp.Header:
        return self._w.header()

    def write_header(self, code: int) -> None:
        self._w.write_header(code)

    async def write(self, data: bytes) -> int:
        return await self._w.write(data)

    async def flush(self) -> None:
        await self._w.flush()

    def unwrap(self) -> nethttp.ResponseWriter:
        return self._w


def test_other_writers_are_counted_and_unwrap_works(
    serve: Callable[..., Running], records: tuple[logging.Logger, _Records]
) -> None:
    seen: list[Any] = []

    async def inner(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        seen.append(type(w).__name__)
        w.write_header(103)  # informational: not the final status
        w.write_header(201)
        await w.write(b"abc")
        await nethttp.ResponseController(w).flush()  # found through unwrap()
        await w.write(b"de")
        nethttp.ResponseController(w).set_write_deadline(None)

    logger, handler = records
    logged = access_log(inner, "common", logger)

    async def outer(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        await logged.serve_http(_Wrapper(w), r)

    srv = serve(outer)
    with srv.connect() as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        reply = recv_all(c)
    assert b"HTTP/1.1 103 Early Hints\r\n" in reply
    assert b"HTTP/1.1 201 Created\r\n" in reply and b"Transfer-Encoding: chunked" in reply
    assert seen == ["_CountingWriter"]
    m = CLF.match(_one(handler).getMessage())
    assert m is not None and (m["status"], m["bytes"]) == ("201", "5")


def test_disabled_logger_is_passed_through(serve: Callable[..., Running]) -> None:
    logger = logging.getLogger("nethttp.test.quiet")
    logger.setLevel(logging.WARNING)
    seen: list[Any] = []

    async def inner(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        seen.append(w)
        await w.write(b"ok")

    srv = serve(access_log(inner, "json", logger))
    assert client().get(srv.url).text == "ok"
    assert type(seen[0]).__name__ == "Response"


def test_arguments() -> None:
    with pytest.raises(ValueError):
        access_log(app, "apache")
    with pytest.raises(ValueError):
        limit_concurrency(app, 0)
    with pytest.raises(TypeError):
        access_log(42)
    assert escape("plain") == "plain"
    assert escape('a"b\\c\x00\x7f\u20ac') == 'a\\"b\\\\c\\x00\\x7f\\u20ac'
    assert re.match(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$", _clf_timestamp(0.0))


def test_limit_concurrency_counts_requests_not_connections(serve: Callable[..., Running]) -> None:
    release = asyncio.Event()
    entered = threading.Event()

    async def slow(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        if r.url.path == "/wait":
            entered.set()
            await release.wait()
        await w.write(b"done")

    srv = serve(limit_concurrency(slow, 1))
    # Idle keep-alive connections do not count.
    idle = [socket.create_connection((srv.host, srv.port), timeout=5) for _ in range(3)]
    with httpx.Client(timeout=10) as keep_alive:
        assert keep_alive.get(srv.url + "/").text == "done"
        waited: list[int] = []
        waiting = threading.Thread(
            target=lambda: waited.append(keep_alive.get(srv.url + "/wait").status_code)
        )
        waiting.start()
        assert entered.wait(5)
        shed = client().get(srv.url + "/")
        assert shed.status_code == 503 and shed.headers["Connection"] == "close"
        srv.call(release.set)
        waiting.join(10)
        assert waited == [200]
        assert keep_alive.get(srv.url + "/").text == "done"
    for c in idle:
        c.close()
