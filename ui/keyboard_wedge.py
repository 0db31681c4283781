"""Keyboard-wedge card readers and scanners in the Qt key stream: their bursts are taken out, a person's keys not.

A wedge device is a USB keyboard: what it reads arrives as key presses, in the same stream as a person's typing.
`KeyboardWedgeFilter`, on the application, watches every key on its way into a window, *before* the window
hands it to the focused widget, and asks a `BurstDetector` (`devices/keyboard_wedge.py`) about it:

- A key that could start or continue a burst (a character typed within `max_gap` of the one before) is held
  back: the event is copied and the original consumed.
- As soon as the held keys cannot be a burst — the next key came too late, a key no device types came (an arrow,
  a Ctrl or Alt shortcut, an auto-repeat), Enter came too early, or `hold_s` passed with no key at all (a timer)
  — the copies are sent on to the same window, in their order, and reach the focused widget as if never
  stopped. A person's key is thus delayed by at most `hold_s` (100 ms by default), never lost nor reordered.
- When the terminator ends a burst, the held keys are dropped and the text goes to `on_burst` (the core's
  `KeyboardRouter`, which hands it to the device that typed it). A flood longer than `max_length` is dropped
  whole and reported to `on_rejected`.

Only the window's copy of a key is looked at (Qt then passes it to the focused widget and its parents, which
this filter lets through), and copies sent on are marked so they pass untouched. A plain key's
ShortcutOverride is answered "not a shortcut" so that no plain-key shortcut fires in the middle of a burst.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from devices.keyboard_wedge import BurstDetector, Outcome, WedgeSettings
from kiosk.keyboard_routing import KeyboardRouter
from ui.qt import QApplication, QEvent, QKeyEvent, QObject, Qt, QTimer

_KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
_TERMINATOR_KEYS: dict[int, str] = {Qt.Key.Key_Return: "\r", Qt.Key.Key_Enter: "\r", Qt.Key.Key_Tab: "\t"}
_MODIFIER_KEYS = {
    Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock,
    Qt.Key.Key_NumLock,
}
# Shift is how a device types capitals and symbols; anything held with these is a person's command.
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)

Held = tuple[QObject, QKeyEvent]


def key_char(event: QKeyEvent) -> str | None:
    """What a key means to the detector: its character, "" if it rides along (a release, a modifier alone), or
    None if no device types it."""
    if event.type() == QEvent.Type.KeyRelease:
        return ""
    if event.isAutoRepeat() or event.modifiers() & _COMMAND_MODIFIERS:
        return None
    key = event.key()  # an int; Qt.Key is an IntEnum
    if key in _TERMINATOR_KEYS:
        return _TERMINATOR_KEYS[key]
    if key in _MODIFIER_KEYS:
        return ""
    text = event.text()
    return text if len(text) == 1 and text.isprintable() else None


def event_seconds(event: QKeyEvent) -> float:
    """When the key was pressed: the window system's time stamp (ms), or now if it gave none."""
    stamp = event.timestamp()
    return stamp / 1000 if stamp else time.monotonic()


class KeyboardWedgeFilter(QObject):
    """Application event filter feeding keys to a burst detector; see the module's docstring for how."""

    def __init__(
        self,
        settings: WedgeSettings,
        on_burst: Callable[[str], None],
        on_rejected: Callable[[str], None] | None = None,
        clock: Callable[[QKeyEvent], float] = event_seconds,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.detector: BurstDetector[Held] = BurstDetector(settings)
        self._on_burst = on_burst
        self._on_rejected = on_rejected or (lambda reason: None)
        self._clock = clock
        self._replaying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, round(settings.hold_s * 1000)))
        self._timer.timeout.connect(self._expired)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._replaying or not watched.isWindowType() or not isinstance(event, QKeyEvent):
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            if key_char(event):  # a plain character or Enter: a widget's key, never a shortcut, while we watch
                event.accept()
                return True
            return False
        if event.type() not in _KEY_EVENTS:
            return False
        char = key_char(event)
        if char is None or (char == "" and not self.detector.holding):
            self._timer.stop()
            self._settle(self.detector.key(char, 0.0, (watched, event.clone())), event)
            return False  # this key itself goes on as usual, after whatever was held before it
        outcome = self.detector.key(char, self._clock(event), (watched, event.clone()))
        self._settle(outcome, None)
        if self.detector.holding:
            self._timer.start()
        else:
            self._timer.stop()
        return True

    def _settle(self, outcome: Outcome[Held], passing: QKeyEvent | None) -> None:
        """Send on what was released (except `passing`, which Qt delivers itself), then report a burst."""
        released = outcome.release[:-1] if passing is not None else outcome.release
        self._replay(released)
        if outcome.burst is not None:
            self._on_burst(outcome.burst)
        if outcome.rejected is not None:
            self._on_rejected(outcome.rejected)

    def _expired(self) -> None:
        self._settle(self.detector.expire(), None)

    def _replay(self, held: list[Held]) -> None:
        self._replaying = True
        try:
            for window, copy in held:
                try:
                    QApplication.sendEvent(window, copy)
                except RuntimeError:  # the window is gone; so is whatever had focus in it
                    continue
        finally:
            self._replaying = False


def install(app: QApplication, router: KeyboardRouter | None) -> KeyboardWedgeFilter | None:
    """Install the filter for a terminal's `KeyboardRouter` (`Terminal.keyboard`); nothing when it has none."""
    if router is None:
        return None
    wedge = KeyboardWedgeFilter(router.settings, router.burst, router.rejected, parent=app)
    app.installEventFilter(wedge)
    return wedge
