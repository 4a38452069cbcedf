"""The ``nethttp`` command: ``nethttp serve MODULE:ATTR [options]``.

It imports the application, decides what it is (a nethttp handler, an ASGI app or a WSGI
app; ``--interface`` overrides), wraps it (concurrency limit, access log, trusted proxy
headers, request counting), and serves it on every listener given: ``--host/--port``,
``--uds``, ``--fd``, gunicorn's repeatable ``-b``, and systemd's ``LISTEN_FDS``.

With neither ``--workers``, ``--max-requests`` nor ``--reload`` it serves in this
process; otherwise the listeners are bound here once and ``Supervisor`` forks workers
that inherit them. The application is always imported by the process that serves it.

Exit codes, as uvicorn's: 0 after a clean stop, 1 when the application cannot be
imported or a listener cannot be opened, 2 for a usage error, 3 when the application's
startup (ASGI lifespan) fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import logging
import logging.config
import os
import random
import signal
import socket
import ssl
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ._errors import ServerClosed
from ._listen import Listener, listen, listen_unix, parse_addr
from ._middleware import FORMATS, access_log, limit_concurrency
from ._mux import Handler, as_handler
from ._proxy import TrustedProxies, proxy_headers
from ._request import Request
from ._response import ResponseWriter
from ._server import Server, _new_loop
from ._supervisor import Supervisor, WorkerChannel

__all__ = ["main"]

EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_STARTUP: Final = 3
INTERFACES: Final = ("auto", "native", "asgi", "asgi3", "wsgi")
DEFAULT_TRUSTED: Final = "127.0.0.1,::1,unix"
_LEVELS: Final = {
    "critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING,
    "info": logging.INFO, "debug": logging.DEBUG, "trace": logging.DEBUG,
}  # fmt: skip

log = logging.getLogger("nethttp")


class UsageError(Exception):
    """A configuration the command cannot run with (exit code 1, one line)."""


# -- the command line ------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nethttp",
        usage="nethttp [serve] MODULE:ATTR [options]",
        description="Serve a nethttp handler, an ASGI or a WSGI application.",
    )
    add = p.add_argument
    add("app", metavar="MODULE:ATTR", help="the application, e.g. main:app")
    add("--version", action="version", version=f"nethttp {_version()}")
    g = p.add_argument_group("application").add_argument
    g("--interface", choices=INTERFACES, default="auto", help="what the app is (auto: detect)")
    g("--factory", action="store_true", help="ATTR is a function returning the app")
    g("--app-dir", default=".", help="directory put first on sys.path (default: .)")
    g("--root-path", default="", help="ASGI root_path (the app is mounted below it)")
    g("--lifespan", choices=("auto", "on", "off"), default="auto", help="ASGI lifespan")
    g("--threads", type=int, default=None, help="WSGI worker threads")
    g = p.add_argument_group("listeners").add_argument
    g("--host", default=None, help="TCP host (default 127.0.0.1)")
    g("--port", type=int, default=None, help="TCP port (default 8000; 0 picks one)")
    g("--uds", action="append", default=[], help="Unix socket path")
    g("--uds-mode", type=lambda s: int(s, 8), default=0o660, help="Unix socket mode (660)")
    g("--fd", type=int, action="append", default=[], help="inherited listening socket")
    g("-b", "--bind", action="append", default=[],
      help="HOST:PORT, [::1]:PORT, unix:PATH or fd://N (repeatable)")  # fmt: skip
    g("--reuse-port", action="store_true", help="each worker binds TCP with SO_REUSEPORT")
    g("--ssl-certfile", default=None, help="TLS certificate chain (PEM)")
    g("--ssl-keyfile", default=None, help="TLS private key (PEM)")
    g("--ssl-keyfile-password", default=None, help="password of the key")
    g = p.add_argument_group("processes").add_argument
    g("-w", "--workers", type=int, default=_env_int("WEB_CONCURRENCY"),
      help="worker processes under a supervisor (default: $WEB_CONCURRENCY or none)")  # fmt: skip
    g("--max-requests", "--limit-max-requests", type=int, default=None,
      help="replace a worker after this many requests")  # fmt: skip
    g("--max-requests-jitter", "--limit-max-requests-jitter", type=int, default=0,
      help="add up to this many to each worker's --max-requests")  # fmt: skip
    g("--reload", action="store_true", help="restart on source changes (development)")
    g("--reload-dir", action="append", default=[], help="where to watch .py files (cwd)")
    g = p.add_argument_group("proxies").add_argument
    g("--proxy-headers", action=argparse.BooleanOptionalAction, default=True,
      help="honour X-Forwarded-* and Forwarded from --forwarded-allow-ips")  # fmt: skip
    g("--forwarded-allow-ips", default=os.environ.get("FORWARDED_ALLOW_IPS", DEFAULT_TRUSTED),
      help=f"trusted proxies: IPs, CIDRs, unix, * (default {DEFAULT_TRUSTED})")  # fmt: skip
    g("--proxy-protocol", action="store_true",
      help="expect a PROXY protocol header from --forwarded-allow-ips peers")  # fmt: skip
    g = p.add_argument_group("timeouts and limits (seconds, bytes)").add_argument
    g("--read-header-timeout", type=_seconds, default=10.0)
    g("--read-timeout", type=_seconds, default=None)
    g("--write-timeout", type=_seconds, default=None)
    g("--idle-timeout", "--timeout-keep-alive", type=_seconds, default=60.0)
    g("--progress-timeout", type=_seconds, default=60.0)
    g("--shutdown-timeout", "--timeout-graceful-shutdown", "--graceful-timeout",
      type=_seconds, default=30.0)  # fmt: skip
    g("--max-header-bytes", type=int, default=1 << 20)
    g("--max-body-bytes", type=int, default=None)
    g("--max-connections", type=int, default=16384)
    g("--limit-concurrency", type=int, default=None,
      help="answer 503 when this many requests are in flight (per worker)")  # fmt: skip
    g = p.add_argument_group("logging").add_argument
    g("--log-level", choices=tuple(_LEVELS), default="info")
    g("--log-config", default=None, help="logging config file (.json dictConfig, or .ini)")
    g("--access-log", action=argparse.BooleanOptionalAction, default=True)
    g("--access-log-format", choices=FORMATS, default="common")
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nethttp")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


def _seconds(value: str) -> float | None:
    """A timeout: seconds, or "none"/"0"... "none" and "off" disable it."""
    if value.lower() in ("none", "off"):
        return None
    return float(value)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line (``serve`` in front is optional)."""
    args = list(argv)
    if args and args[0] == "serve":
        args = args[1:]
    return _parser().parse_args(args)


# -- the application -------------------------------------------------------------------------


def load_app(spec: str, *, factory: bool = False, app_dir: str = ".") -> Any:
    """Import ``MODULE:ATTR`` (``ATTR`` may be dotted); raise UsageError with one line."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f'app "{spec}" must be in the form "MODULE:ATTR", e.g. main:app')
    path = os.path.abspath(app_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or module_name.startswith(f"{exc.name}."):
            raise UsageError(f'could not import module "{module_name}"') from None
        raise
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f'attribute "{attr}" not found in module "{module_name}"') from None
    if factory:
        if not callable(obj):
            raise UsageError(f'--factory: "{spec}" is not callable')
        obj = obj()
    return obj


def detect_interface(app: object) -> str:
    """``"native"``, ``"asgi"`` or ``"wsgi"``, from the shape of ``app``."""
    if hasattr(app, "serve_http"):
        return "native"
    if not callable(app):
        raise UsageError(f"{app!r} is not an application (not callable, no serve_http)")
    call = getattr(app, "__call__", None)  # noqa: B004 - callable() cannot tell async
    is_async = inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)
    try:
        params = inspect.signature(app).parameters.values()
    except (TypeError, ValueError):
        return "asgi" if is_async else "wsgi"
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return "asgi" if is_async else "wsgi"  # a wrapper taking *args: go by async-ness
    n = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if is_async and n == 3:
        return "asgi"
    if is_async and n == 2:
        return "native"
    if not is_async and n == 2:
        return "wsgi"
    raise UsageError(f"cannot tell what {app!r} is; pass --interface native|asgi|wsgi")


class _RequestCounter:
    """Calls ``on_limit`` once when the ``limit``-th request starts (``--max-requests``)."""

    __slots__ = ("count", "handler", "limit", "on_limit")

    def __init__(self, handler: Handler, limit: int, on_limit: Callable[[], None]) -> None:
        self.handler = handler
        self.limit = limit
        self.on_limit = on_limit
        self.count = 0

    async def serve_http(self, w: ResponseWriter, r: Request) -> None:
        self.count += 1
        if self.count == self.limit:
            self.on_limit()
        await self.handler.serve_http(w, r)


def build_handler(app: Any, args: argparse.Namespace, srv: Server) -> Handler:
    """Adapt ``app`` to a Handler and wrap it as the options say."""
    interface = args.interface if args.interface != "auto" else detect_interface(app)
    h: object
    if interface in ("asgi", "asgi3"):
        from .asgi import ASGIHandler

        asgi = ASGIHandler(app, root_path=args.root_path, lifespan=args.lifespan)
        asgi.attach(srv)
        h = asgi
    elif interface == "wsgi":
        from .wsgi import WSGIHandler

        kw = {} if args.threads is None else {"threads": args.threads}
        h = WSGIHandler(app, root_path=args.root_path, **kw).attach(srv)
    else:
        h = app
    handler = as_handler(h)
    if args.limit_concurrency:
        handler = limit_concurrency(handler, args.limit_concurrency)
    if args.access_log:
        handler = access_log(handler, args.access_log_format)
    if args.proxy_headers:
        handler = proxy_headers(handler, args.forwarded_allow_ips)
    return handler


# -- listeners -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bind:
    """One listener to open: ``kind`` is "tcp" (``addr``), "unix" (``addr``) or "fd"."""

    kind: str
    addr: str = ""
    fd: int = -1


def parse_bind(value: str) -> Bind:
    """Parse gunicorn's bind syntax: ``HOST:PORT``, ``[::1]:PORT``, ``unix:PATH``, ``fd://N``."""
    if value.startswith("unix:"):
        path = value[5:]
        path = path[2:] if path.startswith("//") else path
        if not path:
            raise UsageError(f"bind {value!r}: missing socket path")
        return Bind("unix", path)
    if value.startswith("fd://"):
        if not value[5:].isdigit():
            raise UsageError(f"bind {value!r}: not a file descriptor number")
        return Bind("fd", fd=int(value[5:]))
    addr = value
    if ":" not in addr or (addr.startswith("[") and addr.endswith("]")):
        addr += ":8000"  # gunicorn's default port for a bare host
    try:
        parse_addr(addr)
    except ValueError as exc:
        raise UsageError(f"bind {value!r}: {exc}") from None
    return Bind("tcp", addr)


def _host_port(host: str | None, port: int | None) -> str:
    host = "127.0.0.1" if host is None else host
    port = 8000 if port is None else port
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def systemd_fds() -> list[int]:
    """The sockets systemd passed (``LISTEN_FDS`` for this pid); the variables are unset."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    count = os.environ.get("LISTEN_FDS", "")
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)  # not for our children, whose pid differs anyway
    return list(range(3, 3 + int(count))) if count.isdigit() else []


def binds_from(args: argparse.Namespace) -> list[Bind]:
    """Every listener the options ask for (host:port when nothing else is given)."""
    binds = [parse_bind(b) for b in args.bind]
    binds += [Bind("unix", path) for path in args.uds]
    binds += [Bind("fd", fd=fd) for fd in args.fd + systemd_fds()]
    if not binds or args.host is not None or args.port is not None:
        binds.insert(0, Bind("tcp", _host_port(args.host, args.port)))
    return binds


def _reuse_port_socket(addr: str, listening: bool) -> socket.socket:
    host, port = parse_addr(addr)
    family = socket.AF_INET6 if ":" in host or not host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if host else 0)
        sock.bind((host or "::", port))
        if listening:
            sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


def open_listener(b: Bind, args: argparse.Namespace, supervised: bool) -> Listener:
    """Open one bind; with --reuse-port under workers, TCP is only reserved (not listening)."""
    if b.kind == "unix":
        return listen_unix(b.addr, args.uds_mode)
    if b.kind == "fd":
        sock = socket.socket(fileno=b.fd)
        if sock.type != socket.SOCK_STREAM:
            sock.detach()
            raise UsageError(f"fd://{b.fd} is not a stream socket")
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            sock.listen(socket.SOMAXCONN)
        return Listener(sock)
    if args.reuse_port:
        return Listener(_reuse_port_socket(b.addr, listening=not supervised))
    return listen(b.addr)


def _worker_socket(sock: socket.socket) -> socket.socket:
    """A worker's own SO_REUSEPORT socket for a reserved (bound, not listening) one."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        return sock
    own = socket.socket(sock.family, socket.SOCK_STREAM)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if sock.family == socket.AF_INET6:
        v6only = sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        own.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    own.bind(sock.getsockname())
    own.listen(socket.SOMAXCONN)
    sock.close()
    return own


def _describe(lst: Listener, tls: bool) -> str:
    name = lst.socket.getsockname()
    if lst.socket.family == socket.AF_UNIX:
        return f"unix:{lst.addr}"
    return f"{'https' if tls else 'http'}://{lst.addr}" if isinstance(name, tuple) else lst.addr


def _tls_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.ssl_certfile:
        if args.ssl_keyfile:
            raise UsageError("--ssl-keyfile needs --ssl-certfile")
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(args.ssl_certfile, args.ssl_keyfile, args.ssl_keyfile_password)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load the TLS certificate: {exc}") from None
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


# -- serving ---------------------------------------------------------------------------------


def _server(args: argparse.Namespace, tls: ssl.SSLContext | None) -> Server:
    return Server(
        tls=tls,
        read_timeout=args.read_timeout,
        read_header_timeout=args.read_header_timeout,
        write_timeout=args.write_timeout,
        idle_timeout=args.idle_timeout,
        max_header_bytes=args.max_header_bytes,
        max_connections=args.max_connections,
        max_body_bytes=args.max_body_bytes,
        progress_timeout=args.progress_timeout,
        error_log=log,
    )


def _proxy_protocol(args: argparse.Namespace) -> list[str] | None:
    if not args.proxy_protocol:
        return None
    # Unix-socket peers are always trusted by the listener; the rest are IPs and CIDRs.
    return [p for p in args.forwarded_allow_ips.split(",") if p.strip().lower() != "unix"]


def serve(
    args: argparse.Namespace,
    sockets: Sequence[socket.socket],
    tls: ssl.SSLContext | None,
    channel: WorkerChannel | None = None,
) -> int:
    """Import the app and serve it on ``sockets`` until stopped; return the exit code."""
    try:
        app = load_app(args.app, factory=args.factory, app_dir=args.app_dir)
    except UsageError as exc:
        log.error("nethttp: error: %s", exc)
        return EXIT_ERROR
    except Exception as exc:  # raised by the module's own code: its traceback helps
        log.error("nethttp: error: cannot import %s: %s", args.app, exc, exc_info=True)
        return EXIT_ERROR
    srv = _server(args, tls)
    try:
        handler = build_handler(app, args, srv)
    except (UsageError, ValueError, TypeError) as exc:  # e.g. a bad --root-path
        log.error("nethttp: error: %s", exc)
        return EXIT_ERROR
    if args.max_requests and channel is not None:
        limit = args.max_requests + random.randint(0, max(0, args.max_requests_jitter))
        handler = _RequestCounter(handler, limit, channel.recycle)
    srv.handler = handler
    pp = _proxy_protocol(args)
    listeners = []
    for sock in sockets:
        sock = _worker_socket(sock) if channel is not None and args.reuse_port else sock
        listeners.append(Listener(sock, proxy_protocol=pp))
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(_serve(srv, listeners, args.shutdown_timeout, channel))


async def _serve(
    srv: Server, listeners: list[Listener], timeout: float | None, channel: WorkerChannel | None
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    started = False

    def on_signal(sig: int) -> None:
        if sig == signal.SIGQUIT or stop.is_set():
            srv.close()  # a second signal: stop now
        stop.set()

    def on_start() -> None:
        nonlocal started
        started = True
        if channel is not None:
            channel.ready()
        else:
            log.info("nethttp: ready")

    # Registered after the adapter's own hooks: "ready" means the app's startup is done.
    srv.register_on_start(on_start)
    sigs = [signal.SIGTERM, signal.SIGQUIT] + ([] if channel else [signal.SIGINT])
    for sig in sigs:
        loop.add_signal_handler(sig, on_signal, sig)
    if channel is not None:
        parent_fd = channel.parent_fd

        def parent_gone() -> None:
            loop.remove_reader(parent_fd)  # end of file stays readable: watch it once
            stop.set()

        loop.add_reader(parent_fd, parent_gone)  # readable only when the supervisor is gone
    tasks = [asyncio.ensure_future(srv.serve(lst)) for lst in listeners]
    waiter = asyncio.ensure_future(stop.wait())
    code = 0
    try:
        await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        errors = [t.exception() for t in tasks if t.done()]
        failure = next((e for e in errors if not isinstance(e, ServerClosed)), None)
        if failure is not None and not started:
            log.error("nethttp: application startup failed: %s", failure)
            srv.close()
            return EXIT_STARTUP
        if failure is not None:
            log.error("nethttp: serving failed: %s", failure, exc_info=failure)
            code = EXIT_ERROR
        log.info("nethttp: shutting down")
        try:
            await srv.shutdown(timeout)
        except TimeoutError:
            log.warning("nethttp: shutdown timed out after %gs; connections closed", timeout)
        return code
    finally:
        waiter.cancel()
        for sig in sigs:
            loop.remove_signal_handler(sig)
        if channel is not None:
            loop.remove_reader(channel.parent_fd)
        await asyncio.gather(*tasks, return_exceptions=True)


# -- main ------------------------------------------------------------------------------------


def configure_logging(args: argparse.Namespace) -> None:
    """Errors and events to stderr, the access log to stdout, both at --log-level."""
    if args.log_config:
        if args.log_config.endswith(".json"):
            import json

            with open(args.log_config) as f:
                logging.config.dictConfig(json.load(f))
        else:
            logging.config.fileConfig(args.log_config, disable_existing_loggers=False)
        return
    level = _LEVELS[args.log_level]
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"))
    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(logging.Formatter("%(message)s"))
    for name, handler in (("nethttp", err), ("nethttp.access", out)):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nethttp`` command; return its exit code."""
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    configure_logging(args)
    supervised = bool(args.workers or args.max_requests or args.reload)
    listeners: list[Listener] = []
    try:
        if args.reload and args.workers and args.workers > 1:
            raise UsageError("--reload runs one worker; drop --workers")
        if args.workers is not None and args.workers < 1:
            raise UsageError("--workers must be at least 1")
        tls = _tls_context(args)
        try:
            TrustedProxies(args.forwarded_allow_ips)
        except ValueError as exc:
            raise UsageError(f"--forwarded-allow-ips: {exc}") from None
        for b in binds_from(args):
            try:
                listeners.append(open_listener(b, args, supervised))
            except OSError as exc:
                where = f"fd://{b.fd}" if b.kind == "fd" else b.addr
                raise UsageError(f"cannot listen on {where}: {exc}") from None
        for lst in listeners:
            log.info("nethttp: listening on %s", _describe(lst, tls is not None))
        if not supervised:
            return serve(args, [lst.socket for lst in listeners], tls)
        sockets = [lst.socket for lst in listeners]
        supervisor = Supervisor(
            sockets,
            lambda channel: serve(args, channel.sockets, tls, channel),
            workers=args.workers or 1,
            shutdown_timeout=args.shutdown_timeout,
            reload_dirs=(args.reload_dir or [os.getcwd()]) if args.reload else (),
            log=log,
        )
        return supervisor.run()
    except UsageError as exc:
        log.error("nethttp: error: %s", exc)
        return EXIT_ERROR
    except KeyboardInterrupt:  # Ctrl-C before serving began (importing a slow app)
        return 128 + signal.SIGINT
    finally:
        for lst in listeners:
            with contextlib.suppress(OSError):
                lst.close()


if __name__ == "__main__":  # pragma: no cover - python -m nethttp.cli
    sys.exit(main())
