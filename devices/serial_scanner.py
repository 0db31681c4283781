"""The QR scanner on a serial port: one code per line, ended by the scanner's configured suffix.

``serial:/dev/ttyACM0?baud=9600&suffix=cr&max_length=512``: suffix cr (default), lf, crlf or tab. A stray CR
or LF around a line (a scanner sending CRLF to a terminal set to CR) is dropped. A line longer than
`max_length` bytes, one that is not UTF-8, or one left without its suffix for `quiet_s` is discarded with a log
line and reported through `_unreadable(reason)`, so the journey can say the code could not be read. What a
line says is checked by the QR payload parser, not here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from devices.base import DeviceState, ErrorAction, QrScanner
from devices.coordinator import ConnectionPolicy, Coordinator, Link, LogThrottle, Session
from devices.serial_link import SerialLink, parse_serial_url

_log = logging.getLogger(__name__)

SUFFIXES = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "tab": b"\t"}
DEFAULT_SUFFIX = "cr"
DEFAULT_MAX_LENGTH = 512
MAX_LENGTH_RANGE = (16, 4096)
_OPTIONS = {"suffix": "suffix=cr|lf|crlf|tab", "max_length": "max_length=512"}


@dataclass(frozen=True)
class Unreadable:
    """A line thrown away: too_long, undecodable or incomplete; `raw` is its start, which is
    never logged: a garbled line may still hold a payment code."""

    reason: str
    raw: bytes


class LineSplitter:
    """Cuts a byte stream into lines at `suffix`. Never raises on input."""

    def __init__(self, suffix: bytes = SUFFIXES[DEFAULT_SUFFIX], max_length: int = DEFAULT_MAX_LENGTH) -> None:
        if not suffix:
            raise ValueError("the line suffix cannot be empty")
        self.suffix = suffix
        self.max_length = max_length
        self._buffer = bytearray()
        self._skipping = False  # inside an overlong line, already reported: drop up to its end

    @property
    def pending(self) -> int:
        """Bytes of a line whose end has not come yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[str | Unreadable]:
        self._buffer += data
        out: list[str | Unreadable] = []
        buf, suffix = self._buffer, self.suffix
        while True:
            end = buf.find(suffix)
            if end < 0:
                # Keep what could be the start of a split suffix; anything beyond the limit is an overlong line.
                if len(buf) > self.max_length + len(suffix) - 1:
                    if not self._skipping:
                        out.append(self._reject("too_long", bytes(buf)))
                        self._skipping = True
                    del buf[: len(buf) - (len(suffix) - 1)]
                break
            line = bytes(buf[:end])
            del buf[: end + len(suffix)]
            if self._skipping:
                self._skipping = False  # the end of the overlong line reported before
                continue
            result = self._line(line)
            if result is not None:
                out.append(result)
        return out

    def expire(self) -> list[Unreadable]:
        """The line went quiet before its suffix came: throw it away."""
        rest, skipping = bytes(self._buffer), self._skipping
        self._buffer.clear()
        self._skipping = False
        if skipping or not rest.strip(b"\r\n"):
            return []  # already reported, or only a stray line end
        return [self._reject("incomplete", rest)]

    def _line(self, line: bytes) -> str | Unreadable | None:
        line = line.strip(b"\r\n")
        if not line:
            return None
        if len(line) > self.max_length:
            return self._reject("too_long", line)
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            return self._reject("undecodable", line)

    @staticmethod
    def _reject(reason: str, raw: bytes) -> Unreadable:
        return Unreadable(reason, raw[:32])


class ScannerSession(Session):
    """The scanner's side of one connection: lines in, scans and unreadable codes out."""

    def __init__(self, scanner: QrScanner, suffix: bytes, max_length: int) -> None:
        self._scanner = scanner
        self._suffix = suffix
        self._max_length = max_length
        self.splitter = LineSplitter(suffix, max_length)
        self._last_byte_at = 0.0
        self.rejected = 0  # lines thrown away since start, for logs and tests
        self._noise_log = LogThrottle(_log)
        self.bytes_in = 0  # bytes read and handled on this connection (the simulator's wait_idle counts them)

    @property
    def in_flight(self) -> bool:
        return self.splitter.pending > 0

    def connected(self, link: Link, now: float) -> None:
        self.splitter = LineSplitter(self._suffix, self._max_length)
        self.bytes_in = 0
        # A serial scanner answers nothing: an open port is all the check there is (Link.check, periodically).
        self.coordinator.confirmed()

    def received(self, data: bytes, now: float) -> None:
        self._last_byte_at = now
        self._deliver(self.splitter.feed(data))
        self.bytes_in += len(data)  # after the lines are posted: the simulator's wait_idle relies on it

    def tick(self, now: float) -> None:
        if self.splitter.pending and now - self._last_byte_at >= self.coordinator.policy.quiet_s:
            self._deliver(self.splitter.expire())
            self.coordinator.notify_activity()

    def _deliver(self, items: list[str | Unreadable] | list[Unreadable]) -> None:
        scanner = self._scanner
        for item in items:
            if isinstance(item, Unreadable):
                self.rejected += 1
                self._noise_log(
                    logging.WARNING, "QR scanner: line discarded (%s, %d bytes)", item.reason, len(item.raw)
                )
                reason = item.reason
                self.coordinator.post(lambda reason=reason: scanner._unreadable(reason))  # type: ignore[misc]
            else:
                self.coordinator.post(lambda line=item: scanner._scanned(line))  # type: ignore[misc]


def parse_scanner_options(options: dict[str, str] | None) -> tuple[bytes, int]:
    """The suffix and maximum line length from a scanner URL's options; ValueError when out of range."""
    options = options or {}
    name = options.get("suffix", DEFAULT_SUFFIX).lower()
    if name not in SUFFIXES:
        raise ValueError(f"suffix must be one of {', '.join(SUFFIXES)}, not {name!r}")
    length_text = options.get("max_length", str(DEFAULT_MAX_LENGTH))
    low, high = MAX_LENGTH_RANGE
    if not length_text.isdigit() or not low <= int(length_text) <= high:
        raise ValueError(f"max_length must be a whole number from {low} to {high}, not {length_text!r}")
    return SUFFIXES[name], int(length_text)


class SerialQrScanner(QrScanner):
    """A QR scanner on a serial port, e.g. ``serial:/dev/ttyACM0?baud=9600&suffix=crlf``."""

    def __init__(
        self, port: str, baud: int = 9600, suffix: bytes = SUFFIXES[DEFAULT_SUFFIX],
        max_length: int = DEFAULT_MAX_LENGTH, policy: ConnectionPolicy | None = None,
    ) -> None:
        super().__init__()
        self.port = port
        self.baud = baud
        self.suffix = suffix
        self.max_length = max_length
        self.session = ScannerSession(self, suffix, max_length)
        self.coordinator = Coordinator("qr-scanner", self._connect, self.session, self._set_status, policy)

    @classmethod
    def from_url(cls, url: str, policy: ConnectionPolicy | None = None) -> SerialQrScanner:
        parsed = parse_serial_url(url, _OPTIONS)
        suffix, max_length = parse_scanner_options(dict(parsed.options))
        return cls(parsed.port, parsed.baud, suffix, max_length, policy)

    @property
    def description(self) -> str:
        name = next(key for key, value in SUFFIXES.items() if value == self.suffix)
        return f"serial:{quote(self.port)}?baud={self.baud}&suffix={name}&max_length={self.max_length}"

    def _connect(self) -> Link:
        return SerialLink.open(self.port, self.baud, self.coordinator.policy.read_timeout_s)

    def open(self) -> None:
        """Start connecting on the scanner's own thread; `status` says when it is ONLINE."""
        self.coordinator.start()

    def close(self) -> None:
        self.coordinator.stop()
        self._set_status(state=DeviceState.OFFLINE, last_error=None, action=ErrorAction.NONE)
