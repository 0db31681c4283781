"""The order status as a long poll (GET /api/v1/orders/{order_no}?wait_s=...): answered at once when final, as
soon as the order changes, after wait_s unchanged; changes made elsewhere (another HQ process on the same
database, the order's expiry) are seen by the watch's periodic re-read."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hq_helpers import ORDER_BODY, FakeClock, new_key, until
from sqlalchemy import text

from hq.context import hq_context
from hq.db import create_engine_for
from hq.order_watch import RECHECK_S

JSON = {"Accept": "application/json"}


def create(client: TestClient) -> str:
    resp = client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["order_no"])


def waiting(client: TestClient) -> int:
    return hq_context(client.app).watch.waiting()  # type: ignore[arg-type]


def long_poll(pool: ThreadPoolExecutor, client: TestClient, order_no: str,
              wait_s: float) -> Future[tuple[httpx.Response, float]]:
    def call() -> tuple[httpx.Response, float]:
        start = time.monotonic()
        resp = client.get(f"/api/v1/orders/{order_no}", params={"wait_s": wait_s})
        return resp, time.monotonic() - start

    return pool.submit(call)


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def test_a_final_order_is_answered_at_once(client: TestClient) -> None:
    order_no = create(client)
    paid = client.post(f"/sandbox/checkout/{order_no}/pay", headers=JSON).json()
    start = time.monotonic()
    resp = client.get(f"/api/v1/orders/{order_no}", params={"wait_s": 25})
    assert time.monotonic() - start < 2.0
    assert resp.status_code == 200
    assert resp.json() == paid


def test_returns_as_soon_as_the_sandbox_pays(client: TestClient, pool: ThreadPoolExecutor) -> None:
    order_no = create(client)
    poll = long_poll(pool, client, order_no, 20)
    until(lambda: waiting(client) == 1)
    paid = client.post(f"/sandbox/checkout/{order_no}/pay", headers=JSON).json()
    resp, took = poll.result(timeout=10)
    assert resp.status_code == 200
    assert resp.json() == paid and paid["status"] == "paid"
    assert took < 5.0, f"the long poll took {took:.2f} s for a 20 s wait: not woken by the payment"
    assert waiting(client) == 0


@pytest.mark.parametrize("action, status", [("decline", "declined"), ("cancel", "cancelled")])
def test_returns_on_decline_and_cancel(
    client: TestClient, pool: ThreadPoolExecutor, action: str, status: str
) -> None:
    order_no = create(client)
    poll = long_poll(pool, client, order_no, 20)
    until(lambda: waiting(client) == 1)
    if action == "cancel":
        assert client.post(f"/api/v1/orders/{order_no}/cancel").status_code == 200
    else:
        client.post(f"/sandbox/checkout/{order_no}/decline", headers=JSON)
    resp, took = poll.result(timeout=10)
    assert resp.json()["status"] == status
    assert took < 5.0


def test_a_payment_code_and_its_confirmation_wake_it(client: TestClient, pool: ThreadPoolExecutor) -> None:
    order_no = create(client)
    poll = long_poll(pool, client, order_no, 20)
    until(lambda: waiting(client) == 1)
    code = client.post(f"/api/v1/orders/{order_no}/payment-code", json={"payment_code": "286543210987654328"},
                       headers={"Idempotency-Key": new_key()})
    assert code.json()["status"] == "confirming"
    resp, took = poll.result(timeout=10)
    assert resp.json()["status"] == "confirming" and took < 5.0
    poll = long_poll(pool, client, order_no, 20)  # now waiting on "confirming": the payer confirms on the phone
    until(lambda: waiting(client) == 1)
    client.post(f"/sandbox/checkout/{order_no}/pay", headers=JSON)
    resp, took = poll.result(timeout=10)
    assert resp.json()["status"] == "paid" and took < 5.0


def test_returns_the_unchanged_order_after_wait_s(client: TestClient) -> None:
    order_no = create(client)
    before = client.get(f"/api/v1/orders/{order_no}").json()
    start = time.monotonic()
    resp = client.get(f"/api/v1/orders/{order_no}", params={"wait_s": 1})
    took = time.monotonic() - start
    assert resp.status_code == 200
    assert resp.json() == before and before["status"] == "awaiting_payment"
    assert 0.9 <= took < 3.0
    assert waiting(client) == 0


def test_a_change_by_another_process_is_seen(
    client: TestClient, pool: ThreadPoolExecutor, db_url: str
) -> None:
    """Nothing in this process announces a change another HQ process made: the watch's re-read finds it."""
    order_no = create(client)
    poll = long_poll(pool, client, order_no, 20)
    until(lambda: waiting(client) == 1)
    other = create_engine_for(db_url)
    try:
        with other.begin() as conn:
            conn.execute(text("UPDATE orders SET status = 'cancelled' WHERE order_no = :no"), {"no": order_no})
    finally:
        other.dispose()
    resp, took = poll.result(timeout=10)
    assert resp.json()["status"] == "cancelled"
    assert took < RECHECK_S + 3.0


def test_expiry_ends_the_wait(client: TestClient, pool: ThreadPoolExecutor, clock: FakeClock) -> None:
    order_no = create(client)
    poll = long_poll(pool, client, order_no, 20)
    until(lambda: waiting(client) == 1)
    clock.advance(minutes=11)  # past the order's 10 minutes: it reads as expired, though no row changed
    resp, took = poll.result(timeout=10)
    assert resp.json()["status"] == "expired"
    assert took < RECHECK_S + 3.0


def test_waits_no_longer_than_the_order_lives(make_client: Callable[..., TestClient], sqlite_url: str) -> None:
    from datetime import timedelta

    client = make_client(sqlite_url, clock=None, order_ttl=timedelta(seconds=2))
    order_no = create(client)
    start = time.monotonic()
    resp = client.get(f"/api/v1/orders/{order_no}", params={"wait_s": 20})
    assert resp.json()["status"] == "expired"
    assert time.monotonic() - start < 5.0


@pytest.mark.parametrize("value", ["-1", "25.5", "26", "abc", "nan", "inf"])
def test_wait_s_out_of_range_is_refused(sqlite_client: TestClient, value: str) -> None:
    order_no = create(sqlite_client)
    resp = sqlite_client.get(f"/api/v1/orders/{order_no}", params={"wait_s": value})
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "invalid_request"
    assert "wait_s" in error["message"]


def test_an_unknown_order_is_404_at_once(sqlite_client: TestClient) -> None:
    resp = sqlite_client.get("/api/v1/orders/ABCDEFGHJKMNPQRS", params={"wait_s": 25})
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "unknown_order"


def test_the_openapi_document_describes_wait_s(sqlite_client: TestClient) -> None:
    operation = sqlite_client.get("/openapi.json").json()["paths"]["/api/v1/orders/{order_no}"]["get"]
    (param,) = [p for p in operation["parameters"] if p["name"] == "wait_s"]
    assert param["in"] == "query" and not param.get("required", False)
    assert param["schema"]["minimum"] == 0 and param["schema"]["maximum"] == 25
    assert "Long poll" in param["description"]


def test_a_status_other_than_the_one_seen_answers_at_once(sqlite_client: TestClient) -> None:
    """A change between the client's last look and its request is not missed: seen_status says what it last saw."""
    order_no = create(sqlite_client)
    start = time.monotonic()
    resp = sqlite_client.get(f"/api/v1/orders/{order_no}", params={"wait_s": 20, "seen_status": "confirming"})
    assert time.monotonic() - start < 2.0
    assert resp.json()["status"] == "awaiting_payment"


def test_seen_status_must_be_a_status(sqlite_client: TestClient) -> None:
    order_no = create(sqlite_client)
    resp = sqlite_client.get(f"/api/v1/orders/{order_no}", params={"wait_s": 1, "seen_status": "pending"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid_request" and "seen_status" in resp.json()["error"]["message"]


def test_the_query_is_signed(make_client: Callable[..., TestClient], sqlite_url: str, clock: FakeClock) -> None:
    """The signature covers the path with its query: wait_s cannot be changed on the way."""
    from fleet_helpers import SignedClient, register_terminal, signed_headers

    client = make_client(sqlite_url, require_signatures=True)
    terminal = SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)
    created = terminal.request("POST", "/api/v1/orders", ORDER_BODY, headers={"Idempotency-Key": new_key()})
    order_no = created.json()["order_no"]
    path = f"/api/v1/orders/{order_no}?wait_s=1&seen_status=awaiting_payment"
    resp = terminal.request("GET", path)
    assert resp.status_code == 200 and resp.json()["status"] == "awaiting_payment"
    headers = signed_headers("T-0001", terminal.secret, "GET", path, at=clock())
    tampered = client.get(f"/api/v1/orders/{order_no}?wait_s=25&seen_status=awaiting_payment", headers=headers)
    assert tampered.status_code == 401


def test_a_server_stopping_answers_the_waiting_polls(sqlite_url: str, pool: ThreadPoolExecutor) -> None:
    """A restart neither waits for the long polls nor cuts them off: they are answered at once."""
    import requests

    from hq.server import HqServer

    server = HqServer(sqlite_url, seed=False).start()
    try:
        created = requests.post(f"{server.base_url}/api/v1/orders", json=ORDER_BODY,
                                headers={"Idempotency-Key": new_key()}, timeout=5)
        order_no = created.json()["order_no"]
        poll = pool.submit(requests.get, f"{server.base_url}/api/v1/orders/{order_no}", params={"wait_s": 20},
                           timeout=30)
        assert server.app is not None
        watch = hq_context(server.app).watch
        until(lambda: watch.waiting(order_no) == 1)
        start = time.monotonic()
        server.stop()
        stopped_in = time.monotonic() - start
        answer = poll.result(timeout=10)
    finally:
        server.stop()
    assert answer.status_code == 200 and answer.json()["status"] == "awaiting_payment"
    assert stopped_in < 1.5, f"the stop took {stopped_in:.1f} s"
