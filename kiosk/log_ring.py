"""Logging for a terminal: card ids, phone numbers and payment codes masked in every record, and the last lines
kept in memory for the maintenance menu.

Masking happens where a record is made (a log record factory), so no handler, file or journal ever sees the whole
value, whoever logged it. What is masked, to its last four characters (`****C3D4`): any run of 8 or more digits
(phone numbers, payment codes, card numbers) and any run of 8 or more hex characters with a digit in it (card
UIDs such as `04A1B2C3D4`). Transaction ids (UUIDs) and order numbers stay whole: they identify no person.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from typing import Any

LINES = 500
_KEEP = 4
_PATTERN = re.compile(
    r"(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"
    r"|(?<![0-9A-Za-z])(?P<id>\d{8,}|(?=[0-9A-Fa-f]*\d)[0-9A-Fa-f]{8,})(?![0-9A-Za-z])"
)


def mask(text: str) -> str:
    """`text` with every identifier that could name a person cut to its last four characters."""
    return _PATTERN.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    value = match.group("id")
    if value is None:
        return match.group(0)  # a UUID: a transaction's id, kept whole
    return "****" + value[-_KEEP:]


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the handler to report
        return
    masked = mask(message)
    if masked != message or record.args:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


class RingBuffer(logging.Handler):
    """Keeps the last `capacity` records as one line each (an exception adds only its last line)."""

    def __init__(self, capacity: int = LINES) -> None:
        super().__init__()
        self._lines: deque[str] = deque(maxlen=capacity)
        self._times = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = f"{self._times.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"
            if record.exc_text:
                line += "  | " + record.exc_text.strip().splitlines()[-1]
            self._lines.append(mask(line))  # masked again: a record made before `install` was not
        except Exception:
            self.handleError(record)

    def lines(self) -> list[str]:
        """Oldest first."""
        return list(self._lines)


_lock = threading.Lock()
_ring: RingBuffer | None = None


def install(capacity: int = LINES) -> RingBuffer:
    """Mask every log record from now on, and keep the last lines in the returned buffer (one per process)."""
    global _ring
    with _lock:
        factory = logging.getLogRecordFactory()
        if not getattr(factory, "kiosk_masking", False):
            def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = factory(*args, **kwargs)
                _mask_record(record)
                return record

            masking_factory.kiosk_masking = True  # type: ignore[attr-defined]
            logging.setLogRecordFactory(masking_factory)
        if _ring is None:
            _ring = RingBuffer(capacity)
            _ring.setLevel(logging.INFO)
        root = logging.getLogger()
        if _ring not in root.handlers:  # also after a `basicConfig(force=True)` took it away
            root.addHandler(_ring)
        return _ring
