"""Small abstract bases, one per device class, and the state every device reports.

The states follow the XFS4IoT / UnifiedPOS vocabulary so that screens, the maintenance menu and HQ all read
one shape. Adapters call their listeners from their own threads; the core marshals to the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

_log = logging.getLogger(__name__)


class DeviceState(StrEnum):
    """Whether the device can be used now."""

    ONLINE = "online"
    OFFLINE = "offline"
    NO_DEVICE = "no_device"
    HARDWARE_ERROR = "hardware_error"
    BUSY = "busy"


class PaperState(StrEnum):
    """Paper supply of a receipt printer."""

    OK = "ok"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


class ErrorAction(StrEnum):
    """What a person must do about the last error."""

    NONE = "none"
    RESET = "reset"
    CLEAR = "clear"
    MAINTENANCE = "maintenance"
    CONFIGURATION = "configuration"


@dataclass(frozen=True)
class DeviceStatus:
    """A snapshot of a device's state, supplies and last error."""

    state: DeviceState = DeviceState.OFFLINE
    paper: PaperState | None = None
    card_present: bool | None = None
    last_error: str | None = None
    action: ErrorAction = ErrorAction.NONE


StatusListener = Callable[[DeviceStatus], None]


class Device(ABC):
    """Lifecycle and status shared by every device adapter."""

    #: Short machine name used in logs, configuration and HQ reports ("card_reader", ...).
    kind: str = "device"

    def __init__(self) -> None:
        self._status = DeviceStatus()
        self._status_lock = threading.Lock()
        # Held while listeners run, so that changes made on two threads reach them in the order made.
        self._notify_lock = threading.RLock()
        self._status_listeners: list[StatusListener] = []

    @abstractmethod
    def open(self) -> None:
        """Claim and enable the device; must not block for long (connect on a worker thread)."""

    @abstractmethod
    def close(self) -> None:
        """Disable and release the device; idempotent."""

    @property
    def status(self) -> DeviceStatus:
        with self._status_lock:
            return self._status

    def add_status_listener(self, listener: StatusListener) -> None:
        self._status_listeners.append(listener)

    def _set_status(self, **changes: object) -> None:
        """Update the status and tell listeners when it changed."""
        with self._notify_lock:
            with self._status_lock:
                new = replace(self._status, **changes)  # type: ignore[arg-type]
                changed = new != self._status
                self._status = new
            if changed:
                for listener in list(self._status_listeners):
                    try:
                        listener(new)
                    except Exception:
                        # A broken listener must not stop the others nor fail the device operation.
                        _log.exception("status listener failed for %s", self.kind)


CardListener = Callable[[str], None]
RemovedListener = Callable[[], None]
ScanListener = Callable[[str], None]
UnreadableListener = Callable[[str], None]


class CardReader(Device):
    """A resident IC card reader: reports a card id when a card is inserted or tapped."""

    kind = "card_reader"

    def __init__(self) -> None:
        super().__init__()
        self._on_card: CardListener = lambda card_id: None
        self._on_removed: RemovedListener = lambda: None

    def set_listeners(self, on_card: CardListener, on_removed: RemovedListener | None = None) -> None:
        self._on_card = on_card
        self._on_removed = on_removed or (lambda: None)

    def _card_read(self, card_id: str) -> None:
        self._set_status(card_present=True)
        self._on_card(card_id)

    def _card_removed(self) -> None:
        self._set_status(card_present=False)
        self._on_removed()


class QrScanner(Device):
    """A QR/barcode scanner: reports each decoded payload as text."""

    kind = "qr_scanner"

    def __init__(self) -> None:
        super().__init__()
        self._on_scan: ScanListener = lambda payload: None
        self._on_unreadable: UnreadableListener = lambda reason: None

    def set_listener(self, on_scan: ScanListener, on_unreadable: UnreadableListener | None = None) -> None:
        """`on_scan(payload)` for each code read; `on_unreadable(reason)` for a code seen but not readable."""
        self._on_scan = on_scan
        self._on_unreadable = on_unreadable or (lambda reason: None)

    def _scanned(self, payload: str) -> None:
        self._on_scan(payload)

    def _unreadable(self, reason: str) -> None:
        """A code came in that could not be read (too long, not text, cut short): `reason` says which."""
        self._on_unreadable(reason)


@dataclass(frozen=True)
class ReceiptLine:
    """One labelled line of a receipt ("金额", "¥100.00")."""

    label: str
    value: str


@dataclass(frozen=True)
class Receipt:
    """What a receipt says, already translated; the printer adapter only lays it out."""

    title: str
    lines: tuple[ReceiptLine, ...]
    qr_data: str | None = None
    qr_caption: str | None = None
    footer: tuple[str, ...] = field(default_factory=tuple)


class PrinterError(Exception):
    """A receipt could not be printed; `reason` is a stable code (paper_out, offline, cover_open, error)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class ReceiptPrinter(Device):
    """A receipt printer. `print_receipt` blocks until the receipt is sent: call it off the GUI thread."""

    kind = "receipt_printer"

    @abstractmethod
    def print_receipt(self, receipt: Receipt) -> None:
        """Print and cut one receipt, or raise PrinterError without side effects on the payment."""

    @abstractmethod
    def paper_state(self) -> PaperState:
        """Ask the printer for its paper state now."""
