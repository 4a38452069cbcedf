"""A Starlette application for the CLI tests: routing, streaming, bodies, background tasks.

Events (startup, background task, slow request end, shutdown) are appended to the file
named by ``$NETHTTP_TEST_EVENTS`` so a test can see their order from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route


def event(name: str) -> None:
    """Append ``name`` to the events file."""
    path = os.environ.get("NETHTTP_TEST_EVENTS")
    if path:
        with open(path, "a") as f:
            f.write(name + "\n")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
    event("startup")
    yield {"started_by": "lifespan", "pid": os.getpid()}
    event("shutdown")


async def home(request: Request) -> Response:
    return JSONResponse(
        {
            "started_by": request.state.started_by,
            "client": request.client.host if request.client else None,
            "scheme": request.url.scheme,
            "root_path": request.scope.get("root_path", ""),
            "path": request.url.path,
        }
    )


async def item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["item_id"], "q": request.query_params.get("q")})


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"chunk %d\n" % i
            await asyncio.sleep(0.01)

    return StreamingResponse(chunks(), media_type="text/plain")


async def upload(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def background(request: Request) -> Response:
    return PlainTextResponse("accepted", background=BackgroundTask(event, "background"))


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("s", "1")))
    event("slow-end")
    return PlainTextResponse("slow done")


app = Starlette(
    routes=[
        Route("/", home),
        Route("/items/{item_id:int}", item),
        Route("/stream", stream),
        Route("/upload", upload, methods=["POST"]),
        Route("/background", background),
        Route("/slow", slow),
    ],
    lifespan=lifespan,
)
