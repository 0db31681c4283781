"""A developer window for `kiosk demo`: drive the simulated card reader, QR scanner and printer.

Developer-only, so its texts are plain English and not in the residents' catalogs. It relies on the
simulators of devices/simulators.py: `SimulatedCardReader.insert/remove/tap`, `SimulatedQrScanner.scan`,
`SimulatedPrinter.set_paper/set_offline/printed/receipt_png` and each device's `status`; anything missing
is reported in the panel instead of failing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from typing import Any

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
        self.card_status = QLabel()
        grid.addWidget(self.card_status, 2, 0, 1, 3)
        return box

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
        return box

    def _printer_box(self) -> QGroupBox:
        box = QGroupBox("Receipt printer")
        row = QHBoxLayout(box)
        row.addWidget(QLabel("Paper:"))
        self.paper = QComboBox()
        self.paper.addItems(PAPER_STATES)
        self.paper.currentTextChanged.connect(self.set_paper)
        row.addWidget(self.paper)
        self.offline = QCheckBox("Offline")
        self.offline.toggled.connect(self.set_offline)
        row.addWidget(self.offline)
        self.printer_status = QLabel()
        row.addWidget(self.printer_status, 1)
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
        self._call(f"Scan {payload!r}", lambda: self.qr_scanner.scan(payload))

    def set_paper(self, name: str) -> None:
        self._call(f"Paper {name}", lambda: self.printer.set_paper(_paper_state(name)))

    def set_offline(self, offline: bool) -> None:
        self._call("Printer offline" if offline else "Printer online", lambda: self.printer.set_offline(offline))

    # showing -----------------------------------------------------------------------------------------------
    def _printed(self) -> list[Any]:
        printed = getattr(self.printer, "printed", None)
        if printed is None:
            printed = getattr(self.printer, "receipts", [])
        return list(printed() if callable(printed) else printed)

    def refresh(self) -> None:
        """Show device states and pick up newly printed receipts."""
        self.card_status.setText(_status_text(self.card_reader))
        self.printer_status.setText(_status_text(self.printer))
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
