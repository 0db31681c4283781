"""Every setting of the terminal, declared once with its type, default and description.

A configuration file is TOML with one table per section (`[hq]`, `[payment]`, ...). `load_config` checks every
key and value at start and raises `ConfigError` with a message a technician can act on. `describe()` renders the
whole declaration for docs and the example file.
"""

from __future__ import annotations

import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from locales import shipped_languages

LANGUAGES = shipped_languages()  # one per catalog folder in locales/ (docs/languages.md)


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the setting and what is wrong."""


def setting(default: Any, doc: str, check: typing.Callable[[Any], str | None] | None = None) -> Any:
    """Declare one setting: its default, a description, and an optional check returning an error text."""
    if isinstance(default, list | tuple):
        frozen = tuple(default)
        return field(default_factory=lambda: frozen, metadata={"doc": doc, "check": check})
    return field(default=default, metadata={"doc": doc, "check": check})


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _at_least(minimum: float) -> typing.Callable[[float], str | None]:
    return lambda value: None if value >= minimum else f"must be at least {minimum}"


def _one_of(*choices: str) -> typing.Callable[[str], str | None]:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


def _http_url(value: str) -> str | None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return "must be an http:// or https:// URL"
    return None


def _existing_file_or_empty(value: str) -> str | None:
    if value and not Path(value).is_file():
        return "is not an existing file"
    return None


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not a known time zone (e.g. Asia/Shanghai)"
    return None


def _presets(values: tuple[int, ...]) -> str | None:
    if not values or any(v <= 0 for v in values):
        return "must be a non-empty list of positive amounts in fen"
    return None


def _between(low: float, high: float) -> typing.Callable[[float], str | None]:
    return lambda value: None if low <= value <= high else f"must be between {low} and {high}"


def _card_ids(values: tuple[str, ...]) -> str | None:
    if any(not v.isalnum() or len(v) > 64 for v in values):
        return "must be a list of card ids as the card reader reports them (letters and digits, at most 64)"
    return None


def _device_url(maker: str) -> typing.Callable[[str], str | None]:
    """A check that `devices.factory.<maker>` accepts the URL (building an adapter opens nothing)."""

    def check(value: str) -> str | None:
        from devices import factory  # loaded only when a device URL is checked

        try:
            getattr(factory, maker)(value)
        except ValueError as exc:
            return f"is not usable: {exc}"
        return None

    return check


@dataclass(frozen=True)
class TerminalSettings:
    id: str = setting("T-0001", "This terminal's id, as registered at HQ.")
    secret_file: str = setting(
        "", "File holding this terminal's secret from `kiosk-hq terminals register` (one line, mode 0600); every "
        "request to HQ is signed with it. Empty: requests are not signed (only for an HQ that does not require it)."
    )
    timezone: str = setting("Asia/Shanghai", "Time zone for times shown and printed.", _timezone)


@dataclass(frozen=True)
class HqSettings:
    url: str = setting("http://127.0.0.1:8800", "Base URL of the HQ billing API.", _http_url)
    connect_timeout_s: float = setting(3.0, "Seconds to wait for a connection to HQ.", _positive)
    read_timeout_s: float = setting(10.0, "Seconds to wait for HQ's answer once connected.", _positive)
    health_interval_s: float = setting(15.0, "Seconds between reachability checks of HQ.", _at_least(1))
    offline_probe_s: float = setting(
        0.5, "Seconds between reachability checks while HQ is unreachable (how soon queued work resumes).", _positive
    )
    ca_bundle: str = setting(
        "", "For an https:// HQ: file of the CA certificate(s) HQ's certificate is verified against (PEM); empty for "
        "the system's trusted CAs. Verification is never turned off.", _existing_file_or_empty,
    )


@dataclass(frozen=True)
class HeartbeatSettings:
    enabled: bool = setting(True, "Report this terminal's state to HQ and take its remote commands.")
    interval_s: float = setting(
        30.0, "Seconds between heartbeats; HQ shows the terminal offline after three missed ones.", _between(1, 3600)
    )


@dataclass(frozen=True)
class UiSettings:
    language: str = setting("zh_CN", "Language a journey starts in.", _one_of(*LANGUAGES))
    mode: str = setting(
        "standard", "Mode a journey starts in: standard, or elderly (larger text, voice).",
        _one_of("standard", "elderly"),
    )
    orientation: str = setting(
        "auto", "Panel layout: portrait, landscape, or auto (from the screen).",
        _one_of("auto", "portrait", "landscape"),
    )
    fullscreen: bool = setting(True, "Fullscreen and frameless; false for a window while developing.")
    inactivity_s: int = setting(60, "Seconds without a touch before asking 'need more time?'.", _at_least(10))
    warning_s: int = setting(20, "Seconds the 'need more time?' question waits before going home.", _at_least(20))
    result_s: int = setting(20, "Seconds a result screen stays before asking 'need more time?'.", _at_least(5))
    elderly_inactivity_s: int = setting(
        120, "Elderly mode (长辈版): seconds without a touch before asking 'need more time?'.", _at_least(30)
    )
    elderly_warning_s: int = setting(
        30, "Elderly mode: seconds the 'need more time?' question waits (seen and heard) before going home; one tap "
        "gives more time, as often as asked.", _at_least(20),
    )
    elderly_result_s: int = setting(
        60, "Elderly mode: seconds a result screen stays before asking 'need more time?'.", _at_least(20)
    )
    panel_diagonal_in: float = setting(
        21.5, "The touch panel's diagonal in inches (sizes in millimetres are checked against it).", _positive
    )
    viewing_distance_mm: int = setting(
        500, "How far a resident's eyes are from the panel, in mm (text size as an angle of view).", _at_least(200)
    )


@dataclass(frozen=True)
class PaymentSettings:
    min_fen: int = setting(1000, "Smallest recharge, in fen.", _at_least(100))
    max_fen: int = setting(200000, "Largest recharge, in fen.", _positive)
    presets_fen: tuple[int, ...] = setting([2000, 5000, 10000, 20000], "Preset amounts, in fen.", _presets)
    countdown_s: int = setting(180, "Seconds the payment QR stays valid on screen.", _at_least(30))
    elderly_countdown_s: int = setting(
        300, "Elderly mode: seconds the payment QR stays on screen; before they end the resident is asked "
        "'need more time?' and each 'yes' gives this long again, up to the order's own validity at HQ. No time "
        "limit at all while a payment is being confirmed.", _at_least(60),
    )
    poll_interval_s: float = setting(
        1.0, "Seconds between payment status checks without the long poll, and the pause after a failed check.",
        _positive,
    )
    long_poll_s: float = setting(
        20.0, "Each payment status check waits at HQ up to this many seconds for the order to change (a long "
        "poll, answered as soon as the resident has paid); 0 checks every poll_interval_s instead. At most 25.",
        _between(0, 25),
    )


@dataclass(frozen=True)
class QueueSettings:
    max_attempts: int = setting(3, "Attempts to settle a payment with HQ before staff must look at it.", _at_least(1))
    backoff_base_s: float = setting(1.0, "First retry waits up to this many seconds (doubling, random).", _positive)
    backoff_cap_s: float = setting(60.0, "No retry waits longer than this.", _positive)
    retention_days: int = setting(
        400,
        "Days a finished transaction (final state, everything sent to HQ) stays in the live database before a daily "
        "pass moves it, with its history, into the archive files beside it (`kiosk queue` reads both); 0 keeps "
        "everything in the live database. Unfinished transactions are never moved.",
        _at_least(0),
    )


@dataclass(frozen=True)
class DeviceSettings:
    card_reader: str = setting(
        "sim:", "Card reader: sim: (simulator on a pseudo-terminal), serial:/dev/ttyUSB0 (option baud, 9600), or "
        "keyboard: (a reader that types the id and Enter; its options in docs/devices.md).",
        _device_url("make_card_reader"),
    )
    qr_scanner: str = setting(
        "sim:", "QR scanner: sim: (simulator on a pseudo-terminal), serial:/dev/ttyACM0 (options baud, 9600; "
        "suffix, cr, lf, crlf or tab; max_length, 512), or keyboard: (a scanner that types; options as the card "
        "reader's).",
        _device_url("make_qr_scanner"),
    )
    printer: str = setting(
        "sim:", "Receipt printer (ESC/POS): sim: (a TCP printer simulator on loopback), tcp://host:9100, "
        "serial:/dev/ttyS0, usb:0x0416:0x5011, or file:/dev/usb/lp0; URL options (baud, columns, qr, profile, "
        "poll_s, timeout_s) in docs/devices.md.",
        _device_url("make_printer"),
    )
    speaker: str = setting(
        "sim:", "Speaker for the voice prompts: espeak: (espeak-ng, played by aplay; option player, aplay, paplay or "
        "pw-play) on a terminal, sim: (real espeak-ng synthesis into a simulated output; option speed), or none: "
        "(no voice). A missing espeak-ng or player is reported as a device fault; residents are served without voice.",
        _device_url("make_speaker"),
    )
    reconnect_initial_s: float = setting(
        0.1, "Seconds before reopening a serial device that went away (doubling, with jitter).", _positive
    )
    reconnect_max_s: float = setting(5.0, "Longest wait between attempts to reopen a serial device.", _positive)
    health_interval_s: float = setting(
        2.0, "Seconds between health checks of a connected serial device (the card reader's status request).",
        _positive,
    )
    response_timeout_s: float = setting(
        0.5, "Seconds a serial device has to answer; two health checks missed and it is reopened.", _positive
    )


@dataclass(frozen=True)
class StorageSettings:
    database: str = setting("", "Transaction database file; empty for the platform's data directory.")


@dataclass(frozen=True)
class ReceiptSettings:
    language: str = setting(
        "zh_CN", "Language of receipts staff print (test receipts, reprints from the maintenance menu); a "
        "resident's receipt and slip print in the language they chose on screen.", _one_of(*LANGUAGES),
    )


@dataclass(frozen=True)
class SpeechSettings:
    volume_pct: int = setting(100, "Voice prompt volume, in percent of normal (50 to 200).", _between(50, 200))
    rate_pct: int = setting(100, "Voice prompt speed, in percent of normal (50 to 200).", _between(50, 200))
    standard_mode: str = setting(
        "on_request", "Voice in standard mode (elderly mode always speaks): on_request (a screen is spoken when the "
        "resident taps Say it again), always (every screen spoken, as in elderly mode) or off (no voice, no button).",
        _one_of("on_request", "always", "off"),
    )


@dataclass(frozen=True)
class MaintenanceSettings:
    gesture_corner: str = setting(
        "top_left", "Screen corner where staff tap to open the maintenance menu.",
        _one_of("top_left", "top_right", "bottom_left", "bottom_right"),
    )
    gesture_size_px: int = setting(
        160, "Size of that corner's square, in pixels of a 1920x1080 layout (160 is about 4 cm on 21.5 inches).",
        _between(40, 400),
    )
    gesture_taps: int = setting(5, "Taps in the corner that open the PIN pad.", _between(3, 10))
    gesture_window_s: float = setting(3.0, "Seconds within which those taps must come.", _between(1, 10))
    staff_cards: tuple[str, ...] = setting(
        [], "Card ids of staff cards: on the idle screen such a card opens the PIN pad instead of a journey.",
        _card_ids,
    )
    idle_close_s: int = setting(120, "Seconds without a touch before the menu closes by itself.", _between(30, 900))
    pin_max_failures: int = setting(5, "Wrong PINs in a row that lock the menu.", _between(3, 10))
    pin_lock_s: int = setting(1800, "Seconds the menu stays locked after too many wrong PINs.", _between(60, 86400))
    export_dir: str = setting(
        "", "Folder for the transaction CSV exported from the menu; empty for an `exports` folder beside the "
        "database (a USB stick's mount point works too)."
    )


@dataclass(frozen=True)
class OutOfServiceSettings:
    where_zh_CN: str = setting("物业服务中心", "Where else to pay, shown in Chinese while out of service.")
    where_en: str = setting("the property office", "Where else to pay, shown in English while out of service.")


@dataclass(frozen=True)
class Config:
    """The whole configuration of one terminal."""

    terminal: TerminalSettings = field(default_factory=TerminalSettings)
    hq: HqSettings = field(default_factory=HqSettings)
    heartbeat: HeartbeatSettings = field(default_factory=HeartbeatSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    payment: PaymentSettings = field(default_factory=PaymentSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    devices: DeviceSettings = field(default_factory=DeviceSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    receipt: ReceiptSettings = field(default_factory=ReceiptSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    maintenance: MaintenanceSettings = field(default_factory=MaintenanceSettings)
    out_of_service: OutOfServiceSettings = field(default_factory=OutOfServiceSettings)

    def with_changes(self, section: str, **values: Any) -> Config:
        """A copy with some values of one section replaced, validated like a file."""
        merged = {name: getattr(self, name).__dict__ for name in _sections()}
        merged[section] = {**merged[section], **values}
        return config_from_mapping(merged)


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in fields(Config)}


def _coerce(key: str, expected: Any, value: Any) -> Any:
    """Check a TOML value against the declared type; ints are accepted where floats are declared."""
    origin = typing.get_origin(expected)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(expected)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(f"{key}[{i}]", item_type, v) for i, v in enumerate(value))
    if origin in (types.UnionType, typing.Union):
        raise ConfigError(f"{key}: union types are not supported in settings")
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected text, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported setting type {expected!r}")


def config_from_mapping(data: dict[str, Any]) -> Config:
    """Build and validate a Config from parsed TOML; unknown sections and keys are errors."""
    sections = _sections()
    unknown = set(data) - set(sections)
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}; known: {', '.join(sections)}")
    built: dict[str, Any] = {}
    for name, cls in sections.items():
        values = data.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"[{name}] must be a table")
        hints = typing.get_type_hints(cls)
        declared = {f.name: f for f in fields(cls)}
        extra = set(values) - set(declared)
        if extra:
            raise ConfigError(
                f"unknown setting(s) in [{name}]: {', '.join(sorted(extra))}; known: {', '.join(declared)}"
            )
        kwargs = {}
        for key, f in declared.items():
            full = f"{name}.{key}"
            value = _coerce(full, hints[key], values[key]) if key in values else _default(f)
            check = f.metadata.get("check")
            problem = check(value) if check else None
            if problem:
                raise ConfigError(f"{full} = {value!r} {problem}")
            kwargs[key] = value
        built[name] = cls(**kwargs)
    config = Config(**built)
    if config.payment.min_fen > config.payment.max_fen:
        raise ConfigError("payment.min_fen must not be larger than payment.max_fen")
    if config.devices.reconnect_max_s < config.devices.reconnect_initial_s:
        raise ConfigError("devices.reconnect_max_s must not be less than devices.reconnect_initial_s")
    return config


def _default(f: Any) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory()


def load_config(path: str | Path | None) -> Config:
    """Read and validate a TOML configuration file; None gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        return config_from_mapping(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def describe() -> str:
    """Every setting with its default and description, as a commented TOML example."""
    lines = ["# Kiosk terminal configuration. Every setting is optional; shown with its default."]
    for name, cls in _sections().items():
        lines.append("")
        lines.append(f"[{name}]")
        for f in fields(cls):
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"# {f.name} = {_toml_value(_default(f))}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


__all__ = ["LANGUAGES", "Config", "ConfigError", "config_from_mapping", "describe", "load_config"]
