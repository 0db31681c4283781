"""POST/GET /api/v1/orders and cancel: creation, idempotency, status, expiry, cancel."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from hq_helpers import ORDER_BODY, PUBLIC_URL, FakeClock, new_key
from sqlalchemy import func, select

from hq.context import hq_context
from hq.models import IdempotencyRecord, Order
from hq.server import HqServer


def create(client: TestClient, key: str | None = None, **changes: object) -> httpx.Response:
    headers = {"Idempotency-Key": key or new_key()}
    return client.post("/api/v1/orders", json={**ORDER_BODY, **changes}, headers=headers)


def balance(client: TestClient, meter_id: str = "m_3_2_501_l") -> int:
    data = client.get(f"/api/v1/houses/{meter_id.rsplit('_', 1)[0].replace('m_', 'h_', 1)}/overview").json()
    return next(m["balance_fen"] for m in data["meters"] if m["meter_id"] == meter_id)


def pay(client: TestClient, order_no: str) -> dict[str, object]:
    resp = client.post(f"/sandbox/checkout/{order_no}/pay", headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_create_order(client: TestClient, clock: FakeClock) -> None:
    resp = create(client)
    assert resp.status_code == 201, resp.text
    assert "Idempotent-Replayed" not in resp.headers
    order = resp.json()
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{16}", order["order_no"])
    assert order["status"] == "awaiting_payment"
    for field in ("house_id", "meter_id", "service", "amount_fen"):
        assert order[field] == ORDER_BODY[field]
    assert order["created_at"] == "2026-11-22T03:00:00+00:00"
    expires = datetime.fromisoformat(order["expires_at"])
    assert expires - datetime.fromisoformat(order["created_at"]) == timedelta(minutes=10)
    assert order["pay_url"] == f"{PUBLIC_URL}/sandbox/checkout/{order['order_no']}"
    assert order["receipt_url"] == f"{PUBLIC_URL}/r/{order['order_no']}"
    assert order["paid_at"] is None and order["new_balance_fen"] is None
    assert client.get(f"/api/v1/orders/{order['order_no']}").json() == order


def test_order_numbers_differ(sqlite_client: TestClient) -> None:
    numbers = {create(sqlite_client).json()["order_no"] for _ in range(20)}
    assert len(numbers) == 20


@pytest.mark.parametrize("amount", [100, 500_000])
def test_amount_limits_accepted(sqlite_client: TestClient, amount: int) -> None:
    assert create(sqlite_client, amount_fen=amount).status_code == 201


@pytest.mark.parametrize("amount", [0, 99, 500_001, -100, 10**30])
def test_amount_out_of_range(sqlite_client: TestClient, amount: int) -> None:
    resp = create(sqlite_client, amount_fen=amount)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "amount_out_of_range"


def test_unknown_house_and_meter(client: TestClient) -> None:
    resp = create(client, house_id="h_9_9_999")
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "unknown_house")
    # A meter of another house is refused: the meter must belong to the house.
    resp = create(client, meter_id="m_1_1_101_l")
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "unknown_meter")
    resp = create(client, meter_id="m_3_2_501_x")
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "unknown_meter")


def test_idempotent_replay(client: TestClient) -> None:
    key = new_key()
    first = create(client, key)
    again = client.post(
        "/api/v1/orders",
        # Same body with other key order and spacing: still the same request.
        content=b'{ "amount_fen": 10000, "service": "electricity", "meter_id": "m_3_2_501_l",'
        b' "house_id": "h_3_2_501", "terminal_id": "T-0001" }',
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    found = client.get("/api/v1/orders", params={"idempotency_key": key})
    assert found.status_code == 200
    assert found.json()["order_no"] == first.json()["order_no"]
    with hq_context(client.app).sessions() as session:  # type: ignore[arg-type]
        assert session.scalar(select(func.count()).select_from(Order).where(Order.idempotency_key == key)) == 1


def test_replay_returns_first_answer_even_after_payment(client: TestClient) -> None:
    key = new_key()
    first = create(client, key).json()
    pay(client, first["order_no"])
    again = create(client, key)
    assert again.json() == first  # the stored first answer; the current status is GET /orders/{no}
    assert client.get(f"/api/v1/orders/{first['order_no']}").json()["status"] == "paid"


def test_key_reused_with_other_body(client: TestClient) -> None:
    key = new_key()
    assert create(client, key).status_code == 201
    resp = create(client, key, amount_fen=20000)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "idempotency_key_reused"


def test_business_error_is_stored_under_the_key(client: TestClient) -> None:
    key = new_key()
    first = create(client, key, amount_fen=50)
    again = create(client, key, amount_fen=50)
    assert again.status_code == 422 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert create(client, key, amount_fen=5000).json()["error"]["code"] == "idempotency_key_reused"
    assert client.get("/api/v1/orders", params={"idempotency_key": key}).status_code == 404


def test_malformed_body_does_not_use_up_the_key(client: TestClient) -> None:
    key = new_key()
    assert create(client, key, amount_fen="100").status_code == 422
    assert create(client, key).status_code == 201


@pytest.mark.parametrize("key", [None, "", "short", "x" * 15, "x" * 65, "bad key with spaces!", "ключ" * 5])
def test_missing_or_malformed_key(sqlite_client: TestClient, key: str | None) -> None:
    headers = {} if key is None else {"Idempotency-Key": key.encode()}
    resp = sqlite_client.post("/api/v1/orders", json=ORDER_BODY, headers=headers)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "idempotency_key_missing"


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_fen": "10000"},
        {"amount_fen": 100.0},
        {"amount_fen": True},
        {"amount_fen": None},
        {"service": "water"},
        {"terminal_id": ""},
        {"terminal_id": "T 0001"},
        {"terminal_id": "T" * 33},
        {"house_id": "H_3_2_501"},
        {"meter_id": ""},
        {"extra": 1},
    ],
)
def test_malformed_order(sqlite_client: TestClient, changes: dict[str, object]) -> None:
    resp = sqlite_client.post(
        "/api/v1/orders", json={**ORDER_BODY, **changes}, headers={"Idempotency-Key": new_key()}
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_request"


def test_missing_field(sqlite_client: TestClient) -> None:
    body = {k: v for k, v in ORDER_BODY.items() if k != "amount_fen"}
    resp = sqlite_client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": new_key()})
    assert resp.status_code == 422
    assert "amount_fen" in resp.json()["error"]["message"]


def test_status_errors(client: TestClient) -> None:
    resp = client.get("/api/v1/orders/ABCDEFGHJKMNPQRS")
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "unknown_order")
    resp = client.get("/api/v1/orders/abc")
    assert (resp.status_code, resp.json()["error"]["code"]) == (422, "invalid_request")
    resp = client.get("/api/v1/orders", params={"idempotency_key": new_key()})
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "unknown_order")
    for params in ({"idempotency_key": "short"}, {}):
        resp = client.get("/api/v1/orders", params=params)
        assert (resp.status_code, resp.json()["error"]["code"]) == (422, "invalid_request")


def test_expiry(client: TestClient, clock: FakeClock) -> None:
    order = create(client).json()
    clock.advance(minutes=9, seconds=59)
    assert client.get(f"/api/v1/orders/{order['order_no']}").json()["status"] == "awaiting_payment"
    clock.advance(seconds=1)
    assert client.get(f"/api/v1/orders/{order['order_no']}").json()["status"] == "expired"
    before = balance(client)
    assert pay(client, order["order_no"])["status"] == "expired"
    assert balance(client) == before
    # Cancelling an expired order returns it unchanged.
    resp = client.post(f"/api/v1/orders/{order['order_no']}/cancel")
    assert (resp.status_code, resp.json()["status"]) == (200, "expired")


def test_order_ttl_is_configurable(sqlite_url: str, make_client: Callable[..., TestClient]) -> None:
    client = make_client(sqlite_url, order_ttl=timedelta(minutes=2))
    order = create(client).json()
    created, expires = (datetime.fromisoformat(order[k]) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(minutes=2)


def test_cancel(client: TestClient) -> None:
    order = create(client).json()
    resp = client.post(f"/api/v1/orders/{order['order_no']}/cancel")
    assert resp.status_code == 200
    assert resp.json() == {**order, "status": "cancelled"}
    again = client.post(f"/api/v1/orders/{order['order_no']}/cancel")
    assert (again.status_code, again.json()["status"]) == (200, "cancelled")
    before = balance(client)
    assert pay(client, order["order_no"])["status"] == "cancelled"
    assert balance(client) == before


def test_cancel_declined_is_unchanged(client: TestClient) -> None:
    order = create(client).json()
    client.post(f"/sandbox/checkout/{order['order_no']}/decline", headers={"Accept": "application/json"})
    resp = client.post(f"/api/v1/orders/{order['order_no']}/cancel")
    assert (resp.status_code, resp.json()["status"]) == (200, "declined")


def test_cancel_paid_order_conflicts_with_the_order(client: TestClient) -> None:
    order = create(client).json()
    paid = pay(client, order["order_no"])
    resp = client.post(f"/api/v1/orders/{order['order_no']}/cancel")
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "order_already_paid"
    assert error["order"] == paid
    assert error["order"]["status"] == "paid" and error["order"]["new_balance_fen"] == 4210 + 10000


def test_cancel_errors(client: TestClient) -> None:
    resp = client.post("/api/v1/orders/ABCDEFGHJKMNPQRS/cancel")
    assert (resp.status_code, resp.json()["error"]["code"]) == (404, "unknown_order")
    resp = client.post("/api/v1/orders/not-an-order/cancel")
    assert (resp.status_code, resp.json()["error"]["code"]) == (422, "invalid_request")


def _run_concurrently(count: int, action: Callable[[], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(count)
    results: list[httpx.Response | BaseException] = [RuntimeError("not run")] * count

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = action()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return [r for r in results if isinstance(r, httpx.Response)]


def test_concurrent_creates_with_one_key_make_one_order(live_server: HqServer) -> None:
    key = new_key()
    url = f"{live_server.base_url}/api/v1/orders"

    def post() -> httpx.Response:
        return httpx.post(url, json=ORDER_BODY, headers={"Idempotency-Key": key}, timeout=30)

    responses = _run_concurrently(8, post)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["order_no"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert live_server.app is not None
    with hq_context(live_server.app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.idempotency_key == key)) == 1
        assert session.get(IdempotencyRecord, key) is not None


def test_concurrent_pays_credit_once(live_server: HqServer) -> None:
    base = live_server.base_url
    order = httpx.post(
        f"{base}/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()}, timeout=10
    ).json()

    def post() -> httpx.Response:
        return httpx.post(f"{order['pay_url']}/pay", headers={"Accept": "application/json"}, timeout=30)

    responses = _run_concurrently(8, post)
    assert {r.json()["status"] for r in responses} == {"paid"}
    assert {r.json()["new_balance_fen"] for r in responses} == {4210 + 10000}
    overview = httpx.get(f"{base}/api/v1/houses/h_3_2_501/overview", timeout=10).json()
    assert overview["meters"][0]["balance_fen"] == 4210 + 10000
    assert overview["last_recharge"]["amount_fen"] == 10000
    assert overview["last_recharge"]["at"] == responses[0].json()["paid_at"]


def test_concurrent_pay_and_cancel_one_wins(live_server: HqServer) -> None:
    base = live_server.base_url
    order = httpx.post(
        f"{base}/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()}, timeout=10
    ).json()
    actions = [
        lambda: httpx.post(f"{order['pay_url']}/pay", headers={"Accept": "application/json"}, timeout=30),
        lambda: httpx.post(f"{base}/api/v1/orders/{order['order_no']}/cancel", timeout=30),
    ] * 3
    responses = _run_concurrently(len(actions), lambda: actions.pop()())
    final = httpx.get(f"{base}/api/v1/orders/{order['order_no']}", timeout=10).json()
    balance_now = httpx.get(f"{base}/api/v1/houses/h_3_2_501/overview", timeout=10).json()["meters"][0][
        "balance_fen"
    ]
    if final["status"] == "paid":
        assert balance_now == 4210 + 10000
        assert all(r.status_code in (200, 409) for r in responses)
    else:
        assert final["status"] == "cancelled"
        assert balance_now == 4210
        assert all(r.status_code == 200 for r in responses)
