"""A live countdown to an aware UTC deadline, updated every second."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from kiosk.clock import utc_now
from ui.qt import QHideEvent, QLabel, QShowEvent, Qt, QTimer, QWidget


def seconds_left(deadline: datetime, now: datetime) -> int:
    """Whole seconds until the deadline, rounded up, never below 0."""
    return max(0, math.ceil((deadline - now).total_seconds()))


def format_countdown(seconds: int) -> str:
    """m:ss, e.g. 2:05."""
    return f"{seconds // 60}:{seconds % 60:02d}"


class CountdownLabel(QLabel):
    """Shows m:ss until the deadline; ticks only while visible."""

    def __init__(self, now: Callable[[], datetime] = utc_now, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._now = now
        self._deadline: datetime | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(250)  # several ticks a second so the shown second never lags by a whole one
        self._timer.timeout.connect(self.refresh)
        self.setProperty("role", "huge")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def set_deadline(self, deadline: datetime | None) -> None:
        self._deadline = deadline
        self.refresh()
        if deadline is not None and self.isVisible():
            self._timer.start()
        elif deadline is None:
            self._timer.stop()

    def remaining(self) -> int:
        return seconds_left(self._deadline, self._now()) if self._deadline else 0

    def refresh(self) -> None:
        self.setText(format_countdown(self.remaining()) if self._deadline else "")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._deadline is not None:
            self.refresh()
            self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)
