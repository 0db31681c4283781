"""In-process simulated devices for the demo and the tests.

They behave like the real adapters where it matters to the core: events arrive on a device thread (never the
caller's) and status changes are reported. The printer is the real network adapter talking to a TCP printer
simulator (`devices.printer_sim`), which parses the ESC/POS it receives so that tests and the demo can read or
draw what was printed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import IO

from devices.base import (
    DeviceState,
    ErrorAction,
    PaperState,
    Receipt,
)
from devices.coordinator import ConnectionPolicy, Link
from devices.escpos_parser import ParsedReceipt
from devices.escpos_printer import EscposPrinter
from devices.escpos_receipt import ReceiptLayout
from devices.escpos_status import Paper
from devices.escpos_transports import DEFAULT_POLL_S, DEFAULT_TIMEOUT_S, ResilientNetwork
from devices.printer_sim import PrinterSimulator, SimReceipt
from devices.pty_sims import PtyCardReaderSim, PtyScannerSim
from devices.serial_card_reader import SerialCardReader
from devices.serial_scanner import DEFAULT_SUFFIX, SUFFIXES, SerialQrScanner

_log = logging.getLogger(__name__)


OPEN_WAIT_S = 5.0  # open() of a simulated device waits this long at most for the adapter to come online
DRAIN_S = 1.0  # close() of a simulated device waits this long at most for events already made


class SimulatedCardReader(SerialCardReader):
    """The real serial card reader adapter, connected to a card reader simulator on a pty.

    `open()` starts the simulator (`devices.pty_sims.PtyCardReaderSim`) and the adapter, and returns once the
    adapter is online. `insert`, `remove` and `tap` act on the simulated reader, which reports them over the
    wire; listeners run on the adapter's event thread. `unplug`, `replug` and `send_garbage` disturb the line.
    """

    def __init__(self, policy: ConnectionPolicy | None = None) -> None:
        super().__init__(port="", policy=policy)
        self.sim = PtyCardReaderSim(on_activity=self.coordinator.notify_activity)

    @property
    def description(self) -> str:
        return "sim:"

    def _connect(self) -> Link:
        # Nothing is sent while the port opens (opening flushes its input), so bytes sent and bytes read agree.
        with self.sim.hold():
            link = super()._connect()
            self.sim.reset_written()
        return link

    def open(self) -> None:
        self.sim.start()
        self.port = self.sim.path
        super().open()
        self.coordinator.wait_for(lambda: self.status.state is DeviceState.ONLINE, OPEN_WAIT_S)
        self.coordinator.events.wait_idle(OPEN_WAIT_S)  # "no card" from the first status reply is reported

    def close(self) -> None:
        """Deliver the events already made (briefly), then close the adapter and the simulator."""
        if self.sim.running and self.status.state is DeviceState.ONLINE:
            self.coordinator.wait_for(self._settled, DRAIN_S)
        super().close()
        self.sim.close()

    @property
    def card(self) -> str | None:
        """The card in the reader now, as the caller sees it (events may still be on their way)."""
        return self.sim.card

    def insert(self, card_id: str) -> None:
        """Insert a card; a card already inserted is taken out first. Raises RuntimeError when closed."""
        self._require_open()
        self.sim.insert(card_id)

    def remove(self) -> None:
        """Take the card out; nothing happens when there is none."""
        self._require_open()
        self.sim.remove()

    def tap(self, card_id: str) -> None:
        """A contactless tap: the card is read and then gone."""
        self._require_open()
        self.sim.tap(card_id)

    def unplug(self) -> None:
        """Pull the reader's cable: the port disappears and the adapter goes NO_DEVICE until `replug`."""
        self._require_open()
        self.sim.unplug()

    def replug(self) -> None:
        self._require_open()
        self.sim.replug()

    def send_garbage(self, data: bytes) -> None:
        """Line noise on the reader's port."""
        self._require_open()
        self.sim.send_garbage(data)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every card event so far has been delivered to the listeners; False on timeout."""
        deadline = time.monotonic() + timeout
        if not self.coordinator.wait_for(self._settled, timeout):
            return False
        return self.coordinator.events.wait_idle(max(0.0, deadline - time.monotonic()))

    def _settled(self) -> bool:
        sim = self.sim
        return sim.idle and (not sim.plugged or self.session.bytes_in >= sim.written) and not self.session.in_flight

    def _require_open(self) -> None:
        if not self.sim.running or not self.coordinator.running:
            raise RuntimeError("the simulated card reader is not open")


class SimulatedQrScanner(SerialQrScanner):
    """The real serial QR scanner adapter, connected to a scanner simulator on a pty.

    `scan(payload)` sends the payload and the suffix over the wire; `unplug`, `replug` and `send_garbage`
    disturb the line. Listeners run on the adapter's event thread.
    """

    def __init__(self, suffix: bytes = SUFFIXES[DEFAULT_SUFFIX], policy: ConnectionPolicy | None = None) -> None:
        super().__init__(port="", suffix=suffix, policy=policy)
        self.sim = PtyScannerSim(suffix, on_activity=self.coordinator.notify_activity)

    @property
    def description(self) -> str:
        return "sim:"

    def _connect(self) -> Link:
        # Nothing is sent while the port opens (opening flushes its input), so bytes sent and bytes read agree.
        with self.sim.hold():
            link = super()._connect()
            self.sim.reset_written()
        return link

    def open(self) -> None:
        self.sim.start()
        self.port = self.sim.path
        super().open()
        self.coordinator.wait_for(lambda: self.status.state is DeviceState.ONLINE, OPEN_WAIT_S)

    def close(self) -> None:
        if self.sim.running and self.status.state is DeviceState.ONLINE:
            self.coordinator.wait_for(self._settled, DRAIN_S)
        super().close()
        self.sim.close()

    def scan(self, payload: str) -> None:
        """Present a code to the scanner. Raises RuntimeError when closed."""
        self._require_open()
        self.sim.scan(payload)

    def unplug(self) -> None:
        self._require_open()
        self.sim.unplug()

    def replug(self) -> None:
        self._require_open()
        self.sim.replug()

    def send_garbage(self, data: bytes) -> None:
        self._require_open()
        self.sim.send_garbage(data)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every scan so far has been delivered (or reported unreadable); False on timeout."""
        deadline = time.monotonic() + timeout
        if not self.coordinator.wait_for(self._settled, timeout):
            return False
        return self.coordinator.events.wait_idle(max(0.0, deadline - time.monotonic()))

    def _settled(self) -> bool:
        sim = self.sim
        return sim.idle and (not sim.plugged or self.session.bytes_in >= sim.written) and not self.session.in_flight

    def _require_open(self) -> None:
        if not self.sim.running or not self.coordinator.running:
            raise RuntimeError("the simulated QR scanner is not open")


@dataclass(frozen=True)
class PrintedReceipt:
    """One receipt the simulated printer printed: what it was asked (None if not through this adapter), the bytes
    that reached the printer, and what they read as."""

    receipt: Receipt | None
    data: bytes
    parsed: ParsedReceipt
    text: str


class SimulatedPrinter(EscposPrinter):
    """The real network adapter (EscposPrinter over python-escpos's Network) and a TCP printer simulator for it.

    `open()` starts the simulator (`devices.printer_sim`) on a free loopback port and connects to it; every
    receipt goes over the wire as ESC/POS and every status comes back as DLE EOT answers. The controls
    (`set_paper`, `set_offline`, `set_cover_open`, `drop_connection`, `fail_after`) change the simulated
    printer and then ask it for its status, so `status` reflects them when they return (`wait=False` leaves
    that to the status thread, for callers that must not wait).
    """

    def __init__(self, layout: ReceiptLayout | None = None, *, poll_s: float = DEFAULT_POLL_S,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        layout = layout or ReceiptLayout()
        self.simulator = PrinterSimulator(columns=layout.columns)
        simulator, profile = self.simulator, layout.profile
        super().__init__(
            lambda: ResilientNetwork(simulator.host, simulator.port, timeout=timeout_s, profile=profile),
            layout=layout,
            can_query_status=True,
            description="sim:",
            local=False,
            missing=(DeviceState.OFFLINE, ErrorAction.RESET),
            poll_s=poll_s,
        )
        self._sent: dict[bytes, Receipt] = {}
        self._sent_lock = threading.Lock()

    def open(self) -> None:
        self.simulator.start()
        super().open()

    def close(self) -> None:
        super().close()
        self.simulator.close()

    def _sending(self, receipt: Receipt, data: bytes) -> None:
        # Remembered before sending, so that `printed` pairs the simulator's receipt with this one at once.
        with self._sent_lock:
            self._sent.setdefault(data, receipt)

    # ---- controls ---------------------------------------------------------------------------------------

    def set_paper(self, paper: PaperState, *, wait: bool = True) -> None:
        """Change the paper supply (OK, LOW or OUT)."""
        if paper is PaperState.UNKNOWN or paper is None:
            raise ValueError("a simulated printer always knows its paper")
        self.simulator.set_paper(Paper(PaperState(paper).value))
        self.check_now(wait)

    def set_offline(self, offline: bool, *, wait: bool = True) -> None:
        """Unplug (True: connections dropped and refused) or plug the printer back in (False)."""
        self.simulator.set_offline(offline)
        self.check_now(wait)

    def set_cover_open(self, cover_open: bool, *, wait: bool = True) -> None:
        self.simulator.set_cover_open(cover_open)
        self.check_now(wait)

    def drop_connection(self, *, wait: bool = True) -> None:
        """Close the connection from the printer's side; the adapter notices and reconnects."""
        self.simulator.drop_connection()
        self.check_now(wait)

    def fail_after(self, count: int, fault: str) -> None:
        """`fault` (paper_out, cover_open, drop, offline) strikes after `count` more bytes of print data."""
        self.simulator.fail_after(count, fault)

    # ---- what it printed --------------------------------------------------------------------------------

    def _printed(self, records: list[SimReceipt]) -> list[PrintedReceipt]:
        with self._sent_lock:
            sent = dict(self._sent)
        return [PrintedReceipt(sent.get(r.data), r.data, r.parsed, r.text) for r in records]

    @property
    def printed(self) -> list[PrintedReceipt]:
        """Every receipt printed whole, oldest first."""
        return self._printed(self.simulator.receipts)

    @property
    def spoiled(self) -> list[PrintedReceipt]:
        """Receipts a fault interrupted: the part that printed before it."""
        return self._printed(self.simulator.spoiled)

    def wait_for_receipts(self, count: int, timeout: float = 5.0) -> list[PrintedReceipt]:
        """Wait until at least `count` receipts have been printed; raises TimeoutError otherwise."""
        return self._printed(self.simulator.wait_for_receipts(count, timeout))

    def receipt_png(self, index: int, path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Draw printed receipt `index` (negative counts from the end) as a PNG."""
        self.simulator.receipt_png(index, path)
