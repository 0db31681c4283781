"""The keyboard-wedge filter in a real Qt key stream: device bursts taken out, a person's typing left alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtTest import QTest

from devices.keyboard_wedge import TOO_LONG, WedgeSettings
from ui.keyboard_wedge import KeyboardWedgeFilter
from ui.qt import QApplication, QEvent, QKeyEvent, QLineEdit, Qt, QVBoxLayout, QWidget

FAST, SLOW = 0.008, 0.250


class Clock:
    """The time each key is taken to be pressed at: tests set it, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self, _event: QKeyEvent) -> float:
        return self.now


class Rig:
    def __init__(self, qtbot: Any, settings: WedgeSettings) -> None:
        self.qtbot = qtbot
        self.clock = Clock()
        self.bursts: list[str] = []
        self.rejected: list[str] = []
        self.window = QWidget()
        layout = QVBoxLayout(self.window)
        self.field = QLineEdit()
        layout.addWidget(self.field)
        qtbot.addWidget(self.window)
        self.window.show()
        QTest.qWaitForWindowExposed(self.window)
        self.window.activateWindow()
        self.field.setFocus()
        qtbot.waitUntil(self.field.hasFocus)
        self.filter = KeyboardWedgeFilter(settings, self.bursts.append, self.rejected.append, clock=self.clock)
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.installEventFilter(self.filter)

    def type(self, text: str, gap: float) -> None:
        """Each character pressed `gap` seconds after the one before, through the window as a keyboard's are."""
        handle = self.window.windowHandle()
        for char in text:
            self.clock.now += gap
            if char == "\r":
                QTest.keyClick(handle, Qt.Key.Key_Return)
            else:
                QTest.keyClick(handle, char)

    def settled(self) -> None:
        """Wait until nothing is held back any more (at most the filter's hold time)."""
        self.qtbot.waitUntil(lambda: not self.filter.detector.holding, timeout=2000)


@pytest.fixture
def rig(qtbot: Any) -> Iterator[Rig]:
    built = Rig(qtbot, WedgeSettings())
    yield built
    app = QApplication.instance()
    assert app is not None
    app.removeEventFilter(built.filter)


def test_a_card_readers_burst_is_read_and_never_typed(rig: Rig) -> None:
    rig.type("04a1b2c3d4\r", FAST)
    assert rig.bursts == ["04a1b2c3d4"]
    assert rig.field.text() == "" and not rig.filter.detector.holding


def test_slow_typing_reaches_the_focused_field(rig: Rig) -> None:
    rig.type("3-2-501", SLOW)
    rig.settled()
    assert rig.field.text() == "3-2-501"
    assert rig.bursts == []


def test_a_person_typing_then_a_scan_then_typing_again(rig: Rig) -> None:
    rig.type("ab", SLOW)
    rig.clock.now += SLOW  # the scan starts a while after the person's "b" (which is held until then)
    rig.type("CPK:H:325010\r", FAST)
    rig.type("cd", SLOW)
    rig.settled()
    assert rig.field.text() == "abcd"
    assert rig.bursts == ["CPK:H:325010"]


def test_a_short_fast_run_and_its_enter_go_to_the_field(rig: Rig, qtbot: Any) -> None:
    pressed: list[str] = []
    rig.field.returnPressed.connect(lambda: pressed.append(rig.field.text()))
    rig.type("301\r", FAST)
    rig.settled()
    assert pressed == ["301"] and rig.bursts == []


def test_shortcuts_and_arrows_are_never_held(rig: Rig) -> None:
    rig.type("hello", SLOW)
    rig.settled()
    handle = rig.window.windowHandle()
    QTest.keyClick(handle, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all, at once
    assert rig.field.selectedText() == "hello"
    QTest.keyClick(handle, Qt.Key.Key_Left)  # at once too: the selection is gone, the cursor one to the left
    assert (rig.field.selectedText(), rig.field.cursorPosition()) == ("", 4)
    assert not rig.filter.detector.holding


def test_an_interrupted_burst_is_typed_not_read(rig: Rig) -> None:
    rig.type("04a1b", FAST)
    rig.type("2c3d4\r", 0.3)  # the device stalled: too slow from here on
    rig.settled()
    assert rig.bursts == [] and rig.field.text() == "04a1b2c3d4"


def test_an_over_long_flood_is_swallowed_and_reported(qtbot: Any) -> None:
    rig = Rig(qtbot, WedgeSettings(max_length=16))
    try:
        rig.type("x" * 40 + "\r", FAST)
        assert rig.rejected == [TOO_LONG] and rig.bursts == [] and rig.field.text() == ""
    finally:
        app = QApplication.instance()
        assert app is not None
        app.removeEventFilter(rig.filter)


def test_keys_sent_straight_to_a_widget_are_left_alone(rig: Rig) -> None:
    # Only a window's keys are watched: a key event another part of the program sends a widget passes.
    QTest.keyClicks(rig.field, "04a1b2c3d4")
    QTest.keyClick(rig.field, Qt.Key.Key_Return)
    assert rig.field.text() == "04a1b2c3d4" and rig.bursts == []


def test_the_window_systems_time_stamps_decide_by_default(qtbot: Any) -> None:
    """Without an injected clock the filter reads each key event's own time stamp (milliseconds)."""
    bursts: list[str] = []
    window = QWidget()
    field = QLineEdit(window)
    qtbot.addWidget(window)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    wedge = KeyboardWedgeFilter(WedgeSettings(), bursts.append)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.installEventFilter(wedge)
    handle = window.windowHandle()

    def press(char: str, at_ms: int) -> None:
        key = Qt.Key.Key_Return if char == "\r" else Qt.Key(ord(char.upper()))
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
            event.setTimestamp(at_ms)
            QApplication.sendEvent(handle, event)

    try:
        for n, char in enumerate("04a1b2c3d4\r"):
            press(char, 5_000 + 4 * n)  # 4 ms apart: a device
        assert bursts == ["04a1b2c3d4"] and field.text() == ""
        for n, char in enumerate("123456\r"):
            press(char, 9_000 + 200 * n)  # 200 ms apart: a person
        qtbot.waitUntil(lambda: not wedge.detector.holding)
        assert bursts == ["04a1b2c3d4"] and field.text() == "123456"
    finally:
        app.removeEventFilter(wedge)
