"""Signed terminal requests: accepted when right, and every refusal with its code (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from fleet_helpers import SignedClient, register_terminal, signed_headers
from hq_helpers import ORDER_BODY, FakeClock, new_key
from sqlalchemy import select

from hq.context import hq_context
from hq.fleet_context import fleet_context
from hq.fleet_models import TerminalRecord
from hq.nonce_table import NonceTable
from hq.signing import TERMINAL_HEADER, canonical_string
from hq.terminals import RegistryError, revoke, rotate
from kiosk import signing as kiosk_signing

CARD = {"method": "card", "value": "04A1B2C3D4"}


@pytest.fixture
def strict(make_client: Callable[..., TestClient], db_url: str) -> TestClient:
    return make_client(db_url, require_signatures=True)


@pytest.fixture
def t1(strict: TestClient, clock: FakeClock) -> SignedClient:
    return SignedClient(strict, "T-0001", register_terminal(strict, "T-0001"), clock)


def _code(response: object) -> str:
    return response.json()["error"]["code"]  # type: ignore[attr-defined, no-any-return]


def test_terminal_and_hq_sign_the_same_string() -> None:
    args = ("T-1", "POST", "/api/v1/orders?x=1", "1790000000", "n" * 24, b'{"a": 1}')
    assert kiosk_signing.canonical_string(*args) == canonical_string(*args)


def test_signed_requests_are_served(t1: SignedClient) -> None:
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    created = t1.request("POST", "/api/v1/orders", ORDER_BODY, headers={"Idempotency-Key": new_key()})
    assert created.status_code == 201
    order_no = created.json()["order_no"]
    assert t1.request("GET", f"/api/v1/orders/{order_no}").json()["status"] == "awaiting_payment"


def test_unsigned_refused_when_required_but_health_stays_open(strict: TestClient) -> None:
    answer = strict.post("/api/v1/identify", json=CARD)
    assert answer.status_code == 401 and _code(answer) == "signature_missing"
    assert strict.get("/api/v1/health").status_code == 200


def test_unsigned_served_when_not_required_but_a_bad_signature_is_still_refused(sqlite_client: TestClient) -> None:
    assert sqlite_client.post("/api/v1/identify", json=CARD).status_code == 200
    secret = register_terminal(sqlite_client, "T-0001")
    headers = signed_headers("T-0001", secret + "x", "POST", "/api/v1/identify", b"{}")
    answer = sqlite_client.post("/api/v1/identify", content=b"{}", headers=headers)
    assert answer.status_code == 401 and _code(answer) == "signature_invalid"


def test_partial_and_malformed_signature_headers(t1: SignedClient) -> None:
    headers = signed_headers("T-0001", t1.secret, "GET", "/api/v1/houses/h_3_2_501/overview", at=t1.clock())
    partial = {k: v for k, v in headers.items() if k != TERMINAL_HEADER}
    answer = t1.client.get("/api/v1/houses/h_3_2_501/overview", headers=partial)
    assert answer.status_code == 401 and _code(answer) == "signature_missing"
    answer = t1.request("GET", "/api/v1/houses/h_3_2_501/overview", nonce="short")
    assert answer.status_code == 401 and _code(answer) == "signature_malformed"


@pytest.mark.parametrize("tamper", ["body", "path", "query", "method"])
def test_anything_changed_after_signing_is_refused(t1: SignedClient, tamper: str) -> None:
    body = b'{"method": "card", "value": "04A1B2C3D4"}'
    headers = signed_headers("T-0001", t1.secret, "POST", "/api/v1/identify", body, at=t1.clock())
    headers["Content-Type"] = "application/json"
    if tamper == "body":
        answer = t1.client.post("/api/v1/identify", content=body.replace(b"04A1", b"04B5"), headers=headers)
    elif tamper == "path":
        answer = t1.client.post("/api/v1/orders", content=body, headers=headers)
    elif tamper == "query":
        answer = t1.client.post("/api/v1/identify?x=1", content=body, headers=headers)
    else:  # signed as a GET of /api/v1/orders, sent as a POST there
        headers = signed_headers("T-0001", t1.secret, "GET", "/api/v1/orders", body, at=t1.clock())
        answer = t1.client.post("/api/v1/orders", content=body, headers=headers)
    assert answer.status_code == 401 and _code(answer) == "signature_invalid"


@pytest.mark.parametrize("skew_s", [301, -301])
def test_timestamp_more_than_five_minutes_off(t1: SignedClient, clock: FakeClock, skew_s: int) -> None:
    answer = t1.request("POST", "/api/v1/identify", CARD, at=clock() + timedelta(seconds=skew_s))
    assert answer.status_code == 401 and _code(answer) == "timestamp_out_of_window"
    assert answer.json()["error"]["server_time"] == "2026-11-22T03:00:00+00:00"
    ok = t1.request("POST", "/api/v1/identify", CARD, at=clock() + timedelta(seconds=skew_s - skew_s // abs(skew_s)))
    assert ok.status_code == 200  # 300 s off is still accepted


def test_replayed_nonce_is_refused(t1: SignedClient) -> None:
    first = t1.request("POST", "/api/v1/identify", CARD, nonce="nonce-0000000000000001")
    again = t1.request("POST", "/api/v1/identify", CARD, nonce="nonce-0000000000000001")
    assert first.status_code == 200
    assert again.status_code == 401 and _code(again) == "nonce_reused"


def test_a_full_nonce_table_refuses_with_503_rather_than_forget_a_nonce(t1: SignedClient) -> None:
    fleet = fleet_context(t1.client.app)  # type: ignore[arg-type]
    fleet.nonces = NonceTable(slots=1, probes=1)  # room for one live nonce
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    crowded = t1.request("POST", "/api/v1/identify", CARD)
    assert crowded.status_code == 503 and _code(crowded) == "nonce_table_full"
    assert fleet.counters.snapshot()["refused:nonce_table_full"] == 1


def test_unknown_and_revoked_terminals(t1: SignedClient, clock: FakeClock) -> None:
    stranger = SignedClient(t1.client, "T-9999", t1.secret, clock)
    answer = stranger.request("POST", "/api/v1/identify", CARD)
    assert answer.status_code == 401 and _code(answer) == "unknown_terminal"
    revoke(hq_context(t1.client.app).sessions, "T-0001", clock())  # type: ignore[arg-type]
    answer = t1.request("POST", "/api/v1/identify", CARD)
    assert answer.status_code == 403 and _code(answer) == "terminal_revoked"
    with pytest.raises(RegistryError):
        rotate(hq_context(t1.client.app).sessions, fleet_context(t1.client.app).box, "T-0001", clock())  # type: ignore[arg-type]


def test_a_terminal_cannot_touch_another_terminals_orders(t1: SignedClient, clock: FakeClock) -> None:
    t2 = SignedClient(t1.client, "T-0002", register_terminal(t1.client, "T-0002"), clock)
    key = new_key()
    order_no = t1.request("POST", "/api/v1/orders", ORDER_BODY, headers={"Idempotency-Key": key}).json()["order_no"]
    for method, path, body in (
        ("GET", f"/api/v1/orders/{order_no}", None),
        ("GET", f"/api/v1/orders?idempotency_key={key}", None),
        ("POST", f"/api/v1/orders/{order_no}/cancel", None),
        ("POST", "/api/v1/orders", ORDER_BODY),  # an order in T-0001's name
        ("POST", "/api/v1/terminals/T-0001/heartbeat", {}),
    ):
        answer = t2.request(method, path, body, headers={"Idempotency-Key": new_key()})
        assert answer.status_code == 403 and _code(answer) == "terminal_mismatch", (method, path)
    assert t1.request("GET", f"/api/v1/orders/{order_no}").json()["status"] == "awaiting_payment"


def test_rotation_keeps_the_old_secret_for_the_grace_period_only(t1: SignedClient, clock: FakeClock) -> None:
    app = t1.client.app
    new = rotate(hq_context(app).sessions, fleet_context(app).box, "T-0001", clock(),  # type: ignore[arg-type]
                 grace=timedelta(minutes=10)).secret
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    clock.advance(minutes=11)
    answer = t1.request("POST", "/api/v1/identify", CARD)
    assert answer.status_code == 401 and _code(answer) == "signature_invalid"
    t1.secret = new
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200


def test_secrets_are_stored_encrypted(t1: SignedClient) -> None:
    with hq_context(t1.client.app).sessions() as session:  # type: ignore[arg-type]
        stored = session.scalars(select(TerminalRecord.secret_enc)).one()
    assert t1.secret not in stored and len(stored) > 60
