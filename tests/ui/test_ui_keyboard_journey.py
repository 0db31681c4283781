"""Journeys started by keyboard-wedge devices, through the real key stream, widgets, core and HQ on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtTest import QTest

from devices.keyboard_wedge import KeyboardCardReader, KeyboardQrScanner
from hq.seed import MAIN_HOUSE, NEW_HOUSE
from hq.server import HqServer
from kiosk.app import Terminal
from kiosk.config import config_from_mapping
from kiosk.screens import IdleScreen, OverviewScreen
from ui.bridge import QtDispatcher, QtTimers
from ui.keyboard_wedge import KeyboardWedgeFilter, install
from ui.main_window import MainWindow
from ui.qt import QApplication, Qt


@pytest.fixture
def kiosk(qtbot: Any, tmp_path: Path, hq: HqServer) -> Iterator[tuple[Terminal, MainWindow, KeyboardWedgeFilter]]:
    config = config_from_mapping(
        {
            "terminal": {"id": "T-UI-KEYBOARD"},
            "hq": {"url": hq.base_url, "connect_timeout_s": 1.0, "read_timeout_s": 3.0},
            "ui": {"fullscreen": False, "orientation": "landscape", "language": "zh_CN"},
            "devices": {"card_reader": "keyboard:", "qr_scanner": "keyboard:?min_length=8"},
            "storage": {"database": str(tmp_path / "terminal.db")},
        }
    )
    terminal = Terminal(config, QtDispatcher().dispatch, QtTimers())
    window = MainWindow(terminal.journey, config, terminal.translator)
    qtbot.addWidget(window)
    terminal.start()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    wedge = install(app, terminal.keyboard)  # as ui/main.py does for a configured keyboard device
    assert wedge is not None
    window.present()
    QTest.qWaitForWindowExposed(window)
    yield terminal, window, wedge
    app.removeEventFilter(wedge)
    terminal.stop()


def device_types(window: MainWindow, text: str) -> None:
    """What a wedge device does: each character as a key press into the active window, then Enter. QTest's
    window-system time stamps advance a millisecond or so per key, a device's pace."""
    handle = window.windowHandle()
    for char in text:
        QTest.keyClick(handle, char)
    QTest.keyClick(handle, Qt.Key.Key_Return)


def showing_house(window: MainWindow, house_id: str) -> bool:
    screen = window.journey.screen
    return isinstance(screen, OverviewScreen) and screen.overview.house.house_id == house_id


def test_a_card_typed_by_a_keyboard_reader_starts_the_journey(
    qtbot: Any, kiosk: tuple[Terminal, MainWindow, KeyboardWedgeFilter]
) -> None:
    terminal, window, wedge = kiosk
    assert isinstance(terminal.devices.card_reader, KeyboardCardReader)
    assert isinstance(terminal.devices.qr_scanner, KeyboardQrScanner)
    assert isinstance(window.journey.screen, IdleScreen)

    device_types(window, MAIN_HOUSE.card_id.lower())  # the reader types hex in lower case; ids are upper case
    qtbot.waitUntil(lambda: showing_house(window, MAIN_HOUSE.house_id), timeout=10_000)
    assert window.current_view is window.views[OverviewScreen]
    assert not wedge.detector.holding

    # Home, then the door QR through the keyboard scanner: routed by what it says.
    window.header.home_clicked.emit()
    qtbot.waitUntil(lambda: isinstance(window.journey.screen, IdleScreen), timeout=5_000)
    device_types(window, f"CPK:H:{NEW_HOUSE.house_code}")
    qtbot.waitUntil(lambda: showing_house(window, NEW_HOUSE.house_id), timeout=10_000)
