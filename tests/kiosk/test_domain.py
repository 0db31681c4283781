"""HQ's answers are parsed into the domain, or refused as a protocol error."""

import copy
from typing import Any

import pytest

from kiosk.domain import OrderStatus, ProtocolError, parse_order, parse_overview

OVERVIEW: dict[str, Any] = {
    "house": {"house_id": "h1", "community": "阳光花园", "building": "3", "unit": "2", "room": "501"},
    "payee": "阳光花园物业服务中心",
    "meters": [
        {
            "meter_id": "m1",
            "use": "lighting",
            "number": "3205010001",
            "balance_fen": 4210,
            "price_fen_per_kwh": 52,
            "month_to_date_kwh": 61.5,
            "usage": [{"month": "2026-05", "kwh": 150}, {"month": "2026-06", "kwh": 171.0}],
        }
    ],
    "accounts": [
        {"account_id": "a1", "kind": "heating", "due_fen": 264000, "period": "2026", "due_date": "2026-12-31"}
    ],
    "last_recharge": {"meter_id": "m1", "amount_fen": 10000, "method": "qr", "at": "2026-10-02T08:11:00+00:00"},
}
ORDER: dict[str, Any] = {
    "order_no": "EO7KQ2M4X9ZP3R8T",
    "status": "paid",
    "house_id": "h1",
    "meter_id": "m1",
    "service": "electricity",
    "amount_fen": 10000,
    "created_at": "2026-11-22T03:00:00+00:00",
    "expires_at": "2026-11-22T03:10:00+00:00",
    "pay_url": "http://hq/sandbox/checkout/EO7KQ2M4X9ZP3R8T",
    "receipt_url": "http://hq/r/EO7KQ2M4X9ZP3R8T",
    "paid_at": "2026-11-22T03:01:00+00:00",
    "new_balance_fen": 14210,
}


def test_overview_parses() -> None:
    overview = parse_overview(OVERVIEW)
    assert overview.house.number == "3-2-501"
    assert overview.meters[0].usage[0].kwh == 150.0
    assert overview.accounts[0].due_fen == 264000
    assert overview.last_recharge is not None and overview.last_recharge.at.tzinfo is not None


def test_order_parses() -> None:
    order = parse_order(ORDER)
    assert order.status is OrderStatus.PAID and order.new_balance_fen == 14210


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["meters"][0].update(balance_fen=42.1),
        lambda d: d["meters"][0].update(balance_fen=True),
        lambda d: d.update(meters=[]),
        lambda d: d["house"].pop("room"),
        lambda d: d["last_recharge"].update(at="2026-10-02T08:11:00"),
        lambda d: d["accounts"][0].update(due_date="31/12/2026"),
        lambda d: d.update(house="h1"),
    ],
)
def test_wrong_shapes_are_protocol_errors(mutate: Any) -> None:
    data = copy.deepcopy(OVERVIEW)
    mutate(data)
    with pytest.raises(ProtocolError):
        parse_overview(data)


def test_wrong_order_status_is_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        parse_order({**ORDER, "status": "refunded"})
    with pytest.raises(ProtocolError):
        parse_order({**ORDER, "new_balance_fen": "lots"})
