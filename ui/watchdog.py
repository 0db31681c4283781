"""The systemd watchdog fed from the GUI event loop: a frozen screen stops the pings and systemd restarts us."""

from __future__ import annotations

from kiosk.systemd import notify, watchdog_interval_s
from ui.qt import QObject, QTimer


class GuiWatchdog(QObject):
    """Pings WATCHDOG=1 from a timer on the GUI thread, at half the unit's WatchdogSec; nothing outside systemd.

    The ping is deliberately not on a worker thread: what must be proven alive is the loop that paints the screen
    and takes the touches.
    """

    def __init__(self, parent: QObject | None = None, interval_s: float | None = None) -> None:
        super().__init__(parent)
        self.interval_s = watchdog_interval_s() if interval_s is None else interval_s
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.ping)
        if self.interval_s:
            self._timer.start(max(1, int(self.interval_s * 1000)))
            self.ping()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def ping(self) -> None:
        notify("WATCHDOG=1")

    @staticmethod
    def ready() -> None:
        """The terminal can serve residents (the core is built and interrupted payments recovered)."""
        notify("READY=1")

    @staticmethod
    def stopping() -> None:
        notify("STOPPING=1")
