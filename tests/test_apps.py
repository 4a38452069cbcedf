"""Real applications hosted in-process: Starlette and FastAPI through nethttp.asgi, Flask
through nethttp.wsgi, each exercised over a real socket with httpx."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import flask
import httpx
import pytest
from fastapi import FastAPI, File, Form, UploadFile
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from conftest import Running
from nethttp.asgi import ASGIHandler
from nethttp.wsgi import WSGIHandler

LOG = logging.getLogger("nethttp.test.apps")


@pytest.fixture
def host(serve: Callable[..., Running]) -> Callable[[Any], Running]:
    """``host(handler)``: serve an ASGIHandler or WSGIHandler, lifespan attached."""
    return lambda handler: serve(handler, error_log=LOG)


# -- Starlette -----------------------------------------------------------------------------


class Events:
    """What the Starlette app did, seen from the test's thread."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.release_background = threading.Event()
        self.background_done = threading.Event()
        self.first_chunk_seen = threading.Event()


def starlette_app(events: Events) -> Starlette:
    async def home(request: Request) -> Response:
        return PlainTextResponse(f"hello from {request.state.greeting}")

    async def item(request: Request) -> Response:
        return JSONResponse({"id": request.path_params["id"], "q": request.query_params.get("q")})

    async def echo(request: Request) -> Response:
        body = await request.body()
        return Response(body[::-1], media_type="application/octet-stream")

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first;"
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, events.first_chunk_seen.wait, 5)
            for i in range(3):
                yield f"more{i};".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def background(request: Request) -> Response:
        async def later() -> None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, events.release_background.wait, 5)
            events.log.append("background ran")
            events.background_done.set()

        return PlainTextResponse("accepted", status_code=202, background=BackgroundTask(later))

    class Stamp(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.headers["x-stamp"] = "1"
            return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.log.append("startup")
        yield {"greeting": "lifespan"}
        events.log.append("shutdown")

    return Starlette(
        routes=[
            Route("/", home),
            Route("/items/{id:int}", item),
            Route("/echo", echo, methods=["POST"]),
            Route("/stream", stream),
            Route("/background", background),
        ],
        middleware=[Middleware(Stamp)],
        lifespan=lifespan,
    )


def test_starlette_routing_body_and_lifespan_state(host: Callable[[Any], Running]) -> None:
    events = Events()
    srv = host(ASGIHandler(starlette_app(events)))
    with httpx.Client(base_url=srv.url) as client:
        response = client.get("/")
        assert response.text == "hello from lifespan"
        assert response.headers["x-stamp"] == "1"
        assert client.get("/items/42?q=x").json() == {"id": 42, "q": "x"}
        assert client.get("/items/nope").status_code == 404
        assert client.post("/echo", content=b"abcdef").content == b"fedcba"
        big = bytes(range(256)) * 4096  # 1 MiB, in many pieces
        assert client.post("/echo", content=big).content == big[::-1]
    srv.stop()
    assert events.log == ["startup", "shutdown"]


def test_starlette_streaming_response(host: Callable[[Any], Running]) -> None:
    events = Events()
    srv = host(ASGIHandler(starlette_app(events)))
    with httpx.stream("GET", srv.url + "/stream", timeout=5) as response:
        pieces = response.iter_raw()
        assert next(pieces) == b"first;"  # sent before the app produced the rest
        events.first_chunk_seen.set()
        assert b"".join(pieces) == b"more0;more1;more2;"
        assert response.headers["transfer-encoding"] == "chunked"


def test_starlette_background_task_runs_after_the_response(
    host: Callable[[Any], Running],
) -> None:
    events = Events()
    srv = host(ASGIHandler(starlette_app(events)))
    with httpx.Client(base_url=srv.url, timeout=5) as client:
        # The response arrives while the background task still waits: it is not held back.
        response = client.get("/background")
        assert (response.status_code, response.text) == (202, "accepted")
        assert not events.background_done.is_set()
        events.release_background.set()
        assert events.background_done.wait(5)
        assert client.get("/").status_code == 200  # and the connection is reusable
    assert "background ran" in events.log


# -- FastAPI -------------------------------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/items")
    async def create(item: Item) -> dict[str, Any]:
        return {"name": item.name, "total": item.price * 2, "tags": item.tags}

    @app.get("/users/{user_id}/orders/{order_id}")
    async def order(user_id: int, order_id: str, verbose: bool = False) -> dict[str, Any]:
        return {"user": user_id, "order": order_id, "verbose": verbose}

    @app.post("/upload")
    async def upload(
        title: Annotated[str, Form()], file: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        data = await file.read()
        return {
            "title": title,
            "filename": file.filename,
            "size": len(data),
            "head": data[:4].decode(),
        }

    @app.get("/sync")
    def sync_endpoint() -> dict[str, str]:
        time.sleep(0.01)  # FastAPI runs plain def endpoints in its own thread pool
        return {"ran": "in a thread"}

    return app


def test_fastapi_json_path_params_and_validation(host: Callable[[Any], Running]) -> None:
    srv = host(ASGIHandler(fastapi_app()))
    with httpx.Client(base_url=srv.url) as client:
        response = client.post("/items", json={"name": "pen", "price": 1.5, "tags": ["a"]})
        assert response.json() == {"name": "pen", "total": 3.0, "tags": ["a"]}
        assert client.post("/items", json={"name": "pen"}).status_code == 422
        got = client.get("/users/7/orders/x-1", params={"verbose": "true"}).json()
        assert got == {"user": 7, "order": "x-1", "verbose": True}
        assert client.get("/users/seven/orders/x").status_code == 422
        assert client.get("/sync").json() == {"ran": "in a thread"}
        assert client.get("/openapi.json").json()["info"]["title"] == "FastAPI"


def test_fastapi_form_and_file_upload(host: Callable[[Any], Running]) -> None:
    srv = host(ASGIHandler(fastapi_app()))
    payload = b"%PDF" + b"\x00\xff" * 200_000
    response = httpx.post(
        srv.url + "/upload",
        data={"title": "report"},
        files={"file": ("report.pdf", payload, "application/pdf")},
    )
    assert response.status_code == 200
    assert response.json() == {
        "title": "report",
        "filename": "report.pdf",
        "size": len(payload),
        "head": "%PDF",
    }


# -- Flask ---------------------------------------------------------------------------------


def flask_app(first_seen: threading.Event) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.post("/form")
    def form() -> dict[str, Any]:
        return {"name": flask.request.form["name"], "langs": flask.request.form.getlist("lang")}

    @app.get("/stream")
    def stream() -> flask.Response:
        def generate() -> Iterator[str]:
            yield "line 1\n"
            first_seen.wait(5)
            yield "line 2\n"

        return flask.Response(flask.stream_with_context(generate()), mimetype="text/plain")

    @app.post("/upload")
    def upload() -> dict[str, Any]:
        f = flask.request.files["doc"]
        data = f.read()
        return {"filename": f.filename, "size": len(data), "note": flask.request.form["note"]}

    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name} at {flask.request.path} via {flask.request.script_root or '/'}"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("flask view failed")

    return app


def test_flask_form_post_and_routing(host: Callable[[Any], Running]) -> None:
    srv = host(WSGIHandler(flask_app(threading.Event())))
    with httpx.Client(base_url=srv.url) as client:
        response = client.post("/form", data={"name": "ada", "lang": ["py", "go"]})
        assert response.json() == {"name": "ada", "langs": ["py", "go"]}
        assert client.get("/hello/bob").text == "hello bob at /hello/bob via /"
        assert client.get("/missing").status_code == 404
        assert client.get("/boom").status_code == 500  # Flask's own error page
        assert client.get("/hello/again").status_code == 200


def test_flask_streaming_response(host: Callable[[Any], Running]) -> None:
    first_seen = threading.Event()
    srv = host(WSGIHandler(flask_app(first_seen)))
    with httpx.stream("GET", srv.url + "/stream", timeout=5) as response:
        pieces = response.iter_raw()
        assert next(pieces) == b"line 1\n"
        first_seen.set()
        assert b"".join(pieces) == b"line 2\n"


def test_flask_file_upload(host: Callable[[Any], Running]) -> None:
    srv = host(WSGIHandler(flask_app(threading.Event())))
    payload = bytes(range(256)) * 8192  # 2 MiB
    response = httpx.post(
        srv.url + "/upload",
        data={"note": "two megs"},
        files={"doc": ("blob.bin", payload, "application/octet-stream")},
        timeout=10,
    )
    assert response.json() == {"filename": "blob.bin", "size": len(payload), "note": "two megs"}


def test_flask_mounted_under_a_root_path(host: Callable[[Any], Running]) -> None:
    srv = host(WSGIHandler(flask_app(threading.Event()), root_path="/app"))
    assert httpx.get(srv.url + "/hello/eve").text == "hello eve at /hello/eve via /app"
