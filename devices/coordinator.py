"""One coordinator per device: it owns the connection, reads on its own thread, reconnects, checks health.

The coordinator opens the connection through a `connect` callable, reads with a short timeout (so `stop()` is
never held up by a read), hands what it reads to the device's `Session` (which speaks the device's protocol),
asks the session for a health check every `health_interval_s`, and after an unplug, a power cycle or a device
that stops answering closes the connection and tries again with capped exponential backoff and jitter. It
reports the device's state through a `report(**status)` callable (the Device's `_set_status`). Events for the
device's listeners are posted to a second thread, so a slow listener never delays the I/O and a listener may
close its own device. Nothing else touches the port.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from devices.base import DeviceState, ErrorAction

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionPolicy:
    """Timings of one device connection (the defaults suit a serial device at 9600 baud)."""

    read_timeout_s: float = 0.1  # longest a read blocks: bounds how late expiries and health checks run
    reconnect_initial_s: float = 0.1  # first wait before reconnecting; doubles after each failure
    reconnect_max_s: float = 5.0  # the wait never grows beyond this
    health_interval_s: float = 2.0  # seconds between health checks while connected
    response_timeout_s: float = 0.5  # a request unanswered this long counts as a miss
    missed_limit: int = 2  # health checks missed in a row before the connection is dropped and reopened
    nonsense_limit: int = 5  # unreadable frames in a row before the device is reported HARDWARE_ERROR
    quiet_s: float = 0.2  # a frame or line left incomplete this long is thrown away

    def __post_init__(self) -> None:
        for name in ("read_timeout_s", "reconnect_initial_s", "reconnect_max_s", "health_interval_s",
                     "response_timeout_s", "quiet_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be greater than 0")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError("reconnect_max_s must not be less than reconnect_initial_s")
        if self.missed_limit < 1 or self.nonsense_limit < 1:
            raise ValueError("missed_limit and nonsense_limit must be at least 1")

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """The wait before reconnect attempt `attempt` (0-based): doubling, capped, then 50-100 % of that."""
        ceiling = min(self.reconnect_max_s, self.reconnect_initial_s * 2 ** min(attempt, 30))
        return ceiling * (0.5 + rng() / 2)


class LinkLost(Exception):
    """The connection broke: unplugged, powered off, or the device stopped answering."""


class PortMissing(LinkLost):
    """The port does not exist (the device is unplugged): reported as NO_DEVICE."""


class DeviceSilent(LinkLost):
    """The port is there but the device does not answer its health checks."""


class Link(Protocol):
    """An open connection to a device, used by the coordinator's thread only (`cancel_read` excepted)."""

    def read(self) -> bytes:
        """Bytes that arrived, waiting at most the read timeout; b"" when none. Raises LinkLost."""

    def write(self, data: bytes) -> None:
        """Send bytes; raises LinkLost."""

    def check(self) -> None:
        """Raise LinkLost when the port is gone (a cheap local check, no traffic)."""

    def cancel_read(self) -> None:
        """Make a read in progress return now (called from another thread)."""

    def close(self) -> None:
        """Release the port; idempotent."""


class Session(ABC):
    """A device's protocol on one connection. Every method runs on the coordinator's thread."""

    coordinator: Coordinator

    def bind(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    @abstractmethod
    def connected(self, link: Link, now: float) -> None:
        """A new connection: reset protocol state, send a first request, or call `coordinator.confirmed()`."""

    @abstractmethod
    def received(self, data: bytes, now: float) -> None:
        """Bytes from the device."""

    def tick(self, now: float) -> None:
        """Called after every read, with or without data: expire partial input, time out requests."""
        return None

    def probe(self, now: float) -> None:
        """The periodic health check; raise LinkLost to drop the connection."""
        return None

    def disconnected(self) -> None:
        """The connection is gone; forget anything in flight."""
        return None


class EventThread:
    """Runs posted callables one at a time, in order, on a dedicated daemon thread."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0

    @property
    def running(self) -> bool:
        with self._idle:
            return self._thread is not None

    def start(self) -> None:
        with self._idle:
            if self._thread is None:
                self._queue = queue.Queue()
                self._thread = threading.Thread(target=self._run, args=(self._queue,), name=self._name, daemon=True)
                self._thread.start()

    def request_stop(self) -> threading.Thread | None:
        """Let the thread end after the jobs already posted; returns the thread to join."""
        with self._idle:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        return thread

    @staticmethod
    def join(thread: threading.Thread | None, timeout: float = 5.0) -> None:
        # A listener may close its own device: the event thread cannot wait for itself.
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def post(self, job: Callable[[], None]) -> bool:
        """Queue `job`; False (and dropped) once the thread was asked to stop."""
        with self._idle:
            if self._thread is None:
                return False
            self._pending += 1
            self._queue.put(job)
        return True

    @property
    def idle(self) -> bool:
        with self._idle:
            return self._pending == 0

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every posted job has run; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self, jobs: queue.Queue[Callable[[], None] | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                # A failing listener must not kill the device thread.
                _log.exception("listener failed on %s", self._name)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


class LogThrottle:
    """At most one log line per `interval_s`, with a count of those held back: line noise must not flood logs."""

    def __init__(self, logger: logging.Logger, interval_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._clock = clock
        self._last: float | None = None
        self.held = 0

    def __call__(self, level: int, message: str, *args: object) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval_s:
            self.held += 1
            return
        if self.held:
            message += " (and %d more since the last such line)"
            args = (*args, self.held)
        self._logger.log(level, message, *args)
        self._last, self.held = now, 0


Report = Callable[..., None]


class Coordinator:
    """Owns one device's connection on its own thread; see the module docstring."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], Link],
        session: Session,
        report: Report,
        policy: ConnectionPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.policy = policy or ConnectionPolicy()
        self._connect = connect
        self._session = session
        self._report = report
        self._clock = clock
        self._rng = rng
        self.events = EventThread(f"{name}-events")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._link: Link | None = None
        self._confirmed = False
        self._nonsense = 0
        self._condition: tuple[DeviceState, str | None, ErrorAction] | None = None
        self._activity = threading.Condition()
        self._last_down: str | None = None
        self.connections = 0  # successful connections so far, for tests and the benchmark
        session.bind(self)

    # ---- lifecycle (any thread) ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop = threading.Event()
            self.events.start()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop reading, close the port and end both threads; True when they ended within `timeout`.

        Events already posted are still delivered. From the device's own threads this only asks them to end.
        """
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            # Under the lock: the coordinator thread takes the link away under it before closing it.
            if self._link is not None:
                try:
                    self._link.cancel_read()
                except Exception:  # the read returns on its own timeout
                    _log.debug("cancel_read failed on %s", self.name, exc_info=True)
        ended = True
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            ended = not thread.is_alive()
        events = self.events.request_stop()
        EventThread.join(events, timeout)
        return ended and (events is None or events is threading.current_thread() or not events.is_alive())

    # ---- for the session (coordinator thread) -----------------------------------------------------------

    def post(self, job: Callable[[], None]) -> None:
        """Run `job` on the device's event thread, after the events posted before it."""
        self.events.post(job)

    def confirmed(self) -> None:
        """The device answered sensibly: it is online (unless it said it is busy or faulty)."""
        self._nonsense = 0
        if not self._confirmed:
            self._confirmed = True
            _log.info("%s online", self.name)
        self._publish()

    def nonsense(self, what: str) -> None:
        """The device said something that cannot be understood; repeated, it is a hardware error."""
        self._nonsense += 1
        if self._nonsense == self.policy.nonsense_limit:
            _log.warning("%s: %d unreadable answers in a row (last: %s)", self.name, self._nonsense, what)
            self._publish()

    def condition(self, state: DeviceState | None, error: str | None = None,
                  action: ErrorAction = ErrorAction.NONE) -> None:
        """What the device says about itself (BUSY, a fault); None when it is fine."""
        self._condition = None if state is None else (state, error, action)
        self._publish()

    def notify_activity(self) -> None:
        """Wake whoever waits in `wait_for` (the simulators' wait_idle)."""
        with self._activity:
            self._activity.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._activity:
            return self._activity.wait_for(predicate, timeout)

    # ---- the thread ---------------------------------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                link = self._connect()
            except Exception as exc:
                self._down(exc)
                if stop.wait(self.policy.backoff(attempt, self._rng)):
                    break
                attempt += 1
                continue
            with self._lock:
                self._link = link
            self.connections += 1
            worked = False
            try:
                if not stop.is_set():
                    self._serve(link, stop)
            except Exception as exc:
                worked = self._confirmed
                if not stop.is_set():
                    self._down(exc)
            finally:
                with self._lock:
                    self._link = None
                link.close()
                try:
                    self._session.disconnected()
                except Exception:
                    _log.exception("%s: session cleanup failed", self.name)
                self.notify_activity()
            if stop.is_set():
                break
            if worked:
                attempt = 0  # it worked until it broke: start the backoff afresh
            self._confirmed = False
            if stop.wait(self.policy.backoff(attempt, self._rng)):
                break
            attempt += 1
        self._confirmed = False

    def _serve(self, link: Link, stop: threading.Event) -> None:
        session, policy = self._session, self.policy
        now = self._clock()
        self._nonsense = 0
        self._condition = None
        session.connected(link, now)
        next_probe = now + policy.health_interval_s
        while not stop.is_set():
            data = link.read()
            now = self._clock()
            if data:
                session.received(data, now)
            session.tick(now)
            if now >= next_probe:
                link.check()
                session.probe(now)
                next_probe = now + policy.health_interval_s
            if data:
                self.notify_activity()

    def _down(self, exc: Exception) -> None:
        self._confirmed = False
        if isinstance(exc, PortMissing):
            state, action = DeviceState.NO_DEVICE, ErrorAction.MAINTENANCE
        elif isinstance(exc, LinkLost):
            state, action = DeviceState.OFFLINE, ErrorAction.RESET
        elif isinstance(exc, PermissionError | ValueError):
            state, action = DeviceState.OFFLINE, ErrorAction.CONFIGURATION
        else:
            _log.warning("%s: unexpected error", self.name, exc_info=exc)
            state, action = DeviceState.OFFLINE, ErrorAction.RESET
        message = str(exc) or type(exc).__name__
        if self._last_down != message:
            _log.warning("%s %s: %s", self.name, state.value, message)
            self._last_down = message
        self._report(state=state, last_error=message, action=action)
        self.notify_activity()

    def _publish(self) -> None:
        if not self._confirmed:
            return
        self._last_down = None
        if self._nonsense >= self.policy.nonsense_limit:
            self._report(state=DeviceState.HARDWARE_ERROR, last_error="unreadable answers",
                         action=ErrorAction.RESET)
        elif self._condition is not None:
            state, error, action = self._condition
            self._report(state=state, last_error=error, action=action)
        else:
            self._report(state=DeviceState.ONLINE, last_error=None, action=ErrorAction.NONE)
        self.notify_activity()
