"""Printer URLs: which python-escpos transport to open, and the receipt and status options.

One small table entry per transport, each building the python-escpos printer object that does the I/O
(as python-escpos has one module per connection type):

| URL | transport | reads status |
|---|---|---|
| ``tcp://host[:9100]`` | escpos Network (raw TCP, port 9100 by default) | yes |
| ``serial:/dev/ttyS0?baud=19200[&flow=dsrdtr]`` (``serial:COM3`` on Windows) | escpos Serial (pyserial) | yes |
| ``usb:0x0416:0x5011[?in_ep=0x82&out_ep=0x01]`` | escpos Usb (pyusb + libusb) | yes |
| ``file:/dev/usb/lp0`` or any file | escpos File, opened for appending | no |
| ``memory:`` | escpos Dummy, for unit tests | no |

Every URL also takes ``columns`` (48, 42, 32...), ``qr_size`` (1..16), ``qr`` (``native`` for the printer's
own QR command, ``image`` for a raster image), ``profile`` (a python-escpos printer profile; one without the
QR feature prints the QR as an image), ``poll_s`` (seconds between background status checks, 0 for none)
and ``timeout_s`` (connect, write and status answer time limit).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from escpos.capabilities import get_profile
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial, Usb

from devices.base import DeviceState, ErrorAction
from devices.escpos_receipt import QR_MODES, ReceiptLayout

DEFAULT_TCP_PORT = 9100
DEFAULT_BAUD = 19200
BAUD_RATES = (2400, 4800, 9600, 19200, 38400, 57600, 115200)
FLOW_CONTROL = ("dsrdtr", "rtscts", "xonxoff", "none")
DEFAULT_POLL_S = 5.0
DEFAULT_TIMEOUT_S = 2.0

ACCEPTED_FORMS = (
    "tcp://host[:9100]",
    "serial:/dev/ttyS0?baud=19200",
    "usb:0x0416:0x5011[?in_ep=0x82&out_ep=0x01]",
    "file:/path/to/file-or-device",
    "memory:",
)
_COMMON_OPTIONS = ("columns", "qr_size", "qr", "profile", "poll_s", "timeout_s")


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


class ResilientNetwork(Network):
    """escpos Network whose socket sends without Nagle's delay (status queries are one or two bytes)."""

    def open(self, raise_not_found: bool = True) -> None:
        super().open(raise_not_found)
        device = self._device
        if isinstance(device, socket.socket):
            device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class StatusSerial(Serial):
    """escpos Serial that reads a status answer as the one byte it is.

    python-escpos reads 16 bytes, and pyserial waits for all 16 or the timeout: every DLE EOT would take the
    whole timeout.
    """

    def _read(self) -> bytes:
        assert self.device
        answer: bytes = self.device.read(1)
        return answer


class _RtsCtsSerial(StatusSerial):
    """StatusSerial with RTS/CTS flow control (python-escpos only offers DSR/DTR or none)."""

    def open(self, raise_not_found: bool = True) -> None:
        super().open(raise_not_found)
        if self._device:
            self._device.rtscts = True


@dataclass(frozen=True)
class Transport:
    """How to reach one printer."""

    #: Makes an unopened python-escpos printer object; called again for each reconnection.
    make: Callable[[], Escpos]
    description: str
    #: The transport can read the printer's answers (DLE EOT status).
    reads: bool
    #: Opening is instant and never waits on a device (memory, a file): done in `open()` itself.
    local: bool = False
    #: The state and action reported when it cannot be opened.
    missing: tuple[DeviceState, ErrorAction] = (DeviceState.NO_DEVICE, ErrorAction.CONFIGURATION)


@dataclass(frozen=True)
class PrinterOptions:
    """The options common to every printer URL."""

    layout: ReceiptLayout = field(default_factory=ReceiptLayout)
    profile: str = "default"
    poll_s: float = DEFAULT_POLL_S
    timeout_s: float = DEFAULT_TIMEOUT_S


def _number(key: str, value: str, kind: type[int] | type[float]) -> float:
    try:
        return int(value, 16) if kind is int and value.lower().startswith("0x") else kind(value)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ValueError(f"printer option {key} must be {noun}, not {value!r}") from None


def parse_options(query: str, extra: tuple[str, ...] = ()) -> tuple[PrinterOptions, dict[str, str]]:
    """Common options from a URL query, and the transport's own (`extra`) left as text."""
    accepted = (*_COMMON_OPTIONS, *extra)
    given: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in accepted:
            raise ValueError(f"unknown printer option {key!r}; accepted: {', '.join(accepted)}")
        given[key] = value
    profile_name = given.get("profile", "default")
    try:
        profile = get_profile(profile_name)
    except Exception:  # escpos raises NotSupported, or KeyError from its database
        raise ValueError(f"unknown python-escpos printer profile {profile_name!r}") from None
    default = ReceiptLayout()
    qr = given.get("qr", "native" if profile.supports("qrCode") else "image")
    if qr not in QR_MODES:
        raise ValueError(f"printer option qr must be one of {', '.join(QR_MODES)}, not {qr!r}")
    layout = ReceiptLayout(
        columns=int(_number("columns", given.get("columns", str(default.columns)), int)),
        qr_module_size=int(_number("qr_size", given.get("qr_size", str(default.qr_module_size)), int)),
        qr_mode=qr,
        profile=profile_name,
    )
    poll_s = _number("poll_s", given.get("poll_s", str(DEFAULT_POLL_S)), float)
    timeout_s = _number("timeout_s", given.get("timeout_s", str(DEFAULT_TIMEOUT_S)), float)
    if poll_s < 0 or (0 < poll_s < 0.05):
        raise ValueError(f"printer option poll_s must be 0 (no polling) or at least 0.05, not {poll_s}")
    if not 0.05 <= timeout_s <= 60:
        raise ValueError(f"printer option timeout_s must be between 0.05 and 60, not {timeout_s}")
    options = PrinterOptions(layout, profile_name, poll_s, timeout_s)
    return options, {k: v for k, v in given.items() if k in extra}


def _tcp(url: str) -> tuple[Transport, PrinterOptions]:
    parts = urlsplit(url)
    options, _ = parse_options(parts.query)
    if parts.path not in ("", "/") or not parts.hostname:
        raise ValueError(f"network printer URL {url!r} must be tcp://host or tcp://host:port")
    try:
        port = parts.port or DEFAULT_TCP_PORT
    except ValueError:
        raise ValueError(f"network printer URL {url!r} has an invalid port") from None
    host, profile, timeout = parts.hostname, options.profile, options.timeout_s
    transport = Transport(
        make=lambda: ResilientNetwork(host, port, timeout=timeout, profile=profile),
        description=f"tcp://{host}:{port}",
        reads=True,
        # An unplugged or switched-off network printer refuses or ignores the connection: offline.
        missing=(DeviceState.OFFLINE, ErrorAction.RESET),
    )
    return transport, options


def _serial(url: str) -> tuple[Transport, PrinterOptions]:
    parts = urlsplit(url)
    options, extra = parse_options(parts.query, ("baud", "flow"))
    port = unquote(parts.path)
    if parts.netloc or not port:
        raise ValueError(f"serial printer URL {url!r} has no port; use serial:/dev/ttyS0 or serial:COM3")
    baud = int(_number("baud", extra.get("baud", str(DEFAULT_BAUD)), int))
    if baud not in BAUD_RATES:
        raise ValueError(f"serial baud rate {baud} is not one of {', '.join(map(str, BAUD_RATES))}")
    flow = extra.get("flow", "dsrdtr")
    if flow not in FLOW_CONTROL:
        raise ValueError(f"serial flow control {flow!r} is not one of {', '.join(FLOW_CONTROL)}")
    profile, timeout = options.profile, options.timeout_s

    def make() -> Escpos:
        kind = _RtsCtsSerial if flow == "rtscts" else StatusSerial
        return kind(port, baudrate=baud, timeout=timeout, xonxoff=flow == "xonxoff", dsrdtr=flow == "dsrdtr",
                    profile=profile)

    return Transport(make=make, description=f"serial:{port}?baud={baud}", reads=True), options


def _usb(url: str) -> tuple[Transport, PrinterOptions]:
    parts = urlsplit(url)
    options, extra = parse_options(parts.query, ("in_ep", "out_ep"))
    ids = parts.path.split(":")
    if parts.netloc or len(ids) != 2 or not all(ids):
        raise ValueError(f"USB printer URL {url!r} must be usb:VENDOR:PRODUCT, e.g. usb:0x0416:0x5011")
    vendor, product = (int(_number("USB id", i, int)) for i in ids)
    in_ep = int(_number("in_ep", extra.get("in_ep", "0x82"), int))
    out_ep = int(_number("out_ep", extra.get("out_ep", "0x01"), int))
    for name, value, top in (("vendor id", vendor, 0xFFFF), ("product id", product, 0xFFFF),
                             ("in_ep", in_ep, 0xFF), ("out_ep", out_ep, 0xFF)):
        if not 0 < value <= top:
            raise ValueError(f"USB {name} {value:#x} is out of range in {url!r}")
    if not Usb.is_usable():
        raise ValueError("usb: printers need the pyusb package (and libusb) installed")
    profile, timeout_ms = options.profile, int(options.timeout_s * 1000)
    transport = Transport(
        make=lambda: Usb(vendor, product, timeout=timeout_ms, in_ep=in_ep, out_ep=out_ep, profile=profile),
        description=f"usb:{vendor:#06x}:{product:#06x}",
        reads=True,
    )
    return transport, options


def _file(url: str) -> tuple[Transport, PrinterOptions]:
    parts = urlsplit(url)
    options, _ = parse_options(parts.query)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file printer URL {url!r} names a host; use file:/path/to/file")
    path = unquote(parts.path)
    if not path:
        raise ValueError(f"file printer URL {url!r} has no path; use file:/path/to/file")
    profile = options.profile
    return Transport(lambda: AppendFile(path, profile=profile), f"file:{path}", reads=False, local=True), options


def _memory(url: str) -> tuple[Transport, PrinterOptions]:
    parts = urlsplit(url)
    options, _ = parse_options(parts.query)
    if parts.netloc or parts.path:
        raise ValueError(f"memory printer URL {url!r} takes no path; use memory:")
    sink = Dummy(profile=options.profile)
    return Transport(lambda: sink, "memory:", reads=False, local=True), options


#: scheme -> builder. Each raises ValueError with what is wrong.
TRANSPORTS: dict[str, Callable[[str], tuple[Transport, PrinterOptions]]] = {
    "tcp": _tcp,
    "serial": _serial,
    "usb": _usb,
    "file": _file,
    "memory": _memory,
}


def parse_printer_url(url: str) -> tuple[Transport, PrinterOptions]:
    """The transport and options a printer URL names; ValueError listing the accepted forms otherwise."""
    scheme = urlsplit(url.strip()).scheme.lower() if isinstance(url, str) else ""
    if scheme not in TRANSPORTS:
        raise ValueError(f"unsupported ESC/POS printer URL {url!r}; accepted: {', '.join(ACCEPTED_FORMS)}")
    return TRANSPORTS[scheme](url.strip())
