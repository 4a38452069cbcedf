"""A raw ASGI application with lifespan, for startup state, shutdown order and failures.

``$NETHTTP_TEST_EVENTS`` names the file events are appended to; with
``$NETHTTP_TEST_FAIL_STARTUP`` set, startup fails (the command must exit 3).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any


def event(name: str) -> None:
    """Append ``name`` to the events file."""
    with open(os.environ["NETHTTP_TEST_EVENTS"], "a") as f:
        f.write(name + "\n")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if os.environ.get("NETHTTP_TEST_FAIL_STARTUP"):
                    await send({"type": "lifespan.startup.failed", "message": "no database"})
                    return
                await asyncio.sleep(0.2)  # a slow startup: requests must wait for it
                scope["state"]["db"] = "connected"
                event("startup")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                event("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
    delay = float(scope["query_string"].decode() or "0")
    if delay:
        await asyncio.sleep(delay)
        event("request-end")
    body = f"db={scope['state'].get('db')}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
