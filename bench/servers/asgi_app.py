"""The raw ASGI application every ASGI server in the suite hosts.

No framework: the point is to measure the server, so the app does as little
as an ASGI app can. It answers exactly what the native servers answer:
``/`` says "Hello, World!" as text/plain, ``POST /echo`` echoes the body,
``/big`` returns 1 MiB. Content-Length is sent by the app (the servers add
Date); lifespan messages are acknowledged so no server logs a warning.
"""

from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]

HELLO = b"Hello, World!"
BIG = b"x" * (1 << 20)

_HELLO_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"13")]
_BIG_HEADERS = [
    (b"content-type", b"application/octet-stream"),
    (b"content-length", str(len(BIG)).encode()),
]


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/echo":
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = [
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(len(body)).encode()),
        ]
    elif path == "/big":
        body, headers = BIG, _BIG_HEADERS
    else:
        body, headers = HELLO, _HELLO_HEADERS
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
