"""Who is calling? A Unix-socket server that answers each caller with its own identity.

    python examples/peercred.py /tmp/whoami.sock
    curl --unix-socket /tmp/whoami.sock http://localhost/

On a Unix socket the kernel vouches for the peer: ``SO_PEERCRED`` gives the pid, uid and
gid of the process that connected, and no client can forge them. A local service can
authorize by uid this way, with no passwords or tokens (Docker's and systemd's sockets
work like this).
"""

import json
import os
import sys

import nethttp

DEFAULT_PATH = "/tmp/nethttp-peercred.sock"


async def whoami(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
    # The credentials are those of the process that called connect(), taken by the
    # kernel at that moment: a later setuid() in the client does not change them.
    pid, uid, gid = r.conn.peer_credentials()
    w.header().set("Content-Type", "application/json")
    await w.write(json.dumps({"pid": pid, "uid": uid, "gid": gid}).encode() + b"\n")


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NETHTTP_SOCKET", DEFAULT_PATH)
    # 0o666 lets every local user connect; that is safe here because the answer is
    # built from who they are, not from anything they send.
    nethttp.run(whoami, listener=nethttp.listen_unix(path, mode=0o666))


if __name__ == "__main__":
    main()
