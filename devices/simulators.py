"""In-process simulated devices for the demo and the tests.

They behave like the real adapters where it matters to the core: events arrive on a device thread (never the
caller's), status changes are reported, and the printer produces real ESC/POS bytes (through EscposPrinter on a
memory transport) which are parsed back so that tests and the demo can read or draw what was printed.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from devices.base import (
    CardReader,
    DeviceState,
    ErrorAction,
    PaperState,
    PrinterError,
    QrScanner,
    Receipt,
    ReceiptPrinter,
)
from devices.escpos_parser import ParsedReceipt, parse, render_png, render_text
from devices.escpos_printer import EscposPrinter
from devices.escpos_receipt import ReceiptLayout

_log = logging.getLogger(__name__)


class _EventThread:
    """Runs posted callables one at a time, in order, on a dedicated daemon thread."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def request_stop(self) -> threading.Thread | None:
        """Refuse new jobs and let the thread end after the queued ones; returns the thread to join."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
        return thread

    @staticmethod
    def join(thread: threading.Thread | None, timeout: float = 5.0) -> None:
        # A listener may close its own device: the device thread cannot wait for itself.
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def post(self, job: Callable[[], None]) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(job)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every posted job has run; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                # A failing listener must not kill the device thread.
                _log.exception("listener failed on %s", self._name)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


class SimulatedCardReader(CardReader):
    """A card reader driven by `insert`, `remove` and `tap`; listeners run on the reader's own thread."""

    def __init__(self) -> None:
        super().__init__()
        self._events = _EventThread("sim-card-reader")
        self._lock = threading.Lock()
        self._card: str | None = None

    def open(self) -> None:
        with self._lock:
            self._events.start()
        self._set_status(state=DeviceState.ONLINE, card_present=False, last_error=None)

    def close(self) -> None:
        with self._lock:
            thread = self._events.request_stop()
            self._card = None
        # Joined outside the lock: a listener still running may be calling insert() or remove().
        self._events.join(thread)
        self._set_status(state=DeviceState.OFFLINE, card_present=None)

    @property
    def card(self) -> str | None:
        """The card in the reader now, as the caller sees it (events may still be on their way)."""
        with self._lock:
            return self._card

    def insert(self, card_id: str) -> None:
        """Insert a card; a card already inserted is taken out first. Raises RuntimeError when closed."""
        with self._lock:
            self._require_open()
            if self._card is not None:
                self._events.post(self._card_removed)
            self._card = card_id
            self._events.post(lambda: self._card_read(card_id))

    def remove(self) -> None:
        """Take the card out; nothing happens when there is none."""
        with self._lock:
            self._require_open()
            if self._card is not None:
                self._card = None
                self._events.post(self._card_removed)

    def tap(self, card_id: str) -> None:
        """A contactless tap: the card is read and then gone."""
        with self._lock:
            self._require_open()
            if self._card is not None:
                self._events.post(self._card_removed)
            self._card = None
            self._events.post(lambda: self._card_read(card_id))
            self._events.post(self._card_removed)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every event so far has been delivered; False on timeout."""
        return self._events.wait_idle(timeout)

    def _require_open(self) -> None:
        if not self._events.running:
            raise RuntimeError("the simulated card reader is not open")


class SimulatedQrScanner(QrScanner):
    """A QR scanner driven by `scan`; the listener runs on the scanner's own thread."""

    def __init__(self) -> None:
        super().__init__()
        self._events = _EventThread("sim-qr-scanner")
        self._lock = threading.Lock()

    def open(self) -> None:
        with self._lock:
            self._events.start()
        self._set_status(state=DeviceState.ONLINE, last_error=None)

    def close(self) -> None:
        with self._lock:
            thread = self._events.request_stop()
        self._events.join(thread)
        self._set_status(state=DeviceState.OFFLINE)

    def scan(self, payload: str) -> None:
        """Present a code to the scanner. Raises RuntimeError when closed."""
        with self._lock:
            if not self._events.running:
                raise RuntimeError("the simulated QR scanner is not open")
            self._events.post(lambda: self._scanned(payload))

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every scan so far has been delivered; False on timeout."""
        return self._events.wait_idle(timeout)


@dataclass(frozen=True)
class PrintedReceipt:
    """One receipt the simulated printer printed: what it was asked, what it sent, what that reads as."""

    receipt: Receipt
    data: bytes
    parsed: ParsedReceipt
    text: str


class SimulatedPrinter(ReceiptPrinter):
    """A receipt printer with a settable paper supply and an offline switch, keeping what it printed."""

    def __init__(self, layout: ReceiptLayout | None = None) -> None:
        super().__init__()
        self._sink = EscposPrinter.memory(layout)
        self._paper = PaperState.OK
        self._offline = False
        self._opened = False
        self._printed: list[PrintedReceipt] = []
        # One lock for the printer state and the printed list; the condition wakes `wait_for_receipts`.
        self._changed = threading.Condition()

    @property
    def layout(self) -> ReceiptLayout:
        return self._sink.layout

    def open(self) -> None:
        with self._changed:
            self._opened = True
            self._sink.open()
            self._report_locked()

    def close(self) -> None:
        with self._changed:
            self._opened = False
            self._sink.close()
            self._set_status(state=DeviceState.OFFLINE, action=ErrorAction.NONE)

    def set_paper(self, paper: PaperState) -> None:
        """Change the paper supply (OK, LOW or OUT); reported at once, as a printer's status-back would."""
        if paper is PaperState.UNKNOWN:
            raise ValueError("a simulated printer always knows its paper")
        with self._changed:
            self._paper = paper
            self._report_locked()

    def set_offline(self, offline: bool) -> None:
        """Unplug (True) or reconnect (False) the printer."""
        with self._changed:
            self._offline = offline
            self._report_locked()

    def paper_state(self) -> PaperState:
        with self._changed:
            return PaperState.UNKNOWN if self._offline or not self._opened else self._paper

    def print_receipt(self, receipt: Receipt) -> None:
        with self._changed:
            if not self._opened or self._offline:
                self._report_locked()
                raise PrinterError("offline", "simulated printer is offline")
            if self._paper is PaperState.OUT:
                self._report_locked()
                raise PrinterError("paper_out")
            # The same path as a real printer: EscposPrinter lays out the receipt and writes the bytes.
            self._sink.print_receipt(receipt)
            data = self._sink.take_output()
            parsed = parse(data)
            self._printed.append(PrintedReceipt(receipt, data, parsed, render_text(parsed, self.layout.columns)))
            self._changed.notify_all()

    @property
    def printed(self) -> list[PrintedReceipt]:
        """A copy of everything printed so far, oldest first."""
        with self._changed:
            return list(self._printed)

    def wait_for_receipts(self, count: int, timeout: float = 5.0) -> list[PrintedReceipt]:
        """Wait until at least `count` receipts have been printed; raises TimeoutError otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._printed) >= count, timeout):
                raise TimeoutError(f"{len(self._printed)} of {count} receipts printed after {timeout} s")
            return list(self._printed)

    def receipt_png(self, index: int, path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Draw printed receipt `index` (negative counts from the end) as a PNG."""
        render_png(self.printed[index].parsed, path, self.layout.columns)

    def _report_locked(self) -> None:
        if not self._opened:
            self._set_status(state=DeviceState.OFFLINE, action=ErrorAction.NONE)
        elif self._offline:
            self._set_status(
                state=DeviceState.OFFLINE, paper=PaperState.UNKNOWN, last_error="offline", action=ErrorAction.RESET
            )
        elif self._paper is PaperState.OUT:
            self._set_status(
                state=DeviceState.ONLINE, paper=PaperState.OUT, last_error="paper_out", action=ErrorAction.MAINTENANCE
            )
        else:
            self._set_status(state=DeviceState.ONLINE, paper=self._paper, last_error=None, action=ErrorAction.NONE)
