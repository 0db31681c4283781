"""Timezone-aware time: stored and computed in UTC, shown in the terminal's local zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 time that carries an offset; naive times are refused, not guessed."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    return value.astimezone(UTC)


def to_local(value: datetime, zone: str) -> datetime:
    """Convert an aware time to the terminal's zone for display."""
    return value.astimezone(ZoneInfo(zone))
