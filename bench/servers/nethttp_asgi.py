"""nethttp hosting the suite's raw ASGI app (``asgi_app.app``) through its
ASGI adapter, so the row compares directly with uvicorn hosting the same app
(lifespan included, as uvicorn runs it).

Usage: python nethttp_asgi.py PORT
"""

import sys

from asgi_app import app

import nethttp
from nethttp.asgi import ASGIHandler

handler = ASGIHandler(app)
srv = nethttp.Server(addr=f"127.0.0.1:{sys.argv[1]}", handler=handler)
handler.attach(srv)
nethttp.run(srv)
