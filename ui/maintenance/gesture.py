"""The hidden gesture that opens the staff PIN pad: N taps in one corner within a few seconds.

A resident does not tap an empty corner five times in three seconds by chance. The taps still reach whatever is
under them (the corner of the header holds nothing a resident uses). A tap anywhere else starts the count again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.config import MaintenanceSettings
from ui.qt import QEvent, QMouseEvent, QObject, QPoint, QRect, QWidget


def corner_rect(window: QWidget, corner: str, size: int) -> QRect:
    """The square of side `size` (window pixels) in `corner` of `window`."""
    width, height = window.width(), window.height()
    x = 0 if corner.endswith("left") else width - size
    y = 0 if corner.startswith("top") else height - size
    return QRect(x, y, size, size)


class CornerTaps(QObject):
    """Application-wide event filter: calls `triggered` after `taps` presses in the corner within `window_s`."""

    def __init__(
        self, window: QWidget, settings: MaintenanceSettings, scale: float, triggered: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._corner = settings.gesture_corner
        self._size = max(1, round(settings.gesture_size_px * scale))
        self._taps = settings.gesture_taps
        self._window_s = settings.gesture_window_s
        self._triggered = triggered
        self._clock = clock
        self._times: list[float] = []
        self._last: tuple[QEvent.Type, int] | None = None

    def area(self) -> QRect:
        return corner_rect(self._window, self._corner, self._size)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            # One press reaches the filter again for each parent it propagates to: count it once.
            key = (event.type(), event.timestamp())
            if key != self._last and isinstance(watched, QWidget) and watched.window() is self._window:
                self._last = key
                self._pressed(self._window.mapFromGlobal(event.globalPosition().toPoint()))
        return False

    def _pressed(self, point: QPoint) -> None:
        if not self.area().contains(point):
            self._times.clear()
            return
        now = self._clock()
        self._times = [t for t in self._times if now - t <= self._window_s] + [now]
        if len(self._times) >= self._taps:
            self._times.clear()
            self._triggered()
