"""GET /api/v1/houses/{house_id}/overview: shape, numbers and the month window."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from hq_helpers import NOW, FakeClock

from hq.seed import LOW_BALANCE_HOUSE, MAIN_HOUSE, PAYEE


def test_overview_main_house(client: TestClient) -> None:
    resp = client.get("/api/v1/houses/h_3_2_501/overview")
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert set(data) == {"house", "payee", "meters", "accounts", "last_recharge", "usual_amounts_fen"}
    assert data["usual_amounts_fen"] == [data["last_recharge"]["amount_fen"]]  # its one recharge so far
    assert data["house"] == {
        "house_id": "h_3_2_501", "community": "阳光花园", "building": "3", "unit": "2", "room": "501",
    }
    assert data["payee"] == PAYEE
    lighting, ac = data["meters"]
    assert lighting["meter_id"] == MAIN_HOUSE.lighting_meter_id
    assert lighting["use"] == "lighting"
    assert lighting["number"] == "3205010001"
    assert lighting["balance_fen"] == 4210
    assert ac["use"] == "air_conditioning"
    for meter in data["meters"]:
        assert set(meter) == {
            "meter_id", "use", "number", "balance_fen", "price_fen_per_kwh", "month_to_date_kwh", "usage",
        }
        assert type(meter["balance_fen"]) is int
        assert meter["price_fen_per_kwh"] == 52
        assert [u["month"] for u in meter["usage"]] == [
            "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
        ]
        assert all(isinstance(u["kwh"], float) for u in meter["usage"])
        assert meter["month_to_date_kwh"] > 0
    # AC is used most in summer.
    ac_kwh = {u["month"]: u["kwh"] for u in ac["usage"]}
    assert ac_kwh["2026-07"] > ac_kwh["2026-05"] and ac_kwh["2026-08"] > ac_kwh["2026-10"]

    heat, prop = data["accounts"]
    assert heat == {
        "account_id": "a_3_2_501_heat", "kind": "heating", "due_fen": 264000, "period": "2026-2027",
        "due_date": "2026-12-31",
    }
    assert prop == {
        "account_id": "a_3_2_501_prop", "kind": "property", "due_fen": 86400, "period": "2026",
        "due_date": "2026-12-31",
    }
    assert data["last_recharge"] == {
        "meter_id": "m_3_2_501_l", "amount_fen": 10000, "method": "qr", "at": "2026-10-02T08:11:00+00:00",
    }


def test_overview_never_recharged(client: TestClient) -> None:
    data = client.get("/api/v1/houses/h_1_1_101/overview").json()
    assert data["last_recharge"] is None
    assert [m["use"] for m in data["meters"]] == ["lighting"]


def test_overview_low_balance_lasts_a_few_days(client: TestClient) -> None:
    data = client.get(f"/api/v1/houses/{LOW_BALANCE_HOUSE.house_id}/overview").json()
    lighting = data["meters"][0]
    recent = [u["kwh"] for u in lighting["usage"][-3:]]
    daily_fen = sum(recent) / 90 * lighting["price_fen_per_kwh"]
    assert 1 <= lighting["balance_fen"] / daily_fen <= 5


def test_overview_after_a_month_rolls_over(sqlite_url: str, make_client: Callable[..., TestClient]) -> None:
    clock = FakeClock(NOW.replace(month=12, day=2))
    client = make_client(sqlite_url, clock=clock)
    lighting = client.get("/api/v1/houses/h_3_2_501/overview").json()["meters"][0]
    # November, seeded as the month to date, is now the last (complete) month; December has no data yet.
    assert [u["month"] for u in lighting["usage"]] == [
        "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
    ]
    assert lighting["month_to_date_kwh"] == 0.0


def test_overview_unknown_house(client: TestClient) -> None:
    resp = client.get("/api/v1/houses/h_9_9_999/overview")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "unknown_house"


@pytest.mark.parametrize("house_id", ["H_3_2_501", "h-3-2-501", "x" * 65, "h_3_2_501%20"])
def test_overview_malformed_house_id(sqlite_client: TestClient, house_id: str) -> None:
    resp = sqlite_client.get(f"/api/v1/houses/{house_id}/overview")
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid_request"
