"""How long a meter's balance lasts, from its last months of use."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.domain import Meter

LOW_DAYS = 7  # below this many days the overview warns
ABNORMAL_RISE = 1.5  # this month's daily use at 1.5x the usual is flagged


@dataclass(frozen=True)
class Forecast:
    """An estimate; None where there is too little history to say."""

    daily_kwh: float | None
    days_left: int | None
    recharge_by: date | None
    month_estimate_fen: int | None
    low: bool
    abnormal_rise: bool


def _days_in(month: str) -> int:
    year, mon = (int(p) for p in month.split("-"))
    return calendar.monthrange(year, mon)[1]


def forecast(meter: Meter, today: date) -> Forecast:
    """Estimate days left from up to the last 6 months (at least 3 months of history needed)."""
    history = meter.usage[-6:]
    if len(history) < 3:
        return Forecast(None, None, None, None, low=False, abnormal_rise=False)
    days = sum(_days_in(m.month) for m in history)
    daily_kwh = sum(m.kwh for m in history) / days
    month_days = calendar.monthrange(today.year, today.month)[1]
    elapsed = max(today.day - 1, 1)
    this_month_daily = meter.month_to_date_kwh / elapsed
    rate = max(daily_kwh, this_month_daily)  # recent heavy use ends the balance sooner
    cost_per_day = rate * meter.price_fen_per_kwh
    if meter.balance_fen <= 0:
        days_left = 0
    elif cost_per_day <= 0:
        days_left = None
    else:
        days_left = int(meter.balance_fen // cost_per_day)
    recharge_by = today + timedelta(days=max(days_left - 2, 0)) if days_left is not None else None
    month_estimate = round(this_month_daily * month_days * meter.price_fen_per_kwh) if today.day > 1 else None
    return Forecast(
        daily_kwh=daily_kwh,
        days_left=days_left,
        recharge_by=recharge_by,
        month_estimate_fen=month_estimate,
        low=days_left is not None and days_left < LOW_DAYS,
        abnormal_rise=today.day > 3 and this_month_daily > daily_kwh * ABNORMAL_RISE,
    )
