"""A network receipt printer on loopback: a TCP 9100 server that speaks ESC/POS.

It reads the byte stream as a printer does: real-time status queries (DLE EOT n) are answered as soon as they
arrive, with the bytes of `escpos_status` for its current state, and everything else is print data. A receipt
is the print data up to and including a cut; each one is parsed (`escpos_parser`) and kept with its text, and
drawn as a PNG on request.

A test or the demo panel sets its state: paper ok, low or out, the cover open, offline (connections refused
until it is back), or drops the connections now. `fail_after(n, fault)` makes a fault happen after n more
bytes of print data, in the middle of a receipt. While the paper is out or the cover open nothing prints: the
receipt under way is kept as an incomplete one (`spoiled`), and what arrives before the cut is discarded.

One thread serves every connection (selectors); the public methods are safe from any thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from devices.escpos_parser import Command, ParsedReceipt, iter_commands, parse, render_png, render_text
from devices.escpos_status import (
    ERROR_CAUSE,
    OFFLINE_CAUSE,
    PAPER_SENSOR,
    PRINTER_STATUS,
    ErrorKind,
    OfflineCause,
    Paper,
    encode_error_cause,
    encode_offline_cause,
    encode_paper,
    encode_printer_status,
)

_log = logging.getLogger(__name__)

FAULTS = ("paper_out", "cover_open", "drop", "offline")
_RECV = 65536
_REQUEST_TIMEOUT_S = 5.0
_CUTS = (b"\x1dV", b"\x1bi", b"\x1bm")  # GS V, and the legacy ESC i / ESC m


@dataclass(frozen=True)
class SimReceipt:
    """One receipt the simulator received: its print data, what it reads as, and when it came."""

    data: bytes
    parsed: ParsedReceipt
    text: str
    #: time.perf_counter() when its first and last byte arrived.
    first_byte_at: float
    last_byte_at: float
    #: Why it did not come out whole (a fault code of FAULTS, "closed" for a connection that ended mid-receipt),
    #: or None for a receipt printed and cut.
    fault: str | None = None


def complete_commands(buffer: bytes) -> tuple[list[Command], int]:
    """The commands wholly inside `buffer` and the bytes they span.

    A command cut short by the end of the buffer, or a text run reaching it (its last character may be half
    there), waits for more bytes. Text-run boundaries do not depend on the Chinese mode (GB18030 never uses
    control bytes), so the buffer can be split anywhere.
    """
    commands: list[Command] = []
    consumed = 0
    for command in iter_commands(buffer):
        end = command.offset + len(command.raw)
        if command.name == "truncated" or (command.name == "text" and end == len(buffer)):
            break
        commands.append(command)
        consumed = end
    return commands, consumed


@dataclass
class _Connection:
    sock: socket.socket
    pending: bytes = b""
    receipt: bytearray = field(default_factory=bytearray)
    started_at: float | None = None
    #: A receipt is under way (print data came since the last cut).
    active: bool = False
    #: The fault that spoiled the receipt under way, if any.
    spoiled_by: str | None = None


class PrinterSimulator:
    """A TCP ESC/POS printer on `host` (loopback) and `port` (0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, columns: int = 48) -> None:
        self.host = host
        self._wanted_port = port
        self.columns = columns
        self._state = threading.Condition()
        self._paper = Paper.OK
        self._cover_open = False
        self._error = ErrorKind.NONE
        self._offline = False
        self._fault: tuple[int, str] | None = None
        self._receipts: list[SimReceipt] = []
        self._spoiled: list[SimReceipt] = []
        self._status_queries = 0
        self._connections_accepted = 0
        self._port = 0
        self._thread: threading.Thread | None = None
        self._requests: queue.Queue[tuple[Callable[[], None], threading.Event]] = queue.Queue()
        self._selector: selectors.BaseSelector | None = None
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._clients: dict[socket.socket, _Connection] = {}
        self._first_byte_listeners: list[Callable[[float], None]] = []

    # ---- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> PrinterSimulator:
        """Listen and serve on a thread of its own; idempotent."""
        if self._thread is not None:
            return self
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        with self._state:
            offline = self._offline
        if not offline:
            self._listen()
        elif not self._port:
            self._port = self._reserve_port()
        self._thread = threading.Thread(target=self._serve, name=f"printer-sim:{self._port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close every socket; what was printed stays readable. Idempotent."""
        thread = self._thread
        if thread is None:
            return
        self._call(self._stop)
        thread.join(_REQUEST_TIMEOUT_S)
        self._thread = None

    def __enter__(self) -> PrinterSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self._port}"

    # ---- what a test or the panel sets ----------------------------------------------------------------

    def set_paper(self, paper: Paper) -> None:
        with self._state:
            self._paper = Paper(paper)

    def set_cover_open(self, cover_open: bool) -> None:
        with self._state:
            self._cover_open = cover_open

    def set_error(self, error: ErrorKind) -> None:
        """A printer error (cutter jam, hardware fault); ErrorKind.NONE clears it."""
        with self._state:
            self._error = ErrorKind(error)

    def set_offline(self, offline: bool) -> None:
        """Unplugged (True): drop every connection and refuse new ones until set back (False)."""
        with self._state:
            if offline == self._offline:
                return
            self._offline = offline
        if self.running:
            self._call(self._go_offline if offline else self._listen)

    def drop_connection(self) -> None:
        """Close every open connection now, as a network glitch or a printer reboot would; new ones work."""
        if self.running:
            self._call(lambda: self._drop_all("drop"))

    def fail_after(self, count: int, fault: str) -> None:
        """After `count` more bytes of print data, `fault` (one of FAULTS) happens: mid-receipt for small counts."""
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}, not {fault!r}")
        if count < 0:
            raise ValueError("count must not be negative")
        with self._state:
            self._fault = (count, fault)

    def add_first_byte_listener(self, listener: Callable[[float], None]) -> None:
        """`listener(perf_counter_time)` on the server thread when a receipt's first byte arrives."""
        self._first_byte_listeners.append(listener)

    # ---- what it printed ------------------------------------------------------------------------------

    @property
    def paper(self) -> Paper:
        with self._state:
            return self._paper

    @property
    def cover_open(self) -> bool:
        with self._state:
            return self._cover_open

    @property
    def offline(self) -> bool:
        with self._state:
            return self._offline

    @property
    def receipts(self) -> list[SimReceipt]:
        """Every receipt printed whole, oldest first."""
        with self._state:
            return list(self._receipts)

    @property
    def spoiled(self) -> list[SimReceipt]:
        """Receipts that did not come out whole (the part printed before the fault), oldest first."""
        with self._state:
            return list(self._spoiled)

    @property
    def status_queries(self) -> int:
        """DLE EOT queries answered so far."""
        with self._state:
            return self._status_queries

    @property
    def connections_accepted(self) -> int:
        with self._state:
            return self._connections_accepted

    def wait_for_receipts(self, count: int, timeout: float = 5.0) -> list[SimReceipt]:
        """Wait until `count` receipts have been printed whole; TimeoutError otherwise."""
        with self._state:
            if not self._state.wait_for(lambda: len(self._receipts) >= count, timeout):
                raise TimeoutError(f"{len(self._receipts)} of {count} receipts printed after {timeout} s")
            return list(self._receipts)

    def wait_for_spoiled(self, count: int, timeout: float = 5.0) -> list[SimReceipt]:
        with self._state:
            if not self._state.wait_for(lambda: len(self._spoiled) >= count, timeout):
                raise TimeoutError(f"{len(self._spoiled)} of {count} spoiled receipts after {timeout} s")
            return list(self._spoiled)

    def receipt_png(self, index: int, target: str | os.PathLike[str] | IO[bytes]) -> None:
        """Draw printed receipt `index` (negative from the end) as a PNG the paper's width."""
        render_png(self.receipts[index].parsed, target, self.columns)

    def status_byte(self, n: int) -> int | None:
        """The answer to DLE EOT n in the current state (None for an n a printer ignores)."""
        with self._state:
            return self._status_byte_locked(n)

    # ---- the server thread ----------------------------------------------------------------------------

    def _call(self, action: Callable[[], None]) -> None:
        """Run `action` on the server thread and wait for it (the selector is not shared between threads)."""
        if threading.current_thread() is self._thread:
            action()
            return
        done = threading.Event()
        self._requests.put((action, done))
        assert self._wake_w is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        if not done.wait(_REQUEST_TIMEOUT_S):
            raise TimeoutError("the printer simulator did not act in time")

    def _serve(self) -> None:
        selector = self._selector
        assert selector is not None
        while selector.get_map():
            for key, _mask in selector.select():
                try:
                    if key.data == "wake":
                        self._run_requests()
                    elif key.data == "listen":
                        self._accept()
                    else:
                        self._read(key.fileobj)  # type: ignore[arg-type]
                except Exception:  # one bad connection must not stop the printer
                    _log.exception("printer simulator failed on %s", key.data)

    def _run_requests(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_r.recv(4096)
        while True:
            try:
                action, done = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                action()
            finally:
                done.set()

    def _listen(self) -> None:
        if self._listener is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port or self._wanted_port))
        except OSError:
            # The port was taken while the printer was unplugged: come back on another one.
            sock.bind((self.host, 0))
        sock.listen(16)
        sock.setblocking(False)
        self._port = sock.getsockname()[1]
        self._listener = sock
        assert self._selector is not None
        self._selector.register(sock, selectors.EVENT_READ, "listen")

    def _reserve_port(self) -> int:
        with socket.socket() as sock:
            sock.bind((self.host, self._wanted_port))
            port: int = sock.getsockname()[1]
            return port

    def _go_offline(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            assert self._selector is not None
            self._selector.unregister(listener)
            listener.close()
        self._drop_all("offline")

    def _stop(self) -> None:
        self._go_offline()
        assert self._selector is not None and self._wake_r is not None and self._wake_w is not None
        self._selector.unregister(self._wake_r)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _accept(self) -> None:
        assert self._listener is not None and self._selector is not None
        try:
            sock, _address = self._listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._clients[sock] = _Connection(sock)
        self._selector.register(sock, selectors.EVENT_READ, "client")
        with self._state:
            self._connections_accepted += 1

    def _drop_all(self, why: str) -> None:
        for sock in list(self._clients):
            self._close_client(sock, why)

    def _close_client(self, sock: socket.socket, why: str) -> None:
        connection = self._clients.pop(sock, None)
        if connection is None:
            return
        # Recorded before the socket closes, so whoever sees the close also sees the torn receipt.
        if connection.active:
            self._finish(connection, connection.spoiled_by or why)
        assert self._selector is not None
        self._selector.unregister(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _read(self, sock: socket.socket) -> None:
        connection = self._clients.get(sock)
        if connection is None:
            return
        try:
            data = sock.recv(_RECV)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_client(sock, "closed")
            return
        self._feed(connection, data)

    def _feed(self, connection: _Connection, data: bytes) -> None:
        connection.pending += data
        commands, consumed = complete_commands(connection.pending)
        connection.pending = connection.pending[consumed:]
        for command in commands:
            if command.name == "realtime_status":
                self._answer(connection, command.params[0])
                continue
            if command.name in ("realtime_request", "realtime_command"):
                continue  # DLE ENQ / DLE DC4: nothing to recover from here, no drawer to pulse
            if not self._print(connection, command.raw):
                return  # the connection is gone

    def _answer(self, connection: _Connection, n: int) -> None:
        with self._state:
            answer = self._status_byte_locked(n)
            if answer is not None:
                self._status_queries += 1
        if answer is not None:
            try:
                connection.sock.sendall(bytes([answer]))
            except OSError:
                self._close_client(connection.sock, "closed")

    def _print(self, connection: _Connection, raw: bytes) -> bool:
        """Take one command of print data; False when a fault closed the connection."""
        if not connection.active:
            connection.active = True
            connection.started_at = now = time.perf_counter()
            for listener in list(self._first_byte_listeners):
                listener(now)
        with self._state:
            fault = self._fault
            if fault is not None and fault[0] < len(raw):
                self._fault = None
            elif fault is not None:
                self._fault = (fault[0] - len(raw), fault[1])
                fault = None
            stopped = self._stopped_by_locked()
        if fault is not None:
            # The fault strikes inside this command: what came before it printed, the rest does not.
            if connection.spoiled_by is None:
                connection.receipt += raw[: fault[0]]
            alive = self._strike(connection, fault[1])
            if alive and raw[:2] in _CUTS:
                self._finish(connection, connection.spoiled_by)  # the cut was not made either
            return alive
        if connection.spoiled_by is None and stopped is not None:
            connection.spoiled_by = stopped
        if connection.spoiled_by is None:
            connection.receipt += raw
        if raw[:2] in _CUTS:
            self._finish(connection, connection.spoiled_by)
        return True

    def _strike(self, connection: _Connection, fault: str) -> bool:
        if fault == "paper_out":
            self.set_paper(Paper.OUT)
        elif fault == "cover_open":
            self.set_cover_open(True)
        connection.spoiled_by = fault
        if fault == "drop":
            self._close_client(connection.sock, "drop")
            return False
        if fault == "offline":
            with self._state:
                self._offline = True
            self._go_offline()
            return False
        return True

    def _finish(self, connection: _Connection, fault: str | None) -> None:
        data = bytes(connection.receipt)
        started = connection.started_at if connection.started_at is not None else time.perf_counter()
        connection.receipt = bytearray()
        connection.active = False
        connection.started_at = None
        connection.spoiled_by = None
        parsed = parse(data)
        record = SimReceipt(data, parsed, render_text(parsed, self.columns), started, time.perf_counter(), fault)
        with self._state:
            (self._receipts if fault is None else self._spoiled).append(record)
            self._state.notify_all()

    # ---- status bytes ---------------------------------------------------------------------------------

    def _stopped_by_locked(self) -> str | None:
        if self._cover_open:
            return "cover_open"
        if self._paper is Paper.OUT:
            return "paper_out"
        if self._error is not ErrorKind.NONE:
            return "error"
        return None

    def _status_byte_locked(self, n: int) -> int | None:
        stopped = self._stopped_by_locked()
        cause = OfflineCause(
            cover_open=self._cover_open,
            paper_end_stop=self._paper is Paper.OUT,
            error=self._error is not ErrorKind.NONE,
        )
        answers = {
            PRINTER_STATUS: lambda: encode_printer_status(stopped is None),
            OFFLINE_CAUSE: lambda: encode_offline_cause(cause),
            ERROR_CAUSE: lambda: encode_error_cause(self._error),
            PAPER_SENSOR: lambda: encode_paper(self._paper),
        }
        answer = answers.get(n)
        return None if answer is None else answer()
