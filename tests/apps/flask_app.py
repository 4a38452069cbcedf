"""A Flask application for the CLI tests: a form post, a streamed response, a file upload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from flask import Flask, Response, request, stream_with_context

app = Flask(__name__)


@app.get("/")
def home() -> dict[str, object]:
    return {
        "remote_addr": request.remote_addr,
        "scheme": request.scheme,
        "script_name": request.script_root,
        "path": request.path,
    }


@app.post("/form")
def form() -> dict[str, object]:
    return {"name": request.form["name"], "tags": request.form.getlist("tag")}


@app.get("/stream")
def stream() -> Response:
    def lines() -> Iterator[str]:
        for i in range(5):
            yield f"line {i} " + "x" * 4096 + "\n"  # past the writer's buffer: chunked

    return Response(stream_with_context(lines()), mimetype="text/plain")


@app.post("/upload")
def upload() -> dict[str, object]:
    f = request.files["file"]
    data = f.read()
    return {
        "filename": f.filename,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "note": request.form.get("note"),
    }
