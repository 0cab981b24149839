"""qtau.threads: threads that run user and plugin code outlive every service (issue 11, item 5).

qiskit 2.6 crashes when the thread that first imported it has exited, so these check the mechanism
itself, with any SDK: the LOCAL engine's threads survive a service's shutdown, and timed calls run
on reusable threads that never exit."""

import concurrent.futures as cf
import threading
import time

import pytest
import qtau.threads as threads_mod
from qtau.engines.local import LocalEngine
from qtau.threads import CallTimedOut, call_with_timeout


def _thread() -> threading.Thread:
    return threading.current_thread()


def test_local_engine_threads_outlive_shutdown_and_are_reused_by_the_next_engine():
    first = LocalEngine(max_workers=3)
    first.start()
    seen = {first.submit(lambda _: _thread(), None).result(10) for _ in range(6)}
    first.shutdown()
    assert all(t.is_alive() for t in seen)
    second = LocalEngine(max_workers=3)
    second.start()
    again = {second.submit(lambda _: _thread(), None).result(10) for _ in range(6)}
    assert all(t.is_alive() for t in again)
    assert seen & again, "a later engine of the same size runs on the same long-lived threads"
    second.shutdown()


def test_shutdown_cancels_only_that_engines_queued_futures():
    gate = threading.Event()
    mine, other = LocalEngine(max_workers=1), LocalEngine(max_workers=1)
    blocker = mine.submit(lambda _: gate.wait(10), None)
    # The pool is process-wide: when an earlier test started its thread, that idle thread takes
    # the blocker a moment later; only a running blocker keeps the next future queued.
    deadline = time.monotonic() + 10
    while not blocker.running() and time.monotonic() < deadline:
        time.sleep(0.001)
    queued_mine = mine.submit(lambda _: "mine", None)
    queued_other = other.submit(lambda _: "other", None)
    mine.shutdown()
    gate.set()
    assert blocker.result(10) is True
    assert queued_mine.cancelled()
    assert queued_other.result(10) == "other"


def test_timed_calls_return_values_raise_errors_and_reuse_threads():
    call_with_timeout(_thread, 10)
    before = threads_mod.long_lived.started
    threads = {call_with_timeout(_thread, 10) for _ in range(5)}
    assert threads_mod.long_lived.started == before, "sequential calls take idle threads, start none"
    assert all(t.is_alive() for t in threads)
    with pytest.raises(ZeroDivisionError):
        call_with_timeout(lambda: 1 / 0, 10)
    with pytest.raises(TimeoutError) as info:  # the function's own TimeoutError is not ours
        call_with_timeout(lambda: (_ for _ in ()).throw(TimeoutError("own")), 10)
    assert not isinstance(info.value, CallTimedOut)


def test_a_hung_call_times_out_and_later_calls_still_run():
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(CallTimedOut):
        call_with_timeout(lambda: release.wait(30), 0.3)
    assert time.monotonic() - started < 5
    assert call_with_timeout(lambda: "next", 10) == "next"
    release.set()
    assert isinstance(CallTimedOut(), cf.TimeoutError)
