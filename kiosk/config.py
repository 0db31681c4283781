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

LANGUAGES = ("zh_CN", "en")


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


@dataclass(frozen=True)
class TerminalSettings:
    id: str = setting("T-0001", "This terminal's id, as registered at HQ.")
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


@dataclass(frozen=True)
class UiSettings:
    language: str = setting("zh_CN", "Language a journey starts in.", _one_of(*LANGUAGES))
    orientation: str = setting(
        "auto", "Panel layout: portrait, landscape, or auto (from the screen).",
        _one_of("auto", "portrait", "landscape"),
    )
    fullscreen: bool = setting(True, "Fullscreen and frameless; false for a window while developing.")
    inactivity_s: int = setting(60, "Seconds without a touch before asking 'need more time?'.", _at_least(10))
    warning_s: int = setting(20, "Seconds the 'need more time?' question waits before going home.", _at_least(20))
    result_s: int = setting(20, "Seconds a result screen stays before asking 'need more time?'.", _at_least(5))
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
    poll_interval_s: float = setting(1.0, "Seconds between payment status checks.", _positive)


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
    card_reader: str = setting("sim:", "Card reader: sim: (simulator).")
    qr_scanner: str = setting("sim:", "QR scanner: sim: (simulator).")
    printer: str = setting("sim:", "Receipt printer: sim:, memory:, or file:/path.")


@dataclass(frozen=True)
class StorageSettings:
    database: str = setting("", "Transaction database file; empty for the platform's data directory.")


@dataclass(frozen=True)
class ReceiptSettings:
    language: str = setting("zh_CN", "Language of printed receipts.", _one_of(*LANGUAGES))


@dataclass(frozen=True)
class Config:
    """The whole configuration of one terminal."""

    terminal: TerminalSettings = field(default_factory=TerminalSettings)
    hq: HqSettings = field(default_factory=HqSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    payment: PaymentSettings = field(default_factory=PaymentSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    devices: DeviceSettings = field(default_factory=DeviceSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    receipt: ReceiptSettings = field(default_factory=ReceiptSettings)

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
