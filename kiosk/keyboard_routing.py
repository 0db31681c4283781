"""Where a keyboard burst goes when card reader and scanner are keyboards (`devices/keyboard_wedge.py`).

Every USB keyboard types into the same key stream, so the UI cannot tell which device typed a burst; its content
can. A payload the terminal accepts (house or bill QR, a wallet's payment code: `kiosk/qr_payload.py`) goes to
the scanner, a card id (8 to 20 hex characters) to the card reader, and anything else to the scanner, whose
rejection the resident is shown. The payload rule comes first: an 18-digit WeChat Pay code is also valid hex.
This lives in `kiosk/` because `devices/` may not know the payload rules.
"""

from __future__ import annotations

from devices.base import CardReader, QrScanner
from devices.keyboard_wedge import KeyboardCardReader, KeyboardQrScanner, WedgeSettings, is_card_id
from kiosk.qr_payload import Payload, parse


class KeyboardRouter:
    """Hands each burst the UI saw to the keyboard device that typed it."""

    def __init__(self, card_reader: KeyboardCardReader | None, scanner: KeyboardQrScanner | None) -> None:
        if card_reader is None and scanner is None:
            raise ValueError("a keyboard router needs a keyboard card reader or scanner")
        self.card_reader = card_reader
        self.scanner = scanner
        settings = [d.settings for d in (card_reader, scanner) if d is not None]
        self.settings: WedgeSettings = settings[0] if len(settings) == 1 else settings[0].merged(settings[1])

    @classmethod
    def for_devices(cls, card_reader: CardReader, scanner: QrScanner) -> KeyboardRouter | None:
        """A router for whichever of the two is a keyboard device; None when neither is."""
        reader = card_reader if isinstance(card_reader, KeyboardCardReader) else None
        qr = scanner if isinstance(scanner, KeyboardQrScanner) else None
        return None if reader is None and qr is None else cls(reader, qr)

    def burst(self, text: str) -> None:
        """A device's burst (GUI thread): to the device that typed it; it reports from its own thread."""
        if self.scanner is None:
            assert self.card_reader is not None
            self.card_reader.deliver(text)
        elif self.card_reader is not None and is_card_id(text) and not isinstance(parse(text), Payload):
            self.card_reader.deliver(text)
        else:
            self.scanner.deliver(text)

    def rejected(self, reason: str) -> None:
        """A device burst that could not be read (too long): the scanner says so; a card reader has no way to."""
        if self.scanner is not None:
            self.scanner.reject(reason)
