"""Deterministic demo data: the community 阳光花园 (Sunshine Garden).

Buildings 1-3, units 1-2, floors 1-6, two homes a floor (x01, x02): 72 houses. Every house has a lighting
meter and about half an air-conditioning meter (52 fen/kWh), six complete months of usage before ``now``
plus the month to date, a heating and a property account with one bill each, a door QR house code
(``CPK:H:<code>``) and one or two residents with IC cards. Everything but the times is fixed, so the
constants below can be relied on by the terminal's demo and tests:

- :data:`MAIN_HOUSE` 3-2-501: lighting and air-conditioning meters, card ``04A1B2C3D4``, house code
  ``H3U2R501X7``, heating bill ``B202611000123``, last recharge 10000 fen on the lighting meter.
- :data:`NEW_HOUSE` 1-1-101: never recharged (``last_recharge`` is null), card ``04B5C6D7E8``.
- :data:`LOW_BALANCE_HOUSE` 2-1-302: lighting balance for about three days of use, card ``04C9DAEBFC``.
"""

from __future__ import annotations

import calendar
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hq.clock import CHINA_TZ, as_utc, month_key, previous_months
from hq.models import (
    PAID,
    Account,
    Base,
    Bill,
    Community,
    House,
    Meter,
    MonthlyUsage,
    Order,
    Resident,
)
from hq.orders import ORDER_NO_ALPHABET, ORDER_NO_LENGTH

COMMUNITY_ID = "c_sunshine"
COMMUNITY_NAME = "阳光花园"
COMMUNITY_NAME_EN = "Sunshine Garden"
PAYEE = "阳光花园物业服务中心"
PRICE_FEN_PER_KWH = 52
BUILDINGS = (1, 2, 3)
UNITS = (1, 2)
FLOORS = (1, 2, 3, 4, 5, 6)
ROOMS_PER_FLOOR = 2
USAGE_MONTHS = 6
HEATING_FEN_PER_M2 = 3300  # per heating season
PROPERTY_FEN_PER_M2_MONTH = 90
DEMO_TERMINAL_ID = "T-0001"

# Bill numbers are part of the printed QR codes, so they stay fixed whatever ``now`` is. The offsets put
# 3-2-501 (house 69 when counting from 1) on the well-known heating bill B202611000123.
_BILL_PREFIX = "B202611"
_HEATING_BILL_OFFSET = 54
_PROPERTY_BILL_OFFSET = 500

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_TITLES = ("先生", "女士", "阿姨", "大爷")


@dataclass(frozen=True)
class DemoHouse:
    """One demo house and the identifiers printed on its cards, door QR and bills."""

    number: str
    """House number as typed on the terminal, ``building-unit-room``."""
    house_id: str
    house_code: str
    card_ids: tuple[str, ...]
    residents: tuple[str, ...]
    lighting_meter_id: str
    ac_meter_id: str | None
    heating_bill_no: str
    property_bill_no: str
    area_m2: int

    @property
    def card_id(self) -> str:
        """The first resident's card."""
        return self.card_ids[0]


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest().upper()


def _build_houses() -> tuple[DemoHouse, ...]:
    fixed_cards = {"3-2-501": "04A1B2C3D4", "1-1-101": "04B5C6D7E8", "2-1-302": "04C9DAEBFC"}
    fixed_names = {"3-2-501": "张先生", "1-1-101": "李阿姨", "2-1-302": "王大爷"}
    fixed_code_suffix = {"3-2-501": "X7"}
    forced_ac = {"3-2-501": True, "1-1-101": False, "2-1-302": False}
    houses = []
    index = 0
    for b in BUILDINGS:
        for u in UNITS:
            for floor in FLOORS:
                for r in range(1, ROOMS_PER_FLOOR + 1):
                    index += 1
                    room = f"{floor}{r:02d}"
                    number = f"{b}-{u}-{room}"
                    key = f"{b}_{u}_{room}"
                    rng = random.Random(f"sunshine:house:{number}")
                    suffix = fixed_code_suffix.get(number) or "".join(
                        ORDER_NO_ALPHABET[int(c, 16) % len(ORDER_NO_ALPHABET)]
                        for c in _digest("code", number)[:2]
                    )
                    n_residents = 2 if index % 3 == 0 else 1
                    cards = [fixed_cards.get(number) or "04" + _digest("card", number, 0)[:8]]
                    cards += ["04" + _digest("card", number, i)[:8] for i in range(1, n_residents)]
                    names = [fixed_names.get(number) or rng.choice(_SURNAMES) + rng.choice(_TITLES)]
                    names += [rng.choice(_SURNAMES) + rng.choice(_TITLES) for _ in range(1, n_residents)]
                    has_ac = forced_ac.get(number, rng.random() < 0.5)
                    area = 80 if number == "3-2-501" else rng.choice((65, 72, 80, 88, 95, 110, 120))
                    houses.append(
                        DemoHouse(
                            number=number,
                            house_id=f"h_{key}",
                            house_code=f"H{b}U{u}R{room}{suffix}",
                            card_ids=tuple(cards),
                            residents=tuple(names),
                            lighting_meter_id=f"m_{key}_l",
                            ac_meter_id=f"m_{key}_ac" if has_ac else None,
                            heating_bill_no=f"{_BILL_PREFIX}{_HEATING_BILL_OFFSET + index:06d}",
                            property_bill_no=f"{_BILL_PREFIX}{_PROPERTY_BILL_OFFSET + index:06d}",
                            area_m2=area,
                        )
                    )
    return tuple(houses)


DEMO_HOUSES: tuple[DemoHouse, ...] = _build_houses()
"""All 72 demo houses, building by building, unit, floor, room."""

_BY_NUMBER = {h.number: h for h in DEMO_HOUSES}

MAIN_HOUSE: DemoHouse = _BY_NUMBER["3-2-501"]
"""3-2-501: lighting and AC meters, card 04A1B2C3D4, code H3U2R501X7, heating bill B202611000123,
last recharge 10000 fen on the lighting meter."""
NEW_HOUSE: DemoHouse = _BY_NUMBER["1-1-101"]
"""1-1-101: never recharged; card 04B5C6D7E8."""
LOW_BALANCE_HOUSE: DemoHouse = _BY_NUMBER["2-1-302"]
"""2-1-302: lighting balance good for about three days; card 04C9DAEBFC."""

MAIN_LAST_RECHARGE_FEN = 10000
MAIN_LIGHTING_BALANCE_FEN = 4210
LOW_BALANCE_DAYS = 3

_FEATURED = (MAIN_HOUSE, NEW_HOUSE, LOW_BALANCE_HOUSE)

DEMO_CARDS: list[tuple[str, str, str]] = [(h.card_id, h.number, h.residents[0]) for h in _FEATURED] + [
    (card, h.number, name)
    for h in DEMO_HOUSES
    for card, name in zip(h.card_ids, h.residents, strict=True)
    if card not in {f.card_id for f in _FEATURED}
]
"""Every resident card as (card id, house number, resident display name); the first three are the
well-known houses 3-2-501, 1-1-101 and 2-1-302."""

DEMO_HOUSE_CODES: dict[str, str] = {h.number: h.house_code for h in DEMO_HOUSES}
"""House number -> code in its door QR (``CPK:H:<code>``)."""

DEMO_BILLS: dict[str, tuple[str, str]] = {
    **{h.heating_bill_no: (h.number, "heating") for h in DEMO_HOUSES},
    **{h.property_bill_no: (h.number, "property") for h in DEMO_HOUSES},
}
"""Bill number (in the bill QR, ``CPK:B:<bill_no>``) -> (house number, account kind)."""

assert len({c for c, _, _ in DEMO_CARDS}) == len(DEMO_CARDS), "demo card ids must be unique"


def _lighting_kwh(rng: random.Random, base: float, month: int) -> float:
    seasonal = {1: 1.15, 2: 1.1, 3: 1.0, 4: 0.95, 5: 0.9, 6: 1.0, 7: 1.1, 8: 1.1, 9: 0.95, 10: 0.95,
                11: 1.05, 12: 1.15}[month]
    return min(300.0, max(80.0, base * seasonal * rng.uniform(0.92, 1.08)))


def _ac_kwh(rng: random.Random, peak: float, month: int) -> float:
    if month in (6, 7, 8, 9):
        return min(300.0, peak * {6: 0.7, 7: 1.0, 8: 1.0, 9: 0.6}[month] * rng.uniform(0.9, 1.1))
    if month in (12, 1, 2):
        return rng.uniform(20.0, 60.0)  # some use AC to top up the central heating
    return rng.uniform(5.0, 30.0)


def _usage(house: DemoHouse, today: date, now_cst: datetime) -> dict[str, list[tuple[str, float]]]:
    """Per meter id: (month, kWh) for the complete months, then the month to date."""
    months = previous_months(today, USAGE_MONTHS)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    elapsed = (today.day - 1 + now_cst.hour / 24 + now_cst.minute / 1440) / days_in_month
    rng = random.Random(f"sunshine:usage:{house.number}")
    base = rng.uniform(110.0, 200.0)
    peak = rng.uniform(170.0, 280.0)
    rows: dict[str, list[tuple[str, float]]] = {house.lighting_meter_id: []}
    if house.ac_meter_id:
        rows[house.ac_meter_id] = []
    for key in [*months, month_key(today)]:
        month = int(key[5:])
        partial = 1.0 if key != month_key(today) else elapsed
        rows[house.lighting_meter_id].append((key, round(_lighting_kwh(rng, base, month) * partial, 1)))
        if house.ac_meter_id:
            rows[house.ac_meter_id].append((key, round(_ac_kwh(rng, peak, month) * partial, 1)))
    return rows


def _order_no(rng: random.Random) -> str:
    return "".join(rng.choice(ORDER_NO_ALPHABET) for _ in range(ORDER_NO_LENGTH))


def _rows_for(house: DemoHouse, now: datetime) -> list[Base]:
    now_cst = now.astimezone(CHINA_TZ)
    today = now_cst.date()
    rng = random.Random(f"sunshine:money:{house.number}")
    b, u, room = house.number.split("-")
    rows: list[Base] = [
        House(id=house.house_id, community_id=COMMUNITY_ID, building=b, unit=u, room=room,
              house_code=house.house_code, area_m2=house.area_m2),
    ]
    rows += [
        Resident(house_id=house.house_id, display_name=name, card_id=card)
        for card, name in zip(house.card_ids, house.residents, strict=True)
    ]
    usage = _usage(house, today, now_cst)
    meter_ids = [house.lighting_meter_id] + ([house.ac_meter_id] if house.ac_meter_id else [])
    for n, meter_id in enumerate(meter_ids, start=1):
        if house is MAIN_HOUSE and n == 1:
            balance = MAIN_LIGHTING_BALANCE_FEN
        elif house is LOW_BALANCE_HOUSE and n == 1:
            last3 = [kwh for _, kwh in usage[meter_id][-4:-1]]
            daily_fen = sum(last3) / (len(last3) * 30) * PRICE_FEN_PER_KWH
            balance = int(daily_fen * LOW_BALANCE_DAYS) // 10 * 10
        else:
            balance = rng.randrange(3000, 30000, 10)
        rows.append(Meter(id=meter_id, house_id=house.house_id,
                          use="lighting" if n == 1 else "air_conditioning",
                          number=f"{b}{u}{room:0>4}{n:04d}", balance_fen=balance,
                          price_fen_per_kwh=PRICE_FEN_PER_KWH))
        rows += [MonthlyUsage(meter_id=meter_id, month=m, kwh=kwh) for m, kwh in usage[meter_id]]

    # Heating seasons run November to March; the season's bill is due at the end of its first year.
    season = today.year if today.month >= 7 else today.year - 1
    issued = datetime.combine(today.replace(day=1), time(9, 0), CHINA_TZ).astimezone(UTC)
    key = house.house_id[2:]
    for kind, amount, period, due, bill_no in (
        ("heating", house.area_m2 * HEATING_FEN_PER_M2, f"{season}-{season + 1}", date(season, 12, 31),
         house.heating_bill_no),
        ("property", house.area_m2 * PROPERTY_FEN_PER_M2_MONTH * 12, f"{today.year}", date(today.year, 12, 31),
         house.property_bill_no),
    ):
        paid_already = house not in _FEATURED and rng.random() < 0.4
        account_id = f"a_{key}_{'heat' if kind == 'heating' else 'prop'}"
        rows.append(Account(id=account_id, house_id=house.house_id, kind=kind,
                            due_fen=0 if paid_already else amount, period=period, due_date=due))
        rows.append(Bill(bill_no=bill_no, account_id=account_id, amount_fen=amount, period=period,
                         issued_at=issued))

    if house is MAIN_HOUSE:
        recharge = (house.lighting_meter_id, MAIN_LAST_RECHARGE_FEN,
                    datetime.combine((now - timedelta(days=51)).date(), time(8, 11), UTC))
    elif house is NEW_HOUSE or (house not in _FEATURED and rng.random() < 0.1):
        recharge = None
    else:
        meter_id = house.ac_meter_id if house.ac_meter_id and rng.random() < 0.25 else house.lighting_meter_id
        at = now - timedelta(days=rng.randint(3, 80), minutes=rng.randint(0, 600))
        recharge = (meter_id, rng.choice((2000, 5000, 10000, 20000)), at.replace(microsecond=0))
    if recharge is not None:
        meter_id, amount, at = recharge
        created = at - timedelta(seconds=45)
        rows.append(Order(
            order_no=_order_no(random.Random(f"sunshine:order:{house.number}")), idempotency_key=None,
            terminal_id=DEMO_TERMINAL_ID, house_id=house.house_id, meter_id=meter_id, service="electricity",
            amount_fen=amount, method="qr", status=PAID, created_at=created,
            expires_at=created + timedelta(minutes=10), paid_at=at, closed_at=at,
            new_balance_fen=amount + rng.randrange(0, 3000, 10),
        ))
    return rows


def is_seeded(session: Session) -> bool:
    """Whether the demo community is already in the database."""
    return session.get(Community, COMMUNITY_ID) is not None


def seed_demo(target: Session | Engine, now: datetime) -> bool:
    """Fill the database with the demo community as of ``now`` (aware) and commit.

    Given an engine, creates missing tables first. Idempotent: returns False, changing nothing, when the
    demo community is already there; True when it was seeded now. Same ``now``, same data.
    """
    now = as_utc(now).replace(microsecond=0)
    if isinstance(target, Engine):
        Base.metadata.create_all(target)
        with Session(target) as session:
            return seed_demo(session, now)
    session = target
    if is_seeded(session):
        return False
    session.add(Community(id=COMMUNITY_ID, name=COMMUNITY_NAME, name_en=COMMUNITY_NAME_EN, payee=PAYEE))
    session.flush()
    for house in DEMO_HOUSES:
        session.add_all(_rows_for(house, now))
    session.commit()
    return True
