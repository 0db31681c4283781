"""Build device adapters from configuration URLs.

Accepted now: ``sim:`` for every device (for the card reader and the scanner: the real serial adapter on a
simulator's pty); card readers and scanners also ``serial:<port>?baud=9600`` (scanners ``&suffix=cr``);
printers also ``tcp://host:9100``, ``serial:/dev/ttyS0?baud=19200``, ``usb:0x0416:0x5011``, ``file:/path``
and ``memory:`` (devices/escpos_transports.py for their options); speakers ``espeak:`` (espeak-ng and a player
command), ``sim:`` (real synthesis, simulated output) and ``none:`` (no voice at all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from devices.base import CardReader, Device, QrScanner, ReceiptPrinter
from devices.coordinator import ConnectionPolicy
from devices.escpos_printer import EscposPrinter
from devices.escpos_transports import parse_options
from devices.espeak_speaker import EspeakSpeaker, SimulatedSpeaker
from devices.keyboard_wedge import KeyboardCardReader, KeyboardQrScanner
from devices.serial_card_reader import SerialCardReader
from devices.serial_scanner import SerialQrScanner
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from devices.speaker import Speaker

_D = TypeVar("_D", bound=Device)
# scheme -> (the form shown in error messages, builder taking the whole URL)
_Table = Mapping[str, tuple[str, Callable[[str], _D]]]


def _sim_printer(url: str) -> ReceiptPrinter:
    """The TCP printer simulator on loopback and the real network adapter pointed at it."""
    parts = urlsplit(url)
    if parts.netloc or parts.path:
        raise ValueError(f"simulated printer URL {url!r} takes no path; use sim: or sim:?columns=32")
    options, _ = parse_options(parts.query)
    return SimulatedPrinter(options.layout, poll_s=options.poll_s, timeout_s=options.timeout_s)


def _plain_sim(url: str, make: Callable[[], _D]) -> _D:
    parts = urlsplit(url)
    if parts.netloc or parts.path or parts.query:
        raise ValueError(f"simulator URL {url!r} takes no path or options; use sim:")
    return make()


def _card_readers(policy: ConnectionPolicy | None) -> _Table[CardReader]:
    """Card readers; `policy` times the connection of those that have one (serial, and the pty simulator)."""
    return {
        "sim": ("sim:", lambda url: _plain_sim(url, lambda: SimulatedCardReader(policy))),
        "serial": ("serial:/dev/ttyUSB0?baud=9600", lambda url: SerialCardReader.from_url(url, policy)),
        "keyboard": ("keyboard:[?max_gap_ms=50&min_length=6]", KeyboardCardReader.from_url),
    }


def _qr_scanners(policy: ConnectionPolicy | None) -> _Table[QrScanner]:
    return {
        "sim": ("sim:", lambda url: _plain_sim(url, lambda: SimulatedQrScanner(policy=policy))),
        "serial": (
            "serial:/dev/ttyACM0?baud=9600&suffix=cr|lf|crlf|tab&max_length=512",
            lambda url: SerialQrScanner.from_url(url, policy),
        ),
        "keyboard": ("keyboard:[?max_gap_ms=50&min_length=6]", KeyboardQrScanner.from_url),
    }
# Printers also take ?columns=48&qr_size=6&qr=native|image&profile=NAME&poll_s=5&timeout_s=2 (escpos_transports).
_PRINTERS: _Table[ReceiptPrinter] = {
    "sim": ("sim:[?columns=48]", _sim_printer),
    "tcp": ("tcp://host[:9100]", EscposPrinter.from_url),
    "serial": ("serial:/dev/ttyS0?baud=19200", EscposPrinter.from_url),
    "usb": ("usb:0x0416:0x5011[?in_ep=0x82&out_ep=0x01]", EscposPrinter.from_url),
    "file": ("file:/path/to/file-or-device[?columns=48]", EscposPrinter.from_url),
    "memory": ("memory: (unit tests)", EscposPrinter.from_url),
}


def _bad_none(url: str) -> Speaker:
    raise ValueError(f"speaker URL {url!r} takes no path or options; use none:")


_SPEAKERS: _Table[Speaker] = {
    "espeak": ("espeak:[?player=aplay|paplay|pw-play]", EspeakSpeaker.from_url),
    "sim": ("sim:[?speed=1]", SimulatedSpeaker.from_url),
    "none": ("none:", _bad_none),  # exactly "none:" is taken before the table (no speaker at all)
}


def _make(kind: str, url: str, table: _Table[_D]) -> _D:
    accepted = ", ".join(form for form, _ in table.values())
    if not isinstance(url, str) or ":" not in url:
        raise ValueError(f"invalid {kind} URL {url!r}; accepted forms: {accepted}")
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in table:
        raise ValueError(f"unsupported {kind} URL {url!r}; accepted forms: {accepted}")
    try:
        return table[scheme][1](url)
    except ValueError as e:
        raise ValueError(f"{e} (accepted {kind} forms: {accepted})") from None


def make_card_reader(url: str, policy: ConnectionPolicy | None = None) -> CardReader:
    """A card reader for `url`: ``sim:``, ``serial:/dev/ttyUSB0?baud=9600`` or ``keyboard:``."""
    return _make("card reader", url, _card_readers(policy))


def make_qr_scanner(url: str, policy: ConnectionPolicy | None = None) -> QrScanner:
    """A QR scanner for `url`: ``sim:``, ``serial:/dev/ttyACM0?baud=9600&suffix=crlf`` or ``keyboard:``."""
    return _make("QR scanner", url, _qr_scanners(policy))


def make_speaker(url: str) -> Speaker | None:
    """A speaker for `url`: ``espeak:``, ``sim:``, or None for ``none:`` (a terminal without voice, which is then
    no device at all rather than a faulty one)."""
    if isinstance(url, str) and url.strip().lower() == "none:":
        return None
    return _make("speaker", url, _SPEAKERS)


def make_printer(url: str) -> ReceiptPrinter:
    """A receipt printer for `url`: ``sim:``, ``tcp://``, ``serial:``, ``usb:``, ``file:`` or ``memory:``."""
    return _make("receipt printer", url, _PRINTERS)
