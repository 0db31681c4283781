"""Elderly mode's fewer choices (kiosk/elderly.py): the frequent fees only, and the amounts a house usually pays."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from kiosk.domain import (
    Account,
    HouseOverview,
    HouseRef,
    LastRecharge,
    Meter,
    ProtocolError,
    parse_found_house,
    parse_overview,
)
from kiosk.elderly import FREQUENT_ACCOUNTS, MAX_PRESETS, simpler_overview, usual_presets

MIN_FEN, MAX_FEN = 1000, 200000
PRESETS = (2000, 5000, 10000, 20000)


def _meter(meter_id: str, use: str) -> Meter:
    return Meter(meter_id, use, "3205010001", 4210, 52, 61.5, ())


def _account(kind: str) -> Account:
    return Account(f"a_{kind}", kind, 1000, "2026", date(2026, 12, 31))


def make_overview(
    *,
    kinds: tuple[str, ...] = ("heating", "property"),
    last: tuple[str, int] | None = None,
    usual: tuple[int, ...] = (),
) -> HouseOverview:
    last_recharge = None
    if last is not None:
        last_recharge = LastRecharge(last[0], last[1], "qr", datetime(2026, 10, 2, 8, 11, tzinfo=UTC))
    return HouseOverview(
        house=HouseRef("h_3_2_501", "阳光花园", "3", "2", "501"),
        payee="阳光花园物业服务中心",
        meters=(_meter("m_l", "lighting"), _meter("m_ac", "air_conditioning")),
        accounts=tuple(_account(k) for k in kinds),
        last_recharge=last_recharge,
        usual_amounts_fen=usual,
    )


# ---- simpler_overview ----------------------------------------------------------------------------------------


def test_frequent_accounts_are_heating_property_and_water() -> None:
    assert frozenset({"heating", "property", "water"}) == FREQUENT_ACCOUNTS


def test_simpler_overview_drops_other_accounts_and_keeps_everything_else() -> None:
    overview = make_overview(
        kinds=("parking", "heating", "gas", "water", "property", "internet"), last=("m_l", 5000), usual=(5000, 2000)
    )
    simpler = simpler_overview(overview)
    assert [a.kind for a in simpler.accounts] == ["heating", "water", "property"]  # in HQ's order
    assert simpler.accounts == tuple(a for a in overview.accounts if a.kind in ("heating", "water", "property"))
    assert simpler.meters == overview.meters  # electricity is the meters: all of them stay
    assert simpler.house == overview.house and simpler.payee == overview.payee
    assert simpler.last_recharge == overview.last_recharge
    assert simpler.usual_amounts_fen == (5000, 2000)
    assert len(overview.accounts) == 6  # the original is untouched


def test_simpler_overview_returns_the_same_object_when_nothing_is_dropped() -> None:
    for kinds in (("heating", "property"), ("water",), ()):
        overview = make_overview(kinds=kinds)
        assert simpler_overview(overview) is overview


def test_simpler_overview_may_leave_no_account() -> None:
    simpler = simpler_overview(make_overview(kinds=("parking", "gas")))
    assert simpler.accounts == () and len(simpler.meters) == 2


# ---- usual_presets ------------------------------------------------------------------------------------------


def presets(overview: HouseOverview, meter_id: str = "m_l", offered: tuple[int, ...] = PRESETS) -> tuple[int, ...]:
    return usual_presets(overview, meter_id, offered, MIN_FEN, MAX_FEN)


def test_last_recharge_of_this_meter_comes_first_then_usual_amounts() -> None:
    # The last recharge (3300) is not among the usual amounts: it takes one of the three places.
    overview = make_overview(last=("m_l", 3300), usual=(5000, 10000, 2000, 20000))
    assert presets(overview) == (3300, 5000, 10000)


def test_usual_amounts_most_used_first_fill_the_places() -> None:
    overview = make_overview(usual=(8800, 4400, 6600, 2000))
    assert presets(overview) == (4400, 6600, 8800)  # the first three, shown smallest first


def test_presets_fill_up_when_the_house_has_few_usual_amounts() -> None:
    assert presets(make_overview(usual=(4400,))) == (2000, 4400, 5000)
    assert presets(make_overview(last=("m_l", 7700))) == (2000, 5000, 7700)
    assert presets(make_overview()) == (2000, 5000, 10000)  # a house that never recharged: the first presets


def test_no_amount_twice() -> None:
    overview = make_overview(last=("m_l", 5000), usual=(5000, 2000, 5000))
    assert presets(overview) == (2000, 5000, 10000)
    overview = make_overview(last=("m_l", 2000), usual=(2000,))
    result = presets(overview, offered=(2000, 2000, 5000, 5000))
    assert result == (2000, 5000)  # fewer than three rather than a repeat
    assert len(set(result)) == len(result)


def test_out_of_range_amounts_are_dropped() -> None:
    overview = make_overview(last=("m_l", 500), usual=(300_000, 999, 4400, 200_001))
    assert presets(overview) == (2000, 4400, 5000)
    # The bounds themselves are in range.
    overview = make_overview(last=("m_l", MIN_FEN), usual=(MAX_FEN,))
    assert presets(overview) == (MIN_FEN, 2000, MAX_FEN)
    # Presets out of range are dropped too.
    assert presets(make_overview(), offered=(500, 300_000, 6000)) == (6000,)


def test_at_most_max_presets_sorted_ascending() -> None:
    assert MAX_PRESETS == 3
    overview = make_overview(last=("m_l", 20000), usual=(10000, 2000, 5000, 3000))
    result = presets(overview, offered=(1500, 2500, 3500, 4500))
    assert len(result) == MAX_PRESETS
    assert list(result) == sorted(result)
    assert result == (2000, 10000, 20000)


def test_last_recharge_of_another_meter_is_not_put_first() -> None:
    overview = make_overview(last=("m_ac", 3300), usual=(5000, 10000, 2000))
    assert presets(overview, "m_l") == (2000, 5000, 10000)  # the AC meter's 3300 is not among them
    assert presets(overview, "m_ac") == (3300, 5000, 10000)


def test_last_recharge_of_another_meter_may_still_come_as_a_usual_amount() -> None:
    overview = make_overview(last=("m_ac", 3300), usual=(3300, 8800))
    assert presets(overview, "m_l") == (2000, 3300, 8800)


def test_a_usual_amount_not_among_the_presets_is_offered() -> None:
    overview = make_overview(usual=(12300,))
    result = presets(overview)
    assert 12300 in result and result == (2000, 5000, 12300)


# ---- what HQ says about them ----------------------------------------------------------------------------------

OVERVIEW: dict[str, Any] = {
    "house": {"house_id": "h1", "community": "阳光花园", "building": "3", "unit": "2", "room": "501"},
    "payee": "阳光花园物业服务中心",
    "meters": [
        {
            "meter_id": "m1", "use": "lighting", "number": "3205010001", "balance_fen": 4210,
            "price_fen_per_kwh": 52, "month_to_date_kwh": 61.5, "usage": [],
        }
    ],
    "accounts": [],
    "last_recharge": None,
    "usual_amounts_fen": [5000, 2000],
}


def test_usual_amounts_parse_and_default_to_empty_from_an_older_hq() -> None:
    assert parse_overview(OVERVIEW).usual_amounts_fen == (5000, 2000)
    older = copy.deepcopy(OVERVIEW)
    del older["usual_amounts_fen"]
    assert parse_overview(older).usual_amounts_fen == ()


@pytest.mark.parametrize("usual", ["5000", [5000, "2000"], [True], [50.0], {"a": 1}])
def test_bad_usual_amounts_are_a_protocol_error(usual: object) -> None:
    data = {**OVERVIEW, "usual_amounts_fen": usual}
    with pytest.raises(ProtocolError):
        parse_overview(data)


HOUSE = {"house_id": "h1", "community": "阳光花园", "building": "3", "unit": "2", "room": "501"}


def test_found_house_with_and_without_a_preferred_mode() -> None:
    assert parse_found_house(HOUSE).preferred_mode is None
    assert parse_found_house({**HOUSE, "preferred_mode": None}).preferred_mode is None
    found = parse_found_house({**HOUSE, "preferred_mode": "elderly"})
    assert found.preferred_mode == "elderly" and found.house.number == "3-2-501"
    assert parse_found_house({**HOUSE, "preferred_mode": "standard"}).preferred_mode == "standard"
    with pytest.raises(ProtocolError):
        parse_found_house({**HOUSE, "preferred_mode": "large"})
