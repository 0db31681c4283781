"""The QR payloads the terminal accepts, parsed strictly.

House QR on a door: `CPK:H:<code>`; bill QR: `CPK:B:<bill_no>`. Anything else (another app's QR, a URL, a
garbled scan) is rejected with a reason the screen can show; nothing here raises on bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_PAYLOAD = 256
_HOUSE = re.compile(r"CPK:H:([A-Z0-9]{6,16})")
_BILL = re.compile(r"CPK:B:([A-Z0-9]{6,24})")


class PayloadKind(StrEnum):
    HOUSE = "house"
    BILL = "bill"


class Rejection(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_OURS = "not_ours"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Payload:
    kind: PayloadKind
    code: str


def parse(raw: str) -> Payload | Rejection:
    """A recognised payload, or why it was rejected."""
    text = raw.strip()
    if not text:
        return Rejection.EMPTY
    if len(text) > MAX_PAYLOAD:
        return Rejection.TOO_LONG
    if not text.startswith("CPK:"):
        return Rejection.NOT_OURS
    if match := _HOUSE.fullmatch(text):
        return Payload(PayloadKind.HOUSE, match.group(1))
    if match := _BILL.fullmatch(text):
        return Payload(PayloadKind.BILL, match.group(1))
    return Rejection.MALFORMED
