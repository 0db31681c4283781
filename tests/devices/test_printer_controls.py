"""The printer simulator's controls from outside: the demo's control API and the simulator panel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devices.base import DeviceState, ErrorAction, PrinterError, Receipt, ReceiptLine
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from kiosk.control_api import ControlApi
from kiosk.screens import IdleScreen

RECEIPT = Receipt("电费充值凭证", (ReceiptLine("金额", "¥100.00"),))


@pytest.fixture
def devices() -> Iterator[tuple[SimulatedCardReader, SimulatedQrScanner, SimulatedPrinter]]:
    reader, scanner, printer = SimulatedCardReader(), SimulatedQrScanner(), SimulatedPrinter(poll_s=0)
    for device in (reader, scanner, printer):
        device.open()
    yield reader, scanner, printer
    for device in (reader, scanner, printer):
        device.close()


@pytest.fixture
def api(devices: tuple[Any, Any, SimulatedPrinter]) -> Iterator[ControlApi]:
    control = ControlApi(*devices, lambda: IdleScreen())
    control.start()
    yield control
    control.stop()


def test_cover_and_drop_endpoints(api: ControlApi) -> None:
    printer = api.printer
    assert requests.post(f"{api.url}/printer/cover", json={"open": True}, timeout=5).ok
    assert printer.status.last_error == "cover_open" and printer.status.action is ErrorAction.CLEAR
    with pytest.raises(PrinterError, match="cover_open"):
        printer.print_receipt(RECEIPT)
    assert requests.post(f"{api.url}/printer/cover", json={"open": False}, timeout=5).ok
    assert printer.status.last_error is None
    assert requests.post(f"{api.url}/printer/drop", timeout=5).ok
    printer.print_receipt(RECEIPT)  # reconnected
    assert printer.simulator.connections_accepted == 2
    answer = requests.post(f"{api.url}/printer/cover", json={"open": "yes"}, timeout=5)
    assert answer.status_code == 400 and "open must be true or false" in answer.json()["error"]


def test_offline_endpoint_refuses_connections(api: ControlApi) -> None:
    assert requests.post(f"{api.url}/printer/offline", json={"offline": True}, timeout=5).ok
    assert api.printer.status.state is DeviceState.OFFLINE
    assert requests.post(f"{api.url}/printer/offline", json={"offline": False}, timeout=5).ok
    assert api.printer.status.state is DeviceState.ONLINE


def test_panel_cover_and_drop(qtbot: Any, devices: tuple[Any, Any, SimulatedPrinter]) -> None:
    from ui.sim_panel import SimulatorPanel

    reader, scanner, printer = devices
    panel = SimulatorPanel(reader, scanner, printer)
    qtbot.addWidget(panel)
    panel.cover.setChecked(True)
    assert "cover_open" in panel.printer_status.text()
    panel.cover.setChecked(False)
    printer.fail_after(5, "paper_out")
    with pytest.raises(PrinterError):
        printer.print_receipt(RECEIPT)
    panel.paper.setCurrentText("low")  # the panel's paper switch puts it right again
    panel.refresh()
    assert "spoiled receipts: 1" in panel.printer_status.text()
    panel.drop_connection()
    assert panel.message.text() == "Drop connection: done"
    printer.print_receipt(RECEIPT)
    assert len(printer.printed) == 1
