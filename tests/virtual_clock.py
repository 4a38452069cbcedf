"""An event loop whose clock the test drives: timeouts are exact and cost no real time.

nethttp's connection timers, context deadlines and shutdown waits all run on the event
loop's clock (``loop.time()`` / ``call_at``), so a loop with a virtual clock is the
injectable clock for every timeout. The loop's I/O is real: servers listen on 127.0.0.1
and clients connect to them, all on this one loop. Whenever the loop has nothing ready
and no socket is readable or writable, the clock jumps to the next timer instead of
sleeping; so a ten-second header timeout fires after ten virtual seconds and a few real
milliseconds, at exactly the instant it is due.

Keep every party of a test on the loop (no threads, no subprocesses): a jump happens
when this loop sees no I/O, and a thread's work is invisible to it.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0  # far from zero, so a deadline of 0 is in the past


class _JumpingSelector(selectors.DefaultSelector):
    """A selector that advances the virtual clock instead of waiting."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # No timer at all: only real I/O can wake the loop (a bug in the test if
            # none is coming; pytest-timeout ends that).
            return super().select(None)
        self._clock.now += timeout
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop on a virtual clock that jumps to the next timer when idle."""

    def __init__(self) -> None:
        self._virtual = _Clock()
        super().__init__(selector=_JumpingSelector(self._virtual))

    def time(self) -> float:
        return self._virtual.now


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main()`` to completion on a fresh ``VirtualClockLoop``."""
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        return runner.run(main())  # type: ignore[arg-type]


def now() -> float:
    """The running loop's (virtual) time."""
    return asyncio.get_running_loop().time()


async def closed_at(reader: asyncio.StreamReader) -> tuple[float, bytes]:
    """Read until EOF (or reset); return the loop time it came at and what was read."""
    data = b""
    try:
        while chunk := await reader.read(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return now(), data
