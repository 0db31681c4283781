"""The network adapter against the TCP simulator: every fault before and in the middle of a receipt.

`SimulatedPrinter` is the real `EscposPrinter` over python-escpos's Network transport; the faults are made by
the simulator on the wire (`fail_after` strikes after a number of bytes of the receipt).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from devices.base import DeviceState, DeviceStatus, ErrorAction, PaperState, PrinterError, Receipt
from devices.escpos_printer import EscposPrinter
from devices.escpos_receipt import receipt_bytes
from devices.escpos_status import Paper
from devices.simulators import SimulatedPrinter

TIMEOUT = 5.0


@pytest.fixture
def printer() -> Iterator[SimulatedPrinter]:
    device = SimulatedPrinter(poll_s=0)  # no background checks: each test decides when the printer is asked
    device.open()
    yield device
    device.close()


# fault -> (PrinterError reason, state, last_error, action, how to put it right)
FAULTS = {
    "paper_out": ("paper_out", DeviceState.ONLINE, "paper_out", ErrorAction.CLEAR,
                  lambda p: p.set_paper(PaperState.OK)),
    "cover_open": ("cover_open", DeviceState.ONLINE, "cover_open", ErrorAction.CLEAR,
                   lambda p: p.set_cover_open(False)),
    "drop": ("offline", DeviceState.OFFLINE, "offline", ErrorAction.RESET, lambda p: None),
    "offline": ("offline", DeviceState.OFFLINE, "offline", ErrorAction.RESET, lambda p: p.set_offline(False)),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_in_the_middle_of_a_receipt(printer: SimulatedPrinter, receipt: Receipt, fault: str) -> None:
    reason, state, last_error, action, put_right = FAULTS[fault]
    half = len(receipt_bytes(receipt, printer.layout)) // 2
    printer.fail_after(half, fault)
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == reason
    assert (printer.status.state, printer.status.last_error, printer.status.action) == (state, last_error, action)
    assert printer.printed == []
    (torn,) = printer.spoiled
    assert torn.parsed.cuts == 0 and 0 < len(torn.data) <= half  # half a receipt came out, uncut
    put_right(printer)
    printer.print_receipt(receipt)  # the same receipt again: whole this time
    (printed,) = printer.wait_for_receipts(1, TIMEOUT)
    assert printed.receipt == receipt and printed.data == receipt_bytes(receipt, printer.layout)
    assert printer.status == DeviceStatus(DeviceState.ONLINE, PaperState.OK, None, None, ErrorAction.NONE)


@pytest.mark.parametrize(
    ("make_fault", "reason", "action"),
    [
        (lambda p: p.set_paper(PaperState.OUT), "paper_out", ErrorAction.CLEAR),
        (lambda p: p.set_cover_open(True), "cover_open", ErrorAction.CLEAR),
        (lambda p: p.set_offline(True), "offline", ErrorAction.RESET),
    ],
)
def test_a_printer_that_cannot_print_refuses_before_sending_anything(
    printer: SimulatedPrinter, receipt: Receipt, make_fault, reason: str, action: ErrorAction
) -> None:
    make_fault(printer)
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == reason and printer.status.action is action
    assert printer.printed == [] and printer.spoiled == []  # not a byte of the receipt went out


def test_unplugged_is_offline_and_says_the_connection_was_refused(printer: SimulatedPrinter, receipt: Receipt) -> None:
    printer.set_offline(True)
    assert printer.status.state is DeviceState.OFFLINE and printer.status.paper is PaperState.UNKNOWN
    with pytest.raises(PrinterError, match="offline"):
        printer.print_receipt(receipt)
    assert "refused" in printer.last_detail.lower()
    printer.set_offline(False)
    assert printer.status.state is DeviceState.ONLINE


def test_low_paper_prints_and_says_so(printer: SimulatedPrinter, receipt: Receipt) -> None:
    printer.simulator.set_paper(Paper.LOW)
    printer.print_receipt(receipt)
    assert len(printer.printed) == 1
    assert printer.status.paper is PaperState.LOW and printer.status.last_error is None


def test_paper_out_at_the_last_byte_spoils_the_receipt(printer: SimulatedPrinter, receipt: Receipt) -> None:
    data = receipt_bytes(receipt, printer.layout)
    printer.fail_after(len(data) - 1, "paper_out")  # inside the cut command: printed, but never cut
    with pytest.raises(PrinterError, match="paper_out"):
        printer.print_receipt(receipt)
    (torn,) = printer.spoiled
    assert torn.data == data[:-1] and torn.parsed.cuts == 0 and printer.printed == []


def test_paper_out_right_after_a_receipt_strikes_the_next_one(printer: SimulatedPrinter, receipt: Receipt) -> None:
    printer.fail_after(len(receipt_bytes(receipt, printer.layout)), "paper_out")  # at the next receipt's first byte
    printer.print_receipt(receipt)
    assert len(printer.printed) == 1
    with pytest.raises(PrinterError, match="paper_out"):
        printer.print_receipt(receipt)
    (torn,) = printer.spoiled
    assert torn.data == b"" and len(printer.printed) == 1


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A printer that takes the connection and never answers (a hung network printer)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server.getsockname()[1]
    server.close()


def test_a_printer_that_does_not_answer_is_offline_within_the_timeout(silent_port: int, receipt: Receipt) -> None:
    printer = EscposPrinter.from_url(f"tcp://127.0.0.1:{silent_port}?timeout_s=0.2&poll_s=0")
    printer.open()
    started = time.monotonic()
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert time.monotonic() - started < 2.0  # one timeout (and one fresh try at most), never a hang
    assert error.value.reason == "offline"
    assert printer.status.state is DeviceState.OFFLINE and printer.status.action is ErrorAction.RESET
    printer.close()


class StatusLog:
    """Status changes with the thread each arrived on; waits for one that matches."""

    def __init__(self) -> None:
        self.seen: list[tuple[DeviceStatus, str]] = []
        self._cond = threading.Condition()

    def __call__(self, status: DeviceStatus) -> None:
        with self._cond:
            self.seen.append((status, threading.current_thread().name))
            self._cond.notify_all()

    def wait(self, predicate) -> tuple[DeviceStatus, str]:
        with self._cond:
            assert self._cond.wait_for(lambda: any(predicate(s) for s, _ in self.seen), TIMEOUT), self.seen
            return next((s, t) for s, t in self.seen if predicate(s))


def test_the_status_thread_notices_changes_before_anyone_prints(receipt: Receipt) -> None:
    before = set(threading.enumerate())
    printer = SimulatedPrinter(poll_s=0.05)
    log = StatusLog()
    printer.add_status_listener(log)
    printer.open()
    try:
        log.wait(lambda s: s.state is DeviceState.ONLINE and s.paper is PaperState.OK)
        printer.simulator.set_paper(Paper.LOW)  # behind the adapter's back: only polling can see it
        _status, thread = log.wait(lambda s: s.paper is PaperState.LOW)
        assert thread == "printer-status"
        printer.simulator.set_cover_open(True)
        log.wait(lambda s: s.last_error == "cover_open" and s.action is ErrorAction.CLEAR)
        printer.simulator.set_cover_open(False)
        printer.simulator.set_offline(True)
        log.wait(lambda s: s.state is DeviceState.OFFLINE and s.action is ErrorAction.RESET)
        printer.simulator.set_offline(False)  # plugged back in: reconnected by the status thread
        log.wait(lambda s: s.state is DeviceState.ONLINE and s.last_error is None and s is log.seen[-1][0])
        for _ in range(10):  # printing while the status thread polls: they never interleave on the wire
            printer.print_receipt(receipt)
        assert len(printer.wait_for_receipts(10, TIMEOUT)) == 10
        assert all(p.data == receipt_bytes(receipt, printer.layout) for p in printer.printed)
    finally:
        printer.close()
    assert set(threading.enumerate()) <= before  # the status thread and the simulator's are gone


def test_open_never_waits_for_the_printer(silent_port: int) -> None:
    printer = EscposPrinter.from_url(f"tcp://127.0.0.1:{silent_port}?timeout_s=1&poll_s=10")
    started = time.monotonic()
    printer.open()
    assert time.monotonic() - started < 0.5  # the status thread connects and asks, not the caller
    printer.close()
