"""Elderly mode (长辈版) at HQ: PUT /api/v1/card-preferences, identify's ``preferred_mode``, and the overview's
``usual_amounts_fen`` (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fleet_helpers import SignedClient, register_terminal
from hq_helpers import NOW, FakeClock, new_key

from hq.context import hq_context
from hq.models import CardPreference
from hq.seed import LOW_BALANCE_HOUSE, MAIN_HOUSE, NEW_HOUSE

PREFS = "/api/v1/card-preferences"


def put_mode(client: TestClient, card_id: str, mode: str) -> Any:
    return client.put(PREFS, json={"card_id": card_id, "mode": mode})


def identify(client: TestClient, method: str, value: str) -> dict[str, Any]:
    resp = client.post("/api/v1/identify", json={"method": method, "value": value})
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def stored(client: TestClient, card_id: str) -> CardPreference | None:
    with hq_context(client.app).sessions() as session:  # type: ignore[arg-type]
        return session.get(CardPreference, card_id)


# ---- PUT /api/v1/card-preferences -----------------------------------------------------------------------------


def test_a_known_card_gets_its_mode_stored(client: TestClient) -> None:
    assert stored(client, MAIN_HOUSE.card_id) is None
    resp = put_mode(client, MAIN_HOUSE.card_id, "elderly")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"mode": "elderly"}
    row = stored(client, MAIN_HOUSE.card_id)
    assert row is not None and row.mode == "elderly" and row.updated_at == NOW
    assert row.terminal_id is None  # an unsigned request names no terminal


def test_card_id_is_case_insensitive(client: TestClient) -> None:
    resp = put_mode(client, MAIN_HOUSE.card_id.lower(), "elderly")
    assert resp.status_code == 200, resp.text
    row = stored(client, MAIN_HOUSE.card_id)  # stored uppercase, as the resident table has it
    assert row is not None and row.mode == "elderly"
    assert identify(client, "card", MAIN_HOUSE.card_id)["preferred_mode"] == "elderly"
    assert identify(client, "card", MAIN_HOUSE.card_id.lower())["preferred_mode"] == "elderly"


def test_standard_replaces_elderly(client: TestClient, clock: FakeClock) -> None:
    assert put_mode(client, NEW_HOUSE.card_id, "elderly").status_code == 200
    clock.advance(minutes=5)
    resp = put_mode(client, NEW_HOUSE.card_id, "standard")
    assert resp.status_code == 200 and resp.json() == {"mode": "standard"}
    row = stored(client, NEW_HOUSE.card_id)
    assert row is not None and row.mode == "standard" and row.updated_at == clock.now
    assert identify(client, "card", NEW_HOUSE.card_id)["preferred_mode"] == "standard"
    with hq_context(client.app).sessions() as session:  # type: ignore[arg-type]
        assert session.query(CardPreference).count() == 1  # updated in place, not a second row


def test_unknown_card_is_refused(client: TestClient) -> None:
    resp = put_mode(client, "04FFFFFFFF", "elderly")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "unknown_card"
    assert stored(client, "04FFFFFFFF") is None


@pytest.mark.parametrize(
    "body",
    [
        {"card_id": MAIN_HOUSE.card_id, "mode": "large"},
        {"card_id": MAIN_HOUSE.card_id, "mode": "Elderly"},
        {"card_id": MAIN_HOUSE.card_id, "mode": ""},
        {"card_id": MAIN_HOUSE.card_id, "mode": None},
        {"card_id": MAIN_HOUSE.card_id, "mode": 1},
        {"card_id": MAIN_HOUSE.card_id},
        {"mode": "elderly"},
        {"card_id": "04A1B2C", "mode": "elderly"},  # too short
        {"card_id": "04A1B2C3DZ", "mode": "elderly"},  # not hex
        {"card_id": "04A1B2C3D4E5F60718293", "mode": "elderly"},  # too long
        {"card_id": MAIN_HOUSE.card_id, "mode": "elderly", "terminal_id": "T-0001"},
        [],
        None,
    ],
)
def test_bad_bodies_are_refused(sqlite_client: TestClient, body: object) -> None:
    # Validation happens before any query, so one database backend is enough.
    resp = sqlite_client.put(PREFS, json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_request"
    assert stored(sqlite_client, MAIN_HOUSE.card_id) is None


def test_a_bad_mode_for_a_known_card_changes_nothing(client: TestClient) -> None:
    assert put_mode(client, MAIN_HOUSE.card_id, "elderly").status_code == 200
    assert put_mode(client, MAIN_HOUSE.card_id, "large").status_code == 422
    assert identify(client, "card", MAIN_HOUSE.card_id)["preferred_mode"] == "elderly"


def test_a_signed_request_records_its_terminal(
    make_client: Any, sqlite_url: str, clock: FakeClock
) -> None:
    client = make_client(sqlite_url, require_signatures=True)
    terminal = SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)
    resp = terminal.request("PUT", PREFS, {"card_id": MAIN_HOUSE.card_id, "mode": "elderly"})
    assert resp.status_code == 200, resp.text
    row = stored(client, MAIN_HOUSE.card_id)
    assert row is not None and row.terminal_id == "T-0001"
    unsigned = put_mode(client, MAIN_HOUSE.card_id, "standard")
    assert unsigned.status_code == 401  # the preference is a terminal's call like any other


# ---- POST /api/v1/identify: preferred_mode ---------------------------------------------------------------------


def test_identify_by_card_leaves_the_mode_out_until_one_is_chosen(client: TestClient) -> None:
    data = identify(client, "card", MAIN_HOUSE.card_id)
    assert "preferred_mode" not in data
    assert data["house_id"] == MAIN_HOUSE.house_id


def test_identify_by_card_answers_with_the_chosen_mode(client: TestClient) -> None:
    assert put_mode(client, MAIN_HOUSE.card_id, "elderly").status_code == 200
    data = identify(client, "card", MAIN_HOUSE.card_id)
    assert data == {
        "house_id": "h_3_2_501", "community": "阳光花园", "building": "3", "unit": "2", "room": "501",
        "preferred_mode": "elderly",
    }


def test_the_mode_is_the_cards_not_the_houses(client: TestClient) -> None:
    first, second = MAIN_HOUSE.card_ids[:2]  # two residents of one house
    assert put_mode(client, first, "elderly").status_code == 200
    assert identify(client, "card", first)["preferred_mode"] == "elderly"
    assert "preferred_mode" not in identify(client, "card", second)  # the other resident of the house


def test_other_methods_never_answer_with_a_mode(client: TestClient) -> None:
    assert put_mode(client, MAIN_HOUSE.card_id, "elderly").status_code == 200
    for method, value in (
        ("house_number", MAIN_HOUSE.number),
        ("house_code", MAIN_HOUSE.house_code),
        ("bill", MAIN_HOUSE.heating_bill_no),
    ):
        data = identify(client, method, value)
        assert data["house_id"] == MAIN_HOUSE.house_id and "preferred_mode" not in data, method


# ---- the overview's usual amounts -------------------------------------------------------------------------------
# tests/hq/test_hq_overview.py checks the field is there, with the main house's one seeded recharge.

HOUSE = "h_1_1_101"  # NEW_HOUSE: never recharged
METER = "m_1_1_101_l"


def order(client: TestClient, amount_fen: int) -> str:
    body = {
        "terminal_id": "T-0001", "house_id": HOUSE, "meter_id": METER, "service": "electricity",
        "amount_fen": amount_fen,
    }
    resp = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": new_key()})
    assert resp.status_code == 201, resp.text
    order_no: str = resp.json()["order_no"]
    return order_no


def settle(client: TestClient, order_no: str, action: str = "pay") -> None:
    resp = client.post(f"/sandbox/checkout/{order_no}/{action}", headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.text


def recharge(client: TestClient, clock: FakeClock, *amounts: int) -> None:
    """Paid recharges, one a minute, oldest first."""
    for amount in amounts:
        clock.advance(minutes=1)
        settle(client, order(client, amount))


def usual(client: TestClient, house_id: str = HOUSE) -> list[int]:
    resp = client.get(f"/api/v1/houses/{house_id}/overview")
    assert resp.status_code == 200, resp.text
    amounts: list[int] = resp.json()["usual_amounts_fen"]
    return amounts


def test_a_house_that_never_recharged_has_no_usual_amounts(client: TestClient) -> None:
    assert usual(client) == []


def test_most_often_first_at_most_four(client: TestClient, clock: FakeClock) -> None:
    recharge(client, clock, 1000, 5000, 2000, 5000, 3000, 2000, 5000, 4000, 6000)
    # 5000 three times, 2000 twice; of those used once the most recent come first.
    assert usual(client) == [5000, 2000, 6000, 4000]


def test_ties_most_recent_first(client: TestClient, clock: FakeClock) -> None:
    recharge(client, clock, 2000, 5000, 10000)
    assert usual(client) == [10000, 5000, 2000]
    recharge(client, clock, 5000, 2000)
    assert usual(client) == [2000, 5000, 10000]  # twice each: 2000 was used last


def test_only_paid_orders_count(client: TestClient, clock: FakeClock) -> None:
    recharge(client, clock, 5000)
    settle(client, order(client, 7000), "decline")
    cancelled = order(client, 8000)
    assert client.post(f"/api/v1/orders/{cancelled}/cancel").status_code == 200
    order(client, 9000)  # still awaiting payment
    clock.advance(minutes=5)
    order(client, 9100)
    clock.advance(minutes=11)  # ...and this one has expired
    assert usual(client) == [5000]


def test_only_the_latest_recharges_count(client: TestClient, clock: FakeClock) -> None:
    recharge(client, clock, *[7700] * 5)  # long ago: 20 newer recharges leave these out
    recharge(client, clock, *[1000 + 100 * (i % 10) for i in range(20)])  # ten amounts, twice each
    amounts = usual(client)
    assert 7700 not in amounts
    assert amounts == [1900, 1800, 1700, 1600]


def test_another_houses_recharges_do_not_count(client: TestClient, clock: FakeClock) -> None:
    recharge(client, clock, 4400)
    assert usual(client) == [4400]
    assert usual(client, MAIN_HOUSE.house_id) == [10000]  # its one seeded recharge
    assert usual(client, LOW_BALANCE_HOUSE.house_id) != [4400]
