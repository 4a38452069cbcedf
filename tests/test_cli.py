"""The ``nethttp`` command: option parsing, app detection, listeners, exit codes, real apps.

Unit tables for the pure parts; the rest runs ``python -m nethttp serve`` in a
subprocess (tests/apps/cli_runner.py) and talks to it with httpx and raw sockets.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import nethttp
from apps.cli_runner import APPS, Served, client, run, served
from nethttp import cli

# -- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8001", cli.Bind("tcp", "127.0.0.1:8001")),
        ("[::1]:0", cli.Bind("tcp", "[::1]:0")),
        (":80", cli.Bind("tcp", ":80")),
        ("0.0.0.0", cli.Bind("tcp", "0.0.0.0:8000")),
        ("[::1]", cli.Bind("tcp", "[::1]:8000")),
        ("localhost:http", cli.Bind("tcp", "localhost:http")),
        ("unix:/run/app.sock", cli.Bind("unix", "/run/app.sock")),
        ("unix:///run/app.sock", cli.Bind("unix", "/run/app.sock")),
        ("fd://3", cli.Bind("fd", fd=3)),
    ],
)
def test_parse_bind(value: str, expected: cli.Bind) -> None:
    assert cli.parse_bind(value) == expected


@pytest.mark.parametrize("value", ["unix:", "fd://x", "fd://", "::1:80", "host:99999", "h:nope"])
def test_parse_bind_refuses(value: str) -> None:
    with pytest.raises(cli.UsageError):
        cli.parse_bind(value)


class _ASGIApp:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...


class _WSGIApp:
    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        return []


class _Native:
    async def serve_http(self, w: Any, r: Any) -> None: ...


async def _asgi_fn(scope: Any, receive: Any, send: Any) -> None: ...


async def _native_fn(w: Any, r: Any) -> None: ...


def _wsgi_fn(environ: Any, start_response: Any) -> list[bytes]:
    return []


async def _async_star(*args: Any) -> None: ...


def _sync_star(*args: Any) -> None: ...


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (_Native(), "native"),
        (nethttp.ServeMux(), "native"),
        (_native_fn, "native"),
        (_ASGIApp(), "asgi"),
        (_asgi_fn, "asgi"),
        (_WSGIApp(), "wsgi"),
        (_wsgi_fn, "wsgi"),
        (_async_star, "asgi"),
        (_sync_star, "wsgi"),
    ],
)
def test_detect_interface(app: object, expected: str) -> None:
    assert cli.detect_interface(app) == expected


@pytest.mark.parametrize("app", [42, lambda: None, lambda a, b, c, d: None])
def test_detect_interface_refuses(app: object) -> None:
    with pytest.raises(cli.UsageError):
        cli.detect_interface(app)


def _binds(*argv: str) -> list[cli.Bind]:
    return cli.binds_from(cli.parse_args(["app:x", *argv]))


def test_binds_default_and_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTEN_PID", raising=False)
    assert _binds() == [cli.Bind("tcp", "127.0.0.1:8000")]
    assert _binds("--host", "::1", "--port", "0") == [cli.Bind("tcp", "[::1]:0")]
    assert _binds("--uds", "/tmp/a.sock", "-b", "fd://5") == [
        cli.Bind("fd", fd=5),
        cli.Bind("unix", "/tmp/a.sock"),
    ]
    # --host/--port together with other binds adds the TCP listener too.
    assert _binds("-b", "unix:/tmp/b", "--port", "9000") == [
        cli.Bind("tcp", "127.0.0.1:9000"),
        cli.Bind("unix", "/tmp/b"),
    ]


def test_systemd_fds_only_for_this_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTEN_PID", str(os.getpid() + 1))
    monkeypatch.setenv("LISTEN_FDS", "2")
    assert cli.systemd_fds() == []
    monkeypatch.setenv("LISTEN_PID", str(os.getpid()))
    assert cli.systemd_fds() == [3, 4]
    assert "LISTEN_FDS" not in os.environ and "LISTEN_PID" not in os.environ


def test_serve_prefix_optional() -> None:
    assert cli.parse_args(["serve", "m:a", "--port", "1"]).app == "m:a"
    assert cli.parse_args(["m:a", "--port", "1"]).port == 1
    args = cli.parse_args(["m:a", "--timeout-keep-alive", "5", "--timeout-graceful-shutdown", "7"])
    assert (args.idle_timeout, args.shutdown_timeout) == (5.0, 7.0)
    assert cli.parse_args(["m:a", "--read-timeout", "none"]).read_timeout is None


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve"]) == 2
    assert cli.main(["m:a", "--interface", "nope"]) == 2
    assert cli.main(["--version"]) == 0
    assert "nethttp" in capsys.readouterr().out


# -- the command, in a subprocess ---------------------------------------------------------


def _get(url: str, path: str = "/", **kw: Any) -> httpx.Response:
    if "verify" in kw:
        return httpx.get(url + path, timeout=10, **kw)
    return client().get(url + path, **kw)


@pytest.fixture(scope="module")
def native() -> Iterator[Served]:
    """One native server for the tests that only send requests to it."""
    args = ["serve", "native_app:mux", "--app-dir", APPS, "--port", "0"]
    with served(args) as s:
        s.ready()
        yield s


def test_serves_native_handler_and_logs_access(native: Served) -> None:
    r = _get(native.url, "/hello", headers={"User-Agent": "t"})
    assert r.status_code == 200
    body = r.json()
    assert body["path"] == "/hello" and body["scheme"] == "http"
    assert body["remote_addr"].startswith("127.0.0.1:")
    line = native.wait_for(r'"GET /hello HTTP/1.1" 200 \d+ [\d.]+$', stream="out")[0].string
    assert line.startswith("127.0.0.1 - - [")


def test_proxy_headers_trusted_from_loopback_by_default(native: Served) -> None:
    r = _get(native.url, headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert r.json()["remote_addr"] == "203.0.113.9:0"
    assert r.json()["scheme"] == "https"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuchmodule:app"], 'could not import module "nosuchmodule"'),
        (["native_app:nope"], 'attribute "nope" not found in module "native_app"'),
        (["native_app"], 'must be in the form "MODULE:ATTR"'),
        (["native_app:mux", "--ssl-keyfile", "k.pem"], "--ssl-keyfile needs --ssl-certfile"),
        (["native_app:mux", "--forwarded-allow-ips", "10.0.0.300"], "not an IP"),
        (["native_app:mux", "--interface", "asgi", "--root-path", "api"], "root_path must"),
        (["native_app:make_mux"], "cannot tell what"),
    ],
)
def test_cannot_load_exits_1_with_one_line(argv: list[str], message: str) -> None:
    code, _, err = run(["serve", *argv, "--app-dir", APPS, "--port", "0"])
    assert code == 1
    errors = [line for line in err.splitlines() if "[ERROR]" in line]
    assert len(errors) == 1 and message in errors[0], err


def test_bind_in_use_exits_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(["native_app:mux", "--app-dir", APPS, "--port", str(port)])
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_several_binds_tcp_unix_fd_and_sigint(tmp_path: Path) -> None:
    inherited = socket.create_server(("127.0.0.1", 0))
    fd = inherited.fileno()
    path = str(tmp_path / "app.sock")
    args = ["native_app:bare", "--app-dir", APPS, "-b", "127.0.0.1:0", "-b", f"unix:{path}"]
    try:
        with served([*args, "-b", f"fd://{fd}"], pass_fds=[fd]) as s:
            s.ready()
            tcp, unix, fdurl = s.urls(3)
            assert unix == f"unix:{path}" and fdurl.startswith("http://127.0.0.1:")
            assert _get(tcp).text == "bare"
            assert _get(fdurl).text == "bare"
            with httpx.Client(transport=httpx.HTTPTransport(uds=path)) as c:
                assert c.get("http://x/").text == "bare"
            assert oct(os.stat(path).st_mode & 0o777) == "0o660"
            s.signal(signal.SIGINT)
            assert s.wait() == 0
        assert not os.path.exists(path)  # the Unix socket is removed at exit
    finally:
        inherited.close()


def test_systemd_socket_activation() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    fd = sock.fileno()
    # LISTEN_PID must be the server's own pid: a wrapper puts the socket at fd 3, sets the
    # variables with its pid, then execs the command (an exec keeps the pid).
    script = (
        f"import os, sys; os.dup2({fd}, 3); os.environ['LISTEN_PID'] = str(os.getpid()); "
        "os.environ['LISTEN_FDS'] = '1'; os.execv(sys.executable, [sys.executable, '-m', "
        f"'nethttp', 'native_app:bare', '--app-dir', {APPS!r}])"
    )
    try:
        with served([], argv=[sys.executable, "-c", script], pass_fds=[fd]) as s:
            s.ready()
            assert s.url == f"http://127.0.0.1:{port}"
            assert _get(f"http://127.0.0.1:{port}").text == "bare"
    finally:
        sock.close()


def test_factory_interface_and_sync_native_handler() -> None:
    with served(["native_app:make_mux", "--factory", "--app-dir", APPS, "--port", "0"]) as s:
        s.ready()
        assert _get(s.url, "/x").json()["path"] == "/x"
    args = ["native_app:sync_handler", "--interface", "native", "--app-dir", APPS, "--port", "0"]
    with served(args) as s:
        s.ready()
        assert _get(s.url).text == "sync GET"


def test_tls(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    args = ["native_app:mux", "--app-dir", APPS, "--port", "0"]
    tls = ["--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile)]
    with served([*args, *tls]) as s:
        s.ready()
        assert s.url.startswith("https://")
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)
        assert _get(s.url, verify=ctx).json()["scheme"] == "https"


def test_limit_concurrency_answers_503() -> None:
    args = ["native_app:mux", "--app-dir", APPS, "--port", "0", "--limit-concurrency", "1"]
    with served(args) as s:
        s.ready()
        results: list[int] = []
        slow = threading.Thread(
            target=lambda: results.append(_get(s.url, "/slow?s=1.5").status_code)
        )
        slow.start()
        statuses = set()
        for _ in range(200):  # until the slow request is in flight; bounded by its 1.5 s
            shed = _get(s.url, "/")
            statuses.add(shed.status_code)
            if shed.status_code == 503:
                assert shed.headers["Connection"] == "close"
                assert shed.text == "Service Unavailable\n"
                break
        slow.join(10)
        assert 503 in statuses
        assert results == [200]
        assert _get(s.url, "/").status_code == 200  # free again


def test_access_log_json() -> None:
    args = ["native_app:mux", "--app-dir", APPS, "--port", "0", "--access-log-format", "json"]
    with served(args) as s:
        s.ready()
        _get(s.url, "/j")
        entry = json.loads(s.wait_for(r"^\{", stream="out")[0].string)
        assert entry["uri"] == "/j" and entry["status"] == 200 and entry["method"] == "GET"
        assert entry["remote_addr"].startswith("127.0.0.1:") and entry["duration"] >= 0


@pytest.mark.parametrize("quiet", [["--no-access-log"], ["--log-level", "warning"]])
def test_access_log_off(quiet: list[str]) -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        args = ["native_app:mux", "--app-dir", APPS, "-b", f"fd://{sock.fileno()}", *quiet]
        with served(args, pass_fds=[sock.fileno()]) as s:
            assert _get(url, "/q").status_code == 200  # waits in the backlog until ready
            s.signal(signal.SIGTERM)
            assert s.wait() == 0
            assert s.out == []
            if quiet[0] == "--log-level":
                assert not [line for line in s.err if "[INFO]" in line]
    finally:
        sock.close()


def test_proxy_protocol_flag() -> None:
    args = ["native_app:mux", "--app-dir", APPS, "--port", "0", "--proxy-protocol"]
    with served(args) as s:
        s.ready()
        host, port = s.url[len("http://") :].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as c:
            c.sendall(
                b"PROXY TCP4 198.51.100.7 127.0.0.1 4242 80\r\n"
                b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
            )
            data = b""
            while chunk := c.recv(65536):
                data += chunk
        assert b'"remote_addr": "198.51.100.7:4242"' in data


# -- real applications ---------------------------------------------------------------------


def _events(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _wait_event(path: Path, name: str, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while name not in _events(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    return _events(path)


@pytest.fixture(scope="module")
def starlette(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    events = tmp_path_factory.mktemp("starlette") / "events"
    args = ["serve", "starlette_app:app", "--app-dir", APPS, "--port", "0"]
    with served(args, env={"NETHTTP_TEST_EVENTS": str(events)}) as s:
        s.ready()
        yield s, events


def test_starlette_routing_and_lifespan_state(starlette: tuple[Served, Path]) -> None:
    s, events = starlette
    home = _get(s.url).json()
    assert home == {
        "started_by": "lifespan",
        "client": "127.0.0.1",
        "scheme": "http",
        "root_path": "",
        "path": "/",
    }
    assert _get(s.url, "/items/42?q=x").json() == {"id": 42, "q": "x"}
    assert _get(s.url, "/items/abc").status_code == 404
    assert "startup" in _events(events)


def test_starlette_streaming_response(starlette: tuple[Served, Path]) -> None:
    s, _ = starlette
    with client().stream("GET", s.url + "/stream") as r:
        assert r.headers["Transfer-Encoding"] == "chunked"
        assert r.headers["Content-Type"].startswith("text/plain")
        pieces = list(r.iter_bytes())
    assert b"".join(pieces) == b"".join(b"chunk %d\n" % i for i in range(5))


def test_starlette_request_body(starlette: tuple[Served, Path]) -> None:
    s, _ = starlette
    body = os.urandom(1 << 20)
    r = client().post(s.url + "/upload", content=body)
    assert r.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}

    def chunks() -> Iterator[bytes]:  # a chunked upload
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    r = client().post(s.url + "/upload", content=chunks())
    assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()


def test_starlette_background_task_runs_after_the_response(starlette: tuple[Served, Path]) -> None:
    s, events = starlette
    r = _get(s.url, "/background")
    assert r.text == "accepted"
    assert "background" in _wait_event(events, "background")


def test_starlette_sees_trusted_proxy_headers(starlette: tuple[Served, Path]) -> None:
    s, _ = starlette
    headers = {"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https"}
    home = _get(s.url, headers=headers).json()
    assert (home["client"], home["scheme"]) == ("203.0.113.50", "https")


def test_fastapi_with_root_path() -> None:
    args = ["serve", "fastapi_app:app", "--app-dir", APPS, "--port", "0", "--root-path", "/api"]
    with served(args) as s:
        s.ready()
        assert _get(s.url, "/items/3?q=a").json() == {"item_id": 3, "q": "a"}
        assert _get(s.url, "/items/x").status_code == 422
        item = {"name": "pen", "price": 1.5, "tags": ["a"]}
        r = client().post(s.url + "/items", json=item, headers={"X-Token": "secret"})
        assert (r.status_code, r.json()) == (201, {"name": "pen", "total": 3.0, "tags": ["a"]})
        assert client().post(s.url + "/items", json=item).status_code == 401
        assert _get(s.url, "/sync").json() == {"ran": "in a thread"}
        assert _get(s.url, "/openapi.json").json()["servers"] == [{"url": "/api"}]


def test_lifespan_startup_then_shutdown_after_in_flight(tmp_path: Path) -> None:
    events = tmp_path / "events"
    args = ["serve", "lifespan_app:app", "--app-dir", APPS, "--port", "0"]
    with served(args, env={"NETHTTP_TEST_EVENTS": str(events)}) as s:
        url = s.url  # listening, but the startup takes 0.2 s: this request waits for it
        assert _get(url, "/").text == "db=connected"
        s.ready()
        results: list[str] = []
        slow = threading.Thread(target=lambda: results.append(_get(url, "/?1").text))
        slow.start()
        time.sleep(0.3)  # the slow request is in flight
        s.signal(signal.SIGTERM)
        slow.join(15)
        assert s.wait() == 0
    assert results == ["db=connected"]
    assert _events(events) == ["startup", "request-end", "shutdown"]


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]])
def test_lifespan_startup_failure_exits_3(tmp_path: Path, workers: list[str]) -> None:
    env = {"NETHTTP_TEST_EVENTS": str(tmp_path / "e"), "NETHTTP_TEST_FAIL_STARTUP": "1"}
    args = ["serve", "lifespan_app:app", "--app-dir", APPS, "--port", "0", *workers]
    code, _, err = run(args, env=env)
    assert code == 3
    assert "application startup failed" in err and "no database" in err


def test_log_config_file(tmp_path: Path) -> None:
    access = tmp_path / "access.log"
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(event)s %(status)s %(message)s"}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(access), "formatter": "plain"}
        },
        "loggers": {"nethttp.access": {"handlers": ["file"], "level": "INFO"}},
    }
    (tmp_path / "log.json").write_text(json.dumps(config))
    sock = socket.create_server(("127.0.0.1", 0))
    fd = sock.fileno()
    args = ["native_app:bare", "--app-dir", APPS, "-b", f"fd://{fd}"]
    try:
        with served([*args, "--log-config", str(tmp_path / "log.json")], pass_fds=[fd]) as s:
            assert _get(f"http://127.0.0.1:{sock.getsockname()[1]}", "/c").text == "bare"
            s.signal(signal.SIGTERM)
            assert s.wait() == 0
    finally:
        sock.close()
    line = access.read_text().strip()
    assert line.startswith("access 200 127.0.0.1 - - [") and '"GET /c HTTP/1.1"' in line


@pytest.fixture(scope="module")
def flask_app() -> Iterator[Served]:
    with served(["serve", "flask_app:app", "--app-dir", APPS, "--port", "0"]) as s:
        s.ready()
        yield s


def test_flask_detected_and_proxy_headers(flask_app: Served) -> None:
    home = _get(flask_app.url, "/").json()
    assert home == {"remote_addr": "127.0.0.1", "scheme": "http", "script_name": "", "path": "/"}
    headers = {"X-Forwarded-For": "203.0.113.60", "X-Forwarded-Proto": "https"}
    home = _get(flask_app.url, "/", headers=headers).json()
    assert (home["remote_addr"], home["scheme"]) == ("203.0.113.60", "https")


def test_flask_form_post(flask_app: Served) -> None:
    r = client().post(flask_app.url + "/form", data={"name": "ada", "tag": ["x", "y"]})
    assert r.json() == {"name": "ada", "tags": ["x", "y"]}


def test_flask_streaming_response(flask_app: Served) -> None:
    with client().stream("GET", flask_app.url + "/stream") as r:
        assert r.headers["Transfer-Encoding"] == "chunked"
        body = b"".join(r.iter_bytes())
    assert body == b"".join(b"line %d " % i + b"x" * 4096 + b"\n" for i in range(5))


def test_flask_file_upload(flask_app: Served) -> None:
    data = os.urandom(300_000)
    r = client().post(
        flask_app.url + "/upload",
        files={"file": ("photo.bin", data, "application/octet-stream")},
        data={"note": "hi"},
    )
    assert r.json() == {
        "filename": "photo.bin",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "note": "hi",
    }


def test_error_in_the_module_exits_1_with_its_traceback() -> None:
    code, _, err = run(["serve", "broken_app:app", "--app-dir", APPS, "--port", "0"])
    assert code == 1
    assert "nethttp: error: cannot import broken_app:app: config missing" in err
    assert "Traceback" in err and 'broken_app.py", line 3' in err
