"""POST /api/v1/identify: each method, each error, and strict validation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hq.seed import MAIN_HOUSE

MAIN = {"house_id": "h_3_2_501", "community": "阳光花园", "building": "3", "unit": "2", "room": "501"}


@pytest.mark.parametrize(
    ("method", "value"),
    [
        ("card", "04A1B2C3D4"),
        ("card", "04a1b2c3d4"),
        ("house_number", "3-2-501"),
        ("house_code", "H3U2R501X7"),
        ("house_code", "h3u2r501x7"),
        ("bill", "B202611000123"),
        ("bill", MAIN_HOUSE.property_bill_no),
    ],
)
def test_identify_each_method(client: TestClient, method: str, value: str) -> None:
    resp = client.post("/api/v1/identify", json={"method": method, "value": value})
    assert resp.status_code == 200, resp.text
    assert resp.json() == MAIN


def test_identify_second_resident_card(sqlite_client: TestClient) -> None:
    resp = sqlite_client.post("/api/v1/identify", json={"method": "card", "value": MAIN_HOUSE.card_ids[1]})
    assert resp.json()["house_id"] == "h_3_2_501"


@pytest.mark.parametrize(
    ("method", "value", "code"),
    [
        ("card", "04FFFFFFFF", "unknown_card"),
        ("house_number", "9-9-999", "unknown_house"),
        ("house_number", "3-2-701", "unknown_house"),
        ("house_code", "H9U9R999ZZ", "unknown_house_code"),
        ("bill", "B209901000001", "unknown_bill"),
    ],
)
def test_identify_unknown(client: TestClient, method: str, value: str, code: str) -> None:
    resp = client.post("/api/v1/identify", json={"method": method, "value": value})
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == code
    assert resp.json()["error"]["message"]


def test_unknown_house_message(sqlite_client: TestClient) -> None:
    resp = sqlite_client.post("/api/v1/identify", json={"method": "house_number", "value": "9-9-999"})
    assert resp.json() == {"error": {"code": "unknown_house", "message": "No house 9-9-999 in this community."}}


@pytest.mark.parametrize(
    "body",
    [
        {"method": "card", "value": ""},
        {"method": "card", "value": "04A1B2C"},  # 7 characters
        {"method": "card", "value": "04A1B2C3D4E5F60718293"},  # 21 characters
        {"method": "card", "value": "04A1B2C3DZ"},  # not hex
        {"method": "house_number", "value": "3-2"},
        {"method": "house_number", "value": "3/2/501"},
        {"method": "house_number", "value": "3-2-501-1"},
        {"method": "house_number", "value": " 3-2-501"},
        {"method": "house_code", "value": "H3U2"},
        {"method": "house_code", "value": "H3U2R501X7-"},
        {"method": "bill", "value": "B" * 40},
        {"method": "face", "value": "04A1B2C3D4"},
        {"method": "card"},
        {"value": "04A1B2C3D4"},
        {"method": "card", "value": 4},
        {"method": "card", "value": "04A1B2C3D4", "extra": 1},
        {"method": "card", "value": "x" * 10_000},
        [],
        "card",
        None,
    ],
)
def test_identify_invalid(sqlite_client: TestClient, body: object) -> None:
    # Validation happens before any query, so one database backend is enough.
    resp = sqlite_client.post("/api/v1/identify", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_request"


def test_identify_not_json(sqlite_client: TestClient) -> None:
    resp = sqlite_client.post("/api/v1/identify", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid_request"
