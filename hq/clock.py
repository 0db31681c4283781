"""Time helpers: every stored and returned time is timezone-aware UTC; receipts show China Standard Time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

Clock = Callable[[], datetime]
"""A callable returning the current time as an aware UTC datetime (injected for expiry tests)."""

# China has had no daylight saving time since 1991, so a fixed offset needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` converted to aware UTC; naive values are refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: an explicit timezone is required")
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """ISO 8601 with an explicit ``+00:00`` offset, whole seconds (the API's time format)."""
    return as_utc(value).isoformat(timespec="seconds")


def month_key(day: date) -> str:
    """``YYYY-MM`` for the month holding ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_months(day: date, count: int) -> list[str]:
    """The ``count`` complete months before the month of ``day``, oldest first."""
    year, month = day.year, day.month
    keys: list[str] = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        keys.append(f"{year:04d}-{month:02d}")
    return keys[::-1]
