"""The UTC datetime column type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from offline_queue.models import UTCDateTime

DIALECT = sqlite.dialect()
CST = timezone(timedelta(hours=8))


def test_aware_time_is_stored_as_utc_text_and_read_back_equal() -> None:
    column = UTCDateTime()
    local = datetime(2026, 11, 22, 11, 0, 0, 5, tzinfo=CST)
    stored = column.process_bind_param(local, DIALECT)
    assert stored == "2026-11-22T03:00:00.000005+00:00"
    loaded = column.process_result_value(stored, DIALECT)
    assert loaded == local
    assert loaded is not None and loaded.tzinfo is UTC


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 11, 22, 3, 0), DIALECT)


def test_text_order_is_time_order() -> None:
    column = UTCDateTime()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    times = [base + timedelta(microseconds=n) for n in (0, 1, 999_999, 1_000_000)]
    times += [base + timedelta(days=400), datetime(2026, 1, 1, 8, 0, 0, 1, tzinfo=CST)]
    texts = [column.process_bind_param(t, DIALECT) for t in times]
    assert sorted(texts, key=str) == [column.process_bind_param(t, DIALECT) for t in sorted(times)]


def test_none_stays_none() -> None:
    assert UTCDateTime().process_bind_param(None, DIALECT) is None
    assert UTCDateTime().process_result_value(None, DIALECT) is None
