"""QtDispatcher runs callables from any thread on the GUI thread; QtTimers schedule and cancel."""

from __future__ import annotations

import threading

from kiosk.tasks import Runner
from ui.bridge import QtDispatcher, QtTimers


def test_dispatch_from_a_worker_thread_runs_on_the_gui_thread(qtbot):
    dispatcher = QtDispatcher()
    ran_on: list[threading.Thread] = []
    worker = threading.Thread(target=lambda: dispatcher.dispatch(lambda: ran_on.append(threading.current_thread())))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(ran_on) == 1, timeout=2000)
    assert ran_on == [threading.main_thread()]


def test_dispatched_calls_run_in_order_and_a_failing_one_does_not_stop_the_rest(qtbot):
    dispatcher = QtDispatcher()
    seen: list[int] = []

    def fail() -> None:
        raise RuntimeError("boom")

    def post() -> None:
        dispatcher.dispatch(lambda: seen.append(1))
        dispatcher.dispatch(fail)
        dispatcher.dispatch(lambda: seen.append(2))

    worker = threading.Thread(target=post)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: seen == [1, 2], timeout=2000)


def test_runner_results_arrive_on_the_gui_thread(qtbot):
    dispatcher = QtDispatcher()
    runner = Runner(dispatcher.dispatch, lanes=("hq",))
    got: list[tuple[int, threading.Thread]] = []
    try:
        runner.submit("hq", lambda: 41 + 1, lambda value: got.append((value, threading.current_thread())), print)
        qtbot.waitUntil(lambda: bool(got), timeout=2000)
    finally:
        runner.shutdown()
    assert got == [(42, threading.main_thread())]


def test_timers_fire_once_and_cancelled_ones_never(qtbot):
    timers = QtTimers()
    fired: list[str] = []
    cancelled = timers.call_later(0.01, lambda: fired.append("cancelled"))
    timers.call_later(0.02, lambda: fired.append("kept"))
    timers.call_later(0.05, lambda: fired.append("last"))
    cancelled.cancel()
    cancelled.cancel()  # twice is harmless
    qtbot.waitUntil(lambda: "last" in fired, timeout=2000)
    assert fired == ["kept", "last"]
    assert timers.pending() == 0
