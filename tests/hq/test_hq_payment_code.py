"""POST /api/v1/orders/{order_no}/payment-code: the sandbox wallets, idempotency, wrong states, credited once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hq_helpers import ORDER_BODY, FakeClock, new_key
from sqlalchemy import text

from hq.context import hq_context
from hq.payment_codes import SAMPLE_CODES, Behaviour, sandbox_behaviour, wallet_of
from hq.server import HqServer

PAYS = "134567890123456781"  # WeChat Pay, last digit 1: paid at once
CONFIRM_PAY = "286543210987654328"  # Alipay, 8: the payer confirms (by itself after the delay)
CONFIRM_DECLINE = "2543210987654327"  # Alipay, 16 digits, 7: the payer declines after the delay
DECLINES = "101234567890123459"  # WeChat Pay, 9: declined at once
JSON = {"Accept": "application/json"}
START_BALANCE = 4210  # the seeded lighting meter of 3-2-501


def new_order(client: TestClient, **changes: object) -> dict[str, Any]:
    resp = client.post("/api/v1/orders", json={**ORDER_BODY, **changes}, headers={"Idempotency-Key": new_key()})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def submit(client: TestClient, order_no: str, code: str, key: str | None = None) -> httpx.Response:
    return client.post(
        f"/api/v1/orders/{order_no}/payment-code", json={"payment_code": code},
        headers={"Idempotency-Key": key or new_key()},
    )


def balance(client: TestClient) -> int:
    return client.get("/api/v1/houses/h_3_2_501/overview").json()["meters"][0]["balance_fen"]  # type: ignore[no-any-return]


def status(client: TestClient, order_no: str) -> dict[str, Any]:
    return client.get(f"/api/v1/orders/{order_no}").json()  # type: ignore[no-any-return]


def error(resp: httpx.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["error"]["code"]


def test_the_sandbox_rule_and_samples() -> None:
    assert [sandbox_behaviour(c) for c in (PAYS, CONFIRM_DECLINE, CONFIRM_PAY, DECLINES)] == [
        Behaviour.PAY, Behaviour.CONFIRM_THEN_DECLINE, Behaviour.CONFIRM_THEN_PAY, Behaviour.DECLINE]
    assert [sandbox_behaviour(c) for c in SAMPLE_CODES.values()] == [
        Behaviour.PAY, Behaviour.CONFIRM_THEN_PAY, Behaviour.DECLINE]
    assert all(wallet_of(c) for c in SAMPLE_CODES.values())
    assert (wallet_of(PAYS), wallet_of(CONFIRM_DECLINE)) == ("wechat_pay", "alipay")
    for bad in ("13456789012345678", "164567890123456781", "2465432109876543", "3165432109876543",
                "2" + "5" * 24, "１３４５６７８９０１２３４５６７８１", "13456789012345678a"):
        assert wallet_of(bad) is None, bad


def test_paid_at_once_credits_the_meter(client: TestClient, clock: FakeClock) -> None:
    order = new_order(client)
    clock.advance(seconds=30)
    resp = submit(client, order["order_no"], PAYS)
    assert resp.status_code == 200, resp.text
    paid = resp.json()
    assert paid["status"] == "paid" and paid["paid_at"] == "2026-11-22T03:00:30+00:00"
    assert paid["new_balance_fen"] == START_BALANCE + 10000 == balance(client)
    assert status(client, order["order_no"]) == paid
    last = client.get("/api/v1/houses/h_3_2_501/overview").json()["last_recharge"]
    assert last["method"] == "wechat_pay" and last["at"] == paid["paid_at"]


def test_declined_at_once_charges_nothing(client: TestClient) -> None:
    order = new_order(client)
    resp = submit(client, order["order_no"], DECLINES)
    assert resp.status_code == 200 and resp.json()["status"] == "declined"
    assert resp.json()["paid_at"] is None and resp.json()["new_balance_fen"] is None
    assert balance(client) == START_BALANCE
    page = client.get(f"/sandbox/checkout/{order['order_no']}").text
    assert "确认支付" not in page  # nothing left to pay


def test_waiting_for_the_payer_then_confirmed_on_the_checkout_page(client: TestClient) -> None:
    order = new_order(client)
    key = new_key()
    waiting = submit(client, order["order_no"], CONFIRM_PAY, key)
    assert waiting.status_code == 200 and waiting.json()["status"] == "confirming"
    assert status(client, order["order_no"])["status"] == "confirming"
    assert balance(client) == START_BALANCE
    page = client.get(f"/sandbox/checkout/{order['order_no']}").text
    assert "待付款人确认" in page and "confirm the payment on your phone" in page and "确认支付" in page

    confirmed = client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON).json()
    assert confirmed["status"] == "paid" and confirmed["new_balance_fen"] == START_BALANCE + 10000
    assert client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON).json() == confirmed
    assert balance(client) == START_BALANCE + 10000  # credited once

    replay = submit(client, order["order_no"], CONFIRM_PAY, key)  # the first answer, as it was given
    assert replay.json() == waiting.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert balance(client) == START_BALANCE + 10000


def test_waiting_then_declined_on_the_checkout_page(client: TestClient) -> None:
    order = new_order(client)
    assert submit(client, order["order_no"], CONFIRM_PAY).json()["status"] == "confirming"
    declined = client.post(f"/sandbox/checkout/{order['order_no']}/decline", headers=JSON).json()
    assert declined["status"] == "declined"
    assert client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON).json()["status"] == "declined"
    assert balance(client) == START_BALANCE


@pytest.mark.parametrize(("code", "outcome"), [(CONFIRM_PAY, "paid"), (CONFIRM_DECLINE, "declined")])
def test_left_alone_the_wallet_decides_after_the_delay(
    client: TestClient, clock: FakeClock, code: str, outcome: str
) -> None:
    order = new_order(client)
    assert submit(client, order["order_no"], code).json()["status"] == "confirming"
    clock.advance(seconds=19)
    assert status(client, order["order_no"])["status"] == "confirming"
    clock.advance(seconds=5)
    decided = status(client, order["order_no"])
    assert decided["status"] == outcome
    if outcome == "paid":
        assert decided["paid_at"] == "2026-11-22T03:00:20+00:00"  # when it fell due, not when it was read
        assert decided["new_balance_fen"] == START_BALANCE + 10000
    for _ in range(3):  # read again and again: decided once, credited once
        assert status(client, order["order_no"]) == decided
    assert client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON).json()["status"] == outcome
    assert balance(client) == START_BALANCE + (10000 if outcome == "paid" else 0)


@pytest.mark.parametrize("button", ["pay", "decline"])
@pytest.mark.parametrize(("code", "outcome"), [(CONFIRM_PAY, "paid"), (CONFIRM_DECLINE, "declined")])
def test_a_button_pressed_after_the_delay_finds_the_wallet_decided(
    client: TestClient, clock: FakeClock, code: str, outcome: str, button: str
) -> None:
    """Nobody read the order after its confirmation fell due: the button press decides it as the code says, first,
    and then changes nothing."""
    order = new_order(client)
    assert submit(client, order["order_no"], code).json()["status"] == "confirming"
    clock.advance(seconds=21)
    pressed = client.post(f"/sandbox/checkout/{order['order_no']}/{button}", headers=JSON).json()
    assert pressed["status"] == outcome
    if outcome == "paid":
        assert pressed["paid_at"] == "2026-11-22T03:00:20+00:00"  # when it fell due, not when the button was pressed
        assert pressed["new_balance_fen"] == START_BALANCE + 10000
    assert balance(client) == START_BALANCE + (10000 if outcome == "paid" else 0)


def test_the_checkout_page_and_cancel_see_a_decision_that_fell_due(
    sqlite_client: TestClient, clock: FakeClock
) -> None:
    first, second = new_order(sqlite_client), new_order(sqlite_client)
    submit(sqlite_client, first["order_no"], CONFIRM_PAY)
    submit(sqlite_client, second["order_no"], CONFIRM_PAY)
    clock.advance(seconds=21)
    assert "已支付" in sqlite_client.get(f"/sandbox/checkout/{first['order_no']}").text
    cancel = sqlite_client.post(f"/api/v1/orders/{second['order_no']}/cancel")
    assert error(cancel) == (409, "order_already_paid")  # the payer confirmed before the cancel: payment stands
    assert balance(sqlite_client) == START_BALANCE + 20000


def test_the_confirmation_delay_is_configurable_and_outlives_the_order_ttl(
    sqlite_url: str, make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    client = make_client(sqlite_url, confirm_delay=timedelta(minutes=30))
    order = new_order(client)
    submit(client, order["order_no"], CONFIRM_PAY)
    clock.advance(minutes=11)  # past expires_at: an order being confirmed does not expire
    assert status(client, order["order_no"])["status"] == "confirming"
    cancelled = client.post(f"/api/v1/orders/{order['order_no']}/cancel").json()  # the wallet's reversal
    assert cancelled["status"] == "cancelled"
    clock.advance(minutes=30)
    assert status(client, order["order_no"])["status"] == "cancelled"
    assert balance(client) == START_BALANCE


def test_key_reused_with_another_code_or_order_is_refused(client: TestClient) -> None:
    order, other = new_order(client), new_order(client)
    key = new_key()
    assert submit(client, order["order_no"], PAYS, key).status_code == 200
    assert error(submit(client, order["order_no"], "134567890123456782", key)) == (422, "idempotency_key_reused")
    assert error(submit(client, other["order_no"], PAYS, key)) == (422, "idempotency_key_reused")
    assert status(client, other["order_no"])["status"] == "awaiting_payment"
    create_key = new_key()
    client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": create_key})
    assert error(submit(client, other["order_no"], PAYS, create_key)) == (422, "idempotency_key_reused")
    assert balance(client) == START_BALANCE + 10000


def test_replay_of_a_paid_answer_charges_nothing_more(client: TestClient) -> None:
    order = new_order(client)
    key = new_key()
    first = submit(client, order["order_no"], PAYS, key)
    again = [submit(client, order["order_no"], PAYS, key) for _ in range(3)]
    assert all(r.json() == first.json() and r.headers["Idempotent-Replayed"] == "true" for r in again)
    assert balance(client) == START_BALANCE + 10000


def test_orders_not_awaiting_payment_take_no_code(client: TestClient, clock: FakeClock) -> None:
    paid_by_qr = new_order(client)
    client.post(f"/sandbox/checkout/{paid_by_qr['order_no']}/pay", headers=JSON)
    resp = submit(client, paid_by_qr["order_no"], PAYS)
    assert error(resp) == (409, "order_not_awaiting_payment")
    assert resp.json()["error"]["order"]["status"] == "paid"

    confirming = new_order(client)
    submit(client, confirming["order_no"], CONFIRM_PAY)
    second = submit(client, confirming["order_no"], PAYS)  # a second code while the first is confirmed
    assert error(second) == (409, "order_not_awaiting_payment")
    assert second.json()["error"]["order"]["status"] == "confirming"

    cancelled = new_order(client)
    client.post(f"/api/v1/orders/{cancelled['order_no']}/cancel")
    assert error(submit(client, cancelled["order_no"], PAYS)) == (409, "order_not_awaiting_payment")

    expired = new_order(client)
    clock.advance(minutes=11)
    resp = submit(client, expired["order_no"], PAYS)
    assert error(resp) == (409, "order_not_awaiting_payment")
    assert resp.json()["error"]["order"]["status"] == "expired"
    assert balance(client) == START_BALANCE + 10000  # only the QR payment


def test_a_refusal_is_the_stored_first_answer(client: TestClient) -> None:
    order = new_order(client)
    key = new_key()
    client.post(f"/api/v1/orders/{order['order_no']}/cancel")
    first = submit(client, order["order_no"], PAYS, key)
    again = submit(client, order["order_no"], PAYS, key)
    assert error(again) == (409, "order_not_awaiting_payment") and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_bad_requests(client: TestClient) -> None:
    order = new_order(client)
    assert error(submit(client, "E7KQ2M4X9ZP3R8TW", PAYS)) == (404, "unknown_order")
    for bad in ("13456789012345678", "164567890123456781", "2965432109876543210987654", "13456789012345678x"):
        assert error(submit(client, order["order_no"], bad)) == (422, "invalid_payment_code"), bad
    assert error(submit(client, order["order_no"], "1" * 33)) == (422, "invalid_request")
    assert error(submit(client, "not-an-order", PAYS)) == (422, "invalid_request")
    for body in ({}, {"payment_code": 134567890123456781}, {"payment_code": PAYS, "extra": 1}):
        resp = client.post(f"/api/v1/orders/{order['order_no']}/payment-code", json=body,
                           headers={"Idempotency-Key": new_key()})
        assert error(resp) == (422, "invalid_request"), body
    for headers in ({}, {"Idempotency-Key": "short"}):
        resp = client.post(f"/api/v1/orders/{order['order_no']}/payment-code", json={"payment_code": PAYS},
                           headers=headers)
        assert error(resp) == (400, "idempotency_key_missing")
    assert status(client, order["order_no"])["status"] == "awaiting_payment"  # nothing above touched it


def test_hq_keeps_only_the_last_four_digits(sqlite_client: TestClient, sqlite_url: str) -> None:
    order = new_order(sqlite_client)
    key = new_key()
    submit(sqlite_client, order["order_no"], CONFIRM_PAY, key)
    app = sqlite_client.app
    with hq_context(app).engine.connect() as conn:  # type: ignore[arg-type]
        row = conn.execute(text("SELECT wallet, code_last4, behaviour, idempotency_key FROM payment_code")).one()
        assert tuple(row) == ("alipay", "4328", "confirm_then_pay", key)
        for table in ("orders", "payment_code", "idempotency_record"):
            for values in conn.execute(text(f"SELECT * FROM {table}")):
                assert all(CONFIRM_PAY not in str(v) for v in values), table


def test_openapi_documents_the_endpoint(sqlite_client: TestClient) -> None:
    doc = sqlite_client.get("/openapi.json").json()
    post = doc["paths"]["/api/v1/orders/{order_no}/payment-code"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    assert {"200", "400", "404", "409", "422"} <= set(post["responses"])
    schemas = doc["components"]["schemas"]
    assert set(schemas["PaymentCodeIn"]["properties"]) == {"payment_code"}
    assert "confirming" in schemas["OrderOut"]["properties"]["status"]["enum"]


def _run_concurrently(actions: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(actions))
    results: list[httpx.Response | BaseException] = [RuntimeError("not run")] * len(actions)

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = actions[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return [r for r in results if isinstance(r, httpx.Response)]


def test_concurrent_codes_qr_payment_and_cancel_credit_once(live_server: HqServer) -> None:
    base = live_server.base_url
    order = httpx.post(f"{base}/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()},
                       timeout=10).json()
    url = f"{base}/api/v1/orders/{order['order_no']}/payment-code"
    same_key = new_key()

    def code(value: str, key: str | None = None) -> Callable[[], httpx.Response]:
        return lambda: httpx.post(url, json={"payment_code": value}, headers={"Idempotency-Key": key or new_key()},
                                  timeout=30)

    actions = [
        code(PAYS), code("134567890123456782"), code(PAYS, same_key), code(PAYS, same_key),
        lambda: httpx.post(f"{order['pay_url']}/pay", headers=JSON, timeout=30),
        lambda: httpx.post(f"{base}/api/v1/orders/{order['order_no']}/cancel", timeout=30),
    ]
    responses = _run_concurrently(actions)
    final = httpx.get(f"{base}/api/v1/orders/{order['order_no']}", timeout=10).json()
    meter = httpx.get(f"{base}/api/v1/houses/h_3_2_501/overview", timeout=10).json()["meters"][0]
    assert final["status"] in ("paid", "cancelled")
    assert meter["balance_fen"] == START_BALANCE + (10000 if final["status"] == "paid" else 0)
    code_answers = [r for r in responses[:4]]
    accepted = [r for r in code_answers if r.status_code == 200 and r.headers.get("Idempotent-Replayed") != "true"]
    assert len(accepted) <= 1  # at most one code took the order
    assert all(r.status_code in (200, 409) for r in code_answers)
    assert responses[2].json() == responses[3].json()  # one key, one answer


def test_the_cli_refuses_a_confirmation_delay_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    from hq.cli import main

    assert main(["serve", "--confirm-delay", "0"]) == 2
    assert "--confirm-delay must be positive" in capsys.readouterr().err
