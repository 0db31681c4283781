"""Card reader and QR scanner simulators on pseudo-terminals, speaking the real wire protocols.

Each simulator owns a pty pair and a stable path (a symlink in a private temporary folder pointing at the
current /dev/pts/N), so the real serial adapter opens it as ``serial:<path>``. `unplug()` closes the pty and
removes the symlink (the adapter's reads fail, its reconnects find no port); `replug()` makes a new pty and
points the symlink at it. Each simulator runs on its own thread; everything that touches the pty's file
descriptors happens there, so the controls (called from any thread) queue work for it.
"""

from __future__ import annotations

import collections
import errno
import fcntl
import logging
import os
import select
import shutil
import tempfile
import threading
import time
import tty
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from devices.card_protocol import MAX_CARD_ID, Command, Frame, FrameDecoder, FrameError, Nak, StatusFlags, encode

_log = logging.getLogger(__name__)
RESEND_S = 0.5  # the reader repeats an unanswered event this often
JOIN_S = 5.0


class PtySim(ABC):
    """A simulated serial device on a pty, with its own thread. Subclasses speak the protocol."""

    name = "pty-sim"

    def __init__(self, on_activity: Callable[[], None] = lambda: None) -> None:
        self._on_activity = on_activity
        self._lock = threading.RLock()  # the device's state; also held while the adapter opens the port
        self._jobs: collections.deque[tuple[Callable[[], None], threading.Event]] = collections.deque()
        self._thread: threading.Thread | None = None
        self._folder: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._wake_r = self._wake_w = -1
        self._out = bytearray()  # bytes to write to the host, in order
        self.written = 0  # bytes written into the pty since `reset_written`
        self.plugged = False
        self._stopping = False

    # ---- lifecycle (any thread) ----------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The port's stable path (the symlink); valid from `start()` to `close()`."""
        if self._folder is None:
            raise RuntimeError(f"{self.name} is not started")
        return os.path.join(self._folder, "tty")

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Create the pty and its path, and start the simulator's thread; the device is plugged in."""
        if self._thread is not None:
            return
        self._folder = tempfile.mkdtemp(prefix=f"kiosk-{self.name}-")
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._plug()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread, close the pty and remove the path; idempotent."""
        thread = self._thread
        if thread is None:
            return
        self._call(self._stop)
        thread.join(JOIN_S)
        self._thread = None
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = -1
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def unplug(self) -> None:
        """Pull the cable: the pty closes and the path disappears. Waits until done."""
        self._call(self._unplug)

    def replug(self) -> None:
        """Plug back in: a new pty behind the same path. Waits until done."""
        self._call(self._replug)

    def send_garbage(self, data: bytes) -> None:
        """Line noise: raw bytes to the host, as they are (none while unplugged)."""
        with self._lock:
            self._require()
            if self.plugged:
                self._queue_out(bytes(data))
        self._wake()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Nothing is written while held (the adapter opens the port and flushes its input meanwhile)."""
        with self._lock:
            yield

    def reset_written(self) -> None:
        with self._lock:
            self.written = 0

    # ---- for subclasses ----------------------------------------------------------------------------------

    @abstractmethod
    def _received(self, data: bytes, now: float) -> None:
        """Bytes from the host (simulator thread, lock held)."""

    def _pump(self, now: float) -> float | None:
        """Time-driven work (simulator thread, lock held); returns seconds until it wants to run again."""
        return None

    def _plugged_in(self) -> None:
        """The device was (re)powered (simulator thread, lock held)."""
        return None

    def _unplugged(self) -> None:
        """The device lost power (simulator thread, lock held)."""
        return None

    def _queue_out(self, data: bytes) -> None:
        self._out += data

    def _require(self) -> None:
        if self._thread is None:
            raise RuntimeError(f"{self.name} is not open")

    def _wake(self) -> None:
        with suppress(OSError):  # a full pipe is already a wake-up; a closed one means closing
            os.write(self._wake_w, b"x")

    # ---- the thread --------------------------------------------------------------------------------------

    def _call(self, job: Callable[[], None]) -> None:
        """Run `job` on the simulator's thread and wait for it."""
        if self._thread is None:
            raise RuntimeError(f"{self.name} is not open")
        if threading.current_thread() is self._thread:
            job()
            return
        done = threading.Event()
        with self._lock:
            self._jobs.append((job, done))
        self._wake()
        if not done.wait(JOIN_S):
            raise TimeoutError(f"{self.name} did not answer")

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._jobs:
                    job, done = self._jobs.popleft()
                    try:
                        job()
                    finally:
                        done.set()
                if self._stopping:
                    return
                delay = self._pump(time.monotonic())
                master = self._master
                want_write = bool(self._out) and master is not None
            readers = [self._wake_r] + ([master] if master is not None else [])
            writers = [master] if want_write and master is not None else []
            try:
                readable, writable, _ = select.select(readers, writers, [], 0.5 if delay is None else delay)
            except (OSError, ValueError):
                continue  # the pty was replaced meanwhile
            if self._wake_r in readable:
                with suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)
            with self._lock:
                if master is None or master != self._master:
                    continue
                if master in readable:
                    self._read(master)
                if master in writable and self._out:
                    self._write(master)
            self._on_activity()

    def _read(self, master: int) -> None:
        try:
            data = os.read(master, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:
                _log.warning("%s: read failed: %s", self.name, exc)
            return
        if data:
            self._received(data, time.monotonic())

    def _write(self, master: int) -> None:
        try:
            count = os.write(master, bytes(self._out[:4096]))
        except BlockingIOError:
            return
        except OSError as exc:
            _log.warning("%s: write failed: %s", self.name, exc)
            return
        del self._out[:count]
        self.written += count

    def _stop(self) -> None:
        self._stopping = True
        self._unplug()

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing, no CR/LF translation before the adapter sets its mode
        os.set_blocking(master, False)
        fcntl.fcntl(master, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        fcntl.fcntl(slave, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        # The simulator keeps the slave open too, so the pty lives while the adapter reconnects.
        self._master, self._slave = master, slave
        assert self._folder is not None
        temporary = os.path.join(self._folder, "tty.new")
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(os.ttyname(slave), temporary)
        os.replace(temporary, self.path)  # atomic: the path never points at nothing while plugged
        self.plugged = True
        self.written = 0
        self._plugged_in()

    def _unplug(self) -> None:
        if not self.plugged:
            return
        self.plugged = False
        with self._lock:
            self._out.clear()
            self._unplugged()
        with suppress(FileNotFoundError):
            os.unlink(self.path)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def _replug(self) -> None:
        if not self.plugged:
            with self._lock:
                self._plug()


class PtyCardReaderSim(PtySim):
    """An IC card reader: reports cards as they come and go, answers READ_ID and STATUS (docs/devices.md)."""

    name = "card-reader-sim"

    def __init__(self, on_activity: Callable[[], None] = lambda: None) -> None:
        super().__init__(on_activity)
        self._decoder = FrameDecoder()
        self._card: str | None = None  # the card physically in the reader
        self._seen: str | None = None  # the card the reader has reported
        self._events: collections.deque[str | None] = collections.deque()  # card id in, None out
        self._outstanding: tuple[Frame, float] | None = None  # sent, not yet answered
        self._last_detected: tuple[int, str] | None = None  # answered READ_ID: (seq, card id)
        self._seq = 0
        self.busy = False
        self.fault = False
        self.received_frames: list[Frame] = []  # everything the host sent, for tests

    # ---- controls (any thread) ----------------------------------------------------------------------------

    @property
    def card(self) -> str | None:
        with self._lock:
            return self._card

    def insert(self, card_id: str) -> None:
        """Insert a card; a card already in is taken out first."""
        check_card_id(card_id)
        with self._lock:
            self._require()
            if self._card is not None:
                self._event(None)
            self._card = card_id
            self._event(card_id)
        self._wake()

    def remove(self) -> None:
        with self._lock:
            self._require()
            if self._card is not None:
                self._card = None
                self._event(None)
        self._wake()

    def tap(self, card_id: str) -> None:
        """A contactless card held to the reader for a moment: detected, read, gone."""
        check_card_id(card_id)
        with self._lock:
            self._require()
            if self._card is not None:
                self._event(None)
            self._card = None
            self._event(card_id)
            self._event(None)
        self._wake()

    def set_flags(self, *, busy: bool = False, fault: bool = False) -> None:
        """What the next STATUS_REPLY says about the reader itself."""
        with self._lock:
            self.busy, self.fault = busy, fault

    @property
    def idle(self) -> bool:
        """Every card event is sent and answered, and every byte written into the pty."""
        with self._lock:
            return not self._events and self._outstanding is None and not self._out

    # ---- protocol (simulator thread) ---------------------------------------------------------------------

    def _event(self, card_id: str | None) -> None:
        if self.plugged:  # an unpowered reader notices nothing; it looks again when powered
            self._events.append(card_id)

    def _send(self, command: int, seq: int, data: bytes = b"") -> None:
        self._queue_out(encode(command, seq, data))

    def _plugged_in(self) -> None:
        self._decoder = FrameDecoder()
        self._seq = 0
        self._seen = None
        self._last_detected = None
        if self._card is not None:
            self._events.append(self._card)

    def _unplugged(self) -> None:
        self._events.clear()
        self._outstanding = None

    def _pump(self, now: float) -> float | None:
        if self._outstanding is None and self._events:
            card_id = self._events.popleft()
            self._seq = (self._seq + 1) % 256
            if card_id is None:
                self._seen = None
                self._last_detected = None
                frame = Frame(Command.CARD_REMOVED, self._seq)
            else:
                self._seen = card_id
                frame = Frame(Command.CARD_DETECTED, self._seq)
            self._outstanding = (frame, now)
            self._queue_out(frame.encode())
        if self._outstanding is None:
            return None
        frame, sent_at = self._outstanding
        if now - sent_at >= RESEND_S:
            self._outstanding = (frame, now)
            self._queue_out(frame.encode())
            sent_at = now
        return max(0.0, sent_at + RESEND_S - now)

    def _received(self, data: bytes, now: float) -> None:
        for item in self._decoder.feed(data):
            if isinstance(item, FrameError):
                if item.reason != "noise":
                    self._send(Command.NAK, 0, bytes((Nak.BAD_FRAME,)))
                continue
            self.received_frames.append(item)
            self._answer(item)

    def _answer(self, frame: Frame) -> None:
        command, seq = frame.command, frame.seq
        outstanding = self._outstanding[0] if self._outstanding else None
        if command == Command.STATUS:
            flags = (StatusFlags.CARD_PRESENT if self._seen is not None else 0) | (
                StatusFlags.BUSY if self.busy else 0) | (StatusFlags.FAULT if self.fault else 0)
            self._send(Command.STATUS_REPLY, seq, bytes((flags,)))
            if outstanding is not None:  # a host that asks is listening: tell it now, not at the next resend
                self._queue_out(outstanding.encode())
        elif command == Command.READ_ID:
            if outstanding is not None and outstanding.command == Command.CARD_DETECTED and outstanding.seq == seq:
                assert self._seen is not None
                self._last_detected = (seq, self._seen)
                self._outstanding = None
            if self._last_detected is not None and self._last_detected[0] == seq:
                self._send(Command.CARD_ID, seq, self._last_detected[1].encode("ascii"))
            else:
                self._send(Command.NAK, seq, bytes((Nak.NO_CARD,)))
        elif command == Command.ACK:
            if outstanding is not None and outstanding.command == Command.CARD_REMOVED and outstanding.seq == seq:
                self._outstanding = None
        else:
            self._send(Command.NAK, seq, bytes((Nak.UNKNOWN_COMMAND,)))


def check_card_id(card_id: str) -> None:
    """A simulated card's id is what a reader sends: 1..64 printable ASCII characters, no spaces."""
    if (not isinstance(card_id, str) or not 1 <= len(card_id) <= MAX_CARD_ID
            or not all("!" <= ch <= "~" for ch in card_id)):
        raise ValueError(f"a card id is 1 to {MAX_CARD_ID} printable ASCII characters without spaces")


class PtyScannerSim(PtySim):
    """A serial QR scanner: each scan is the code's text in UTF-8 and the configured suffix."""

    name = "qr-scanner-sim"

    def __init__(self, suffix: bytes = b"\r", on_activity: Callable[[], None] = lambda: None) -> None:
        super().__init__(on_activity)
        self.suffix = suffix

    def scan(self, text: str) -> None:
        """Present a code: its text and the suffix go out as one line (lost while unplugged)."""
        with self._lock:
            self._require()
            if not self.plugged:
                _log.info("%s: scan while unplugged is lost", self.name)
                return
            self._queue_out(text.encode("utf-8") + self.suffix)
        self._wake()

    @property
    def idle(self) -> bool:
        """Every byte is written into the pty."""
        with self._lock:
            return not self._out

    def _received(self, data: bytes, now: float) -> None:
        pass  # a scanner in serial mode ignores what the host sends
