"""hq.seed: determinism, idempotence and the well-known demo entries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hq_helpers import NOW
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hq.db import create_engine_for
from hq.models import Account, Base, Bill, House, Meter, MonthlyUsage, Order, Resident
from hq.seed import (
    DEMO_BILLS,
    DEMO_CARDS,
    DEMO_HOUSE_CODES,
    DEMO_HOUSES,
    LOW_BALANCE_HOUSE,
    MAIN_HOUSE,
    NEW_HOUSE,
    seed_demo,
)


def _dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'seed.db'}")
    yield engine
    engine.dispose()


def test_seed_is_deterministic(tmp_path: Path) -> None:
    dumps = []
    for name in ("a", "b"):
        engine = create_engine_for(f"sqlite:///{tmp_path / name}.db")
        assert seed_demo(engine, NOW) is True
        dumps.append(_dump(engine))
        engine.dispose()
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["house"]) == 72


def test_seed_is_idempotent(engine: Engine) -> None:
    assert seed_demo(engine, NOW) is True
    before = _dump(engine)
    assert seed_demo(engine, datetime(2027, 3, 1, tzinfo=UTC)) is False
    assert _dump(engine) == before


def test_seed_with_a_session(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        assert seed_demo(session, NOW) is True
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(House)) == 72


def test_seed_refuses_naive_time(engine: Engine) -> None:
    with pytest.raises(ValueError, match="naive"):
        seed_demo(engine, datetime(2026, 11, 22))


def test_constants() -> None:
    assert MAIN_HOUSE.number == "3-2-501" and MAIN_HOUSE.card_id == "04A1B2C3D4"
    assert MAIN_HOUSE.house_code == "H3U2R501X7" and MAIN_HOUSE.heating_bill_no == "B202611000123"
    assert MAIN_HOUSE.ac_meter_id == "m_3_2_501_ac"
    assert NEW_HOUSE.number == "1-1-101" and NEW_HOUSE.card_id == "04B5C6D7E8"
    assert LOW_BALANCE_HOUSE.number == "2-1-302" and LOW_BALANCE_HOUSE.card_id == "04C9DAEBFC"
    assert DEMO_CARDS[:3] == [
        ("04A1B2C3D4", "3-2-501", MAIN_HOUSE.residents[0]),
        ("04B5C6D7E8", "1-1-101", NEW_HOUSE.residents[0]),
        ("04C9DAEBFC", "2-1-302", LOW_BALANCE_HOUSE.residents[0]),
    ]
    assert DEMO_HOUSE_CODES["3-2-501"] == "H3U2R501X7"
    assert DEMO_BILLS["B202611000123"] == ("3-2-501", "heating")
    assert len(DEMO_HOUSE_CODES) == 72 and len(set(DEMO_HOUSE_CODES.values())) == 72
    assert len(DEMO_BILLS) == 144
    for card, number, name in DEMO_CARDS:
        assert re.fullmatch(r"[0-9A-F]{8,20}", card) and number in DEMO_HOUSE_CODES and name
    assert len({c for c, _, _ in DEMO_CARDS}) == len(DEMO_CARDS)
    for code in DEMO_HOUSE_CODES.values():
        assert re.fullmatch(r"[A-Z0-9]{8,12}", code)
    for bill in DEMO_BILLS:
        assert re.fullmatch(r"B\d{12}", bill)
    rooms = {h.number.split("-")[2] for h in DEMO_HOUSES}
    assert {"101", "102", "501", "502", "601", "602"} <= rooms
    with_ac = sum(h.ac_meter_id is not None for h in DEMO_HOUSES)
    assert 0.35 * 72 <= with_ac <= 0.65 * 72


def test_seeded_data(engine: Engine) -> None:
    seed_demo(engine, NOW)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == len(DEMO_CARDS)
        for card, number, name in DEMO_CARDS:
            resident = session.scalars(select(Resident).where(Resident.card_id == card)).one()
            assert resident.house.number == number and resident.display_name == name
        for bill_no, (number, kind) in DEMO_BILLS.items():
            bill = session.get(Bill, bill_no)
            assert bill is not None and bill.account.house.number == number and bill.account.kind == kind
        assert session.scalar(select(House.house_code).where(House.id == "h_3_2_501")) == "H3U2R501X7"
        meters = session.scalars(select(Meter)).all()
        assert all(m.price_fen_per_kwh == 52 for m in meters)
        assert {m.use for m in meters} == {"lighting", "air_conditioning"}
        assert sum(m.use == "lighting" for m in meters) == 72
        usage = session.scalars(select(MonthlyUsage)).all()
        complete = [u for u in usage if u.month != "2026-11"]
        assert len(complete) == 6 * len(meters) and len(usage) == 7 * len(meters)
        lighting = {m.id for m in meters if m.use == "lighting"}
        assert all(80 <= u.kwh <= 300 for u in complete if u.meter_id in lighting)
        assert all(0 <= u.kwh <= 300 for u in usage)
        ac_july = [u.kwh for u in usage if u.meter_id not in lighting and u.month == "2026-07"]
        ac_may = [u.kwh for u in usage if u.meter_id not in lighting and u.month == "2026-05"]
        assert sum(ac_july) > 3 * sum(ac_may)
        orders = session.scalars(select(Order)).all()
        assert all(o.status == "paid" and o.paid_at is not None and o.paid_at < NOW for o in orders)
        assert not any(o.house_id == NEW_HOUSE.house_id for o in orders)
        main = [o for o in orders if o.house_id == MAIN_HOUSE.house_id]
        assert [(o.meter_id, o.amount_fen) for o in main] == [("m_3_2_501_l", 10000)]
        accounts = session.scalars(select(Account)).all()
        assert {a.kind for a in accounts} == {"heating", "property"} and len(accounts) == 144
        assert any(a.due_fen == 0 for a in accounts) and any(a.due_fen > 0 for a in accounts)
