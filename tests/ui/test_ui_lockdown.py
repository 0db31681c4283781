"""Kiosk lockdown in the app: no key combination leaves or closes the window; closing it returns to idle."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk import i18n
from kiosk.config import Config
from ui.lockdown import is_blocked
from ui.main_window import MainWindow
from ui.maintenance.host import LEAVE_EXIT_CODE
from ui.qt import QKeySequence, QLineEdit, QShortcut, Qt
from ui.theme import Theme


def build(qtbot: Any, journey: Any, translator: i18n.Translator, *, fullscreen: bool) -> MainWindow:
    window = MainWindow(journey, Config().with_changes("ui", fullscreen=fullscreen), translator, theme=Theme())
    qtbot.addWidget(window)
    window.present()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def kiosk_window(qtbot: Any, journey: Any, translator: i18n.Translator) -> MainWindow:
    return build(qtbot, journey, translator, fullscreen=True)


@pytest.mark.parametrize(
    ("key", "modifiers"),
    [
        (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
        (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.AltModifier),
        (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_F11, Qt.KeyboardModifier.NoModifier),
    ],
)
def test_shortcuts_that_would_leave_the_app_never_reach_it(
    qtbot: Any, kiosk_window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier
) -> None:
    fired: list[str] = []
    shortcut = QShortcut(QKeySequence(modifiers.value | key.value), kiosk_window)
    shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
    shortcut.activated.connect(lambda: fired.append("shortcut"))
    qtbot.keyClick(kiosk_window, key, modifiers)
    assert fired == []
    assert kiosk_window.isVisible()


def test_plain_typing_from_a_keyboard_wedge_still_reaches_widgets(qtbot: Any, kiosk_window: MainWindow) -> None:
    field = QLineEdit(kiosk_window)
    field.show()
    field.setFocus()
    qtbot.keyClicks(field, "04A1B2C3D4")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.text() == "04A1B2C3D4"


def test_closing_from_outside_returns_to_idle_and_keeps_the_window(kiosk_window: MainWindow, journey: Any) -> None:
    assert kiosk_window.close() is False
    assert kiosk_window.isVisible()
    assert "finish" in journey.names()


def test_the_maintenance_menus_way_out_closes_it(kiosk_window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr("ui.main_window.QApplication.exit", exits.append)
    kiosk_window.leave_kiosk(LEAVE_EXIT_CODE)
    assert not kiosk_window.isVisible() and exits == [LEAVE_EXIT_CODE]


def test_a_development_window_closes_as_windows_do(qtbot: Any, journey: Any, translator: i18n.Translator) -> None:
    window = build(qtbot, journey, translator, fullscreen=False)
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # not swallowed: no lockdown filter installed
    assert window.close() is True
    assert "finish" not in journey.names()


def test_the_blocked_set() -> None:
    assert is_blocked(Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert is_blocked(Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert not is_blocked(Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier)
    assert not is_blocked(Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert not is_blocked(Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)
