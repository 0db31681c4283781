"""The developer panel drives the real simulators."""

from __future__ import annotations

import pytest

from devices.base import PaperState, Receipt, ReceiptLine
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from ui.qt import Qt
from ui.sim_panel import SimulatorPanel


@pytest.fixture
def devices():
    reader, scanner, printer = SimulatedCardReader(), SimulatedQrScanner(), SimulatedPrinter()
    for device in (reader, scanner, printer):
        device.open()
    yield reader, scanner, printer
    for device in (reader, scanner, printer):
        device.close()


@pytest.fixture
def panel(qtbot, devices):
    reader, scanner, printer = devices
    panel = SimulatorPanel(
        reader, scanner, printer, [("04A1B2C3D4", "3-2-501", "王")], [("CPK:H:H3U2R501X7", "house 3-2-501")]
    )
    qtbot.addWidget(panel)
    return panel


def test_insert_and_remove_a_card(qtbot, panel, devices):
    reader, _, _ = devices
    events: list[str] = []
    reader.set_listeners(events.append, lambda: events.append("removed"))
    panel.insert_card()
    qtbot.waitUntil(lambda: events == ["04A1B2C3D4"], timeout=2000)
    panel.remove_card()
    qtbot.waitUntil(lambda: events == ["04A1B2C3D4", "removed"], timeout=2000)


def test_scan_a_listed_or_typed_code(qtbot, panel, devices):
    _, scanner, _ = devices
    scans: list[str] = []
    scanner.set_listener(scans.append)
    panel.scan_listed()
    panel.payload.setText("garbage")
    qtbot.keyClick(panel.payload, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: scans == ["CPK:H:H3U2R501X7", "garbage"], timeout=2000)


def test_paper_and_offline_switches(panel, devices):
    _, _, printer = devices
    panel.paper.setCurrentText("out")
    assert printer.paper_state() is PaperState.OUT
    panel.offline.setChecked(True)
    assert printer.paper_state() is PaperState.UNKNOWN
    assert "offline" in panel.printer_status.text()


def test_printed_receipts_are_listed_with_text_and_image(panel, devices):
    _, _, printer = devices
    printer.print_receipt(Receipt("电费充值", (ReceiptLine("金额", "¥100.00"),)))
    panel.refresh()
    assert panel.receipts.count() == 1
    assert "100.00" in panel.receipt_text.toPlainText()
    pixmap = panel.receipt_image.pixmap()
    assert pixmap is not None and not pixmap.isNull()


def test_a_closed_device_is_reported_not_raised(panel, devices):
    reader, _, _ = devices
    reader.close()
    panel.insert_card()
    assert "failed" in panel.message.text()
