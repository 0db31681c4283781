"""GET /r/{order_no}: the electronic receipt."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hq_helpers import ORDER_BODY, new_key


def test_receipt_of_a_paid_order(sqlite_client: TestClient) -> None:
    order = sqlite_client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()}).json()
    sqlite_client.post(f"/sandbox/checkout/{order['order_no']}/pay", headers={"Accept": "application/json"})
    resp = sqlite_client.get(f"/r/{order['order_no']}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    for text in (order["order_no"], "阳光花园", "3号楼2单元501室", "3205010001", "¥100.00", "¥142.10",
                 "2026-11-22 11:00:00 (UTC+8)", "China Standard Time", "电子回单"):
        assert text in resp.text, text
    assert "not a proof of payment" not in resp.text


def test_receipt_of_an_unpaid_order(sqlite_client: TestClient) -> None:
    order = sqlite_client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()}).json()
    resp = sqlite_client.get(order["receipt_url"].removeprefix("http://hq.test"))
    assert resp.status_code == 200
    assert "not a proof of payment" in resp.text and "待支付" in resp.text


def test_receipt_of_a_seeded_recharge(sqlite_client: TestClient) -> None:
    from sqlalchemy import select

    from hq.context import hq_context
    from hq.models import Order

    with hq_context(sqlite_client.app).sessions() as session:  # type: ignore[arg-type]
        order_no = session.scalars(select(Order.order_no).where(Order.house_id == "h_3_2_501")).one()
    resp = sqlite_client.get(f"/r/{order_no}")
    assert resp.status_code == 200 and "¥100.00" in resp.text and "2026-10-02 16:11:00 (UTC+8)" in resp.text


def test_receipt_unknown(sqlite_client: TestClient) -> None:
    for order_no in ("ABCDEFGHJKMNPQRS", "abc", "<script>"):
        resp = sqlite_client.get(f"/r/{order_no}")
        assert resp.status_code == 404
        assert "Order not found" in resp.text and "<script>" not in resp.text
