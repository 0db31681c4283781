"""Running blocking work off the GUI thread, and timers, without the core knowing about Qt.

The UI supplies a `dispatch` that runs a callable on the GUI thread and a `Timers` that schedules on it; the core
submits blocking work (HQ calls, database writes, printing) to a `Runner`, whose callbacks arrive through
`dispatch`. Each lane is one worker thread, so work in a lane runs in order (HQ calls never overlap, a slow
printer never holds up HQ). A detached lane ("watch": the payment status long poll, which may wait at HQ for
20 s) runs each piece of work on a daemon thread of its own, which shutdown and the interpreter's exit do not wait
for.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Dispatch = Callable[[Callable[[], None]], None]
log = logging.getLogger(__name__)


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    """Schedules callables on the GUI thread."""

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle: ...


class _DetachedLane:
    """Each piece of work on a daemon thread of its own, started as it is submitted: for work that may wait long
    (the payment status long poll), so nothing queues behind a call stuck on a dead connection, and neither
    shutdown nor the interpreter's exit waits for it (what it runs only reads, and its results are dropped once
    nobody wants them)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._numbers = itertools.count(1)
        self._closed = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"lane {self._name} is shut down")
            name = f"kiosk-{self._name}-{next(self._numbers)}"
        threading.Thread(target=fn, name=name, daemon=True).start()

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop taking work; what runs now ends by itself (daemon threads, not waited for)."""
        with self._lock:
            self._closed = True


class Runner:
    """Runs blocking functions on named worker lanes and hands results back through `dispatch`."""

    def __init__(
        self, dispatch: Dispatch, lanes: tuple[str, ...] = ("hq", "store", "printer"),
        detached: tuple[str, ...] = ("watch",),
    ) -> None:
        self.dispatch = dispatch  # runs a callable on the GUI thread; safe from any thread
        self._pools: dict[str, ThreadPoolExecutor | _DetachedLane] = {
            lane: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kiosk-{lane}") for lane in lanes
        }
        self._pools.update({lane: _DetachedLane(lane) for lane in detached})

    def submit(
        self,
        lane: str,
        work: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Run `work` on the lane's thread; then `on_done(result)` or `on_error(exc)` on the GUI thread."""

        def run() -> None:
            try:
                result = work()
            except Exception as exc:  # the callback decides; nothing may kill the worker
                error = exc
                self.dispatch(lambda: on_error(error))
                return
            self.dispatch(lambda: on_done(result))

        self._pools[lane].submit(run)

    def shutdown(self, wait: bool = True) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=True)


class _Handle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualLoop:
    """A GUI-thread stand-in for tests and headless tools: a queue of calls and timers run by `run_until`."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls: list[Callable[[], None]] = []
        self._timers: list[tuple[float, int, _Handle, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.offset = 0.0  # added to the clock, so tests can skip ahead without sleeping

    def now(self) -> float:
        return time.monotonic() + self.offset

    def dispatch(self, callback: Callable[[], None]) -> None:
        with self._cond:
            self._calls.append(callback)
            self._cond.notify_all()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        handle = _Handle()
        with self._cond:
            heapq.heappush(self._timers, (self.now() + seconds, next(self._seq), handle, callback))
            self._cond.notify_all()
        return handle

    def advance(self, seconds: float) -> None:
        """Move the loop's clock forward (timers due by then fire on the next run)."""
        with self._cond:
            self.offset += seconds
            self._cond.notify_all()

    def run_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> None:
        """Run queued calls and due timers until `predicate()` is true; TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while not predicate():
            with self._cond:
                due: list[Callable[[], None]] = self._calls
                self._calls = []
                while self._timers and self._timers[0][0] <= self.now():
                    _, _, handle, callback = heapq.heappop(self._timers)
                    if not handle.cancelled:
                        due.append(callback)
                if not due:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError("condition not reached")
                    wait = remaining
                    if self._timers:
                        wait = min(wait, max(self._timers[0][0] - self.now(), 0.001))
                    self._cond.wait(wait)
                    continue
            for callback in due:
                callback()
