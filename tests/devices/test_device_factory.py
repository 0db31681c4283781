"""Building devices from configuration URLs (module devices/factory.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.escpos_printer import EscposPrinter
from devices.factory import make_card_reader, make_printer, make_qr_scanner
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner


def test_simulators() -> None:
    assert isinstance(make_card_reader("sim:"), SimulatedCardReader)
    assert isinstance(make_qr_scanner("sim:"), SimulatedQrScanner)
    assert isinstance(make_printer("sim:"), SimulatedPrinter)


def test_printer_transports(tmp_path: Path) -> None:
    memory = make_printer("memory:")
    assert isinstance(memory, EscposPrinter) and memory.description == "memory:"
    file = make_printer(f"file:{tmp_path}/lp0?columns=42")
    assert isinstance(file, EscposPrinter)
    assert file.layout.columns == 42
    assert file.description == f"file:{tmp_path}/lp0"


def test_printer_options_on_the_simulator() -> None:
    printer = make_printer("sim:?columns=32")
    assert isinstance(printer, SimulatedPrinter)
    assert printer.layout.columns == 32


@pytest.mark.parametrize("url", ["", "sim", "lpt:1", "http://10.0.0.5:9100", "ipp://printer"])
def test_unknown_printer_urls_name_the_accepted_forms(url: str) -> None:
    with pytest.raises(ValueError) as error:
        make_printer(url)
    message = str(error.value)
    for form in ("sim:", "tcp://host", "serial:/dev/ttyS0", "usb:0x0416", "file:/", "memory:"):
        assert form in message


@pytest.mark.parametrize("url", ["sim:extra", "memory:/x", "file:", "sim:?columns=9", "memory:?paper=low"])
def test_malformed_printer_urls(url: str) -> None:
    with pytest.raises(ValueError, match="accepted receipt printer forms"):
        make_printer(url)


@pytest.mark.parametrize("url", ["", "memory:", "file:/dev/ttyS0", "sim:x", "sim:?fast=1", "serial:", "serial://x/y"])
def test_card_reader_and_scanner_urls(url: str) -> None:
    with pytest.raises(ValueError, match="sim:"):
        make_card_reader(url)
    with pytest.raises(ValueError, match="sim:"):
        make_qr_scanner(url)


def test_url_is_trimmed_and_scheme_case_insensitive() -> None:
    assert isinstance(make_card_reader(" sim: "), SimulatedCardReader)
    assert isinstance(make_printer("SIM:"), SimulatedPrinter)
