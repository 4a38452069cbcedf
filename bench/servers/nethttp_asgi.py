"""nethttp hosting the suite's raw ASGI app (``asgi_app.app``) through its
ASGI adapter, so the row compares directly with uvicorn hosting the same app.

Usage: python nethttp_asgi.py PORT

The adapter (``nethttp.asgi``) is not built yet; run.py checks that the
module imports and reports this row as "n/a (not built yet)" until it does.
Its exact name is not settled either, so the adapter is looked up under the
names it is likely to get; adjust the list when it lands.
"""

import sys

import nethttp.asgi  # binds `nethttp` too
from asgi_app import app

_ADAPTER_NAMES = ("ASGIHandler", "ASGIApp", "ASGI", "from_asgi", "asgi_handler")

for name in _ADAPTER_NAMES:
    adapter = getattr(nethttp.asgi, name, None)
    if adapter is not None:
        break
else:
    sys.exit(f"nethttp.asgi has none of {', '.join(_ADAPTER_NAMES)}")

nethttp.run(adapter(app), addr=f"127.0.0.1:{sys.argv[1]}")
