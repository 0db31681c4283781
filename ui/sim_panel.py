"""A developer window for `kiosk demo`: drive the simulated card reader, QR scanner and printer.

Developer-only, so its texts are plain English and not in the residents' catalogs. It relies on the
simulators of devices/simulators.py: `SimulatedCardReader.insert/remove/tap`, `SimulatedQrScanner.scan`, both
with `unplug/replug/send_garbage` for their serial line,
`SimulatedPrinter.set_paper/set_offline/set_cover_open/drop_connection/printed/spoiled/receipt_png` and each
device's `status`; anything missing is reported in the panel instead of failing.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from hq.payment_codes import SAMPLE_CODES
from kiosk.qr_payload import Payload
from kiosk.qr_payload import parse as parse_payload
from ui.qt import (
    QCheckBox,
    QComboBox,
    QFont,
    QFontDatabase,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPixmap,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTimer,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)
PAPER_STATES = ("ok", "low", "out")
GARBAGE_BYTES = 256  # "Send garbage": this many random bytes on the device's serial line
POLL_MS = 500  # the simulated printer has no "printed" event, so the panel looks for new receipts


def _paper_state(name: str) -> Any:
    try:
        from devices.base import PaperState

        return PaperState(name)
    except (ImportError, ValueError):
        return name


class SimulatorPanel(QWidget):
    """Cards to insert, codes to scan, printer paper and offline switches, and the receipts printed."""

    def __init__(
        self,
        card_reader: Any,
        qr_scanner: Any,
        printer: Any,
        demo_cards: Sequence[Sequence[str]] = (),
        demo_codes: Sequence[Sequence[str]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.line_buttons: dict[tuple[str, str], QPushButton] = {}
        self.card_reader = card_reader
        self.qr_scanner = qr_scanner
        self.printer = printer
        self.setWindowTitle("Kiosk simulator")
        self.resize(720, 900)
        layout = QVBoxLayout(self)
        layout.addWidget(self._card_box(demo_cards))
        layout.addWidget(self._qr_box(demo_codes))
        layout.addWidget(self._printer_box())
        layout.addWidget(self._receipts_box(), 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self._receipt_count = -1
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    # building ----------------------------------------------------------------------------------------------
    def _card_box(self, cards: Sequence[Sequence[str]]) -> QGroupBox:
        box = QGroupBox("Card reader")
        grid = QGridLayout(box)
        self.cards = QComboBox()
        self.cards.setEditable(True)  # any id can be typed, to try unknown cards
        for card in cards:
            card_id, *rest = card
            self.cards.addItem(" — ".join([card_id, *rest]), card_id)
        grid.addWidget(self.cards, 0, 0, 1, 3)
        for column, (text, action) in enumerate(
            (("Insert card", self.insert_card), ("Remove card", self.remove_card), ("Tap card", self.tap_card))
        ):
            button = QPushButton(text)
            button.clicked.connect(action)
            grid.addWidget(button, 1, column)
        grid.addLayout(self._line_row("card_reader"), 2, 0, 1, 3)
        self.card_status = QLabel()
        grid.addWidget(self.card_status, 3, 0, 1, 3)
        return box

    def _line_row(self, which: str) -> QHBoxLayout:
        """Unplug / Replug / Send garbage for the serial line of `which` ("card_reader" or "qr_scanner")."""
        row = QHBoxLayout()
        row.addWidget(QLabel("Serial line:"))
        for text, action in (("Unplug", self.unplug), ("Replug", self.replug), ("Send garbage", self.send_garbage)):
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, action=action: action(which))
            row.addWidget(button)
            self.line_buttons[(which, text)] = button
        row.addStretch(1)
        return row

    def _qr_box(self, codes: Sequence[Sequence[str]]) -> QGroupBox:
        box = QGroupBox("QR scanner")
        grid = QGridLayout(box)
        self.codes = QComboBox()
        for code in codes:
            payload, *rest = code
            self.codes.addItem(" — ".join([*rest, payload]) if rest else payload, payload)
        scan = QPushButton("Scan")
        scan.clicked.connect(self.scan_listed)
        grid.addWidget(self.codes, 0, 0)
        grid.addWidget(scan, 0, 1)
        self.payload = QLineEdit()
        self.payload.setPlaceholderText("Any payload, e.g. garbage or a payment app's code")
        self.payload.returnPressed.connect(self.scan_typed)
        scan_typed = QPushButton("Scan typed")
        scan_typed.clicked.connect(self.scan_typed)
        grid.addWidget(self.payload, 1, 0)
        grid.addWidget(scan_typed, 1, 1)
        # A resident's wallet payment code, shown to the scanner on the payment screen; the sandbox answers by the
        # code's last digit (hq/payment_codes.py). "Confirm on the phone" waits for the checkout page's buttons.
        wallet = QHBoxLayout()
        wallet.addWidget(QLabel("Show a payment code:"))
        self.payment_code_buttons: dict[str, QPushButton] = {}
        for label, code in SAMPLE_CODES.items():
            button = QPushButton(label)
            button.setToolTip(code)
            button.clicked.connect(lambda _checked=False, code=code: self.scan(code))
            wallet.addWidget(button)
            self.payment_code_buttons[label] = button
        grid.addLayout(wallet, 2, 0, 1, 2)
        grid.addLayout(self._line_row("qr_scanner"), 3, 0, 1, 2)
        self.qr_status = QLabel()
        grid.addWidget(self.qr_status, 4, 0, 1, 2)
        return box

    def _printer_box(self) -> QGroupBox:
        box = QGroupBox("Receipt printer")
        row = QHBoxLayout()
        row.addWidget(QLabel("Paper:"))
        self.paper = QComboBox()
        self.paper.addItems(PAPER_STATES)
        self.paper.currentTextChanged.connect(self.set_paper)
        row.addWidget(self.paper)
        self.offline = QCheckBox("Offline")
        self.offline.toggled.connect(self.set_offline)
        row.addWidget(self.offline)
        self.cover = QCheckBox("Cover open")
        self.cover.toggled.connect(self.set_cover_open)
        row.addWidget(self.cover)
        drop = QPushButton("Drop connection")
        drop.clicked.connect(self.drop_connection)
        row.addWidget(drop)
        outer = QVBoxLayout()
        outer.addLayout(row)
        self.printer_status = QLabel()
        self.printer_status.setWordWrap(True)
        outer.addWidget(self.printer_status)
        box.setLayout(outer)
        return box

    def _receipts_box(self) -> QGroupBox:
        box = QGroupBox("Printed receipts")
        row = QHBoxLayout(box)
        self.receipts = QListWidget()
        self.receipts.currentRowChanged.connect(self.show_receipt)
        row.addWidget(self.receipts, 1)
        self.receipt_text = QPlainTextEdit()
        self.receipt_text.setReadOnly(True)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.receipt_text.setFont(QFont(mono))
        row.addWidget(self.receipt_text, 2)
        self.receipt_image = QLabel()
        scroll = QScrollArea()
        scroll.setWidget(self.receipt_image)
        scroll.setWidgetResizable(True)
        row.addWidget(scroll, 2)
        return box

    # actions -----------------------------------------------------------------------------------------------
    def _call(self, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:  # a developer tool: say what went wrong and carry on
            log.warning("%s failed: %s", what, exc)
            self.message.setText(f"{what} failed: {exc}")
        else:
            self.message.setText(f"{what}: done")
        self.refresh()

    def _selected_card(self) -> str:
        data = self.cards.currentData()
        text = self.cards.currentText().split(" — ")[0].strip()
        # An edited combo keeps the old item's data; trust the text when it no longer matches.
        return data if isinstance(data, str) and text == data else text

    def insert_card(self) -> None:
        card = self._selected_card()
        self._call(f"Insert card {card}", lambda: self.card_reader.insert(card))

    def remove_card(self) -> None:
        self._call("Remove card", self.card_reader.remove)

    def _device(self, which: str) -> Any:
        return self.card_reader if which == "card_reader" else self.qr_scanner

    def unplug(self, which: str) -> None:
        self._call(f"Unplug {which}", lambda: self._device(which).unplug())

    def replug(self, which: str) -> None:
        self._call(f"Replug {which}", lambda: self._device(which).replug())

    def send_garbage(self, which: str) -> None:
        data = os.urandom(GARBAGE_BYTES)
        self._call(f"{GARBAGE_BYTES} garbage bytes to {which}", lambda: self._device(which).send_garbage(data))

    def tap_card(self) -> None:
        card = self._selected_card()
        tap = getattr(self.card_reader, "tap", None)
        if tap is None:  # older simulators: a tap is an insert followed by a removal
            self._call(f"Tap card {card}", lambda: (self.card_reader.insert(card), self.card_reader.remove()))
        else:
            self._call(f"Tap card {card}", lambda: tap(card))

    def scan_listed(self) -> None:
        payload = self.codes.currentData()
        if isinstance(payload, str):
            self.scan(payload)

    def scan_typed(self) -> None:
        self.scan(self.payload.text())

    def scan(self, payload: str) -> None:
        # A payment code is masked here too: the panel's message and log line follow the terminal's rule.
        parsed = parse_payload(payload)
        shown = parsed.masked if isinstance(parsed, Payload) else payload
        self._call(f"Scan {shown!r}", lambda: self.qr_scanner.scan(payload))

    def set_paper(self, name: str) -> None:
        self._call(f"Paper {name}", lambda: self.printer.set_paper(_paper_state(name)))

    def set_offline(self, offline: bool) -> None:
        self._call("Printer offline" if offline else "Printer online", lambda: self.printer.set_offline(offline))

    def set_cover_open(self, cover_open: bool) -> None:
        self._call("Cover open" if cover_open else "Cover closed", lambda: self.printer.set_cover_open(cover_open))

    def drop_connection(self) -> None:
        self._call("Drop connection", self.printer.drop_connection)

    # showing -----------------------------------------------------------------------------------------------
    def _printed(self) -> list[Any]:
        printed = getattr(self.printer, "printed", None)
        if printed is None:
            printed = getattr(self.printer, "receipts", [])
        return list(printed() if callable(printed) else printed)

    def refresh(self) -> None:
        """Show device states and pick up newly printed receipts."""
        self.card_status.setText(_status_text(self.card_reader))
        self.qr_status.setText(_status_text(self.qr_scanner))
        spoiled = len(getattr(self.printer, "spoiled", ()))
        self.printer_status.setText(_status_text(self.printer) + (f",  spoiled receipts: {spoiled}" if spoiled else ""))
        printed = self._printed()
        if len(printed) != self._receipt_count:
            self._receipt_count = len(printed)
            self.receipts.clear()
            for number, item in enumerate(printed, 1):
                receipt = getattr(item, "receipt", item)
                self.receipts.addItem(f"#{number}  {getattr(receipt, 'title', 'receipt')}")
            if printed:
                self.receipts.setCurrentRow(len(printed) - 1)

    def show_receipt(self, row: int) -> None:
        printed = self._printed()
        if not 0 <= row < len(printed):
            self.receipt_text.clear()
            self.receipt_image.clear()
            return
        item = printed[row]
        self.receipt_text.setPlainText(str(getattr(item, "text", item)))
        self.receipt_image.setPixmap(self._receipt_pixmap(row))

    def _receipt_pixmap(self, row: int) -> QPixmap:
        pixmap = QPixmap()
        render = getattr(self.printer, "receipt_png", None)
        if render is None:
            return pixmap
        buffer = io.BytesIO()
        try:
            render(row, buffer)
        except Exception as exc:
            log.warning("receipt PNG failed: %s", exc)
            return pixmap
        pixmap.loadFromData(buffer.getvalue(), "PNG")
        return pixmap


def _status_text(device: Any) -> str:
    status = getattr(device, "status", None)
    if status is None:
        return ""
    parts = [f"state: {getattr(status, 'state', '?')}"]
    for name in ("paper", "card_present", "last_error"):
        value = getattr(status, name, None)
        if value is not None:
            parts.append(f"{name.replace('_', ' ')}: {value}")
    return ",  ".join(parts)
