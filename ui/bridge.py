"""The core's `Dispatch` and `Timers` (kiosk/tasks.py) implemented on the Qt event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.tasks import TimerHandle
from ui.qt import QObject, Qt, QTimer, Signal, Slot

log = logging.getLogger(__name__)


class QtDispatcher(QObject):
    """Runs callables on the GUI thread; `dispatch` may be called from any thread.

    Create it on the GUI thread: a queued signal delivers each callable to the thread this object lives in.
    """

    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def dispatch(self, callback: Callable[[], None]) -> None:
        """Queue `callback` to run on the GUI thread; returns at once."""
        self._posted.emit(callback)

    @Slot(object)
    def _run(self, callback: Callable[[], None]) -> None:
        # An exception escaping a slot would be printed by Qt and lost; log it and keep the loop running.
        try:
            callback()
        except Exception:
            log.exception("dispatched callback failed")


class QtTimerHandle:
    """A pending single-shot callback; `cancel()` stops it if it has not run yet."""

    def __init__(self, owner: QtTimers) -> None:
        self._owner = owner
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self._owner._pending.discard(self)


class QtTimers(QObject):
    """`kiosk.tasks.Timers` on Qt's event loop: single-shot callbacks on the GUI thread. Use from that thread.

    Each call is a `QTimer.singleShot` bound to this object, with a flag for cancelling: no QTimer object
    per call whose lifetime would need managing.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: set[QtTimerHandle] = set()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        handle = QtTimerHandle(self)
        self._pending.add(handle)

        def fire() -> None:
            if handle.cancelled:
                return
            self._pending.discard(handle)
            try:
                callback()
            except Exception:
                log.exception("timer callback failed")

        QTimer.singleShot(max(0, round(seconds * 1000)), self, fire)
        return handle

    def pending(self) -> int:
        """How many callbacks have neither run nor been cancelled."""
        return len(self._pending)
