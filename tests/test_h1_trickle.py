"""A head that trickles in byte by byte costs linear work, not quadratic.

With quadratic buffering (re-copying or re-scanning everything received on each byte)
the 600 KB head below takes minutes and the test's timeout fails it; linear work takes
about a second.
"""

import pytest

from nethttp._h1 import RequestHead, RequestParser


@pytest.mark.timeout(60)
def test_large_head_fed_byte_by_byte_is_linear() -> None:
    filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    head = b"GET / HTTP/1.1\r\nHost: a\r\n" + filler * 600 + b"\r\n"
    p = RequestParser(max_header_bytes=1 << 20)
    event = None
    for i in range(len(head)):
        p.feed(head[i : i + 1])
        event = p.next_event()
        if event is not None:
            break
    assert isinstance(event, RequestHead)
    assert len(event.raw_headers) == 601


@pytest.mark.timeout(60)
def test_long_request_line_byte_by_byte_gets_414_in_linear_time() -> None:
    p = RequestParser(max_header_bytes=1 << 20)
    line = b"GET /" + b"a" * (1 << 20)
    raised = None
    for i in range(len(line)):
        p.feed(line[i : i + 1])
        try:
            p.next_event()
        except Exception as exc:
            raised = exc
            break
    assert raised is not None and getattr(raised, "status", None) == 414
