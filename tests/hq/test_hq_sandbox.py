"""The payment sandbox: checkout page, pay (exactly once) and decline."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from hq_helpers import ORDER_BODY, FakeClock, new_key

from hq.seed import PAYEE

JSON = {"Accept": "application/json"}


def create(client: TestClient, **changes: object) -> dict[str, object]:
    resp = client.post("/api/v1/orders", json={**ORDER_BODY, **changes}, headers={"Idempotency-Key": new_key()})
    assert resp.status_code == 201, resp.text
    return resp.json()


def lighting_balance(client: TestClient) -> int:
    return client.get("/api/v1/houses/h_3_2_501/overview").json()["meters"][0]["balance_fen"]


def test_checkout_page(sqlite_client: TestClient) -> None:
    order = create(sqlite_client, amount_fen=10050)
    resp = sqlite_client.get(f"/sandbox/checkout/{order['order_no']}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    page = resp.text
    for text in ("¥100.50", PAYEE, "阳光花园", "3号楼2单元501室", "Building 3, Unit 2, Room 501", "3205010001",
                 "照明", str(order["order_no"]), "确认支付", "Pay", "拒绝支付", "Decline", 'name="viewport"',
                 f"/sandbox/checkout/{order['order_no']}/pay", "11:10:00 (UTC+8)"):
        assert text in page, text


def test_pay_credits_exactly_once(client: TestClient) -> None:
    order = create(client)
    before = lighting_balance(client)
    first = client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON)
    assert first.status_code == 200
    paid = first.json()
    assert paid["status"] == "paid"
    assert paid["paid_at"] == "2026-11-22T03:00:00+00:00"
    assert paid["new_balance_fen"] == before + 10000
    assert lighting_balance(client) == before + 10000
    again = client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON)
    assert again.json() == paid
    assert lighting_balance(client) == before + 10000
    status = client.get(f"/api/v1/orders/{order['order_no']}").json()
    assert status == paid
    last = client.get("/api/v1/houses/h_3_2_501/overview").json()["last_recharge"]
    assert last == {"meter_id": "m_3_2_501_l", "amount_fen": 10000, "method": "qr", "at": paid["paid_at"]}


def test_pay_ac_meter(client: TestClient) -> None:
    order = create(client, meter_id="m_3_2_501_ac", amount_fen=5000)
    meters = client.get("/api/v1/houses/h_3_2_501/overview").json()["meters"]
    ac_before, lighting_before = meters[1]["balance_fen"], meters[0]["balance_fen"]
    client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON)
    meters = client.get("/api/v1/houses/h_3_2_501/overview").json()["meters"]
    assert (meters[0]["balance_fen"], meters[1]["balance_fen"]) == (lighting_before, ac_before + 5000)


def test_pay_html_pages(sqlite_client: TestClient) -> None:
    order = create(sqlite_client)
    first = sqlite_client.post(f"/sandbox/checkout/{order['order_no']}/pay")
    assert first.status_code == 200 and "支付成功" in first.text and "Payment successful" in first.text
    assert "142.10" in first.text  # the new balance in yuan
    again = sqlite_client.post(f"/sandbox/checkout/{order['order_no']}/pay")
    assert "已支付" in again.text and "already paid" in again.text
    page = sqlite_client.get(f"/sandbox/checkout/{order['order_no']}").text
    assert "确认支付" not in page and "can no longer be paid" in page


def test_decline(client: TestClient) -> None:
    order = create(client)
    before = lighting_balance(client)
    declined = client.post(f"/sandbox/checkout/{order['order_no']}/decline", headers=JSON).json()
    assert declined["status"] == "declined" and declined["paid_at"] is None
    assert client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON).json()["status"] == "declined"
    assert lighting_balance(client) == before
    html = client.post(f"/sandbox/checkout/{order['order_no']}/decline").text
    assert "already declined" in html


def test_decline_after_pay_changes_nothing(sqlite_client: TestClient) -> None:
    order = create(sqlite_client)
    sqlite_client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers=JSON)
    after = sqlite_client.post(f"/sandbox/checkout/{order['order_no']}/decline", headers=JSON).json()
    assert after["status"] == "paid"


def test_pay_expired(sqlite_client: TestClient, clock: FakeClock) -> None:
    order = create(sqlite_client)
    before = lighting_balance(sqlite_client)
    clock.advance(minutes=11)
    html = sqlite_client.post(f"/sandbox/checkout/{order['order_no']}/pay").text
    assert "已过期" in html and "expired" in html
    assert lighting_balance(sqlite_client) == before


@pytest.mark.parametrize("order_no", ["ABCDEFGHJKMNPQRS", "nonsense", "x" * 300])
def test_unknown_order(sqlite_client: TestClient, order_no: str) -> None:
    assert sqlite_client.get(f"/sandbox/checkout/{order_no}").status_code == 404
    for action in ("pay", "decline"):
        resp = sqlite_client.post(f"/sandbox/checkout/{order_no}/{action}")
        assert resp.status_code == 404 and "Order not found" in resp.text
        resp = sqlite_client.post(f"/sandbox/checkout/{order_no}/{action}", headers=JSON)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "unknown_order"


def test_pay_through_the_real_server(live_server: object) -> None:
    from hq.server import HqServer

    assert isinstance(live_server, HqServer)
    order = httpx.post(
        f"{live_server.base_url}/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()}, timeout=10
    ).json()
    assert order["pay_url"].startswith(live_server.base_url)
    page = httpx.get(order["pay_url"], timeout=10)
    assert page.status_code == 200 and "¥100.00" in page.text
    resp = httpx.post(f"{order['pay_url']}/pay", timeout=10)
    assert resp.status_code == 200 and "支付成功" in resp.text
