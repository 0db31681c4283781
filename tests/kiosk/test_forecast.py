"""Days left from months of use."""

from datetime import date

from kiosk.domain import Meter, MonthUsage
from kiosk.forecast import forecast


def meter(balance_fen: int, months: list[float], month_to_date: float = 0.0) -> Meter:
    usage = tuple(MonthUsage(f"2026-{i + 5:02d}", kwh) for i, kwh in enumerate(months))
    return Meter("m1", "lighting", "0001", balance_fen, 50, month_to_date, usage)


def test_days_left_from_average_use() -> None:
    # 5 months (May..Sep) of 153 days exactly 10 kWh/day = 500 fen/day.
    result = forecast(meter(10000, [310.0, 300.0, 310.0, 310.0, 300.0], month_to_date=0.0), date(2026, 11, 1))
    assert result.daily_kwh is not None and 9.9 < result.daily_kwh < 10.1
    assert result.days_left == 20
    assert result.recharge_by == date(2026, 11, 19)
    assert not result.low


def test_heavy_recent_use_ends_it_sooner_and_is_flagged() -> None:
    # 10 days into the month at 30 kWh/day against a usual 10.
    result = forecast(meter(10000, [300.0, 300.0, 300.0], month_to_date=300.0), date(2026, 11, 11))
    assert result.days_left == 6
    assert result.low
    assert result.abnormal_rise
    assert result.month_estimate_fen == 30 * 30 * 50


def test_too_little_history_says_nothing() -> None:
    result = forecast(meter(10000, [300.0, 300.0]), date(2026, 11, 11))
    assert result.days_left is None and result.recharge_by is None and not result.low


def test_empty_balance_is_zero_days() -> None:
    assert forecast(meter(-200, [300.0, 300.0, 300.0]), date(2026, 11, 11)).days_left == 0
