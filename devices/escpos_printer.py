"""A ReceiptPrinter that speaks ESC/POS through a python-escpos printer object.

The python-escpos object is only the transport (`escpos_transports`: TCP 9100, serial, USB, file, memory):
the receipt is laid out into bytes first (`escpos_receipt`) and written in one piece, so a layout problem never
leaves half a receipt at the printer.

Transports that can read ask the printer's real-time status (DLE EOT, `escpos_status`) before each receipt,
which refuses to start on a printer that cannot finish it (paper out, cover open, an error, no answer), and
after it, which tells whether the receipt came out whole (the paper ran out or the cover was opened while it
printed, the connection dropped). A background thread asks the same every `poll_s` seconds, and reconnects,
so the state is known before a resident needs the printer. Every failure is a `PrinterError` with a stable
reason code, and the device status carries the same code in `last_error` with what a person must do.

| reason | when | state, action |
|---|---|---|
| `paper_out` | no paper on the roll sensor, or printing stopped at paper end | online + paper out, clear |
| `cover_open` | the offline cause is an open cover | online, clear |
| `error` | a reported error (cutter jam, hardware), or an answer that is not a status | hardware error, see below |
| `offline` | refused, dropped, silent for `timeout_s`, or offline for no named cause | offline, reset |

A cutter jam needs clearing, an unrecoverable error maintenance, nonsense answers a look at the configuration
(the baud rate); a file or serial port that cannot be opened is "no device", configuration.

Paper low is not an error: the receipt prints and the status says paper low.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy

from devices.base import DeviceState, ErrorAction, PaperState, PrinterError, Receipt, ReceiptPrinter
from devices.escpos_receipt import ReceiptLayout, receipt_bytes
from devices.escpos_status import (
    ERROR_CAUSE,
    OFFLINE_CAUSE,
    PAPER_SENSOR,
    PRINTER_STATUS,
    ErrorKind,
    Paper,
    PrinterReport,
    StatusError,
    decode_error_cause,
    decode_offline_cause,
    decode_paper,
    decode_printer_status,
    query,
)
from devices.escpos_transports import (
    DEFAULT_TIMEOUT_S,
    AppendFile,
    PrinterOptions,
    Transport,
    parse_options,
    parse_printer_url,
)

_log = logging.getLogger(__name__)

#: Errors a transport raises when the printer is gone or refuses data (socket, pyserial and pyusb errors are
#: OSErrors).
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (EscposError, OSError)
# Opening can also fail with ValueError (pyusb without a libusb backend) or RuntimeError (a missing library).
_OPEN_ERRORS: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, ValueError, RuntimeError)
# Transports that cannot read answer a status query with NotImplementedError.
_QUERY_ERRORS: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, NotImplementedError)
_PAPER = {Paper.OK: PaperState.OK, Paper.LOW: PaperState.LOW, Paper.OUT: PaperState.OUT}
_ERROR_ACTIONS = {
    ErrorKind.CUTTER: ErrorAction.CLEAR,
    ErrorKind.UNRECOVERABLE: ErrorAction.MAINTENANCE,
    ErrorKind.AUTO_RECOVERABLE: ErrorAction.NONE,  # e.g. an overheated head: it passes by itself
    ErrorKind.NONE: ErrorAction.MAINTENANCE,  # the printer says "error" without saying which
}


class _NoAnswer(Exception):
    """The printer did not answer a status query in time, or the connection is gone."""


def layout_from_query(query_text: str) -> ReceiptLayout:
    """The ReceiptLayout of URL query options (``columns``, ``qr_size``, ``qr``, ``profile``)."""
    return parse_options(query_text)[0].layout


class EscposPrinter(ReceiptPrinter):
    """A receipt printer driven through a python-escpos printer object made by `connect`.

    `can_query_status` says whether the transport can answer DLE EOT; memory and file transports cannot, so
    their paper state is UNKNOWN and only write errors are noticed. `local` transports open at once in
    `open()`; the others are connected on the status thread (or by the first receipt when `poll_s` is 0), so
    that a printer that does not answer never holds up the caller.
    """

    def __init__(
        self,
        connect: Callable[[], Escpos],
        *,
        layout: ReceiptLayout | None = None,
        can_query_status: bool = False,
        description: str = "escpos",
        local: bool = True,
        missing: tuple[DeviceState, ErrorAction] = (DeviceState.NO_DEVICE, ErrorAction.CONFIGURATION),
        poll_s: float = 0.0,
    ) -> None:
        super().__init__()
        self._connect = connect
        self.layout = layout or ReceiptLayout()
        self._can_query_status = can_query_status
        self.description = description
        self._local = local
        self._missing = missing
        self.poll_s = poll_s
        # Reentrant: a status listener running under it may read the printer's properties.
        self._lock = threading.RLock()
        self._transport: Escpos | None = None
        self._opened = False
        self._memory: Dummy | None = None
        self._watcher: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        #: The last status the printer reported, and the detail of the last failure (for logs and staff).
        self.last_report: PrinterReport | None = None
        self.last_detail: str = ""

    # ---- construction ---------------------------------------------------------------------------------

    @classmethod
    def from_transport(cls, transport: Transport, options: PrinterOptions) -> EscposPrinter:
        return cls(
            transport.make,
            layout=options.layout,
            can_query_status=transport.reads,
            description=transport.description,
            local=transport.local,
            missing=transport.missing,
            poll_s=options.poll_s if transport.reads else 0.0,
        )

    @classmethod
    def from_url(cls, url: str) -> EscposPrinter:
        """A printer for a URL of `escpos_transports` (tcp, serial, usb, file, memory)."""
        transport, options = parse_printer_url(url)
        printer = cls.from_transport(transport, options)
        if url.strip().lower().startswith("memory:"):
            sink = transport.make()
            assert isinstance(sink, Dummy)
            printer._memory = sink
        return printer

    @classmethod
    def memory(cls, layout: ReceiptLayout | None = None) -> EscposPrinter:
        """A printer that keeps what it is sent in memory (read it with `take_output`)."""
        sink = Dummy(profile=(layout or ReceiptLayout()).profile)
        printer = cls(lambda: sink, layout=layout, description="memory:")
        printer._memory = sink
        return printer

    @classmethod
    def file(cls, path: str, layout: ReceiptLayout | None = None) -> EscposPrinter:
        """A printer that appends to a file or writes to a device node such as /dev/usb/lp0."""
        return cls(lambda: AppendFile(path), layout=layout, description=f"file:{path}")

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

    # ---- lifecycle ------------------------------------------------------------------------------------

    def open(self) -> None:
        """Claim the printer. Local transports connect now; the others on the status thread, soon after."""
        with self._lock:
            self._opened = True
            if self._local:
                self._connect_locked()
            if self.poll_s > 0 and self._can_query_status and self._watcher is None:
                self._stopping.clear()
                self._watcher = threading.Thread(target=self._watch, name="printer-status", daemon=True)
                self._watcher.start()
        self._wake.set()  # the first check at once

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        with self._lock:
            self._opened = False
            watcher, self._watcher = self._watcher, None
            self._disconnect_locked()
            self._set_status(state=DeviceState.OFFLINE, action=ErrorAction.NONE)
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout=DEFAULT_TIMEOUT_S * 4)

    def check_now(self, wait: bool = True) -> None:
        """Ask the printer for its state now (`wait`), or have the status thread do it soon."""
        if wait:
            self._refresh(block=True)
        else:
            self._wake.set()

    def _watch(self) -> None:
        while True:
            self._wake.wait(self.poll_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                # Not while a receipt prints: it asks the printer itself, before and after.
                self._refresh(block=False)
            except Exception:  # the status thread must outlive any surprise from a driver
                _log.exception("printer status check failed on %s", self.description)

    def _refresh(self, *, block: bool) -> None:
        if not self._lock.acquire(blocking=block):
            return
        try:
            if not self._opened:
                return
            if self._can_query_status:
                self._connected_report_locked()
            else:
                self._connect_locked()
        finally:
            self._lock.release()

    # ---- the receipt printer --------------------------------------------------------------------------

    def paper_state(self) -> PaperState:
        """Ask the printer now; UNKNOWN when it cannot tell (no answer, or a transport that cannot read)."""
        with self._lock:
            if self._opened and self._can_query_status:
                self._connected_report_locked()
            else:
                self._set_status(paper=PaperState.UNKNOWN)
            return self.status.paper or PaperState.UNKNOWN

    def print_receipt(self, receipt: Receipt) -> None:
        try:
            data = receipt_bytes(receipt, self.layout)
        except ValueError as e:
            # e.g. a QR payload longer than the command can carry: nothing was sent.
            raise PrinterError("error", f"cannot lay out receipt: {e}") from e
        with self._lock:
            if not self._opened:
                raise PrinterError("offline", f"{self.description} is not open")
            if self._can_query_status:
                self._require_ready(self._connected_report_locked(), "before the receipt")
            elif self._transport is None and not self._connect_locked():
                raise PrinterError("offline", self.last_detail)
            transport = self._transport
            assert transport is not None
            self._sending(receipt, data)
            try:
                transport._raw(data)
            except TRANSPORT_ERRORS as e:
                self._lost_locked(f"write failed: {e}")
                raise PrinterError("offline", str(e)) from e
            if self._can_query_status:
                # Asked after the receipt's bytes, the status tells whether it came out whole.
                self._require_ready(self._report_locked(), "during the receipt")
            else:
                self._set_status(state=DeviceState.ONLINE, last_error=None, action=ErrorAction.NONE)

    def _sending(self, receipt: Receipt, data: bytes) -> None:
        """Called with the bytes of `receipt` just before they are written (a hook for the simulator)."""

    # ---- status ---------------------------------------------------------------------------------------

    def _require_ready(self, report: PrinterReport | None, when: str) -> None:
        reason = "offline" if report is None else report.blocking_reason
        if reason is not None:
            detail = f"{reason} {when}: {self.last_detail}" if report is None else f"{reason} {when}"
            raise PrinterError(reason, detail)

    def _connected_report_locked(self) -> PrinterReport | None:
        """Connect if needed and ask for the status; a connection that has gone stale gets one fresh try."""
        reused = self._transport is not None
        if not reused and not self._connect_locked():
            return None
        report = self._report_locked()
        if report is None and reused and self._connect_locked():
            report = self._report_locked()
        return report

    def _report_locked(self) -> PrinterReport | None:
        """Ask DLE EOT 1, 2 and 4 (and 3 when an error is flagged) and set the status; None when no answer."""
        try:
            online = decode_printer_status(self._ask(PRINTER_STATUS))
            cause = decode_offline_cause(self._ask(OFFLINE_CAUSE))
            paper = decode_paper(self._ask(PAPER_SENSOR))
            error = decode_error_cause(self._ask(ERROR_CAUSE)) if cause.error else ErrorKind.NONE
        except _NoAnswer as e:
            self._lost_locked(f"no status answer: {e}")
            return None
        except StatusError as e:
            # Not ESC/POS at all: a wrong baud rate, or another device on the port.
            self.last_detail = f"{self.description}: {e}"
            _log.warning("printer %s", self.last_detail)
            self._set_status(
                state=DeviceState.HARDWARE_ERROR, paper=PaperState.UNKNOWN, last_error="error",
                action=ErrorAction.CONFIGURATION,
            )
            return PrinterReport(online=False, paper=Paper.OK, error=ErrorKind.UNRECOVERABLE)
        report = PrinterReport(online, paper, cause, error)
        self.last_report = report
        self._apply_locked(report)
        return report

    def _ask(self, n: int) -> int:
        transport = self._transport
        if transport is None:
            raise _NoAnswer("not connected")
        try:
            answer = transport.query_status(query(n))
        except _QUERY_ERRORS as e:
            raise _NoAnswer(str(e) or type(e).__name__) from e
        answer = bytes(answer or b"")  # pyusb answers with an array
        if not answer:
            raise _NoAnswer("the printer did not answer DLE EOT")
        # The answer to this query is the last byte; anything before it was left over from earlier.
        return answer[-1]

    def _apply_locked(self, report: PrinterReport) -> None:
        paper = _PAPER[report.paper]
        reason = report.blocking_reason
        if reason is None:
            self._set_status(state=DeviceState.ONLINE, paper=paper, last_error=None, action=ErrorAction.NONE)
        elif reason in ("paper_out", "cover_open"):
            paper = PaperState.OUT if reason == "paper_out" else paper
            self._set_status(state=DeviceState.ONLINE, paper=paper, last_error=reason, action=ErrorAction.CLEAR)
        elif reason == "error":
            self._set_status(
                state=DeviceState.HARDWARE_ERROR, paper=paper, last_error="error", action=_ERROR_ACTIONS[report.error]
            )
        else:  # it answers, but says it is offline for no reason it names (e.g. waiting to recover)
            self._set_status(state=DeviceState.OFFLINE, paper=paper, last_error="offline", action=ErrorAction.RESET)

    # ---- connection -----------------------------------------------------------------------------------

    def _connect_locked(self) -> bool:
        if self._transport is not None:
            return True
        try:
            transport = self._connect()
            transport.open()
        except _OPEN_ERRORS as e:
            state, action = self._missing
            self.last_detail = f"cannot open {self.description}: {e}"
            _log.info("printer %s", self.last_detail)
            self._set_status(
                state=state, paper=PaperState.UNKNOWN, last_error="offline", action=action
            )
            return False
        self._transport = transport
        if not self._can_query_status:
            self._set_status(state=DeviceState.ONLINE, paper=PaperState.UNKNOWN, last_error=None,
                             action=ErrorAction.NONE)
        return True

    def _lost_locked(self, detail: str) -> None:
        """The printer stopped answering or the connection broke: offline until a reconnection works."""
        self.last_detail = f"{self.description}: {detail}"
        _log.info("printer %s", self.last_detail)
        # Reconnect next time: a USB printer that was unplugged comes back as a new device, and a network
        # printer's late answers must not be read as the answers to later questions.
        self._disconnect_locked()
        self._set_status(state=DeviceState.OFFLINE, paper=PaperState.UNKNOWN, last_error="offline",
                         action=ErrorAction.RESET)

    def _disconnect_locked(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            # A transport that fails to close is already gone; nothing is left to release.
            with contextlib.suppress(*_OPEN_ERRORS):
                transport.close()
