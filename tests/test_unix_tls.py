"""Unix socket listeners, peer credentials, and TLS, over real sockets.

The peer-credential test needs a client whose pid, uid and gid differ from the
server's, so that echoing the server's own credentials cannot pass: it runs the
client as a child process that drops to uid/gid 65534 (nobody) before connecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

import nethttp
from conftest import Running, recv_all
from nethttp import ConnState
from nethttp._server import _new_loop

NOBODY = 65534


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A short directory path anyone may traverse (pytest's tmp_path is 0o700)."""
    path = Path(tempfile.mkdtemp(prefix="nethttp-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


# -- listen_unix -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o666])
def test_listen_unix_sets_mode(sock_dir: Path, mode: int) -> None:
    path = sock_dir / "s.sock"
    old_umask = os.umask(0o077)  # the mode must not depend on the umask
    try:
        listener = nethttp.listen_unix(str(path), mode=mode)
    finally:
        os.umask(old_umask)
    try:
        st = path.stat()
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == mode
        assert listener.addr == str(path)
    finally:
        listener.close()
    assert not path.exists()  # a closed listener removes its socket file


def test_listen_unix_replaces_stale_socket(sock_dir: Path) -> None:
    path = sock_dir / "s.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays; nobody listens on it
    assert stat.S_ISSOCK(path.lstat().st_mode)
    listener = nethttp.listen_unix(str(path))
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))  # the new socket answers
    finally:
        listener.close()


def test_listen_unix_refuses_live_socket(sock_dir: Path) -> None:
    path = sock_dir / "s.sock"
    live = nethttp.listen_unix(str(path))
    try:
        with pytest.raises(OSError):
            nethttp.listen_unix(str(path))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))  # the first listener still owns the path
    finally:
        live.close()


def test_listen_unix_refuses_regular_file(sock_dir: Path) -> None:
    path = sock_dir / "not-a-socket"
    path.write_text("keep me")
    with pytest.raises(FileExistsError):
        nethttp.listen_unix(str(path))
    assert path.read_text() == "keep me"


# -- peer credentials --------------------------------------------------------------------

CLIENT = f"""
import os, socket, sys
if sys.argv[2] == "drop":
    os.setgroups([])
    os.setgid({NOBODY})
    os.setuid({NOBODY})
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
sys.stdout.write(data.partition(b"\\r\\n\\r\\n")[2].decode())
"""


def test_peer_credentials_of_another_user(sock_dir: Path) -> None:
    root = os.geteuid() == 0
    if not root and os.environ.get("CI") == "true":
        pytest.fail("CI must run this test as root: it switches the client to uid 65534")
    # Without root the client keeps our uid; the pid still proves whose credentials
    # the server read.
    want_uid, want_gid = (NOBODY, NOBODY) if root else (os.getuid(), os.getgid())
    path = str(sock_dir / "peercred.sock")

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        pid, uid, gid = r.conn.peer_credentials()
        await w.write(json.dumps({"pid": pid, "uid": uid, "gid": gid}).encode())

    async def main() -> None:
        srv = nethttp.Server(handler=handler)
        serving = asyncio.ensure_future(srv.serve(nethttp.listen_unix(path, mode=0o666)))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLIENT,
            path,
            "drop" if root else "keep",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0, err.decode()
        creds = json.loads(out)
        assert creds == {"pid": proc.pid, "uid": want_uid, "gid": want_gid}
        assert proc.pid != os.getpid()
        await srv.shutdown(2)
        with pytest.raises(nethttp.ServerClosed):
            await serving

    with asyncio.Runner(loop_factory=_new_loop) as runner:
        runner.run(main())
    assert not os.path.exists(path)


def test_peer_credentials_refused_on_tcp(serve: Any) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        try:
            r.conn.peer_credentials()
        except OSError:
            await w.write(b"OSError")

    running = serve(handler)
    assert httpx.get(running.url).text == "OSError"


# -- TLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def start_tls(handler: object, cert: trustme.LeafCert, **options: Any) -> Running:
    options.setdefault("error_log", logging.getLogger("nethttp.test.tls"))
    srv = nethttp.Server(handler=handler, tls=server_context(cert), **options)
    return Running(srv, nethttp.listen("127.0.0.1:0")).start()


def test_tls_request_sees_connection_state(server_cert: trustme.LeafCert, ca_file: str) -> None:
    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        tls = r.conn.tls
        assert tls is not None
        info = {"version": tls.version, "cipher": tls.cipher, "alpn": tls.alpn_protocol}
        await w.write(json.dumps(info).encode())

    running = start_tls(handler, server_cert)
    try:
        verify = ssl.create_default_context(cafile=ca_file)
        with httpx.Client(verify=verify) as client:
            response = client.get(f"https://127.0.0.1:{running.port}/")
            assert response.status_code == 200
            info = response.json()
            assert client.get(f"https://localhost:{running.port}/").status_code == 200
    finally:
        running.stop()
    assert info["version"] in ("TLSv1.2", "TLSv1.3")
    assert isinstance(info["cipher"], str) and info["cipher"]
    assert info["alpn"] == "http/1.1"


def test_tls_client_must_trust_the_server(server_cert: trustme.LeafCert) -> None:
    running = start_tls(lambda w, r: None, server_cert)
    try:
        with pytest.raises(httpx.ConnectError), httpx.Client() as client:
            client.get(f"https://127.0.0.1:{running.port}/")
    finally:
        running.stop()


class StateLog:
    def __init__(self) -> None:
        self.states: list[ConnState] = []
        self.closed = threading.Event()

    def __call__(self, conn: nethttp.Conn, state: ConnState) -> None:
        self.states.append(state)
        if state is ConnState.CLOSED:
            self.closed.set()


@pytest.mark.parametrize(
    "payload",
    [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\xff garbage \x16\x03\x01\x00\x00"],
    ids=["plain-http", "garbage"],
)
def test_tls_handshake_failure(
    server_cert: trustme.LeafCert, caplog: pytest.LogCaptureFixture, payload: bytes
) -> None:
    caplog.set_level(logging.INFO, logger="nethttp.test.tls")
    log = StateLog()
    running = start_tls(lambda w, r: None, server_cert, conn_state=log)
    try:
        with running.connect() as s:
            client_addr = f"127.0.0.1:{s.getsockname()[1]}"
            s.sendall(payload)
            with contextlib.suppress(ConnectionResetError):
                data = recv_all(s)
            assert b"HTTP/1.1" not in data  # never served as plain HTTP
        assert log.closed.wait(5)
        assert log.states == [ConnState.NEW, ConnState.CLOSED]
        messages = [rec.getMessage() for rec in caplog.records]
        # Go names the peer: "http: TLS handshake error from 127.0.0.1:54321: <err>".
        prefix = f"http: TLS handshake error from {client_addr}: "
        assert any(m.startswith(prefix) for m in messages), messages
        assert running.server.connections == 0
    finally:
        running.stop()


def test_listen_and_serve_tls(server_cert: trustme.LeafCert, ca_file: str, tmp_path: Path) -> None:
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    for blob in server_cert.cert_chain_pems:
        blob.write_to_path(str(certfile), append=True)
    server_cert.private_key_pem.write_to_path(str(keyfile))
    with socket.socket() as probe:  # a free port: listen_and_serve_tls takes an address
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def handler(w: nethttp.ResponseWriter, r: nethttp.Request) -> None:
        tls = r.conn.tls
        await w.write(f"tls={tls is not None} alpn={tls and tls.alpn_protocol}".encode())

    async def main() -> None:
        srv = nethttp.Server(addr=f"127.0.0.1:{port}", handler=handler)
        serving = asyncio.ensure_future(srv.listen_and_serve_tls(str(certfile), str(keyfile)))
        await asyncio.sleep(0)  # listening now
        verify = ssl.create_default_context(cafile=ca_file)
        async with httpx.AsyncClient(verify=verify) as client:
            response = await client.get(f"https://127.0.0.1:{port}/")
        assert (response.status_code, response.text) == (200, "tls=True alpn=http/1.1")
        await srv.shutdown(2)
        with pytest.raises(nethttp.ServerClosed):
            await serving

    with asyncio.Runner(loop_factory=_new_loop) as runner:
        runner.run(main())
