"""nethttp hosting the suite's raw WSGI app (``wsgi_app.app``) through its WSGI
adapter, to compare with gunicorn's gthread worker hosting the same app.

Usage: python nethttp_wsgi.py PORT
"""

import sys

from wsgi_app import app

import nethttp
from nethttp.wsgi import WSGIHandler

handler = WSGIHandler(app)
srv = nethttp.Server(addr=f"127.0.0.1:{sys.argv[1]}", handler=handler)
handler.attach(srv)
nethttp.run(srv)
