"""Keyboard-wedge card readers and scanners: USB devices that "type" what they read, then press Enter.

Pure logic, no Qt. The UI feeds every key to a `BurstDetector` (`ui/keyboard_wedge.py`), which tells a device's
burst (at least `min_length` characters, each within `max_gap` of the one before, ended by the terminator) from
a person typing (slower and irregular). Keys are held back only while they might still be the start of a burst
and handed on, in order, as soon as they cannot be; a burst is swallowed and reported instead. Then
`KeyboardCardReader.deliver` and `KeyboardQrScanner.deliver` report it from the device's own thread, as every
adapter does.

URL: ``keyboard:`` with optional ``?max_gap_ms=50&min_length=6&max_length=256&terminator=enter`` (or ``tab``).
A keyboard cannot be asked whether it is plugged in: an opened keyboard device is always online.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

from devices.base import CardReader, DeviceState, QrScanner

_log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_GAP_MS = 50  # scanners type a character every 2-30 ms (8 ms USB polling, a Shift for capitals)
DEFAULT_MIN_LENGTH = 6  # the shortest thing a device sends here: a card id has 8 or more
DEFAULT_MAX_LENGTH = 256  # the longest payload the terminal accepts
TERMINATORS = {"enter": frozenset({"\r", "\n"}), "tab": frozenset({"\t"})}
#: A card id as readers type it: 4, 7 or 10 byte UIDs in hex (8, 14 or 20 characters), and lengths between.
CARD_ID = re.compile(r"[0-9A-Fa-f]{8,20}")
TOO_LONG = "too_long"  # the reason reported for a device burst longer than `max_length`


def is_card_id(text: str) -> bool:
    """Whether `text` is a card id as a keyboard card reader types it (8 to 20 hex characters)."""
    return CARD_ID.fullmatch(text) is not None


@dataclass(frozen=True)
class WedgeSettings:
    """How a burst is told from typing."""

    max_gap_s: float = DEFAULT_MAX_GAP_MS / 1000
    min_length: int = DEFAULT_MIN_LENGTH
    max_length: int = DEFAULT_MAX_LENGTH
    terminators: frozenset[str] = TERMINATORS["enter"]

    @property
    def hold_s(self) -> float:
        """How long a key is held back when no other key follows: twice the gap, so a burst delayed a little on
        its way (a busy GUI thread) is still seen whole. A person's key reaches its widget at most this late."""
        return 2 * self.max_gap_s

    @classmethod
    def from_query(cls, query: str) -> WedgeSettings:
        """Settings from a URL query (``max_gap_ms=40&min_length=8``); ValueError naming a bad option."""
        settings = cls()
        for name, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
            if name == "terminator":
                if value not in TERMINATORS:
                    raise ValueError(f"terminator={value!r}: must be one of {', '.join(TERMINATORS)}")
                settings = replace(settings, terminators=TERMINATORS[value])
                continue
            number = _whole_number(name, value)
            if name == "max_gap_ms":
                if not 1 <= number <= 500:
                    raise ValueError(f"max_gap_ms={value}: must be between 1 and 500")
                settings = replace(settings, max_gap_s=number / 1000)
            elif name == "min_length":
                if not 2 <= number <= DEFAULT_MAX_LENGTH:
                    raise ValueError(f"min_length={value}: must be between 2 and {DEFAULT_MAX_LENGTH}")
                settings = replace(settings, min_length=number)
            elif name == "max_length":
                if not 2 <= number <= 4096:
                    raise ValueError(f"max_length={value}: must be between 2 and 4096")
                settings = replace(settings, max_length=number)
        if settings.min_length > settings.max_length:
            raise ValueError("min_length must not be larger than max_length")
        return settings

    def merged(self, other: WedgeSettings) -> WedgeSettings:
        """One keyboard stream feeding two devices: whatever either device's settings would take."""
        return WedgeSettings(
            max_gap_s=max(self.max_gap_s, other.max_gap_s),
            min_length=min(self.min_length, other.min_length),
            max_length=max(self.max_length, other.max_length),
            terminators=self.terminators | other.terminators,
        )


_OPTIONS = ("max_gap_ms", "min_length", "max_length", "terminator")


def _whole_number(name: str, value: str) -> int:
    if name not in _OPTIONS:
        raise ValueError(f"unknown option {name!r}; known: {', '.join(_OPTIONS)}")
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"{name}={value!r}: expected a whole number")
    return int(value)


@dataclass
class Outcome(Generic[T]):
    """What to do after a key: hand `release` to the person's widget (in order), and report a burst or a reject."""

    release: list[T] = field(default_factory=list)
    burst: str | None = None  # a device's read, terminator removed
    rejected: str | None = None  # a device burst dropped, and why (TOO_LONG)

    def then(self, later: Outcome[T]) -> Outcome[T]:
        return Outcome(self.release + later.release, later.burst or self.burst, later.rejected or self.rejected)


class BurstDetector(Generic[T]):
    """Tells a device's burst from a person typing, one key at a time; `T` is whatever the caller must hand on.

    Feed every key press and release, in order, with `key(char, at, item)`:
    - `char` is the character the key types (the terminator for Enter), "" for a key that types nothing and goes
      with its neighbours (a modifier alone, a key release), None for anything no device sends (a shortcut, an
      arrow, an auto-repeat): that ends any burst in progress;
    - `at` is when the key was pressed, in seconds (any monotonic clock).
    Call `expire()` when `hold_s` has passed without a key. Each call says which held items to hand on.
    """

    def __init__(self, settings: WedgeSettings | None = None) -> None:
        self.settings = settings or WedgeSettings()
        self._items: list[T] = []
        self._text: list[str] = []
        self._too_long = False
        self._last = 0.0

    @property
    def holding(self) -> bool:
        """Whether keys are held back now (call `expire` once `hold_s` passes without another key)."""
        return bool(self._items)

    def key(self, char: str | None, at: float, item: T) -> Outcome[T]:
        if char == "":  # goes with whatever is held, or straight on
            if self._items:
                self._items.append(item)
                return Outcome()
            return Outcome(release=[item])
        settings = self.settings
        if char is not None and not char.isprintable() and char not in settings.terminators:
            char = None  # a control character (Tab where Enter ends a burst): no part of a payload
        if char is None:  # no device types this: what is held was a person's
            return self.expire().then(Outcome(release=[item]))
        fast = bool(self._items) and 0 <= at - self._last <= settings.max_gap_s
        done: Outcome[T] = Outcome() if fast or not self._items else self.expire()
        if char in settings.terminators:
            if fast and len(self._text) >= settings.min_length:
                text, too_long = "".join(self._text), self._too_long
                self._reset()
                return done.then(Outcome(rejected=TOO_LONG) if too_long else Outcome(burst=text))
            return done.then(self.expire()).then(Outcome(release=[item]))
        self._items.append(item)
        if len(self._text) + len(char) > settings.max_length:
            self._too_long = True  # a flood no person types: keep swallowing it, report it at its end
        else:
            self._text.append(char)
        self._last = at
        return done

    def expire(self) -> Outcome[T]:
        """No key came in time: what is held goes on to the person's widget (a flood is dropped instead)."""
        if not self._items:
            return Outcome()
        outcome: Outcome[T] = Outcome(rejected=TOO_LONG) if self._too_long else Outcome(release=self._items)
        self._reset()
        return outcome

    def _reset(self) -> None:
        self._items = []
        self._text = []
        self._too_long = False


class _Reports:
    """A device's own thread, reporting what it was handed in order (the core never runs on the caller's)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._jobs.put(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def post(self, job: Callable[[], None]) -> bool:
        with self._lock:
            if self._thread is None:
                return False
            self._jobs.put(job)
            return True

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:
                _log.exception("listener failed on %s", self._name)


def _settings_from_url(url: str) -> WedgeSettings:
    parts = urlsplit(url)
    if parts.scheme.lower() != "keyboard" or parts.netloc or parts.path:
        raise ValueError(f"keyboard URL {url!r} takes options only, e.g. keyboard:?max_gap_ms=50&min_length=6")
    return WedgeSettings.from_query(parts.query)


class KeyboardCardReader(CardReader):
    """A card reader that types the card id and Enter. Each id read is a tap: read, then removed."""

    def __init__(self, settings: WedgeSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or WedgeSettings()
        self._reports = _Reports("keyboard-card-reader")

    @classmethod
    def from_url(cls, url: str) -> KeyboardCardReader:
        return cls(_settings_from_url(url))

    def open(self) -> None:
        self._reports.start()
        self._set_status(state=DeviceState.ONLINE, card_present=False, last_error=None)

    def close(self) -> None:
        self._reports.stop()
        self._set_status(state=DeviceState.OFFLINE, card_present=None)

    def deliver(self, text: str) -> bool:
        """A burst the keyboard typed (any thread): reported from the reader's thread if it is a card id."""
        if not is_card_id(text):
            _log.warning("keyboard card reader: %d characters that are no card id; ignored", len(text))
            return False
        card_id = text.upper()

        def tap() -> None:
            self._card_read(card_id)
            self._card_removed()

        posted = self._reports.post(tap)
        if not posted:
            _log.warning("keyboard card reader is closed; a card read was dropped")
        return posted


class KeyboardQrScanner(QrScanner):
    """A scanner that types the payload and Enter; the core parses what it typed (`kiosk/qr_payload.py`)."""

    def __init__(self, settings: WedgeSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or WedgeSettings()
        self._reports = _Reports("keyboard-qr-scanner")

    @classmethod
    def from_url(cls, url: str) -> KeyboardQrScanner:
        return cls(_settings_from_url(url))

    def open(self) -> None:
        self._reports.start()
        self._set_status(state=DeviceState.ONLINE, last_error=None)

    def close(self) -> None:
        self._reports.stop()
        self._set_status(state=DeviceState.OFFLINE)

    def deliver(self, text: str) -> bool:
        """A burst the keyboard typed (any thread): reported as a scan from the scanner's thread."""
        return self._post(lambda: self._scanned(text))

    def reject(self, reason: str) -> bool:
        """A burst that was no readable code (e.g. TOO_LONG): reported as unreadable from the scanner's thread."""
        return self._post(lambda: self._unreadable(reason))

    def _post(self, job: Callable[[], None]) -> bool:
        if not self._reports.post(job):
            _log.warning("keyboard QR scanner is closed; a scan was dropped")
            return False
        return True
