"""Printer URLs and each python-escpos transport end to end: the bytes that reach the printer are the golden ones.

The serial printer is a pseudo-terminal whose other end answers DLE EOT like a printer; the network printer is
the TCP simulator. Every transport carries the same ESC/POS stream: no transport adds framing of its own.
"""

from __future__ import annotations

import os
import pty
import select
import threading
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_escpos_receipt import GOLDEN_LAYOUTS, read_golden

from devices.base import DeviceState, ErrorAction, PaperState, PrinterError, Receipt
from devices.escpos_printer import EscposPrinter
from devices.escpos_status import OfflineCause, Paper, encode_offline_cause, encode_paper, encode_printer_status
from devices.escpos_transports import parse_printer_url
from devices.factory import make_printer
from devices.printer_sim import PrinterSimulator, complete_commands

TIMEOUT = 5.0


@pytest.mark.parametrize(
    ("url", "description", "reads"),
    [
        ("tcp://192.168.1.87", "tcp://192.168.1.87:9100", True),
        ("tcp://printer.lobby:9101?timeout_s=1.5", "tcp://printer.lobby:9101", True),
        ("serial:/dev/ttyS0?baud=19200", "serial:/dev/ttyS0?baud=19200", True),
        ("serial:COM3?baud=9600&flow=rtscts", "serial:COM3?baud=9600", True),
        ("usb:0x0416:0x5011", "usb:0x0416:0x5011", True),
        ("usb:1046:20497?in_ep=0x81&out_ep=0x02", "usb:0x0416:0x5011", True),
        ("file:/dev/usb/lp0", "file:/dev/usb/lp0", False),
        ("memory:", "memory:", False),
    ],
)
def test_accepted_urls(url: str, description: str, reads: bool) -> None:
    transport, _options = parse_printer_url(url)
    assert transport.description == description and transport.reads is reads


def test_options_shared_by_every_url() -> None:
    _, options = parse_printer_url("tcp://10.0.0.5?columns=32&qr_size=4&qr=image&poll_s=0&timeout_s=0.5")
    assert (options.layout.columns, options.layout.qr_module_size, options.layout.qr_mode) == (32, 4, "image")
    assert (options.poll_s, options.timeout_s) == (0, 0.5)
    # A profile without the printer's QR command prints the QR as an image unless told otherwise.
    assert parse_printer_url("tcp://10.0.0.5?profile=ZJ-5870")[1].layout.qr_mode == "image"
    assert parse_printer_url("tcp://10.0.0.5?profile=TM-T88V")[1].layout.qr_mode == "native"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tcp://", "tcp://host"),
        ("tcp://host:99999", "invalid port"),
        ("tcp://host/path", "tcp://host"),
        ("serial:", "no port"),
        ("serial:/dev/ttyS0?baud=12345", "baud rate"),
        ("serial:/dev/ttyS0?flow=magic", "flow control"),
        ("serial:/dev/ttyS0?parity=E", "unknown printer option 'parity'"),
        ("usb:0x0416", "usb:VENDOR:PRODUCT"),
        ("usb:0x0416:zz", "whole number"),
        ("usb:0x0416:0x5011?out_ep=0x100", "out_ep"),
        ("tcp://h?qr=laser", "qr must be one of native, image"),
        ("tcp://h?profile=NoSuchPrinter", "unknown python-escpos printer profile"),
        ("tcp://h?poll_s=-1", "poll_s"),
        ("tcp://h?timeout_s=0", "timeout_s"),
        ("lpt:1", "accepted: tcp://host[:9100], serial:/dev/ttyS0?baud=19200"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=None) as error:
        EscposPrinter.from_url(url)
    assert says in str(error.value)


def test_the_factory_validates_at_start_and_lists_the_forms() -> None:
    with pytest.raises(ValueError) as error:
        make_printer("serial:/dev/ttyS0?baud=fast")
    assert "whole number" in str(error.value) and "accepted receipt printer forms" in str(error.value)
    assert isinstance(make_printer("tcp://127.0.0.1:9"), EscposPrinter)


# ---- the same bytes over every transport -----------------------------------------------------------------


def _expected(name: str) -> bytes:
    return read_golden(name)


@pytest.fixture(params=list(GOLDEN_LAYOUTS))
def golden(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _query(layout_name: str) -> str:
    layout = GOLDEN_LAYOUTS[layout_name]
    return f"columns={layout.columns}&qr={layout.qr_mode}"


def test_memory_transport_bytes(receipt: Receipt, golden: str) -> None:
    printer = EscposPrinter.from_url(f"memory:?{_query(golden)}")
    printer.open()
    printer.print_receipt(receipt)
    assert printer.take_output() == _expected(golden)


def test_file_transport_bytes(tmp_path: Path, receipt: Receipt, golden: str) -> None:
    path = tmp_path / "lp0"
    printer = EscposPrinter.from_url(f"file:{path}?{_query(golden)}")
    printer.open()
    printer.print_receipt(receipt)
    printer.close()
    assert path.read_bytes() == _expected(golden)


def test_network_transport_bytes(receipt: Receipt, golden: str) -> None:
    with PrinterSimulator() as simulator:
        printer = EscposPrinter.from_url(f"tcp://127.0.0.1:{simulator.port}?poll_s=0&{_query(golden)}")
        printer.open()
        try:
            printer.print_receipt(receipt)
            (printed,) = simulator.wait_for_receipts(1, TIMEOUT)
        finally:
            printer.close()
    assert printed.data == _expected(golden)
    assert printer.status.state is DeviceState.OFFLINE  # closed
    assert simulator.status_queries >= 6  # before and after the receipt


class SerialPrinter:
    """The far end of a pseudo-terminal, behaving as a serial ESC/POS printer with paper."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.received = bytearray()
        self.paper = Paper.OK
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                pending += os.read(self.master, 4096)
            except OSError:
                return
            commands, used = complete_commands(pending)
            pending = pending[used:]
            for command in commands:
                if command.name != "realtime_status":
                    self.received += command.raw
                    continue
                n = command.params[0]
                out = self.paper is Paper.OUT
                answer = {
                    1: encode_printer_status(not out),
                    2: encode_offline_cause(OfflineCause(paper_end_stop=out)),
                    4: encode_paper(self.paper),
                }.get(n, 0x12)
                os.write(self.master, bytes([answer]))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def serial_printer() -> Iterator[SerialPrinter]:
    device = SerialPrinter()
    yield device
    device.close()


def test_serial_transport_bytes_and_status(serial_printer: SerialPrinter, receipt: Receipt, golden: str) -> None:
    printer = EscposPrinter.from_url(f"serial:{serial_printer.port}?baud=19200&flow=none&poll_s=0&{_query(golden)}")
    printer.open()
    try:
        printer.print_receipt(receipt)
        assert printer.status.state is DeviceState.ONLINE and printer.status.paper is PaperState.OK
        serial_printer.paper = Paper.OUT
        with pytest.raises(PrinterError) as error:
            printer.print_receipt(receipt)
        assert error.value.reason == "paper_out" and printer.status.action is ErrorAction.CLEAR
    finally:
        printer.close()
    assert bytes(serial_printer.received) == _expected(golden)  # the refused receipt sent nothing


def test_a_serial_port_that_does_not_exist(tmp_path: Path, receipt: Receipt) -> None:
    printer = EscposPrinter.from_url(f"serial:{tmp_path}/ttyUSB9?poll_s=0")
    printer.open()
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "offline"
    assert printer.status.state is DeviceState.NO_DEVICE and printer.status.action is ErrorAction.CONFIGURATION
    printer.close()


def test_a_usb_printer_that_is_not_there_is_no_device(receipt: Receipt) -> None:
    printer = EscposPrinter.from_url("usb:0x0416:0x5011?poll_s=0")
    printer.open()
    with pytest.raises(PrinterError) as error:
        printer.print_receipt(receipt)
    assert error.value.reason == "offline"
    assert printer.status.state is DeviceState.NO_DEVICE
    assert "cannot open usb:0x0416:0x5011" in printer.last_detail
    printer.close()
