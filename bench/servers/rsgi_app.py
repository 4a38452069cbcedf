"""The same three routes as ``asgi_app``, on granian's own RSGI interface.

RSGI lets the app hand the whole response to granian's Rust side in one call,
so this row shows what granian costs without the ASGI message protocol.
"""

from typing import Any

HELLO = b"Hello, World!"
BIG = b"x" * (1 << 20)

_HELLO_HEADERS = [("content-type", "text/plain"), ("content-length", "13")]
_BIG_HEADERS = [
    ("content-type", "application/octet-stream"),
    ("content-length", str(len(BIG))),
]


async def app(scope: Any, proto: Any) -> None:
    path = scope.path
    if path == "/echo":
        body = await proto()
        headers = [
            ("content-type", "application/octet-stream"),
            ("content-length", str(len(body))),
        ]
        proto.response_bytes(200, headers, body)
    elif path == "/big":
        proto.response_bytes(200, _BIG_HEADERS, BIG)
    else:
        proto.response_bytes(200, _HELLO_HEADERS, HELLO)
