"""EscposPrinter over the memory and file transports, and its failure paths."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from escpos.printer import Dummy

from devices.base import DeviceState, DeviceStatus, ErrorAction, PaperState, PrinterError, Receipt
from devices.escpos_parser import parse
from devices.escpos_printer import EscposPrinter, layout_from_query
from devices.escpos_receipt import ReceiptLayout, receipt_bytes


def test_memory_printer_sends_the_receipt_bytes(receipt: Receipt) -> None:
    printer = EscposPrinter.from_url("memory:")
    seen: list[DeviceStatus] = []
    printer.add_status_listener(seen.append)
    printer.open()
    assert printer.status.state is DeviceState.ONLINE
    assert printer.paper_state() is PaperState.UNKNOWN
    assert printer.status.paper is PaperState.UNKNOWN
    printer.print_receipt(receipt)
    assert printer.take_output() == receipt_bytes(receipt)
    assert printer.take_output() == b""
    assert seen[0].state is DeviceState.ONLINE
    printer.close()
    printer.close()
    assert printer.status.state is DeviceState.OFFLINE


def test_columns_come_from_the_url(receipt: Receipt) -> None:
    printer = EscposPrinter.from_url("memory:?columns=32&qr_size=4")
    assert printer.layout == ReceiptLayout(columns=32, qr_module_size=4)
    printer.open()
    printer.print_receipt(receipt)
    assert printer.take_output() == receipt_bytes(receipt, ReceiptLayout(columns=32, qr_module_size=4))


def test_printing_before_open_fails_as_offline(receipt: Receipt) -> None:
    printer = EscposPrinter.memory()
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "offline"
    assert printer.take_output() == b""


def test_file_printer_appends_receipts(tmp_path: Path, receipt: Receipt) -> None:
    path = tmp_path / "printer.bin"
    path.write_bytes(b"")
    printer = EscposPrinter.from_url(f"file:{path}")
    printer.open()
    assert printer.status.state is DeviceState.ONLINE
    assert printer.paper_state() is PaperState.UNKNOWN
    printer.print_receipt(receipt)
    printer.close()
    printer.open()  # a restart must not lose what was printed before
    printer.print_receipt(receipt)
    printer.close()
    assert parse(path.read_bytes(), strict=True).cuts == 2


def test_file_url_with_three_slashes(tmp_path: Path, receipt: Receipt) -> None:
    printer = EscposPrinter.from_url(f"file://{tmp_path}/p%20q.bin")
    printer.open()
    printer.print_receipt(receipt)
    printer.close()
    assert (tmp_path / "p q.bin").read_bytes() == receipt_bytes(receipt)


def test_missing_device_shows_in_status_and_printing_fails(tmp_path: Path, receipt: Receipt) -> None:
    printer = EscposPrinter.from_url(f"file:{tmp_path}/no/such/dir/lp0")
    printer.open()
    assert printer.status.state is DeviceState.NO_DEVICE
    assert printer.status.action is ErrorAction.CONFIGURATION
    assert printer.status.last_error == "offline" and "cannot open" in printer.last_detail
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "offline"
    # The device appears (e.g. the USB printer is plugged in): the next receipt reconnects.
    (tmp_path / "no/such/dir").mkdir(parents=True)
    printer.print_receipt(receipt)
    assert printer.status.state is DeviceState.ONLINE
    assert (tmp_path / "no/such/dir/lp0").read_bytes() == receipt_bytes(receipt)


class _FlakyDummy(Dummy):
    """A transport whose writes fail until `fail` is cleared, like an unplugged USB printer."""

    fail = True

    def _raw(self, msg: bytes) -> None:
        if self.fail:
            raise OSError(5, "Input/output error")
        super()._raw(msg)


def test_write_failure_is_offline_and_recovers(receipt: Receipt) -> None:
    sink = _FlakyDummy()
    printer = EscposPrinter(lambda: sink, description="flaky")
    printer.open()
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "offline"
    assert printer.status.state is DeviceState.OFFLINE
    assert printer.status.action is ErrorAction.RESET
    sink.fail = False
    printer.print_receipt(receipt)
    assert printer.status.state is DeviceState.ONLINE
    assert printer.status.last_error is None
    assert sink.output == receipt_bytes(receipt)


class _StatusDummy(Dummy):
    """A memory transport that answers DLE EOT n from a table, as a printer with no paper does."""

    answers: ClassVar[dict[int, int]] = {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E}  # offline, paper-end stop, -, out

    def __init__(self) -> None:
        super().__init__()
        self._last = b""

    def _raw(self, msg: bytes) -> None:
        self._last = msg
        super()._raw(msg)

    def _read(self) -> bytes:
        return bytes([self.answers[self._last[-1]]]) if self._last[:2] == b"\x10\x04" else b""


def test_paper_out_from_a_transport_that_can_tell(receipt: Receipt) -> None:
    sink = _StatusDummy()
    printer = EscposPrinter(lambda: sink, can_query_status=True)
    printer.open()
    assert printer.paper_state() is PaperState.OUT
    assert printer.status.paper is PaperState.OUT
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "paper_out"
    assert printer.status.last_error == "paper_out"
    assert printer.status.action is ErrorAction.CLEAR
    assert receipt_bytes(receipt) not in sink.output  # only the status queries went out


def test_a_payload_too_big_for_the_command_is_a_printer_error() -> None:
    printer = EscposPrinter.memory()
    printer.open()
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(Receipt(title="x", lines=(), qr_data="x" * 70_000))
    assert error.value.reason == "error"
    assert printer.take_output() == b""


@pytest.mark.parametrize(
    "url", ["lpt:/dev/lp0", "memory:extra", "file:", "file://host/x", "memory:?columns=abc", "memory:?x=1"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        EscposPrinter.from_url(url)


def test_layout_query() -> None:
    assert layout_from_query("") == ReceiptLayout()
    assert layout_from_query("columns=42").columns == 42
    with pytest.raises(ValueError):
        layout_from_query("columns=4")
