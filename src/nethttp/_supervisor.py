"""The workers' supervisor: a pre-fork process manager for ``nethttp serve --workers N``.

The supervisor binds nothing itself: it is given the listening sockets, already bound,
and keeps them open for its whole life. Each worker is a ``fork()`` of it and inherits
them, so TCP, Unix and inherited (``fd://``, systemd) sockets all work the same way, and
every worker accepts from the same kernel queue. Because the supervisor always holds the
sockets, a worker that exits (crash, recycling, reload) never takes a queue with it: a
connection waiting to be accepted stays queued until another worker accepts it.

Why fork, not spawn: the supervisor is single-threaded and runs no event loop (a
blocking ``select`` on a pipe), so forking it is safe, and each worker starts at once
with the sockets already in hand. The application is imported in the worker, after the
fork, never in the supervisor, so a reload (SIGHUP, ``--reload``) runs the code as it is
on disk now, as a fresh interpreter would.

Each worker writes single bytes on its own status pipe: ``R`` once it is accepting,
``M`` when it served its ``max_requests`` and wants to be replaced. All workers hold the
read end of one more pipe whose write end only the supervisor holds: when the
supervisor dies, however it dies, that pipe reads end-of-file and the workers drain and
exit instead of lingering.

Signals (read from a self-pipe, ``signal.set_wakeup_fd``, so nothing polls):

- SIGTERM, SIGINT: every worker gets SIGTERM and drains; a second one sends SIGQUIT
  (close now). Workers ignore SIGINT themselves, so Ctrl-C in a terminal, which reaches
  the whole process group, still means one graceful stop.
- SIGHUP: rolling reload. A new worker is started for each one running; each old one is
  sent SIGTERM only when its replacement reports ready, so there is never a moment with
  nobody accepting. A replacement that fails to boot leaves the old worker serving.
- SIGTTIN / SIGTTOU: one worker more / fewer.
- SIGCHLD: reap. A worker that dies unexpectedly is replaced at once; one that dies
  before becoming ready is retried after a back-off (0.5 s doubling to 10 s). During the
  very first boot, such a failure stops everything, with the worker's exit code (1: the
  application cannot be imported; 3: its startup failed).

A worker asked to drain that is still alive ``shutdown_timeout`` + 5 s later is killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Final, NoReturn

__all__ = ["Supervisor", "WorkerChannel"]

_KILL_GRACE: Final = 5.0  # seconds past shutdown_timeout before a draining worker is killed
_BACKOFF_FIRST: Final = 0.5
_BACKOFF_MAX: Final = 10.0
_RELOAD_SKIP: Final = frozenset({"__pycache__", "node_modules", "site-packages", "venv"})
_SIGNALS: Final = (
    signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGCHLD,
    signal.SIGTTIN, signal.SIGTTOU,
)  # fmt: skip

READY: Final = b"R"
RECYCLE: Final = b"M"


class WorkerChannel:
    """What a worker process receives from its supervisor."""

    __slots__ = ("_status", "index", "parent_fd", "sockets")

    def __init__(
        self, status_fd: int, parent_fd: int, sockets: list[socket.socket], index: int
    ) -> None:
        self._status = status_fd
        self.parent_fd = parent_fd  # readable (end of file) once the supervisor is gone
        self.sockets = sockets
        self.index = index

    def ready(self) -> None:
        """Tell the supervisor this worker accepts connections now."""
        self._send(READY)

    def recycle(self) -> None:
        """Ask the supervisor for a replacement (this worker is sent SIGTERM when it is up)."""
        self._send(RECYCLE)

    def _send(self, msg: bytes) -> None:
        with contextlib.suppress(OSError):  # the supervisor is gone: parent_fd tells the rest
            os.write(self._status, msg)


class _Worker:
    __slots__ = (
        "index", "kill_at", "pid", "ready", "replaced_by", "replaces", "retiring", "status_fd",
    )  # fmt: skip

    def __init__(self, pid: int, status_fd: int, index: int) -> None:
        self.pid = pid
        self.status_fd = status_fd  # -1 once closed
        self.index = index
        self.ready = False
        self.retiring = False
        self.kill_at = float("inf")
        self.replaces: _Worker | None = None
        self.replaced_by: _Worker | None = None


def exit_code(status: int) -> int:
    """A worker's ``waitpid`` status as a process exit code (128 + n for signal n)."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def source_mtimes(dirs: Sequence[str]) -> dict[str, int]:
    """The modification times of the ``.py`` files under ``dirs`` (hidden dirs skipped)."""
    seen: dict[str, int] = {}
    for top in dirs:
        for root, subdirs, files in os.walk(top):
            subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in _RELOAD_SKIP]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    with contextlib.suppress(OSError):
                        seen[path] = os.stat(path).st_mtime_ns
    return seen


class Supervisor:
    """Run ``target(channel)`` in ``workers`` forked processes until SIGTERM/SIGINT.

    ``target`` returns the worker's exit code. ``reload_dirs``: poll the ``.py`` files
    under them every ``reload_interval`` seconds and reload on a change (development).
    Call ``run()`` from the main thread of a process with no other threads.
    """

    def __init__(
        self,
        sockets: Sequence[socket.socket],
        target: Callable[[WorkerChannel], int],
        *,
        workers: int = 1,
        shutdown_timeout: float | None = 30.0,
        reload_dirs: Sequence[str] = (),
        reload_interval: float = 0.5,
        log: logging.Logger | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("need at least one worker")
        self.sockets = list(sockets)
        self.target = target
        self.workers = workers
        self.shutdown_timeout = shutdown_timeout
        self.reload_dirs = list(reload_dirs)
        self.reload_interval = reload_interval
        self.log = log or logging.getLogger("nethttp")
        self._procs: dict[int, _Worker] = {}
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._alive_r, self._alive_w = os.pipe()
        self._stopping = False
        self._booting = True  # until the first generation is ready
        self._code = 0
        self._respawn_at = 0.0
        self._backoff = _BACKOFF_FIRST
        self._next_index = 0
        self._mtimes: dict[str, int] = {}
        self._next_scan = float("inf")

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        """Supervise until stopped; return the exit code for the whole server."""
        saved = self._install_signals()
        try:
            if self.reload_dirs:
                self._mtimes = source_mtimes(self.reload_dirs)
                self._next_scan = time.monotonic() + self.reload_interval
            self._fill()
            while self._procs or not self._stopping:
                self._wait()
                self._reap()
                if not self._stopping:
                    self._fill()
                    self._scan_sources()
                self._kill_overdue()
            return self._code
        finally:
            self._restore_signals(saved)
            self._sel.close()
            for fd in (self._wake_r, self._wake_w, self._alive_r, self._alive_w):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _install_signals(self) -> dict[int, object]:
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        saved: dict[int, object] = {}
        for sig in _SIGNALS:
            # The handler does nothing: the wakeup fd carries the signal number to _wait.
            saved[sig] = signal.signal(sig, lambda *_: None)
        signal.set_wakeup_fd(self._wake_w)
        return saved

    def _restore_signals(self, saved: dict[int, object]) -> None:
        signal.set_wakeup_fd(-1)
        for sig, handler in saved.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _wait(self) -> None:
        now = time.monotonic()
        deadline = min(
            [self._next_scan]
            + [w.kill_at for w in self._procs.values()]
            + ([self._respawn_at] if self._respawn_at > now else [])
        )
        timeout = None if deadline == float("inf") else max(0.0, deadline - now)
        for key, _ in self._sel.select(timeout):
            if key.data is None:
                with contextlib.suppress(BlockingIOError):
                    for signum in os.read(self._wake_r, 256):
                        self._on_signal(signum)
            else:
                self._on_status(key.data)

    def _on_signal(self, signum: int) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            if self._stopping or signum == signal.SIGQUIT:
                self.log.info("nethttp: closing the workers now")
                self._signal_all(signal.SIGQUIT)
            self._stop()
        elif signum == signal.SIGHUP and not self._stopping:
            self.log.info("nethttp: SIGHUP: replacing the workers")
            self.reload()
        elif signum == signal.SIGTTIN and not self._stopping:
            self.workers += 1
        elif signum == signal.SIGTTOU and not self._stopping and self.workers > 1:
            self.workers -= 1
            active = self._active()
            if len(active) > self.workers:
                self._retire(active[-1])

    def _on_status(self, w: _Worker) -> None:
        try:
            data = os.read(w.status_fd, 64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_status(w)  # the worker is exiting; _reap tells how
            return
        if READY in data and not w.ready:
            w.ready = True
            self._backoff = _BACKOFF_FIRST
            self.log.info("nethttp: worker %d ready", w.pid)
            old = w.replaces
            if old is not None and old.pid in self._procs:
                self._retire(old)
            w.replaces = None
            if self._booting and sum(p.ready for p in self._procs.values()) >= self.workers:
                self._booting = False
        if RECYCLE in data and not (w.retiring or w.replaced_by or self._stopping):
            self.log.info("nethttp: worker %d reached its request limit", w.pid)
            self._replace(w)

    # -- workers ----------------------------------------------------------------------------

    def _active(self) -> list[_Worker]:
        """Workers meant to keep serving (not draining, not about to be replaced)."""
        return [w for w in self._procs.values() if not w.retiring and w.replaced_by is None]

    def _fill(self) -> None:
        missing = self.workers - len(self._active())
        if missing <= 0 or time.monotonic() < self._respawn_at:
            return
        for _ in range(missing):
            self._spawn()

    def reload(self) -> None:
        """Replace every worker, each old one draining once its replacement is ready."""
        for w in self._active():
            self._replace(w)

    def _replace(self, old: _Worker) -> None:
        new = self._spawn()
        if new is not None:
            new.replaces = old
            old.replaced_by = new

    def _retire(self, w: _Worker) -> None:
        if w.retiring:
            return
        w.retiring = True
        if self.shutdown_timeout is not None:
            w.kill_at = time.monotonic() + self.shutdown_timeout + _KILL_GRACE
        with contextlib.suppress(ProcessLookupError):
            os.kill(w.pid, signal.SIGTERM)

    def _stop(self) -> None:
        self._stopping = True
        self._next_scan = float("inf")
        for w in list(self._procs.values()):
            self._retire(w)

    def _signal_all(self, sig: int) -> None:
        for w in self._procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(w.pid, sig)

    def _kill_overdue(self) -> None:
        now = time.monotonic()
        for w in self._procs.values():
            if w.kill_at <= now:
                self.log.error("nethttp: worker %d did not drain in time; killing it", w.pid)
                w.kill_at = float("inf")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(w.pid, signal.SIGKILL)

    def _reap(self) -> None:
        while self._procs:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            w = self._procs.pop(pid, None)
            if w is not None:
                self._close_status(w)
                self._exited(w, status)

    def _exited(self, w: _Worker, status: int) -> None:
        if w.replaced_by is not None:
            w.replaced_by.replaces = None
        if w.replaces is not None:
            w.replaces.replaced_by = None  # the old worker stays: its replacement is gone
        if self._stopping or w.retiring:
            self.log.info("nethttp: worker %d exited (%s)", w.pid, _describe(status))
            return
        if not w.ready:
            code = exit_code(status)
            if self._booting:
                self.log.error("nethttp: worker %d failed to boot (%s)", w.pid, _describe(status))
                self._code = code if code in (1, 3) else 1
                self._stop()
                return
            self._respawn_at = time.monotonic() + self._backoff
            self.log.error(
                "nethttp: new worker %d failed to boot (%s); %s", w.pid, _describe(status),
                "the running workers keep serving" if w.replaces else
                f"retrying in {self._backoff:g}s",
            )  # fmt: skip
            self._backoff = min(self._backoff * 2, _BACKOFF_MAX)
            return
        self.log.warning("nethttp: worker %d died (%s); starting another", w.pid, _describe(status))

    def _close_status(self, w: _Worker) -> None:
        if w.status_fd >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(w.status_fd)
            os.close(w.status_fd)
            w.status_fd = -1

    def _spawn(self) -> _Worker | None:
        index = self._next_index
        self._next_index += 1
        r, w = os.pipe()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(r)
            os.close(w)
            self.log.error("nethttp: cannot start a worker: %s", exc)
            self._respawn_at = time.monotonic() + self._backoff
            return None
        if pid == 0:
            os.close(r)
            self._child(w, index)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(w)
        os.set_blocking(r, False)
        worker = _Worker(pid, r, index)
        self._procs[pid] = worker
        self._sel.register(r, selectors.EVENT_READ, worker)
        self.log.info("nethttp: booting worker %d", pid)
        return worker

    def _child(self, status_fd: int, index: int) -> NoReturn:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in _SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            # Ctrl-C reaches the whole process group; the supervisor relays it as SIGTERM.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
            self._sel.close()
            for fd in (self._wake_r, self._wake_w, self._alive_w):
                os.close(fd)
            for other in self._procs.values():
                if other.status_fd >= 0:
                    os.close(other.status_fd)
            code = self.target(WorkerChannel(status_fd, self._alive_r, self.sockets, index))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            logging.shutdown()
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            # _exit: the supervisor's own stack (finally blocks, atexit) is not the worker's.
            os._exit(code)

    def _scan_sources(self) -> None:
        if time.monotonic() < self._next_scan:
            return
        mtimes = source_mtimes(self.reload_dirs)
        if mtimes != self._mtimes:
            changed = sorted(p for p in mtimes.keys() | self._mtimes.keys()
                             if mtimes.get(p) != self._mtimes.get(p))  # fmt: skip
            self.log.info("nethttp: %s changed; reloading", os.path.relpath(changed[0]))
            self._mtimes = mtimes
            self.reload()
        self._next_scan = time.monotonic() + self.reload_interval
