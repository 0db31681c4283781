"""The uniform error shape, and malformed input never causing a 500 (property-based)."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hq_helpers import ORDER_BODY, new_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from hq.errors import HqError, describe_validation_errors

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
order_like = st.fixed_dictionaries(
    {},
    optional={
        "terminal_id": json_values | st.text(max_size=40),
        "house_id": json_values | st.sampled_from(["h_3_2_501", "h_1_1_101", "h_x"]),
        "meter_id": json_values | st.sampled_from(["m_3_2_501_l", "m_3_2_501_ac", "m_1_1_101_l"]),
        "service": json_values | st.just("electricity"),
        "amount_fen": json_values | st.integers(min_value=-(10**40), max_value=10**40),
    },
)
identify_like = st.fixed_dictionaries(
    {},
    optional={
        "method": st.sampled_from(["card", "house_number", "house_code", "bill"]) | json_values,
        "value": st.text(max_size=40) | json_values,
    },
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _assert_error_shape(resp_json: object) -> None:
    assert isinstance(resp_json, dict) and set(resp_json) == {"error"}
    error = resp_json["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)


@FUZZ
@given(body=order_like | json_values)
def test_orders_never_500(sqlite_client: TestClient, body: object) -> None:
    resp = sqlite_client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": new_key()})
    assert resp.status_code in (201, 404, 422), resp.text
    if resp.status_code != 201:
        _assert_error_shape(resp.json())


@FUZZ
@given(body=identify_like | json_values)
def test_identify_never_500(sqlite_client: TestClient, body: object) -> None:
    resp = sqlite_client.post("/api/v1/identify", json=body)
    assert resp.status_code in (200, 404, 422), resp.text
    if resp.status_code != 200:
        _assert_error_shape(resp.json())


@FUZZ
@given(segment=st.text(min_size=1, max_size=80).filter(lambda s: "/" not in s and s not in (".", "..")))
def test_paths_never_500(sqlite_client: TestClient, segment: str) -> None:
    segment = quote(segment, safe="")
    for method, path in (
        ("GET", f"/api/v1/houses/{segment}/overview"),
        ("GET", f"/api/v1/orders/{segment}"),
        ("POST", f"/api/v1/orders/{segment}/cancel"),
        ("GET", f"/sandbox/checkout/{segment}"),
        ("POST", f"/sandbox/checkout/{segment}/pay"),
        ("GET", f"/r/{segment}"),
    ):
        resp = sqlite_client.request(method, path)
        assert resp.status_code < 500, (method, path, resp.text)


@FUZZ
@given(key=st.text(max_size=80))
def test_idempotency_keys_never_500(sqlite_client: TestClient, key: str) -> None:
    if any(c in key for c in "\r\n\0"):
        return  # not sendable in an HTTP header
    resp = sqlite_client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": key.encode()})
    assert resp.status_code in (201, 400), resp.text


def test_unknown_route_and_method(sqlite_client: TestClient) -> None:
    resp = sqlite_client.get("/api/v1/nothing")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"
    resp = sqlite_client.delete("/api/v1/identify")
    assert resp.status_code == 405
    assert resp.json()["error"]["code"] == "method_not_allowed"


def test_non_json_content_type(sqlite_client: TestClient) -> None:
    resp = sqlite_client.post(
        "/api/v1/orders", content=json.dumps(ORDER_BODY), headers={"Idempotency-Key": new_key(),
                                                                     "Content-Type": "text/plain"}
    )
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_request"


def test_hq_error_body() -> None:
    err = HqError(409, "order_already_paid", "paid", order={"order_no": "X"})
    assert err.body() == {"error": {"code": "order_already_paid", "message": "paid", "order": {"order_no": "X"}}}


def test_describe_validation_errors() -> None:
    errors = [{"loc": ("body", "amount_fen"), "msg": "Input should be a valid integer"}, {"msg": "bad"}]
    assert describe_validation_errors(errors) == "body.amount_fen: Input should be a valid integer; bad"
    assert describe_validation_errors([]) == "invalid request"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_hq_serves_again_once_the_database_drops_its_connections(
    make_client: Callable[..., TestClient], db_url: str
) -> None:
    """As after a database restart: the request meeting a dead connection answers 503 (worth a retry), never
    500, and the pool connects afresh for the next ones."""
    client = make_client(db_url)
    card = {"method": "card", "value": "04A1B2C3D4"}
    assert client.post("/api/v1/identify", json=card).status_code == 200
    server, name = db_url.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        dropped = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = :name"), {"name": name}).scalar()
    admin.dispose()
    assert dropped
    answers = [client.post("/api/v1/identify", json=card) for _ in range(3)]
    assert answers[0].status_code in (200, 503)
    if answers[0].status_code == 503:
        assert answers[0].json()["error"]["code"] == "database_unavailable"
    assert [a.status_code for a in answers[1:]] == [200, 200]
