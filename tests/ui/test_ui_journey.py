"""Whole journeys through the real widgets, the real core and the real HQ on loopback, with simulated devices.

The resident's phone is played by requests: it opens the payment QR's URL (the sandbox checkout page) and pays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from devices.base import PaperState
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from hq.seed import MAIN_HOUSE, MAIN_LAST_RECHARGE_FEN, NEW_HOUSE
from hq.server import HqServer
from kiosk.app import Terminal
from kiosk.screens import AmountScreen, HouseNumberScreen, IdleScreen, OverviewScreen, PaymentScreen, ResultScreen
from offline_queue.states import TxState
from ui.main_window import MainWindow
from ui.qt import Qt

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def kiosk(start_kiosk: Callable[..., tuple[Terminal, MainWindow]], hq: HqServer) -> tuple[Terminal, MainWindow]:
    return start_kiosk({
        "terminal": {"id": "T-UI-TEST"},
        "hq": {"url": hq.base_url, "connect_timeout_s": 1.0, "read_timeout_s": 3.0},
        "ui": {"fullscreen": False, "orientation": "landscape", "language": "zh_CN"},
        "payment": {"poll_interval_s": 0.1},
    })


def showing(window: MainWindow, kind: type) -> bool:
    return window.current_view is window.views[kind] and isinstance(window.journey.screen, kind)


def pay_from_phone(pay_url: str, action: str = "pay") -> None:
    assert requests.get(pay_url, timeout=5).status_code == 200
    answer = requests.post(f"{pay_url}/{action}", headers={"Accept": "application/json"}, timeout=5)
    assert answer.status_code == 200


def test_repeat_recharge_card_plus_one_touch(qtbot: Any, kiosk: tuple[Terminal, MainWindow]) -> None:
    terminal, window = kiosk
    reader, printer = terminal.devices.card_reader, terminal.devices.printer
    assert isinstance(reader, SimulatedCardReader) and isinstance(printer, SimulatedPrinter)
    assert showing(window, IdleScreen)

    reader.insert(MAIN_HOUSE.card_id)  # from the reader's own thread, like real hardware
    qtbot.waitUntil(lambda: showing(window, OverviewScreen), timeout=10_000)
    overview = window.views[OverviewScreen]
    assert overview.quick.isVisible() and "100.00" in overview.quick.text()
    touches = 0

    qtbot.mouseClick(overview.quick, LEFT)
    touches += 1
    qtbot.waitUntil(lambda: showing(window, PaymentScreen), timeout=10_000)
    payment_view = window.views[PaymentScreen]
    pay_url = payment_view.qr.data
    assert pay_url.startswith(terminal.config.hq.url) and pay_url == window.journey.screen.pay_url  # type: ignore[union-attr]

    pay_from_phone(pay_url)
    qtbot.waitUntil(lambda: showing(window, ResultScreen), timeout=10_000)
    printer.wait_for_receipts(1, timeout=10)
    receipt = printer.printed[0]
    assert "电费充值凭证" in receipt.text and window.journey.screen.order_no in receipt.text  # type: ignore[union-attr]
    assert f"{MAIN_LAST_RECHARGE_FEN // 100}.00" in receipt.text
    assert touches <= 2

    record = terminal.store.last_for_house(MAIN_HOUSE.house_id)
    assert record is not None and record.state is TxState.PAID

    result = window.views[ResultScreen]
    qtbot.mouseClick(result.done, LEFT)
    qtbot.waitUntil(lambda: showing(window, IdleScreen), timeout=5_000)
    assert payment_view.qr.data == ""  # nothing of the resident stays behind on any screen


def test_house_number_typed_on_the_keypad_then_a_preset(qtbot: Any, kiosk: tuple[Terminal, MainWindow]) -> None:
    terminal, window = kiosk
    idle = window.views[IdleScreen]
    qtbot.mouseClick(idle.house_number, LEFT)
    qtbot.waitUntil(lambda: showing(window, HouseNumberScreen))
    entry = window.views[HouseNumberScreen]
    building, unit, room = NEW_HOUSE.number.split("-")
    for field, digits in zip(("building", "unit", "room"), (building, unit, room), strict=True):
        qtbot.mouseClick(entry.boxes[field], LEFT)
        for digit in digits:
            qtbot.mouseClick(entry.keypad.keys[digit], LEFT)
    qtbot.mouseClick(entry.find_home, LEFT)
    qtbot.waitUntil(lambda: showing(window, OverviewScreen), timeout=10_000)
    overview = window.views[OverviewScreen]
    assert not overview.quick.isVisible()  # this house never recharged: nothing to repeat

    qtbot.mouseClick(overview.other, LEFT)
    qtbot.waitUntil(lambda: showing(window, AmountScreen))
    amount = window.views[AmountScreen]
    for digit in "5":
        qtbot.mouseClick(amount.keypad.keys[digit], LEFT)
    qtbot.mouseClick(amount.pay, LEFT)  # ¥5 is below the minimum
    qtbot.waitUntil(lambda: window.journey.screen.notice is not None)  # type: ignore[union-attr]
    assert amount.notice.isVisible()
    assert amount.display.text() == "¥0.00" and not amount.pay.isEnabled()  # cleared for a fresh try
    for digit in "50":
        qtbot.mouseClick(amount.keypad.keys[digit], LEFT)
    qtbot.mouseClick(amount.pay, LEFT)
    qtbot.waitUntil(lambda: showing(window, PaymentScreen), timeout=10_000)
    assert window.journey.screen.amount_fen == 5000  # type: ignore[union-attr]

    qtbot.mouseClick(window.views[PaymentScreen].cancel, LEFT)
    qtbot.waitUntil(lambda: showing(window, ResultScreen), timeout=10_000)
    record = terminal.store.last_for_house(NEW_HOUSE.house_id)
    assert record is not None and record.state is TxState.CANCELLED


def test_bad_scan_and_paper_out_through_the_widgets(qtbot: Any, kiosk: tuple[Terminal, MainWindow]) -> None:
    terminal, window = kiosk
    scanner, printer = terminal.devices.qr_scanner, terminal.devices.printer
    assert isinstance(scanner, SimulatedQrScanner) and isinstance(printer, SimulatedPrinter)
    scanner.scan("\x00\xff garbage that is not ours")
    qtbot.waitUntil(lambda: window.journey.screen.notice is not None)  # type: ignore[union-attr]
    assert showing(window, IdleScreen) and window.views[IdleScreen].isVisible()

    printer.set_paper(PaperState.OUT)
    scanner.scan(f"CPK:H:{MAIN_HOUSE.house_code}")
    qtbot.waitUntil(lambda: showing(window, OverviewScreen), timeout=10_000)
    qtbot.mouseClick(window.views[OverviewScreen].quick, LEFT)
    qtbot.waitUntil(lambda: showing(window, PaymentScreen), timeout=10_000)
    pay_from_phone(window.views[PaymentScreen].qr.data)
    qtbot.waitUntil(
        lambda: showing(window, ResultScreen) and window.journey.screen.receipt.value == "paper_out",  # type: ignore[union-attr]
        timeout=10_000,
    )
    result = window.views[ResultScreen]
    assert result.findChildren(type(window.views[PaymentScreen].qr))  # the electronic receipt's QR is offered
    assert printer.printed == []
