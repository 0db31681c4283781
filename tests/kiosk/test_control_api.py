"""The demo's loopback control API drives the simulators and reports the screen."""

from collections.abc import Iterator
from queue import Queue

import pytest
import requests

from devices.base import PaperState, Receipt, ReceiptLine
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from kiosk.control_api import ControlApi
from kiosk.screens import IdleScreen, Notice


@pytest.fixture
def api() -> Iterator[ControlApi]:
    reader, scanner, printer = SimulatedCardReader(), SimulatedQrScanner(), SimulatedPrinter()
    for device in (reader, scanner, printer):
        device.open()
    control = ControlApi(reader, scanner, printer, lambda: IdleScreen(notice=Notice.UNKNOWN_CARD))
    control.start()
    yield control
    control.stop()
    for device in (reader, scanner, printer):
        device.close()


def test_card_and_scan_reach_the_listeners(api: ControlApi) -> None:
    events: Queue[tuple[str, str]] = Queue()
    api.card_reader.set_listeners(lambda card: events.put(("card", card)), lambda: events.put(("removed", "")))
    api.qr_scanner.set_listener(lambda payload: events.put(("scan", payload)))
    assert requests.post(f"{api.url}/card/insert", json={"card_id": "04A1B2C3D4"}, timeout=5).ok
    assert requests.post(f"{api.url}/card/remove", timeout=5).ok
    assert requests.post(f"{api.url}/qr/scan", json={"payload": "garbage \x00"}, timeout=5).ok
    received = [events.get(timeout=5) for _ in range(3)]
    assert received == [("card", "04A1B2C3D4"), ("removed", ""), ("scan", "garbage \x00")]


def test_state_and_printer_controls(api: ControlApi) -> None:
    state = requests.get(f"{api.url}/state", timeout=5).json()
    assert state["screen"]["kind"] == "IdleScreen" and state["screen"]["notice"] == "unknown_card"
    assert requests.post(f"{api.url}/printer/paper", json={"state": "low"}, timeout=5).ok
    assert api.printer.paper_state() is PaperState.LOW
    api.printer.print_receipt(Receipt("电费充值凭证", (ReceiptLine("金额", "¥100.00"),)))
    receipts = requests.get(f"{api.url}/printer/receipts", timeout=5).json()["receipts"]
    assert len(receipts) == 1 and "电费充值凭证" in receipts[0]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/card/insert", {}, 400),
        ("/card/insert", {"card_id": 7}, 400),
        ("/printer/paper", {"state": "wet"}, 400),
        ("/printer/offline", {"offline": "yes"}, 400),
        ("/nowhere", {}, 404),
    ],
)
def test_bad_requests_are_refused_clearly(api: ControlApi, path: str, body: dict[str, object], status: int) -> None:
    answer = requests.post(f"{api.url}{path}", json=body, timeout=5)
    assert answer.status_code == status and answer.json()["error"]


def test_not_json_and_closed_devices(api: ControlApi) -> None:
    answer = requests.post(f"{api.url}/qr/scan", data=b"{not json", timeout=5)
    assert answer.status_code == 400
    api.card_reader.close()
    answer = requests.post(f"{api.url}/card/insert", json={"card_id": "04A1B2C3D4"}, timeout=5)
    assert answer.status_code == 409
