"""The heartbeat: every ``heartbeat.interval_s`` the terminal tells HQ how it is, and takes HQ's commands.

Its own thread and its own HQ client, never the GUI thread. A beat that fails is simply missed: nothing is
queued or retried, the next one comes on time and says everything again. What does carry over: the counts
(sent as what changed since the last beat HQ took), the outcomes of commands not yet acknowledged, and, on the
first beat after an outage, how long the terminal was cut off (``cut_off_s``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.clock import utc_now
from kiosk.domain import ProtocolError
from kiosk.hq_client import HqClient, HqError, HqFailure
from kiosk.remote_commands import RemoteCommands
from kiosk.usage import UsageCounter, UsageTotals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BeatStatus:
    """What the maintenance menu can show of the heartbeat."""

    beats_ok: int
    beats_failed: int
    last_ok_at: datetime | None
    last_error: str | None
    cut_off_since: datetime | None  # the last beat HQ took, while beats fail (None when they go through)


class HeartbeatWorker:
    """Sends a beat at start, then every ``interval_s``; `beat_now` sends one at once (e.g. a state change)."""

    def __init__(
        self,
        client: HqClient,
        terminal_id: str,
        interval_s: float,
        report: Callable[[], dict[str, Any]],
        commands: RemoteCommands,
        usage: UsageCounter,
        *,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.terminal_id = terminal_id
        self.interval_s = interval_s
        self._report = report
        self._commands = commands
        self._usage = usage
        self._clock = clock
        self._monotonic = monotonic
        self._started = monotonic()
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._acked_totals = UsageTotals()
        self._latency_ms: float | None = None
        self._last_ok_at: datetime | None = None
        self._first_failure_at: datetime | None = None
        self._ok = 0
        self._failed = 0
        self._last_error: str | None = None
        self._listeners: list[Callable[[bool], None]] = []

    # ---- control (any thread) --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-heartbeat", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """``listener(delivered)`` after every beat, on the heartbeat's thread."""
        self._listeners.append(listener)

    def beat_now(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def set_interval(self, interval_s: float) -> None:
        """A new interval (configuration reloaded), from the next wait on."""
        with self._cond:
            self.interval_s = interval_s
            self._cond.notify_all()

    @property
    def status(self) -> BeatStatus:
        with self._cond:
            since = (self._last_ok_at or self._first_failure_at) if self._first_failure_at else None
            return BeatStatus(self._ok, self._failed, self._last_ok_at, self._last_error, since)

    # ---- the loop ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:  # the heartbeat must outlive any single bad beat
                log.exception("heartbeat failed")
            with self._cond:
                deadline = self._monotonic() + self.interval_s
                while not (self._stopping or self._woken):
                    remaining = deadline - self._monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                self._woken = False
                if self._stopping:
                    return

    def run_once(self) -> bool:
        """Send one beat on the caller's thread; True when HQ took it."""
        totals = self._usage.totals()
        acks = self._commands.pending_acks()
        now = self._clock()
        beat = self._report()
        with self._cond:
            cut_off = (now - (self._last_ok_at or self._first_failure_at)).total_seconds() \
                if self._first_failure_at else None
        last = self._usage.last
        beat.update(
            uptime_s=round(self._monotonic() - self._started, 1),
            interval_s=self.interval_s,
            latency_ms=self._latency_ms,
            cut_off_s=round(cut_off, 1) if cut_off is not None else None,
            counts=totals.since(self._acked_totals).report(),
            acks=[a.ack() for a in acks],
            last_journey={
                "ended_at": last.ended_at.isoformat(timespec="seconds"), "duration_s": last.duration_s,
                "result": last.result, "entry": last.entry,
            } if last else None,
        )
        sent = self._monotonic()
        try:
            answer = self._client.heartbeat(self.terminal_id, beat)
        except (HqFailure, ProtocolError) as exc:
            self._missed(now, exc)
            return False
        with self._cond:
            self._latency_ms = round((self._monotonic() - sent) * 1000, 1)
            self._acked_totals = totals
            if self._first_failure_at is not None:
                log.info("heartbeat: HQ reached again after %.0f s cut off", cut_off or 0)
            self._first_failure_at = None
            self._last_ok_at = now
            self._ok += 1
            self._last_error = None
        self._commands.acknowledged(acks)
        self._commands.received(answer["commands"])
        self._notify(True)
        return True

    def _missed(self, now: datetime, exc: Exception) -> None:
        with self._cond:
            first = self._first_failure_at is None
            if first:
                self._first_failure_at = now
            self._failed += 1
            self._last_error = exc.code if isinstance(exc, HqError) else type(exc).__name__
        # Logged once per outage, not on every missed beat; a refusal of trust is logged by TrustStatus.
        if first:
            log.warning("heartbeat not delivered (%s); the next one in %.0f s", exc, self.interval_s)
        self._notify(False)

    def _notify(self, delivered: bool) -> None:
        for listener in list(self._listeners):
            try:
                listener(delivered)
            except Exception:
                log.exception("heartbeat listener failed")
