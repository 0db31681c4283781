"""Knows whether HQ answers, by asking its health endpoint now and then off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.hq_client import HqClient
from kiosk.tasks import Runner, TimerHandle, Timers


class ConnectivityMonitor:
    """Checks HQ every `interval_s` (`offline_interval_s` while unreachable) and reports each answer."""

    def __init__(
        self, client: HqClient, runner: Runner, timers: Timers, interval_s: float,
        on_result: Callable[[bool], None], offline_interval_s: float | None = None,
    ) -> None:
        self._client = client
        self._runner = runner
        self._timers = timers
        self._interval_s = interval_s
        self._offline_interval_s = offline_interval_s or interval_s
        self._on_result = on_result
        self._timer: TimerHandle | None = None
        self._running = False

    def start(self) -> None:
        self._running = True
        self.check_now()

    def stop(self) -> None:
        self._running = False
        if self._timer is not None:
            self._timer.cancel()

    def check_now(self) -> None:
        self._runner.submit("health", self._client.health, self._answered, lambda _exc: self._answered(False))

    def _answered(self, online: bool) -> None:
        if not self._running:
            return
        self._on_result(online)
        # While HQ is away, ask often: the queue waits on the answer.
        interval = self._interval_s if online else self._offline_interval_s
        self._timer = self._timers.call_later(interval, self.check_now)
