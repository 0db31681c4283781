"""Build device adapters from configuration URLs.

Accepted now: ``sim:`` for every device, and ``memory:`` / ``file:/path`` for printers (printers take
``?columns=48|42|32`` and ``?qr_size=1..16``). Serial, USB and TCP transports are added to the tables below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from devices.base import CardReader, Device, QrScanner, ReceiptPrinter
from devices.escpos_printer import EscposPrinter, layout_from_query
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner

_D = TypeVar("_D", bound=Device)
# scheme -> (the form shown in error messages, builder taking the whole URL)
_Table = Mapping[str, tuple[str, Callable[[str], _D]]]


def _sim_printer(url: str) -> ReceiptPrinter:
    parts = urlsplit(url)
    if parts.netloc or parts.path:
        raise ValueError(f"simulated printer URL {url!r} takes no path; use sim: or sim:?columns=32")
    return SimulatedPrinter(layout_from_query(parts.query))


def _plain_sim(url: str, make: Callable[[], _D]) -> _D:
    parts = urlsplit(url)
    if parts.netloc or parts.path or parts.query:
        raise ValueError(f"simulator URL {url!r} takes no path or options; use sim:")
    return make()


_CARD_READERS: _Table[CardReader] = {
    "sim": ("sim:", lambda url: _plain_sim(url, SimulatedCardReader)),
}
_QR_SCANNERS: _Table[QrScanner] = {
    "sim": ("sim:", lambda url: _plain_sim(url, SimulatedQrScanner)),
}
_PRINTERS: _Table[ReceiptPrinter] = {
    "sim": ("sim:[?columns=48]", _sim_printer),
    "memory": ("memory:[?columns=48]", EscposPrinter.from_url),
    "file": ("file:/path/to/file-or-device[?columns=48]", EscposPrinter.from_url),
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


def make_card_reader(url: str) -> CardReader:
    """A card reader for `url`: ``sim:``."""
    return _make("card reader", url, _CARD_READERS)


def make_qr_scanner(url: str) -> QrScanner:
    """A QR scanner for `url`: ``sim:``."""
    return _make("QR scanner", url, _QR_SCANNERS)


def make_printer(url: str) -> ReceiptPrinter:
    """A receipt printer for `url`: ``sim:``, ``memory:`` or ``file:/path``, options ``?columns=48&qr_size=6``."""
    return _make("receipt printer", url, _PRINTERS)
