"""A real nginx in front of ``nethttp serve``: proxy headers, Unix upstreams, PROXY protocol.

nginx is installed by the test when missing (``apt-get install nginx
libnginx-mod-stream``; a failure to install fails the test when ``CI=true``, skips it
elsewhere), and runs as this test's own process: its own prefix and config in a temp
directory, ``daemon off``, bound to 127.0.0.1, stopped by pid.

Clients connect from 127.0.0.2 (all of 127/8 is loopback on Linux), an address no
server here trusts, so what reaches the application shows whose word counted: nginx's
(trusted: 127.0.0.1, or the Unix socket) or the client's (never).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.cli_runner import APPS, Served, served

# On a fresh machine the first test's setup installs nginx with apt (update + install):
# minutes, not the suite's default 120 s per test.
pytestmark = pytest.mark.timeout(900)

CLIENT_ADDR = "127.0.0.2"
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def _stream_support(nginx: str) -> str | None:
    """The load_module line the config needs ("" when built in); None when unavailable."""
    info = subprocess.run([nginx, "-V"], capture_output=True, text=True, timeout=30).stderr
    if "--with-stream=dynamic" in info:
        return f"load_module {STREAM_MODULE};" if os.path.exists(STREAM_MODULE) else None
    return "" if "--with-stream" in info else None


def _install() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=600, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "nginx", "libnginx-mod-stream"],
        env=env,
        timeout=600,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def nginx_bin() -> tuple[str, str]:
    """The nginx binary and the line that loads its stream module, installing if needed."""
    for attempt in range(2):
        path = shutil.which("nginx") or (
            "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
        )
        stream = _stream_support(path) if path else None
        if path and stream is not None:
            return path, stream
        if attempt == 0:
            _install()
    message = "nginx with the stream module is not installed and could not be installed"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


CONFIG = """
{load_stream}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
{user}
events {{ worker_connections 128; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    upstream over_tcp {{ server 127.0.0.1:{app_port}; keepalive 4; }}
    upstream over_unix {{ server unix:{app_sock}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{tcp_port};
        location / {{
            proxy_pass http://over_tcp;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
    server {{
        listen 127.0.0.1:{unix_port};
        location / {{
            proxy_pass http://over_unix;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
    server {{
        listen 127.0.0.1:{rfc_port};
        location / {{
            proxy_pass http://over_tcp;
            proxy_set_header Forwarded "for=$remote_addr;proto=https;host=public.example";
        }}
    }}
}}
stream {{
    server {{
        listen 127.0.0.1:{pp_port};
        proxy_pass 127.0.0.1:{pp_app_port};
        proxy_protocol on;
    }}
}}
"""


class Nginx:
    """nginx running in the foreground as this test's child."""

    def __init__(self, binary: str, load_stream: str, prefix: Path, **ports: Any) -> None:
        self.ports = {k: _free_port() for k in ("tcp_port", "unix_port", "rfc_port", "pp_port")}
        conf = prefix / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(
            CONFIG.format(load_stream=load_stream, prefix=prefix, user=user, **self.ports, **ports)
        )
        self.prefix = prefix
        self.proc = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        for port in self.ports.values():
            while True:
                if self.proc.poll() is not None:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    log = (
                        (self.prefix / "error.log").read_text()
                        if (self.prefix / "error.log").exists()
                        else ""
                    )
                    raise AssertionError(f"nginx exited {self.proc.returncode}: {err}\n{log}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only its processes
        with contextlib.suppress(Exception):
            self.proc.wait(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture(scope="module")
def stack(
    nginx_bin: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Nginx, Served, Served]]:
    """nginx -> nethttp over TCP and a Unix socket, and nginx (stream) -> PROXY protocol."""
    tmp = tmp_path_factory.mktemp("nginx")
    sock = str(tmp / "app.sock")
    plain_args = ["serve", "native_app:mux", "--app-dir", APPS, "-b", "127.0.0.1:0"]
    pp_args = ["serve", "native_app:mux", "--app-dir", APPS, "--port", "0", "--proxy-protocol"]
    # The default trust list (127.0.0.1, ::1, Unix peers) is what these deployments need.
    with (
        served([*plain_args, "-b", f"unix:{sock}", "--uds-mode", "666"]) as plain,
        served(pp_args) as pp,
    ):
        plain.ready()
        pp.ready()
        proxy = Nginx(
            nginx_bin[0],
            nginx_bin[1],
            tmp,
            app_port=_port_of(plain.urls(2)[0]),
            app_sock=sock,
            pp_app_port=_port_of(pp.url),
        )
        try:
            proxy.wait_ready()
            yield proxy, plain, pp
        finally:
            proxy.stop()


def _from_client(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    transport = httpx.HTTPTransport(local_address=CLIENT_ADDR)
    with httpx.Client(transport=transport, timeout=10, trust_env=False) as c:
        r = c.get(url + "/who", headers=headers or {})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


SPOOF = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "Forwarded": "for=7.7.7.7"}


def test_nginx_over_tcp(stack: tuple[Nginx, Served, Served]) -> None:
    proxy, _, _ = stack
    seen = _from_client(proxy.url("tcp_port"), {"Host": "shop.example"})
    assert seen["remote_addr"] == f"{CLIENT_ADDR}:0"  # from X-Forwarded-For, nginx's word
    assert (seen["scheme"], seen["host"]) == ("http", "shop.example")


def test_nginx_over_unix_socket(stack: tuple[Nginx, Served, Served]) -> None:
    proxy, _, _ = stack
    seen = _from_client(proxy.url("unix_port"))
    assert seen["remote_addr"] == f"{CLIENT_ADDR}:0"
    assert seen["scheme"] == "https"  # this server block says so


def test_nginx_rfc7239_forwarded(stack: tuple[Nginx, Served, Served]) -> None:
    proxy, _, _ = stack
    seen = _from_client(proxy.url("rfc_port"))
    assert seen["remote_addr"] == f"{CLIENT_ADDR}:0"
    assert (seen["scheme"], seen["host"]) == ("https", "public.example")


def test_client_cannot_spoof_through_nginx(stack: tuple[Nginx, Served, Served]) -> None:
    proxy, _, _ = stack
    # nginx appends the client's real address after what the client claimed; the
    # rightmost untrusted entry is the client, so the claim is never reached.
    seen = _from_client(proxy.url("tcp_port"), {k: v for k, v in SPOOF.items() if k != "Forwarded"})
    assert seen["remote_addr"] == f"{CLIENT_ADDR}:0"
    assert seen["scheme"] == "http"  # nginx replaced the claimed X-Forwarded-Proto


def test_client_cannot_spoof_directly(stack: tuple[Nginx, Served, Served]) -> None:
    _, plain, _ = stack
    seen = _from_client(plain.urls(2)[0], SPOOF)
    assert seen["remote_addr"].startswith(f"{CLIENT_ADDR}:")
    assert seen["remote_addr"] != f"{CLIENT_ADDR}:0"  # the socket's own peer, with its port
    assert seen["scheme"] == "http"


def test_nginx_proxy_protocol(stack: tuple[Nginx, Served, Served]) -> None:
    proxy, _, pp = stack
    transport = httpx.HTTPTransport(local_address=CLIENT_ADDR)
    with httpx.Client(transport=transport, timeout=10, trust_env=False) as c:
        r = c.get(proxy.url("pp_port") + "/who", headers=SPOOF)
    seen = r.json()
    host, port = seen["remote_addr"].rsplit(":", 1)
    # The PROXY header names the client with its real port; what the client itself
    # wrote is ignored, as it does not come from a trusted proxy.
    assert host == CLIENT_ADDR and int(port) > 0
    assert seen["scheme"] == "http"
    # An untrusted peer talks plain HTTP to the same listener; a PROXY line from it
    # is not believed (it is not even a request).
    with socket.create_connection(("127.0.0.1", _port_of(pp.url)), timeout=10,
                                  source_address=(CLIENT_ADDR, 0)) as s:  # fmt: skip
        s.sendall(b"PROXY TCP4 9.9.9.9 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        reply = s.recv(65536)
    assert reply.startswith(b"HTTP/1.1 400")
