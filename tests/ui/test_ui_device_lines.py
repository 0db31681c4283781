"""A device that is down is not offered on the idle screen; the demo panel pulls the serial cables."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devices.base import DeviceState
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from kiosk.app import Terminal
from kiosk.screens import IdleScreen, Notice
from ui.main_window import MainWindow
from ui.screens.idle import IdleView
from ui.sim_panel import SimulatorPanel

WAIT_MS = 5_000


def test_the_idle_screen_offers_only_working_devices(window: MainWindow, journey: Any) -> None:
    journey.emit(IdleScreen())
    view = window.current_view
    assert isinstance(view, IdleView)
    assert view.card_tile.isVisible() and view.qr_tile.isVisible() and view.house_number.isVisible()
    assert view.prompt.text() == "Start in one of three ways:"
    journey.emit(IdleScreen(card_reader_ready=False))
    assert not view.card_tile.isVisible() and view.qr_tile.isVisible()
    assert view.prompt.text() == "Start in one of two ways:"
    journey.emit(IdleScreen(qr_scanner_ready=False))
    assert view.card_tile.isVisible() and not view.qr_tile.isVisible()
    journey.emit(IdleScreen(card_reader_ready=False, qr_scanner_ready=False))
    assert not view.card_tile.isVisible() and not view.qr_tile.isVisible() and view.house_number.isVisible()
    assert view.prompt.text() == "Start by typing your house number:"
    journey.emit(IdleScreen())
    assert view.card_tile.isVisible() and view.qr_tile.isVisible()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def kiosk(start_kiosk: Callable[..., tuple[Terminal, MainWindow]]) -> tuple[Terminal, MainWindow]:
    return start_kiosk({
        # Nothing answers there: this test is about devices, and the terminal works without HQ.
        "hq": {"url": f"http://127.0.0.1:{unused_port()}", "connect_timeout_s": 0.2},
        "ui": {"fullscreen": False, "orientation": "landscape", "language": "en"},
        "devices": {"reconnect_initial_s": 0.01, "reconnect_max_s": 0.05},
    })


def test_an_unplugged_reader_is_not_offered_until_it_is_back(
    qtbot: Any, kiosk: tuple[Terminal, MainWindow]
) -> None:
    terminal, window = kiosk
    reader, scanner = terminal.devices.card_reader, terminal.devices.qr_scanner
    assert isinstance(reader, SimulatedCardReader) and isinstance(scanner, SimulatedQrScanner)
    idle = window.views[IdleScreen]
    assert isinstance(idle, IdleView)
    qtbot.waitUntil(lambda: window.current_view is idle and idle.card_tile.isVisible(), timeout=WAIT_MS)

    reader.unplug()
    qtbot.waitUntil(lambda: not idle.card_tile.isVisible(), timeout=WAIT_MS)
    assert reader.status.state in (DeviceState.OFFLINE, DeviceState.NO_DEVICE)
    assert idle.qr_tile.isVisible() and idle.house_number.isVisible()
    assert not window.journey.screen.card_reader_ready  # type: ignore[union-attr]

    scanner.unplug()
    qtbot.waitUntil(lambda: not idle.qr_tile.isVisible(), timeout=WAIT_MS)
    assert idle.prompt.text() == "Start by typing your house number:"

    reader.replug()
    scanner.replug()
    qtbot.waitUntil(lambda: idle.card_tile.isVisible() and idle.qr_tile.isVisible(), timeout=WAIT_MS)
    assert window.journey.screen == IdleScreen(online=window.journey.screen.online, language="en")  # type: ignore[union-attr]


def test_an_unreadable_scan_says_so(qtbot: Any, kiosk: tuple[Terminal, MainWindow]) -> None:
    terminal, window = kiosk
    scanner = terminal.devices.qr_scanner
    assert isinstance(scanner, SimulatedQrScanner)
    scanner.scan("Q" * 2000)  # longer than any code the scanner passes on
    qtbot.waitUntil(lambda: getattr(window.journey.screen, "notice", None) is Notice.QR_UNREADABLE, timeout=WAIT_MS)


@pytest.fixture
def devices() -> Iterator[tuple[SimulatedCardReader, SimulatedQrScanner, SimulatedPrinter]]:
    reader, scanner, printer = SimulatedCardReader(), SimulatedQrScanner(), SimulatedPrinter()
    for device in (reader, scanner, printer):
        device.open()
    yield reader, scanner, printer
    for device in (reader, scanner, printer):
        device.close()


def test_the_panel_pulls_and_puts_back_each_serial_line(
    qtbot: Any, devices: tuple[SimulatedCardReader, SimulatedQrScanner, SimulatedPrinter]
) -> None:
    reader, scanner, printer = devices
    panel = SimulatorPanel(reader, scanner, printer)
    qtbot.addWidget(panel)
    for which, device, status in (("card_reader", reader, panel.card_status), ("qr_scanner", scanner, panel.qr_status)):
        panel.line_buttons[(which, "Unplug")].click()
        assert "done" in panel.message.text()
        qtbot.waitUntil(lambda device=device: device.status.state is not DeviceState.ONLINE, timeout=WAIT_MS)
        panel.line_buttons[(which, "Send garbage")].click()  # nothing to send it on: no harm done
        panel.line_buttons[(which, "Replug")].click()
        qtbot.waitUntil(lambda device=device: device.status.state is DeviceState.ONLINE, timeout=WAIT_MS)
        panel.line_buttons[(which, "Send garbage")].click()
        assert "256 garbage bytes" in panel.message.text()
        panel.refresh()
        assert "state:" in status.text()
