"""nethttp's own API serving the suite's three routes.

Usage: python nethttp_native.py PORT
"""

import sys

import nethttp


async def hello(w, r):
    w.header().set("Content-Type", "text/plain")
    await w.write(b"Hello, World!")


async def echo(w, r):  # POST /echo: echo the body
    data = await r.body.read()
    w.header().set("Content-Type", "application/octet-stream")
    await w.write(data)


BIG = b"x" * (1 << 20)


async def big(w, r):  # GET /big: 1 MiB
    w.header().set("Content-Type", "application/octet-stream")
    await w.write(BIG)


mux = nethttp.ServeMux()
mux.handle_func("/", hello)
mux.handle_func("/echo", echo)
mux.handle_func("/big", big)
nethttp.run(mux, addr=f"127.0.0.1:{sys.argv[1]}")
