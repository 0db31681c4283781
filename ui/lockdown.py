"""Kiosk lockdown inside the app: key combinations that would close, switch or leave the window do nothing.

The OS side (no console switching, no Ctrl+Alt+Del, auto-login into a session with only the terminal) is
`deploy/lockdown.sh`; the window side (closing from outside returns to idle instead) is `MainWindow.closeEvent`.
"""

from __future__ import annotations

from ui.qt import QEvent, QKeyEvent, QObject, Qt

_BLOCKED_KEYS = {
    Qt.Key.Key_Escape, Qt.Key.Key_Meta, Qt.Key.Key_Super_L, Qt.Key.Key_Super_R, Qt.Key.Key_Menu,
    Qt.Key.Key_Close, Qt.Key.Key_PowerOff, Qt.Key.Key_Sleep, Qt.Key.Key_Suspend,
    *(getattr(Qt.Key, f"Key_F{n}") for n in range(1, 36)),
}
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)
_KEY_EVENTS = {QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride, QEvent.Type.Shortcut}


def is_blocked(key: int, modifiers: Qt.KeyboardModifier) -> bool:
    """Escape, function and system keys, and anything held with Ctrl, Alt or Meta (Alt+F4, Ctrl+Q, Alt+Tab...).

    Card readers and scanners that type (keyboard wedges) send plain characters and Enter, which pass.
    """
    return key in _BLOCKED_KEYS or bool(modifiers & _COMMAND_MODIFIERS)


class LockdownFilter(QObject):
    """Application-wide: swallows the blocked keys before any widget or shortcut sees them."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _KEY_EVENTS and isinstance(event, QKeyEvent) and is_blocked(event.key(), event.modifiers()):
            # An accepted ShortcutOverride tells Qt's shortcut map "not a shortcut": the key then comes as a
            # KeyPress, which is swallowed here too.
            event.accept()
            return True
        return False
