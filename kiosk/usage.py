"""Running counts of journeys for HQ: by entry method (with their time), language, mode and result.

The journey tells `UsageCounter` when a journey starts (the resident identified the house some way) and how it
ends; the heartbeat reads the totals from another thread and sends what changed since the last beat HQ took.
A journey runs from the identification to its result screen; one left before a result ends as ``left``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kiosk.clock import utc_now

LEFT = "left"  # ended before a result: walked away, house not found, went back home


@dataclass(frozen=True)
class LastJourney:
    ended_at: datetime
    duration_s: float
    result: str
    entry: str


@dataclass(frozen=True)
class UsageTotals:
    """Totals since the terminal started; subtract an earlier copy to get what happened in between."""

    languages: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    results: Counter[str] = field(default_factory=Counter)
    journeys: Counter[str] = field(default_factory=Counter)  # finished journeys, by entry method
    paid: Counter[str] = field(default_factory=Counter)  # by entry method
    seconds: dict[str, float] = field(default_factory=dict)  # by entry method, finished journeys only

    def since(self, earlier: UsageTotals) -> UsageTotals:
        return UsageTotals(
            self.languages - earlier.languages, self.modes - earlier.modes, self.results - earlier.results,
            self.journeys - earlier.journeys, self.paid - earlier.paid,
            {k: round(v - earlier.seconds.get(k, 0.0), 3) for k, v in self.seconds.items()
             if v - earlier.seconds.get(k, 0.0) > 0},
        )

    def report(self) -> dict[str, object]:
        """The ``counts`` of a heartbeat (docs/api.md)."""
        entries = set(self.journeys) | set(self.paid) | set(self.seconds)
        return {
            "languages": dict(self.languages),
            "modes": dict(self.modes),
            "results": dict(self.results),
            "entries": {
                e: {
                    "journeys": self.journeys.get(e, 0), "paid": self.paid.get(e, 0),
                    "seconds": self.seconds.get(e, 0.0),
                }
                for e in sorted(entries)
            },
        }


class UsageCounter:
    """Counted on the GUI thread by the journey, read from the heartbeat's thread."""

    def __init__(self, clock: Callable[[], datetime] = utc_now, monotonic: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._totals = UsageTotals()
        self._current: tuple[str, float] | None = None  # entry, start
        self._last: LastJourney | None = None

    def journey_started(self, entry: str, language: str, mode: str) -> None:
        with self._lock:
            self._close(LEFT)
            self._current = (entry, self._monotonic())
            self._totals.languages[language] += 1
            self._totals.modes[mode] += 1

    def mode_changed(self, was: str, now: str) -> None:
        """The journey under way took up another mode (its card's remembered one): counted in that one instead."""
        with self._lock:
            if self._current is None:
                return
            modes = self._totals.modes
            if modes[was] > 0:  # not if a heartbeat already took the count
                modes[was] -= 1
            if modes[was] <= 0:
                del modes[was]
            self._totals.modes[now] += 1

    def journey_ended(self, result: str) -> None:
        """The result screen of the journey under way (later results of the same journey are not counted)."""
        with self._lock:
            self._close(result)

    def journey_closed(self) -> None:
        """The journey is over; without a result it counts as left."""
        with self._lock:
            self._close(LEFT)

    def _close(self, result: str) -> None:
        if self._current is None:
            return
        entry, started = self._current
        self._current = None
        duration = max(self._monotonic() - started, 0.0)
        # Counted when over, with their time, so journeys and seconds always match (an average has no gap).
        self._totals.journeys[entry] += 1
        self._totals.results[result] += 1
        self._totals.seconds[entry] = self._totals.seconds.get(entry, 0.0) + duration
        if result == "paid":
            self._totals.paid[entry] += 1
        self._last = LastJourney(self._clock(), round(duration, 3), result, entry)

    def totals(self) -> UsageTotals:
        """A copy of the totals so far."""
        with self._lock:
            t = self._totals
            return UsageTotals(Counter(t.languages), Counter(t.modes), Counter(t.results), Counter(t.journeys),
                               Counter(t.paid), dict(t.seconds))

    @property
    def last(self) -> LastJourney | None:
        with self._lock:
            return self._last
