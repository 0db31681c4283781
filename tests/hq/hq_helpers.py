"""Shared constants and helpers of the HQ tests (a module, since conftest.py cannot be imported)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
PUBLIC_URL = "http://hq.test"


class FakeClock:
    """A settable clock for create_app(clock=...)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


ORDER_BODY = {
    "terminal_id": "T-0001",
    "house_id": "h_3_2_501",
    "meter_id": "m_3_2_501_l",
    "service": "electricity",
    "amount_fen": 10000,
}


def new_key() -> str:
    """A fresh valid Idempotency-Key."""
    return uuid.uuid4().hex


def until(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait for ``predicate`` to hold, failing the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not reached"
        time.sleep(0.005)
