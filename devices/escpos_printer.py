"""A ReceiptPrinter that speaks ESC/POS through a python-escpos printer object.

The python-escpos object is only the transport: the receipt is laid out into bytes first (escpos_receipt) and
written in one piece, so a layout problem never leaves half a receipt at the printer. Transports come from a
configuration URL; this issue has ``memory:`` (escpos Dummy) and ``file:/path`` (escpos File, also a device
node such as /dev/usb/lp0). Serial, USB and TCP transports plug in through the same ``connect`` callable.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File

from devices.base import DeviceState, ErrorAction, PaperState, PrinterError, Receipt, ReceiptPrinter
from devices.escpos_receipt import ReceiptLayout, receipt_bytes

#: Errors a transport raises when the printer is gone or refuses data.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (EscposError, OSError)

# Transports that cannot read answer a status query with NotImplementedError.
_QUERY_ERRORS: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, NotImplementedError)
_PAPER_BY_ESCPOS_CODE = {2: PaperState.OK, 1: PaperState.LOW, 0: PaperState.OUT}


class AppendFile(File):
    """python-escpos File opened for appending.

    escpos's File truncates on open, which would lose a capture file's earlier receipts when the kiosk
    restarts; appending is harmless for device nodes.
    """

    def open(self, raise_not_found: bool = True) -> None:
        self.close()
        try:
            handle = open(self.devfile, "ab")  # noqa: SIM115 - closed by close()
        except OSError as e:
            if raise_not_found:
                raise DeviceNotFoundError(f"Could not open {self.devfile}: {e}") from e
            return
        self.device = handle


def layout_from_query(query: str) -> ReceiptLayout:
    """Build a ReceiptLayout from URL query options: ``columns`` (48, 42, 32...) and ``qr_size`` (1..16)."""
    default = ReceiptLayout()
    options = {"columns": default.columns, "qr_size": default.qr_module_size}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in options:
            raise ValueError(f"unknown printer option {key!r}; accepted: {', '.join(options)}")
        try:
            options[key] = int(value)
        except ValueError:
            raise ValueError(f"printer option {key} must be a whole number, not {value!r}") from None
    return ReceiptLayout(columns=options["columns"], qr_module_size=options["qr_size"])


class EscposPrinter(ReceiptPrinter):
    """A receipt printer driven through a python-escpos printer object made by `connect`.

    `can_query_status` says whether the transport can answer DLE EOT (paper state); memory and file
    transports cannot, so their paper state is UNKNOWN.
    """

    def __init__(
        self,
        connect: Callable[[], Escpos],
        *,
        layout: ReceiptLayout | None = None,
        can_query_status: bool = False,
        description: str = "escpos",
    ) -> None:
        super().__init__()
        self._connect = connect
        self.layout = layout or ReceiptLayout()
        self._can_query_status = can_query_status
        self.description = description
        self._lock = threading.Lock()
        self._transport: Escpos | None = None
        self._opened = False
        self._memory: Dummy | None = None

    @classmethod
    def memory(cls, layout: ReceiptLayout | None = None) -> EscposPrinter:
        """A printer that keeps what it is sent in memory (read it with `take_output`)."""
        sink = Dummy()
        printer = cls(lambda: sink, layout=layout, description="memory:")
        printer._memory = sink
        return printer

    @classmethod
    def file(cls, path: str, layout: ReceiptLayout | None = None) -> EscposPrinter:
        """A printer that appends to a file or writes to a device node such as /dev/usb/lp0."""
        return cls(lambda: AppendFile(path), layout=layout, description=f"file:{path}")

    @classmethod
    def from_url(cls, url: str) -> EscposPrinter:
        """``memory:`` or ``file:/path`` (``file:///path`` too), with optional ``?columns=42&qr_size=5``."""
        parts = urlsplit(url)
        layout = layout_from_query(parts.query)
        if parts.scheme == "memory":
            if parts.netloc or parts.path:
                raise ValueError(f"memory printer URL {url!r} takes no path; use memory:")
            return cls.memory(layout)
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise ValueError(f"file printer URL {url!r} names a host; use file:/path/to/file")
            path = unquote(parts.path)
            if not path:
                raise ValueError(f"file printer URL {url!r} has no path; use file:/path/to/file")
            return cls.file(path, layout)
        raise ValueError(f"unsupported ESC/POS printer URL {url!r}; accepted: memory:, file:/path/to/file")

    @property
    def transport(self) -> Escpos | None:
        """The connected python-escpos object, or None."""
        return self._transport

    def take_output(self) -> bytes:
        """Return and forget the bytes sent so far (memory transport only)."""
        if self._memory is None:
            raise TypeError(f"{self.description} does not keep its output in memory")
        with self._lock:
            data = self._memory.output
            self._memory.clear()
            return data

    def open(self) -> None:
        """Connect; a failure shows in the status (NO_DEVICE) rather than raising."""
        with self._lock:
            self._opened = True
            self._connect_locked()

    def close(self) -> None:
        with self._lock:
            self._opened = False
            self._disconnect_locked()
            self._set_status(state=DeviceState.OFFLINE, action=ErrorAction.NONE)

    def paper_state(self) -> PaperState:
        with self._lock:
            return self._query_paper_locked()

    def print_receipt(self, receipt: Receipt) -> None:
        try:
            data = receipt_bytes(receipt, self.layout)
        except ValueError as e:
            # e.g. a QR payload longer than the command can carry: nothing was sent.
            raise PrinterError("error", f"cannot lay out receipt: {e}") from e
        with self._lock:
            if not self._opened:
                raise PrinterError("offline", f"{self.description} is not open")
            if self._transport is None and not self._connect_locked():
                raise PrinterError("offline", self.status.last_error or "")
            if self._query_paper_locked() is PaperState.OUT:
                self._set_status(last_error="paper_out", action=ErrorAction.MAINTENANCE)
                raise PrinterError("paper_out")
            transport = self._transport
            assert transport is not None
            try:
                transport._raw(data)
            except TRANSPORT_ERRORS as e:
                # Reconnect on the next receipt: a USB printer that was unplugged comes back as a new node.
                self._disconnect_locked()
                self._set_status(state=DeviceState.OFFLINE, last_error=f"offline: {e}", action=ErrorAction.RESET)
                raise PrinterError("offline", str(e)) from e
            self._set_status(state=DeviceState.ONLINE, last_error=None, action=ErrorAction.NONE)

    def _connect_locked(self) -> bool:
        if self._transport is not None:
            return True
        try:
            transport = self._connect()
            transport.open()
        except TRANSPORT_ERRORS as e:
            self._set_status(
                state=DeviceState.NO_DEVICE,
                paper=None,
                last_error=f"cannot open {self.description}: {e}",
                action=ErrorAction.CONFIGURATION,
            )
            return False
        self._transport = transport
        self._set_status(state=DeviceState.ONLINE, last_error=None, action=ErrorAction.NONE)
        self._query_paper_locked()
        return True

    def _disconnect_locked(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            # A transport that fails to close is already gone; nothing is left to release.
            with contextlib.suppress(*TRANSPORT_ERRORS):
                transport.close()

    def _query_paper_locked(self) -> PaperState:
        paper = PaperState.UNKNOWN
        if self._can_query_status and self._transport is not None:
            try:
                paper = _PAPER_BY_ESCPOS_CODE.get(self._transport.paper_status(), PaperState.UNKNOWN)
            except _QUERY_ERRORS:
                paper = PaperState.UNKNOWN
        self._set_status(paper=paper)
        return paper
