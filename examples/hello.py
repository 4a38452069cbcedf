"""The smallest nethttp server: ``python examples/hello.py`` then ``curl 127.0.0.1:8080``."""

import os

import nethttp


@nethttp.handle_func("/")
async def hello(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    w.header().set("Content-Type", "text/plain; charset=utf-8")
    await w.write(b"Hello, World!\n")


@nethttp.handle_func("/headers")
async def headers(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    for name, values in sorted(r.header.items()):
        for value in values:
            await w.write(f"{name}: {value}\n".encode())


if __name__ == "__main__":
    # handler=None serves the default mux the decorators above registered on, as in Go.
    nethttp.run(None, addr=os.environ.get("NETHTTP_ADDR", "127.0.0.1:8080"))
