"""Tests for nethttp._context: Go's context.Context semantics on asyncio and threads."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from typing import Any

import pytest

from nethttp import _context
from nethttp._context import Context, Done, background, running_loop
from nethttp._errors import Canceled, DeadlineExceeded

TICK = 0.05  # a timeout short enough to keep the suite fast
LONG = 5.0  # an upper bound that only a broken implementation reaches


def _children(ctx: Context) -> set[Any] | None:
    canc = ctx._canc
    assert canc is not None
    return canc._children


# --- values -------------------------------------------------------------------


def test_values_and_shadowing() -> None:
    k1, k2 = object(), object()
    a = background().with_value(k1, "a1")
    b = a.with_value(k2, "b2")
    c = b.with_value(k1, "c1")
    assert a.value(k1) == "a1"
    assert a.value(k2) is None
    assert b.value(k1) == "a1"
    assert b.value(k2) == "b2"
    assert c.value(k1) == "c1"  # nearest wins
    assert c.value(k2) == "b2"
    assert b.value(k1) == "a1"  # the parent is unchanged: contexts are immutable
    assert background().value(k1) is None


def test_value_keys_compare_by_equality() -> None:
    key = "".join(["request", "-id"])
    ctx = background().with_value(key, 7)
    assert ctx.value("request-id") == 7
    assert ctx.value("request") is None


def test_values_cross_cancellable_links() -> None:
    ctx = background().with_value("a", 1)
    ctx, cancel = ctx.with_cancel()
    ctx = ctx.with_value("b", 2)
    ctx, cancel2 = ctx.with_timeout(LONG)
    assert ctx.value("a") == 1
    assert ctx.value("b") == 2
    cancel()
    assert ctx.value("a") == 1  # values survive cancellation
    cancel2()


# --- cancellation -------------------------------------------------------------


def test_background_never_cancelled() -> None:
    bg = background()
    assert bg is background()
    assert bg.err() is None
    assert bg.deadline() is None
    assert not bg.done().is_set()
    assert bg.done() is background().with_value("k", "v").done()
    assert bg.done().wait(0.01) is False
    assert repr(bg) == "Context(background)"


def test_cancel_propagates_three_levels_and_through_values() -> None:
    root, cancel_root = background().with_cancel()
    mid, cancel_mid = root.with_value("k", 1).with_cancel()
    leaf, cancel_leaf = mid.with_value("k", 2).with_value("j", 3).with_cancel()
    leaf_val = leaf.with_value("x", 4)
    assert all(c.err() is None for c in (root, mid, leaf, leaf_val))

    cancel_root()
    err = root.err()
    assert isinstance(err, Canceled)
    # Descendants carry the parent's error instance, as in Go.
    for c in (mid, leaf, leaf_val):
        assert c.err() is err
        assert c.done().is_set()
    cancel_mid()
    cancel_leaf()
    assert leaf.err() is err


def test_cancelling_child_leaves_parent_alone() -> None:
    parent, cancel_parent = background().with_cancel()
    child, cancel_child = parent.with_cancel()
    sibling, cancel_sibling = parent.with_cancel()
    cancel_child()
    assert isinstance(child.err(), Canceled)
    assert parent.err() is None
    assert sibling.err() is None
    cancel_parent()
    assert sibling.err() is parent.err()
    cancel_sibling()


def test_child_of_cancelled_parent_is_cancelled_at_birth() -> None:
    parent, cancel = background().with_cancel()
    cancel()
    child, cancel_child = parent.with_value("k", "v").with_cancel()
    assert child.err() is parent.err()
    assert child.done().is_set()
    timed, cancel_timed = parent.with_timeout(LONG)
    assert timed.err() is parent.err()
    assert timed._canc is not None and timed._canc._timer is None  # no timer was armed
    assert _children(parent) is None
    cancel_child()
    cancel_timed()


def test_cancel_is_idempotent_and_err_identity() -> None:
    ctx, cancel = background().with_cancel()
    assert ctx.err() is None
    cancel()
    first = ctx.err()
    assert isinstance(first, Canceled)
    assert str(first) == "context canceled"
    cancel()
    cancel()
    assert ctx.err() is first
    assert ctx.err() is first
    assert ctx.with_value("a", 1).err() is first


def test_values_only_children_register_nothing() -> None:
    parent, cancel = background().with_cancel()
    for i in range(100):
        ctx = parent.with_value(i, i)
        assert ctx.done() is parent.done()  # shared cancellation state
    assert _children(parent) is None
    cancel()


def test_cancelled_children_unregister() -> None:
    parent, cancel_parent = background().with_cancel()
    conn = parent.with_value("conn", 1)
    for _ in range(10_000):
        child, cancel = conn.with_cancel()
        child.with_value("req", 2).done()  # a Done is allocated and must not pin anything
        cancel()
    assert not _children(parent)
    for _ in range(100):
        child, cancel = conn.with_timeout(LONG)
        cancel()
        assert child._canc is not None and child._canc._timer is None
    assert not _children(parent)
    live, cancel_live = conn.with_cancel()
    assert _children(parent) == {live}
    cancel_parent()
    assert live.err() is parent.err()
    cancel_live()


def test_deep_chain_cancels_without_recursion_limit() -> None:
    root, cancel_root = background().with_cancel()
    ctx = root
    cancels = []
    for _ in range(5_000):
        ctx, cancel = ctx.with_cancel()
        cancels.append(cancel)
    cancel_root()
    assert ctx.err() is root.err()
    for cancel in cancels:
        cancel()


# --- deadlines ----------------------------------------------------------------


def test_timeout_fires_without_loop() -> None:
    ctx, cancel = background().with_timeout(TICK)
    dl = ctx.deadline()
    assert dl is not None and dl - time.monotonic() <= TICK
    assert ctx.err() is None
    assert ctx.done().wait(LONG)
    err = ctx.err()
    assert isinstance(err, DeadlineExceeded)
    assert isinstance(err, TimeoutError)
    cancel()  # after expiry: a no-op
    assert ctx.err() is err


def test_timeout_fires_on_loop() -> None:
    async def main() -> None:
        ctx, cancel = background().with_timeout(TICK)
        canc = ctx._canc
        assert canc is not None and isinstance(canc._timer, tuple)  # loop.call_at, no thread
        start = time.monotonic()
        await asyncio.wait_for(ctx.done(), LONG)
        assert time.monotonic() - start >= TICK * 0.9
        assert isinstance(ctx.err(), DeadlineExceeded)
        cancel()

    asyncio.run(main())


def test_past_deadline_is_expired_at_birth() -> None:
    ctx, cancel = background().with_deadline(time.monotonic() - 1)
    assert isinstance(ctx.err(), DeadlineExceeded)
    cancel()
    assert isinstance(ctx.err(), DeadlineExceeded)


def test_cancel_before_deadline_stops_timer() -> None:
    ctx, cancel = background().with_timeout(TICK)
    canc = ctx._canc
    assert canc is not None
    timer = canc._timer
    assert isinstance(timer, threading.Timer)
    cancel()
    err = ctx.err()
    assert isinstance(err, Canceled)
    timer.join(LONG)
    assert not timer.is_alive()
    time.sleep(TICK * 2)
    assert ctx.err() is err

    async def main() -> None:
        ctx, cancel = background().with_timeout(TICK)
        cancel()
        await asyncio.sleep(TICK * 2)
        assert isinstance(ctx.err(), Canceled)

    asyncio.run(main())


def test_parent_deadline_earlier_than_childs() -> None:
    parent, cancel_parent = background().with_timeout(TICK)
    child, cancel_child = parent.with_value("k", 1).with_timeout(LONG * 10)
    assert child.deadline() == parent.deadline()  # the earlier one wins
    assert child.done().wait(LONG)
    assert isinstance(child.err(), DeadlineExceeded)
    assert child.err() is parent.err()
    cancel_child()
    cancel_parent()


def test_child_deadline_earlier_than_parents() -> None:
    parent, cancel_parent = background().with_timeout(LONG)
    child, cancel_child = parent.with_timeout(TICK)
    pd, cd = parent.deadline(), child.deadline()
    assert pd is not None and cd is not None and cd < pd
    assert child.done().wait(LONG)
    assert isinstance(child.err(), DeadlineExceeded)
    assert parent.err() is None
    assert not _children(parent)  # the expired child unregistered itself
    cancel_parent()
    cancel_child()


def test_with_cancel_inherits_deadline() -> None:
    parent, cancel_parent = background().with_timeout(LONG)
    child, cancel_child = parent.with_cancel()
    assert child.deadline() == parent.deadline()
    assert background().with_cancel()[0].deadline() is None
    cancel_child()
    cancel_parent()


# --- waiting --------------------------------------------------------------------


def test_await_done_on_loop() -> None:
    async def main() -> None:
        ctx, cancel = background().with_cancel()
        done = ctx.with_value("k", 1).done()
        assert isinstance(done, Done)
        woken: list[int] = []

        async def waiter(i: int) -> None:
            await done
            woken.append(i)

        tasks = [asyncio.create_task(waiter(i)) for i in range(5)]
        await asyncio.sleep(0)
        assert woken == []
        asyncio.get_running_loop().call_later(0.01, cancel)
        await asyncio.wait_for(asyncio.gather(*tasks), LONG)
        assert sorted(woken) == list(range(5))
        await ctx.done()  # already cancelled: returns at once
        assert done._waiters is None

    asyncio.run(main())


def test_awaiting_task_cancelled_unregisters() -> None:
    async def main() -> None:
        ctx, cancel = background().with_cancel()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ctx.done(), 0.01)
        assert not ctx.done()._waiters
        assert ctx.err() is None
        cancel()

    asyncio.run(main())


def test_await_background_blocks() -> None:
    async def main() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(background().done(), 0.01)

    asyncio.run(main())


def test_thread_waits_while_loop_cancels() -> None:
    async def main() -> None:
        ctx, cancel = background().with_cancel()
        results: list[bool] = []
        started = threading.Event()

        def worker() -> None:
            started.set()
            results.append(ctx.done().wait(LONG))

        t = threading.Thread(target=worker)
        t.start()
        started.wait()
        await asyncio.sleep(0.01)
        cancel()
        await asyncio.to_thread(t.join, LONG)
        assert results == [True]

    asyncio.run(main())


def test_loop_awaits_while_thread_cancels() -> None:
    async def main() -> None:
        ctx, cancel = background().with_cancel()
        t = threading.Timer(0.01, cancel)
        t.start()
        await asyncio.wait_for(ctx.done(), LONG)
        assert isinstance(ctx.err(), Canceled)
        t.join()

    asyncio.run(main())


def test_wait_timeout_returns_false() -> None:
    ctx, cancel = background().with_cancel()
    assert ctx.done().wait(0.01) is False
    assert ctx.done().wait(0) is False
    cancel()
    assert ctx.done().wait(0) is True
    assert ctx.done().wait() is True


def test_several_loops_await_same_context() -> None:
    ctx, cancel = background().with_cancel()
    n = 3
    ready = threading.Barrier(n + 1)
    results: list[BaseException | None] = []

    def run_loop() -> None:
        async def main() -> None:
            waiter = asyncio.ensure_future(ctx.done())
            await asyncio.sleep(0)  # let the waiter register before signalling
            ready.wait()
            await asyncio.wait_for(waiter, LONG)
            results.append(ctx.err())

        asyncio.run(main())

    threads = [threading.Thread(target=run_loop) for _ in range(n)]
    for t in threads:
        t.start()
    ready.wait(LONG)
    cancel()
    for t in threads:
        t.join(LONG)
    assert len(results) == n
    assert all(r is ctx.err() for r in results)


def test_loop_awaiter_woken_by_timer_thread() -> None:
    # Created outside a loop, so its timer is a threading.Timer whose thread
    # cancels while a loop on this thread awaits.
    ctx, cancel = background().with_timeout(TICK)

    async def main() -> None:
        await asyncio.wait_for(ctx.done(), LONG)

    asyncio.run(main())
    assert isinstance(ctx.err(), DeadlineExceeded)
    cancel()


def _race_children_against_cancel() -> None:
    parent, cancel_parent = background().with_cancel()
    made: list[Context] = []
    go = threading.Event()

    def spawn() -> None:
        go.wait()
        for _ in range(500):
            made.append(parent.with_cancel()[0])

    threads = [threading.Thread(target=spawn) for _ in range(2)]
    for t in threads:
        t.start()
    go.set()
    cancel_parent()
    for t in threads:
        t.join(LONG)
    # No child slips through: born before, during or after the cancel, every
    # one of them ends up cancelled with the parent's error.
    assert len(made) == 1000
    assert all(c.err() is parent.err() for c in made)
    assert not _children(parent)


def test_cancel_landing_between_registration_steps() -> None:
    # Deterministically replays the race with_cancel guards against: the
    # parent is cancelled (by another thread, say) after the child read the
    # parent's child set but before its add() lands in it.
    parent, cancel_parent = background().with_cancel()
    parent.with_cancel()[1]()  # makes the parent allocate its child set

    class CancelOnAdd(set[Context]):
        def add(self, item: Context) -> None:
            cancel_parent()
            super().add(item)

    canc = parent._canc
    assert canc is not None
    canc._children = CancelOnAdd()  # type: ignore[assignment]
    child, cancel = parent.with_cancel()
    assert child.err() is parent.err()
    cancel()


def test_concurrent_children_and_cancel_from_threads() -> None:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # many thread switches: a smoke test for races
    try:
        for _ in range(20):
            _race_children_against_cancel()
    finally:
        sys.setswitchinterval(old)


def test_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        timed, cancel_timed = background().with_timeout(TICK)
        await asyncio.wait_for(timed.done(), LONG)
        assert isinstance(timed.err(), DeadlineExceeded)
        ctx, cancel = background().with_cancel()
        t = threading.Timer(0.01, cancel)
        t.start()
        await asyncio.wait_for(ctx.done(), LONG)
        assert isinstance(ctx.err(), Canceled)
        t.join()
        # A loop timer cancelled from another thread must go through the loop.
        stopped, cancel_stopped = background().with_timeout(TICK)
        await asyncio.to_thread(cancel_stopped)
        await asyncio.sleep(TICK * 2)
        assert isinstance(stopped.err(), Canceled)
        cancel_timed()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def test_repr() -> None:
    ctx = background().with_value("a", 1).with_value("b", 2)
    assert repr(ctx) == "Context(cancelled=False, values=2)"
    c, cancel = ctx.with_cancel()
    cancel()
    assert repr(c) == "Context(cancelled=True, err=Canceled, values=2)"
    t, cancel_t = background().with_timeout(LONG)
    assert repr(t).startswith("Context(cancelled=False, deadline_in=")
    cancel_t()
    assert repr(c.done()) == "<Done set=True>"


# -- running_loop: get_running_loop() without a getpid() per call -------------------------


def test_running_loop_follows_the_loop_running_in_this_thread() -> None:
    async def which() -> tuple[object, object]:
        return running_loop(), asyncio.get_running_loop()

    first = asyncio.run(which())
    second = asyncio.run(which())  # a new loop in the same thread: not the remembered one
    assert first[0] is first[1]
    assert second[0] is second[1]
    assert second[0] is not first[0]

    seen: list[object] = []

    def in_thread() -> None:
        seen.extend(asyncio.run(which()))

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert seen[0] is seen[1] and seen[0] is not second[0]


def test_running_loop_is_looked_up_again_in_a_forked_child() -> None:
    async def fork_while_running() -> int:
        _context.running_loop()  # remembered in the parent, whose loop is running
        pid = os.fork()
        if pid == 0:  # the child: the copied loop says it runs, yet it is not ours
            os._exit(0 if _context._loops.loop is None else 1)
        return os.waitpid(pid, 0)[1]

    assert asyncio.run(fork_while_running()) == 0
