"""A native nethttp handler for the CLI tests: it reports what it saw, as JSON."""

from __future__ import annotations

import asyncio
import json
import os

import nethttp

mux = nethttp.ServeMux()


@mux.handle_func("/")
async def whoami(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    """The client as the server sees it (after proxy headers), and this worker's pid."""
    w.header().set("Content-Type", "application/json")
    body = {
        "remote_addr": r.remote_addr,
        "scheme": r.scheme,
        "host": r.host,
        "pid": os.getpid(),
        "path": r.url.path,
    }
    await w.write(json.dumps(body).encode())


@mux.handle_func("/slow")
async def slow(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    """Answer after ``?s=`` seconds (default 1)."""
    delay = float(r.url.query().get("s", ["1"])[0])
    await asyncio.sleep(delay)
    await w.write(b"slow done %d" % os.getpid())


@mux.handle_func("POST /echo")
async def echo(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    """Send the request body back."""
    await w.write(await r.body.read())


@mux.handle_func("/crash")
async def crash(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    """Kill this worker process at once (for the supervisor tests)."""
    os._exit(7)


def sync_handler(w: nethttp.BlockingResponseWriter, r: nethttp.Request) -> None:
    """A plain def handler (runs in a thread): the CLI must take it with --interface native."""
    w.write(b"sync " + r.method.encode())


def make_mux() -> nethttp.ServeMux:
    """A factory for --factory."""
    return mux


async def bare(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    """A bare async function handler (two parameters: detected as native)."""
    await w.write(b"bare")
