"""Simulated card reader, QR scanner and printer (module devices/simulators.py)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest
from PIL import Image

from devices.base import DeviceState, DeviceStatus, ErrorAction, PaperState, PrinterError, Receipt
from devices.escpos_receipt import ReceiptLayout, clean_text, receipt_bytes
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner

TIMEOUT = 5.0


class Recorder:
    """Collects listener calls with the thread they arrived on, and lets a test wait for a number of them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, int]] = []
        self._cond = threading.Condition()

    def __call__(self, kind: str, value: object = None) -> None:
        with self._cond:
            self.calls.append((kind, value, threading.get_ident()))
            self._cond.notify_all()

    def wait(self, count: int) -> list[tuple[str, object]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.calls) >= count, TIMEOUT), self.calls
            return [(kind, value) for kind, value, _ in self.calls]

    @property
    def threads(self) -> set[int]:
        with self._cond:
            return {thread for _, _, thread in self.calls}


@pytest.fixture
def reader() -> Iterator[SimulatedCardReader]:
    device = SimulatedCardReader()
    device.open()
    yield device
    device.close()


@pytest.fixture
def printer() -> Iterator[SimulatedPrinter]:
    device = SimulatedPrinter()
    device.open()
    yield device
    device.close()


def test_card_events_arrive_on_the_reader_thread_in_order(reader: SimulatedCardReader) -> None:
    events = Recorder()
    reader.set_listeners(lambda card: events("card", card), lambda: events("removed"))
    reader.insert("04A1B2C3D4")
    reader.remove()
    reader.insert("04A1B2C3D5")
    reader.insert("04A1B2C3D6")  # a second card replaces the first
    assert events.wait(5) == [
        ("card", "04A1B2C3D4"),
        ("removed", None),
        ("card", "04A1B2C3D5"),
        ("removed", None),
        ("card", "04A1B2C3D6"),
    ]
    assert threading.get_ident() not in events.threads
    assert reader.wait_idle(TIMEOUT)
    assert reader.status.card_present is True
    assert reader.card == "04A1B2C3D6"


def test_tap_reads_and_removes(reader: SimulatedCardReader) -> None:
    events = Recorder()
    reader.set_listeners(lambda card: events("card", card), lambda: events("removed"))
    reader.tap("04FFEEDDCC")
    assert events.wait(2) == [("card", "04FFEEDDCC"), ("removed", None)]
    assert reader.wait_idle(TIMEOUT)
    assert reader.status.card_present is False
    reader.remove()  # nothing to remove: no event
    assert reader.wait_idle(TIMEOUT)
    assert len(events.calls) == 2


def test_card_status_listener_sees_presence(reader: SimulatedCardReader) -> None:
    seen = Recorder()
    reader.add_status_listener(lambda status: seen("status", status))
    reader.insert("04A1B2C3D4")
    (_, status), *_ = seen.wait(1)
    assert isinstance(status, DeviceStatus) and status.card_present is True


def test_many_threads_inserting_lose_no_event(reader: SimulatedCardReader) -> None:
    events = Recorder()
    reader.set_listeners(lambda card: events("card", card), lambda: events("removed"))
    workers = [threading.Thread(target=lambda i=i: reader.tap(f"CARD{i:04d}")) for i in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT)
    calls = events.wait(40)
    assert sorted(str(value) for kind, value in calls if kind == "card") == [f"CARD{i:04d}" for i in range(20)]
    # Each tap's read is followed by its removal.
    assert [kind for kind, _ in calls] == ["card", "removed"] * 20


def test_a_failing_listener_does_not_stop_the_reader(reader: SimulatedCardReader) -> None:
    events = Recorder()

    def explode(card: str) -> None:
        events("card", card)
        raise RuntimeError("listener bug")

    reader.set_listeners(explode)
    reader.insert("A1")
    reader.insert("A2")
    assert events.wait(2) == [("card", "A1"), ("card", "A2")]


def test_closed_reader_refuses_cards() -> None:
    reader = SimulatedCardReader()
    assert reader.status.state is DeviceState.OFFLINE
    with pytest.raises(RuntimeError):
        reader.insert("04A1")
    reader.open()
    assert reader.status.state is DeviceState.ONLINE
    reader.close()
    reader.close()
    assert reader.status.state is DeviceState.OFFLINE
    with pytest.raises(RuntimeError):
        reader.remove()


def test_scans_arrive_on_the_scanner_thread() -> None:
    scanner = SimulatedQrScanner()
    scanner.open()
    try:
        events = Recorder()
        scanner.set_listener(lambda payload: events("scan", payload))
        scanner.scan("CPK:H:H3U2R501X7")
        scanner.scan("CPK:B:B202611000123")
        assert events.wait(2) == [("scan", "CPK:H:H3U2R501X7"), ("scan", "CPK:B:B202611000123")]
        assert threading.get_ident() not in events.threads
        assert scanner.wait_idle(TIMEOUT)
    finally:
        scanner.close()
    with pytest.raises(RuntimeError):
        scanner.scan("late")


def test_printer_keeps_bytes_parsed_and_text(printer: SimulatedPrinter, receipt: Receipt, receipt_url: str) -> None:
    printer.print_receipt(receipt)
    (printed,) = printer.wait_for_receipts(1, TIMEOUT)
    assert printed.receipt == receipt
    assert printed.data == receipt_bytes(receipt)
    assert printed.parsed.qr_payloads == [receipt_url]
    assert printed.parsed.cuts == 1
    for line in receipt.lines:
        assert clean_text(line.value) in printed.text
    assert printer.status.state is DeviceState.ONLINE
    assert printer.status.paper is PaperState.OK
    assert printer.paper_state() is PaperState.OK


def test_wait_for_receipts_wakes_when_another_thread_prints(printer: SimulatedPrinter, receipt: Receipt) -> None:
    def print_three() -> None:
        for _ in range(3):
            printer.print_receipt(receipt)

    worker = threading.Thread(target=print_three)
    worker.start()
    assert len(printer.wait_for_receipts(3, TIMEOUT)) == 3
    worker.join(TIMEOUT)


def test_wait_for_receipts_times_out(printer: SimulatedPrinter) -> None:
    with pytest.raises(TimeoutError, match="0 of 1"):
        printer.wait_for_receipts(1, timeout=0.01)


def test_paper_out_refuses_and_records_nothing(printer: SimulatedPrinter, receipt: Receipt) -> None:
    seen: list[DeviceStatus] = []
    printer.add_status_listener(seen.append)
    printer.set_paper(PaperState.OUT)
    assert seen[-1].paper is PaperState.OUT
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "paper_out"
    assert printer.status.paper is PaperState.OUT
    assert printer.status.last_error == "paper_out"
    assert printer.status.action is ErrorAction.CLEAR  # someone loads paper
    assert printer.printed == []
    printer.set_paper(PaperState.OK)
    printer.print_receipt(receipt)
    assert len(printer.printed) == 1
    assert printer.status.last_error is None


def test_paper_low_still_prints(printer: SimulatedPrinter, receipt: Receipt) -> None:
    printer.set_paper(PaperState.LOW)
    printer.print_receipt(receipt)
    assert len(printer.printed) == 1
    assert printer.status.paper is PaperState.LOW
    with pytest.raises(ValueError):
        printer.set_paper(PaperState.UNKNOWN)


def test_offline_refuses_and_records_nothing(printer: SimulatedPrinter, receipt: Receipt) -> None:
    printer.set_offline(True)
    assert printer.status.state is DeviceState.OFFLINE
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "offline"
    assert printer.status.state is DeviceState.OFFLINE
    assert printer.paper_state() is PaperState.UNKNOWN
    assert printer.printed == []
    printer.set_offline(False)
    assert printer.status.state is DeviceState.ONLINE
    printer.print_receipt(receipt)
    assert len(printer.printed) == 1


def test_closed_printer_is_offline(receipt: Receipt) -> None:
    printer = SimulatedPrinter()
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "offline"
    assert printer.printed == []


def test_narrow_simulated_printer(receipt: Receipt) -> None:
    printer = SimulatedPrinter(ReceiptLayout(columns=32))
    printer.open()
    printer.print_receipt(receipt)
    assert "-" * 32 in printer.printed[0].text.splitlines()
    assert printer.printed[0].data == receipt_bytes(receipt, ReceiptLayout(columns=32))
    printer.close()


def test_receipt_png(printer: SimulatedPrinter, receipt: Receipt) -> None:
    printer.print_receipt(receipt)
    buffer = io.BytesIO()
    printer.receipt_png(0, buffer)
    image = Image.open(io.BytesIO(buffer.getvalue()))
    assert image.width == 576
    assert image.convert("L").getextrema()[0] == 0  # something black was drawn


def test_a_listener_may_use_and_close_its_reader() -> None:
    reader = SimulatedCardReader()
    reader.open()
    events = Recorder()

    def on_card(card: str) -> None:
        events("card", card)
        if card == "first":
            reader.remove()  # from the device thread, while close() may be waiting
            reader.close()

    reader.set_listeners(on_card, lambda: events("removed"))
    reader.insert("first")
    assert events.wait(2) == [("card", "first"), ("removed", None)]
    assert reader.status.state is DeviceState.OFFLINE
