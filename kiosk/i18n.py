"""Texts and formats for the language on screen.

Catalogs are the gettext `.po` files in `locales/`; Babel compiles them in memory at start (or a compiled `.mo`
beside them is used when it is newer), so a translator's edit needs no build step. Code marks texts with `_()`
(looked up at call time, so a language switch shows at once) or `N_()` (marked now, translated later).
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from kiosk.clock import to_local
from kiosk.config import LANGUAGES
from kiosk.money import fen_to_decimal_yuan
from locales import DOMAIN, LOCALES_DIR

DEFAULT_LANGUAGE = "zh_CN"


@cache
def load_catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog for a language; English source texts stand when a message is missing."""
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_path.exists() and (not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
        with mo_path.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if not po_path.exists():
        raise FileNotFoundError(f"no catalog for {language}: {po_path}")
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """One language's texts and number, money and date formats."""

    def __init__(self, language: str = DEFAULT_LANGUAGE, timezone: str = "Asia/Shanghai") -> None:
        self.timezone = timezone
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()
        self.language = DEFAULT_LANGUAGE
        self._catalog = load_catalog(DEFAULT_LANGUAGE)
        self._locale = Locale.parse(DEFAULT_LANGUAGE)
        self.set_language(language)

    def set_language(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}; supported: {', '.join(LANGUAGES)}")
        with self._lock:
            changed = language != self.language
            self.language = language
            self._catalog = load_catalog(language)
            self._locale = Locale.parse(language)  # parsed once: Babel would parse it on every format call
        if changed:
            for listener in list(self._listeners):
                listener(language)

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Called with the new language after each switch."""
        self._listeners.append(listener)

    @property
    def locale(self) -> Locale:
        return self._locale

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def money(self, amount_fen: int) -> str:
        """An amount for people: ¥1,234.56 (the yuan sign residents know, whatever the language)."""
        yuan = fen_to_decimal_yuan(amount_fen)
        sign = "-" if yuan < 0 else ""
        return f"{sign}¥{format_decimal(abs(yuan), format='#,##0.00', locale=self._locale)}"

    def number(self, value: float, digits: int = 1) -> str:
        pattern = "#,##0" + ("." + "#" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self._locale)

    def datetime(self, value: dt.datetime) -> str:
        return format_datetime(to_local(value, self.timezone), "medium", locale=self._locale)

    def time(self, value: dt.datetime) -> str:
        return format_time(to_local(value, self.timezone), "short", locale=self._locale)

    def date(self, value: dt.date) -> str:
        return format_date(value, "long", locale=self._locale)


_current = Translator()


def current() -> Translator:
    """The translator of the screen (the one `_()` uses)."""
    return _current


def use(translator: Translator) -> None:
    """Make `translator` the one behind `_()` (the app does this once at start)."""
    global _current
    _current = translator


@contextmanager
def using(translator: Translator) -> Iterator[Translator]:
    """`use` `translator` for a while, then put back the one before (tests and offline tools)."""
    previous = _current
    use(translator)
    try:
        yield translator
    finally:
        use(previous)


def _(message: str) -> str:
    """Translate a text into the screen's current language."""
    return _current.gettext(message)


def N_(message: str) -> str:
    """Mark a text for the catalog without translating it yet."""
    return message
