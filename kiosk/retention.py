"""Keeps the live transaction journal small: finished transactions older than `queue.retention_days` move to the
archive (`offline_queue/archive.py`) in a pass at start and then once a day, on the `archive` lane."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kiosk.tasks import Runner, TimerHandle, Timers
from offline_queue.archive import PassResult, TransactionArchive

log = logging.getLogger(__name__)

LANE = "archive"
DAY_S = 24 * 3600.0


class RetentionKeeper:
    """Runs the archive pass off the GUI thread at start and every `interval_s`; `retention_days` 0 turns it off."""

    def __init__(
        self,
        archive: TransactionArchive,
        runner: Runner,
        timers: Timers,
        retention_days: int,
        clock: Callable[[], datetime] | None = None,
        interval_s: float = DAY_S,
        on_pass: Callable[[PassResult], None] | None = None,
    ) -> None:
        self._archive = archive
        self._runner = runner
        self._timers = timers
        self._retention = timedelta(days=retention_days)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._interval_s = interval_s
        self._on_pass = on_pass
        self._timer: TimerHandle | None = None
        self._running = False

    @property
    def enabled(self) -> bool:
        return self._retention > timedelta(0)

    def start(self) -> None:
        if not self.enabled:
            return
        self._running = True
        self.run_now()

    def stop(self) -> None:
        self._running = False
        if self._timer is not None:
            self._timer.cancel()

    def run_now(self) -> None:
        """Queue one pass on the archive lane (the next one follows `interval_s` after it ends)."""
        cutoff = self._clock() - self._retention
        self._runner.submit(LANE, lambda: self._archive.archive_finished(cutoff), self._done, self._failed)

    def _done(self, result: PassResult) -> None:
        if self._on_pass is not None:
            self._on_pass(result)
        self._schedule()

    def _failed(self, exc: Exception) -> None:
        # Nothing was lost: what could not be archived stays in the live journal until the next pass.
        log.error("archive pass failed: %s", exc)
        self._schedule()

    def _schedule(self) -> None:
        if self._running:
            self._timer = self._timers.call_later(self._interval_s, self.run_now)
