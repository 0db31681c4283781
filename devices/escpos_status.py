"""The ESC/POS real-time status command, DLE EOT n: what each answer byte means, both ways.

The printer answers DLE EOT n with one byte, at once, even while it is offline or busy printing (that is
the point of it). Bits 1 and 4 are always set and bits 0 and 7 always clear in every answer; a byte that
breaks that rule is not a status answer (a wrong baud rate, another device on the port).

| n | answer | bits used here |
|---|---|---|
| 1 | printer status | 3: offline |
| 2 | offline cause | 2: cover open, 5: printing stopped at paper end, 6: an error occurred |
| 3 | error cause | 3: autocutter error, 5: unrecoverable error, 6: auto-recoverable error |
| 4 | roll paper sensor | 2-3: paper near its end, 5-6: no paper |

The adapter (`escpos_printer`) reads them with `decode_*`; the network simulator (`printer_sim`) answers
with `encode_*`, so both sides share one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from escpos.constants import RT_STATUS

PRINTER_STATUS = 1
OFFLINE_CAUSE = 2
ERROR_CAUSE = 3
PAPER_SENSOR = 4

_FIXED_ON = 0x12  # bits 1 and 4
_FIXED_MASK = 0x93  # bits 0, 1, 4 and 7 must read 0, 1, 1, 0

# n = 1
_OFFLINE = 0x08
# n = 2
_COVER_OPEN = 0x04
_PAPER_END_STOP = 0x20
_ERROR = 0x40
# n = 3
_CUTTER_ERROR = 0x08
_UNRECOVERABLE = 0x20
_AUTO_RECOVERABLE = 0x40
# n = 4
_NEAR_END = 0x0C
_PAPER_END = 0x60


def query(n: int) -> bytes:
    """The DLE EOT n command."""
    if n not in (PRINTER_STATUS, OFFLINE_CAUSE, ERROR_CAUSE, PAPER_SENSOR):
        raise ValueError(f"DLE EOT takes n = 1..4, not {n}")
    return RT_STATUS + bytes([n])


class StatusError(ValueError):
    """A byte that cannot be a DLE EOT answer."""


def _check(byte: int) -> int:
    if not 0 <= byte <= 0xFF or byte & _FIXED_MASK != _FIXED_ON:
        raise StatusError(f"0x{byte:02x} is not a DLE EOT status byte")
    return byte


class Paper(StrEnum):
    """The roll paper sensor (DLE EOT 4)."""

    OK = "ok"
    LOW = "low"
    OUT = "out"


class ErrorKind(StrEnum):
    """The error cause (DLE EOT 3), most serious first."""

    NONE = "none"
    UNRECOVERABLE = "unrecoverable"  # a hardware fault: a technician must look at it
    CUTTER = "cutter"  # a jammed autocutter: clear the jam
    AUTO_RECOVERABLE = "auto_recoverable"  # e.g. the head overheated: passes by itself


@dataclass(frozen=True)
class OfflineCause:
    """The offline cause (DLE EOT 2)."""

    cover_open: bool = False
    paper_end_stop: bool = False
    error: bool = False


def decode_printer_status(byte: int) -> bool:
    """DLE EOT 1: True when the printer is online."""
    return not _check(byte) & _OFFLINE


def decode_offline_cause(byte: int) -> OfflineCause:
    """DLE EOT 2: why the printer is offline."""
    byte = _check(byte)
    return OfflineCause(bool(byte & _COVER_OPEN), bool(byte & _PAPER_END_STOP), bool(byte & _ERROR))


def decode_error_cause(byte: int) -> ErrorKind:
    """DLE EOT 3: which error occurred, the most serious when several did."""
    byte = _check(byte)
    if byte & _UNRECOVERABLE:
        return ErrorKind.UNRECOVERABLE
    if byte & _CUTTER_ERROR:
        return ErrorKind.CUTTER
    if byte & _AUTO_RECOVERABLE:
        return ErrorKind.AUTO_RECOVERABLE
    return ErrorKind.NONE


def decode_paper(byte: int) -> Paper:
    """DLE EOT 4: the roll paper sensors. Either end-sensor bit means no paper (some models set only one)."""
    byte = _check(byte)
    if byte & _PAPER_END:
        return Paper.OUT
    if byte & _NEAR_END:
        return Paper.LOW
    return Paper.OK


def encode_printer_status(online: bool) -> int:
    return _FIXED_ON | (0 if online else _OFFLINE)


def encode_offline_cause(cause: OfflineCause) -> int:
    return (
        _FIXED_ON
        | (_COVER_OPEN if cause.cover_open else 0)
        | (_PAPER_END_STOP if cause.paper_end_stop else 0)
        | (_ERROR if cause.error else 0)
    )


def encode_error_cause(kind: ErrorKind) -> int:
    bits = {
        ErrorKind.NONE: 0,
        ErrorKind.UNRECOVERABLE: _UNRECOVERABLE,
        ErrorKind.CUTTER: _CUTTER_ERROR,
        ErrorKind.AUTO_RECOVERABLE: _AUTO_RECOVERABLE,
    }
    return _FIXED_ON | bits[kind]


def encode_paper(paper: Paper) -> int:
    # A roll that is out has also passed the near-end sensor.
    bits = {Paper.OK: 0, Paper.LOW: _NEAR_END, Paper.OUT: _NEAR_END | _PAPER_END}
    return _FIXED_ON | bits[paper]


@dataclass(frozen=True)
class PrinterReport:
    """Everything the status commands told about the printer at one moment."""

    online: bool
    paper: Paper
    cause: OfflineCause = OfflineCause()
    error: ErrorKind = ErrorKind.NONE

    @property
    def blocking_reason(self) -> str | None:
        """The stable reason code that stops a receipt now, or None when the printer can print.

        The order matters: an open cover also stops the paper feed, and some printers report paper end while
        the cover is open, but closing the cover is what a person must do first.
        """
        if self.cause.cover_open:
            return "cover_open"
        if self.paper is Paper.OUT or self.cause.paper_end_stop:
            return "paper_out"
        if self.error is not ErrorKind.NONE or self.cause.error:
            return "error"
        if not self.online:
            return "offline"
        return None
