"""Connection tracking with the ``conn_state`` and ``conn_context`` hooks.

    NETHTTP_ADDR=127.0.0.1:8080 python examples/conn_tracking.py
    curl 127.0.0.1:8080/

``conn_state`` sees every connection from accept to close, including the idle
keep-alive ones no handler is running for, so it is the place to count them (for a
metric, or to refuse work when too many are open). ``conn_context`` puts the
connection into every request's context, so code far from the handler's arguments
can still find out which connection it serves.
"""

import os

import nethttp

# A key object of our own cannot collide with another library's context keys.
CONN_KEY = object()

# Every hook and handler runs on the event loop's thread: a plain dict needs no lock.
live: dict[nethttp.Conn, nethttp.ConnState] = {}


def track(conn: nethttp.Conn, state: nethttp.ConnState) -> None:
    # A hijacked connection belongs to its handler now and never reports CLOSED to the
    # server, so it is forgotten here, as Go's server forgets it.
    if state in (nethttp.ConnState.HIJACKED, nethttp.ConnState.CLOSED):
        live.pop(conn, None)
    else:
        live[conn] = state


def remember_conn(ctx: nethttp.Context, conn: nethttp.Conn) -> nethttp.Context:
    return ctx.with_value(CONN_KEY, conn)


async def status(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    conn = r.context().value(CONN_KEY)
    if not isinstance(conn, nethttp.Conn):
        await nethttp.error(w, "no connection in the context", 500)
        return
    w.header().set("Content-Type", "text/plain; charset=utf-8")
    lines = [f"live connections: {len(live)}", f"this connection: {conn.remote_addr} {live[conn]}"]
    lines += [f"  {c.remote_addr} {state}" for c, state in live.items()]
    await w.write("\n".join(lines).encode() + b"\n")


if __name__ == "__main__":
    nethttp.run(
        status,
        addr=os.environ.get("NETHTTP_ADDR", "127.0.0.1:8080"),
        conn_state=track,
        conn_context=remember_conn,
    )
