"""The raw WSGI application the WSGI servers in the suite host.

No framework, as ``asgi_app``: ``/`` says "Hello, World!" as text/plain,
``POST /echo`` echoes the body, ``/big`` returns 1 MiB; the app sends
Content-Length itself.
"""

from collections.abc import Callable, Iterable
from typing import Any

HELLO = b"Hello, World!"
BIG = b"x" * (1 << 20)

_HELLO_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "13")]
_BIG_HEADERS = [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BIG)))]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        headers = [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(body))),
        ]
    elif path == "/big":
        body, headers = BIG, _BIG_HEADERS
    else:
        body, headers = HELLO, _HELLO_HEADERS
    start_response("200 OK", headers)
    return [body]
