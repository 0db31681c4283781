"""Houses: identify a home by card, house number, house code or bill; build its overview."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from hq.clock import CHINA_TZ, month_key
from hq.errors import HqError
from hq.models import PAID, Account, Bill, House, MonthlyUsage, Order, Resident
from hq.schemas import (
    AccountOut,
    HouseOut,
    LastRechargeOut,
    MeterOut,
    OverviewOut,
    UsageMonthOut,
)

USAGE_MONTHS = 6
USUAL_FROM_LAST = 20  # the house's latest paid recharges its usual amounts are taken from
USUAL_AMOUNTS = 4
# Lighting first: it is the meter residents recharge most, and the terminal defaults to the first one.
_USE_ORDER = {"lighting": 0, "air_conditioning": 1, "public": 2}


def identify(session: Session, method: str, value: str) -> House:
    """The house ``value`` names under ``method``, its community loaded in the same query; raises a 404
    :class:`HqError` when none does."""
    value = value.upper()
    if method == "card":
        query = select(House).join(Resident).where(Resident.card_id == value)
        error = ("unknown_card", f"No resident card {value}.")
    elif method == "house_number":
        building, unit, room = value.split("-")
        query = select(House).where(House.building == building, House.unit == unit, House.room == room)
        error = ("unknown_house", f"No house {value} in this community.")
    elif method == "house_code":
        query = select(House).where(House.house_code == value)
        error = ("unknown_house_code", f"No house with code {value}.")
    elif method == "bill":
        query = select(House).join(Account).join(Bill).where(Bill.bill_no == value)
        error = ("unknown_bill", f"No bill {value}.")
    else:  # pragma: no cover - the request schema only lets the four methods through
        raise HqError(422, "invalid_request", f"Unknown identify method {method}.")
    house = session.scalars(query.options(joinedload(House.community)).order_by(House.id)).first()
    if house is None:
        raise HqError(404, *error)
    return house


def house_out(house: House) -> HouseOut:
    """A house in the API's shape."""
    return HouseOut(
        house_id=house.id,
        community=house.community.name,
        building=house.building,
        unit=house.unit,
        room=house.room,
    )


def get_house(session: Session, house_id: str) -> House:
    """The house ``house_id``, with its community, meters and accounts loaded in one query; 404 ``unknown_house``
    if there is none."""
    # Joined, not select-in, loads: each query is a round trip with HQ's event loop waiting (hq.api), and a
    # house's few meters times its few accounts are a handful of rows.
    house = session.scalars(
        select(House)
        .where(House.id == house_id)
        .options(joinedload(House.meters), joinedload(House.accounts), joinedload(House.community))
    ).unique().first()
    if house is None:
        raise HqError(404, "unknown_house", f"No house {house_id}.")
    return house


def overview(session: Session, house_id: str, now: datetime) -> OverviewOut:
    """The overview of a house as of ``now``: meters with usage, accounts and the last recharge."""
    house = get_house(session, house_id)
    # Month boundaries follow the residents' calendar, not UTC.
    this_month = month_key(now.astimezone(CHINA_TZ).date())
    meters = sorted(house.meters, key=lambda m: (_USE_ORDER.get(m.use, 99), m.id))
    usage_rows = session.scalars(
        select(MonthlyUsage)
        .where(MonthlyUsage.meter_id.in_([m.id for m in meters]), MonthlyUsage.month <= this_month)
        .order_by(MonthlyUsage.month)
    ).all()
    meters_out = []
    for meter in meters:
        rows = [u for u in usage_rows if u.meter_id == meter.id]
        complete = [u for u in rows if u.month < this_month][-USAGE_MONTHS:]
        current = next((u.kwh for u in rows if u.month == this_month), 0.0)
        meters_out.append(
            MeterOut(
                meter_id=meter.id,
                use=meter.use,
                number=meter.number,
                balance_fen=meter.balance_fen,
                price_fen_per_kwh=meter.price_fen_per_kwh,
                month_to_date_kwh=round(current, 1),
                usage=[UsageMonthOut(month=u.month, kwh=round(u.kwh, 1)) for u in complete],
            )
        )
    # The latest paid recharges, newest first: the last one, and the usual amounts from all of them.
    recent = session.execute(
        select(Order.meter_id, Order.amount_fen, Order.method, Order.paid_at)
        .where(Order.house_id == house.id, Order.status == PAID)
        .order_by(Order.paid_at.desc(), Order.order_no)
        .limit(USUAL_FROM_LAST)
    ).all()
    last_out = None
    if recent and recent[0].paid_at is not None:
        last = recent[0]
        last_out = LastRechargeOut(
            meter_id=last.meter_id, amount_fen=last.amount_fen, method=last.method, at=last.paid_at
        )
    return OverviewOut(
        house=house_out(house),
        payee=house.community.payee,
        meters=meters_out,
        accounts=[
            AccountOut.model_validate(
                {"account_id": a.id, "kind": a.kind, "due_fen": a.due_fen, "period": a.period,
                 "due_date": a.due_date}
            )
            for a in house.accounts
        ],
        last_recharge=last_out,
        usual_amounts_fen=usual_amounts([row.amount_fen for row in recent]),
    )


def usual_amounts(recent: list[int]) -> list[int]:
    """The distinct amounts of ``recent`` (newest first), most often used first, ties by recency; at most 4."""
    counts = Counter(recent)
    first_seen: dict[int, int] = {}
    for i, amount in enumerate(recent):
        first_seen.setdefault(amount, i)
    return sorted(counts, key=lambda amount: (-counts[amount], first_seen[amount]))[:USUAL_AMOUNTS]
