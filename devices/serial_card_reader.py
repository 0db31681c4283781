"""The IC card reader on a serial port, speaking the framed protocol of `devices.card_protocol`.

On CARD_DETECTED the adapter asks for the card's id (READ_ID with the event's sequence number) and reports
`_card_read(card_id)` when CARD_ID comes back; on CARD_REMOVED it answers ACK and reports `_card_removed()`.
The reader re-sends an event until it is answered, so an event is reported once per sequence number. Bad
frames are logged, counted and skipped (the decoder resynchronises at the next start byte); five in a row make
the reader HARDWARE_ERROR until it answers sensibly again. A STATUS request is the health check.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from devices.base import CardReader, DeviceState, ErrorAction
from devices.card_protocol import Command, Frame, FrameDecoder, FrameError, Nak, StatusFlags, encode
from devices.coordinator import ConnectionPolicy, Coordinator, DeviceSilent, Link, LogThrottle, Session
from devices.serial_link import SerialLink, parse_serial_url

_log = logging.getLogger(__name__)


def is_newer(seq: int, last: int | None) -> bool:
    """Sequence number arithmetic (RFC 1982) on one byte: `seq` comes after `last`."""
    return last is None or 0 < (seq - last) % 256 < 128


def card_id_from(data: bytes) -> str | None:
    """The card id in a CARD_ID frame, or None when it is not 1..64 printable ASCII characters."""
    if not data or any(not 0x21 <= byte <= 0x7E for byte in data):
        return None
    return data.decode("ascii")


class CardReaderSession(Session):
    """The card reader's side of one connection (coordinator thread only)."""

    def __init__(self, reader: CardReader) -> None:
        self._reader = reader
        self._link: Link | None = None
        self._decoder = FrameDecoder()
        self._seq = 0
        self._status_seq: int | None = None
        self._status_sent_at: float | None = None
        self._missed = 0
        self._first_status = True
        self._last_event: int | None = None
        self._awaiting: tuple[int, float] | None = None  # READ_ID in flight: (seq, sent at)
        self._last_byte_at = 0.0
        self.bad_frames = 0  # since start, for logs and tests
        self.bytes_in = 0  # bytes read and handled on this connection (the simulator's wait_idle counts them)
        self._noise_log = LogThrottle(_log)

    @property
    def in_flight(self) -> bool:
        """A card event, or part of a frame, has arrived and is not yet dealt with."""
        return self._awaiting is not None or self._decoder.pending > 0

    # ---- Session ------------------------------------------------------------------------------------------

    def connected(self, link: Link, now: float) -> None:
        self._link = link
        self._decoder = FrameDecoder()
        self.bytes_in = 0
        self._status_seq = self._status_sent_at = None
        self._missed = 0
        self._first_status = True
        # A reader that was power-cycled starts its numbering afresh: take its next event whatever its number.
        self._last_event = None
        self._awaiting = None
        self._send_status(now)

    def received(self, data: bytes, now: float) -> None:
        self._last_byte_at = now
        for item in self._decoder.feed(data):
            self._handle(item, now)
        self.bytes_in += len(data)

    def tick(self, now: float) -> None:
        policy = self.coordinator.policy
        if self._decoder.pending and now - self._last_byte_at >= policy.quiet_s:
            while self._decoder.pending:
                for item in self._decoder.expire():
                    self._handle(item, now)
            self.coordinator.notify_activity()
        if self._awaiting is not None and now - self._awaiting[1] > policy.response_timeout_s:
            _log.warning("card reader: no card id for event %d", self._awaiting[0])
            self._awaiting = None
            self.coordinator.notify_activity()
        if self._status_sent_at is not None and now - self._status_sent_at > policy.response_timeout_s:
            self._missed += 1
            self._status_sent_at = None
            if self._missed >= policy.missed_limit:
                raise DeviceSilent(f"no answer to {self._missed} status requests")
            self._send_status(now)

    def probe(self, now: float) -> None:
        if self._status_sent_at is None:
            self._send_status(now)

    def disconnected(self) -> None:
        self._link = None
        self._awaiting = None
        self._status_sent_at = None

    # ---- frames ---------------------------------------------------------------------------------------------

    def _send(self, command: Command, seq: int) -> None:
        assert self._link is not None
        self._link.write(encode(command, seq))

    def _send_status(self, now: float) -> None:
        self._seq = (self._seq + 1) % 256
        self._status_seq, self._status_sent_at = self._seq, now
        self._send(Command.STATUS, self._seq)

    def _bad(self, what: str) -> None:
        self.bad_frames += 1
        self.coordinator.nonsense(what)

    def _handle(self, item: Frame | FrameError, now: float) -> None:
        if isinstance(item, FrameError):
            self._noise_log(logging.WARNING, "card reader: discarded %d bytes (%s)", len(item.raw), item.reason)
            self._bad(item.reason)
            return
        command, seq, data = item.command, item.seq, item.data
        if command == Command.STATUS_REPLY:
            self._status_reply(seq, data)
        elif command == Command.CARD_DETECTED:
            self.coordinator.confirmed()
            # Answered every time, also when the reader repeats it: our READ_ID may have been lost.
            self._awaiting = (seq, now)
            self._send(Command.READ_ID, seq)
        elif command == Command.CARD_ID:
            self._card_id(seq, data)
        elif command == Command.CARD_REMOVED:
            self.coordinator.confirmed()
            if is_newer(seq, self._last_event):
                self._last_event = seq
                self.coordinator.post(self._reader._card_removed)
            self._send(Command.ACK, seq)
        elif command == Command.NAK:
            self._nak(seq, data)
        else:
            _log.info("card reader: unknown command 0x%02x", command)
            self._bad(f"unknown command 0x{command:02x}")

    def _status_reply(self, seq: int, data: bytes) -> None:
        if seq != self._status_seq or not data:
            self._bad("unexpected status reply")
            return
        self._status_seq = self._status_sent_at = None
        self._missed = 0
        flags = data[0]
        if flags & StatusFlags.FAULT:
            self.coordinator.condition(DeviceState.HARDWARE_ERROR, "reader fault", ErrorAction.MAINTENANCE)
        elif flags & StatusFlags.BUSY:
            self.coordinator.condition(DeviceState.BUSY)
        else:
            self.coordinator.condition(None)
        self.coordinator.confirmed()
        if self._first_status:
            self._first_status = False
            present = bool(flags & StatusFlags.CARD_PRESENT)
            if not present:
                reader = self._reader
                self.coordinator.post(lambda: reader._set_status(card_present=False))

    def _card_id(self, seq: int, data: bytes) -> None:
        if self._awaiting is not None and self._awaiting[0] == seq:
            self._awaiting = None
        if not is_newer(seq, self._last_event):
            return  # the answer to a repeated READ_ID: reported already
        card_id = card_id_from(data)
        if card_id is None:
            _log.warning("card reader: unreadable card id (%d bytes)", len(data))
            self._bad("bad card id")
            return
        self.coordinator.confirmed()
        self._last_event = seq
        reader = self._reader
        self.coordinator.post(lambda: reader._card_read(card_id))

    def _nak(self, seq: int, data: bytes) -> None:
        reason = data[0] if data else None
        if reason == Nak.NO_CARD:
            # The card left before its id was read (a very quick tap): nothing to report, not a fault.
            _log.info("card reader: card gone before its id was read")
            if self._awaiting is not None and self._awaiting[0] == seq:
                self._awaiting = None
            self.coordinator.confirmed()
        else:
            _log.info("card reader: NAK %s for sequence %d", reason, seq)
            self._bad(f"NAK {reason}")


class SerialCardReader(CardReader):
    """A card reader on a serial port, e.g. ``serial:/dev/ttyUSB0?baud=9600``."""

    def __init__(self, port: str, baud: int = 9600, policy: ConnectionPolicy | None = None) -> None:
        super().__init__()
        self.port = port
        self.baud = baud
        self.session = CardReaderSession(self)
        self.coordinator = Coordinator("card-reader", self._connect, self.session, self._set_status, policy)

    @classmethod
    def from_url(cls, url: str, policy: ConnectionPolicy | None = None) -> SerialCardReader:
        parsed = parse_serial_url(url)
        return cls(parsed.port, parsed.baud, policy)

    @property
    def description(self) -> str:
        return f"serial:{quote(self.port)}?baud={self.baud}"

    def _connect(self) -> Link:
        return SerialLink.open(self.port, self.baud, self.coordinator.policy.read_timeout_s)

    def open(self) -> None:
        """Start connecting on the reader's own thread; `status` says when it is ONLINE."""
        self.coordinator.start()

    def close(self) -> None:
        self.coordinator.stop()
        self._set_status(state=DeviceState.OFFLINE, card_present=None, last_error=None, action=ErrorAction.NONE)
