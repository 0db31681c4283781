"""The serial transport (pyserial) behind the card reader and the scanner, and their `serial:` URLs.

A URL names the port and its options: ``serial:/dev/ttyUSB0?baud=9600`` (``serial:COM3`` on Windows). The
port is opened exclusively, 8 data bits, no parity, 1 stop bit, no flow control, raw (no byte is translated:
the card reader's frames are binary).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import serial

from devices.coordinator import LinkLost, PortMissing

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
WRITE_TIMEOUT_S = 1.0  # a device that takes no bytes for this long is treated as gone
_MISSING = (errno.ENOENT, errno.ENODEV, errno.ENXIO)


@dataclass(frozen=True)
class SerialUrl:
    """A parsed ``serial:`` URL: the port, the baud rate and the device's other options."""

    port: str
    baud: int
    options: Mapping[str, str]


def parse_serial_url(url: str, options: Mapping[str, str] = {}) -> SerialUrl:
    """Parse ``serial:<port>?baud=9600&...``; `options` maps the other accepted option names to their form.

    Raises ValueError naming what is wrong.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "serial":
        raise ValueError(f"{url!r} is not a serial: URL")
    if parts.netloc or not parts.path or parts.fragment:
        raise ValueError(f"serial URL {url!r} needs a port path, e.g. serial:/dev/ttyUSB0 or serial:COM3")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ValueError(f"serial URL {url!r} has a malformed query") from None
    values: dict[str, str] = {}
    for key, value in pairs:
        key = key.lower()
        if key != "baud" and key not in options:
            known = ", ".join(["baud=9600", *options.values()])
            raise ValueError(f"unknown option {key!r} in {url!r}; known: {known}")
        if key in values:
            raise ValueError(f"option {key!r} given twice in {url!r}")
        values[key] = value
    baud_text = values.pop("baud", "9600")
    if not baud_text.isdigit() or int(baud_text) not in BAUD_RATES:
        raise ValueError(f"baud must be one of {', '.join(map(str, BAUD_RATES))}, not {baud_text!r}")
    return SerialUrl(parts.path, int(baud_text), values)


class SerialLink:
    """An open serial port as a coordinator `Link`: bounded reads and writes, errors as LinkLost."""

    def __init__(self, port: serial.Serial, path: str) -> None:
        self._serial = port
        self.path = path

    @classmethod
    def open(cls, path: str, baud: int, read_timeout_s: float) -> SerialLink:
        port = serial.Serial()
        port.port = path
        port.baudrate = baud
        port.timeout = read_timeout_s
        port.write_timeout = WRITE_TIMEOUT_S
        if os.name == "posix":
            port.exclusive = True  # nothing else may read our device's bytes
        try:
            port.open()
        except serial.SerialException as exc:
            if exc.errno in _MISSING or "FileNotFoundError" in str(exc):
                raise PortMissing(f"{path} not found") from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise PermissionError(f"no permission to open {path}") from None
            raise LinkLost(f"cannot open {path}: {exc}") from None
        except (OSError, ValueError) as exc:
            raise LinkLost(f"cannot open {path}: {exc}") from None
        return cls(port, path)

    def read(self) -> bytes:
        try:
            # One byte with the timeout, then whatever else is waiting: low latency without busy waiting.
            data = self._serial.read(1)
            if data:
                waiting = self._serial.in_waiting
                if waiting:
                    data += self._serial.read(waiting)
            return bytes(data)
        except (serial.SerialException, OSError, TypeError) as exc:
            # pyserial raises TypeError when the port was closed under a read.
            raise LinkLost(f"{self.path}: connection lost ({exc})") from None

    def write(self, data: bytes) -> None:
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"{self.path}: write failed: {exc}") from None

    def check(self) -> None:
        if not os.path.exists(self.path) and not self.path.upper().startswith("COM"):
            raise PortMissing(f"{self.path} not found")
        try:
            _ = self._serial.in_waiting
        except (serial.SerialException, OSError, TypeError) as exc:
            raise LinkLost(f"{self.path}: {exc}") from None

    def cancel_read(self) -> None:
        # Not supported on every platform: the read then returns on its timeout.
        with suppress(AttributeError, OSError, serial.SerialException):
            self._serial.cancel_read()

    def close(self) -> None:
        with suppress(serial.SerialException, OSError):  # the device is gone already
            self._serial.close()
