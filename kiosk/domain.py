"""The house-centric chain the resident sees: a house, its meters and accounts, and orders.

Parsed from HQ's JSON (docs/api.md) into frozen dataclasses; a reply of the wrong shape raises
`ProtocolError` instead of reaching a screen half-read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from kiosk.clock import parse_utc


class ProtocolError(ValueError):
    """HQ answered with something that is not what docs/api.md promises."""


@dataclass(frozen=True)
class HouseRef:
    house_id: str
    community: str
    building: str
    unit: str
    room: str

    @property
    def number(self) -> str:
        """The house number as residents write it: building-unit-room."""
        return f"{self.building}-{self.unit}-{self.room}"


@dataclass(frozen=True)
class FoundHouse:
    """HQ's answer to identify: the house, and for a resident card the mode its holder last chose (or None)."""

    house: HouseRef
    preferred_mode: str | None = None  # "standard" or "elderly"


@dataclass(frozen=True)
class MonthUsage:
    month: str  # YYYY-MM
    kwh: float


@dataclass(frozen=True)
class Meter:
    meter_id: str
    use: str  # lighting, air_conditioning, public, ...
    number: str
    balance_fen: int
    price_fen_per_kwh: int
    month_to_date_kwh: float
    usage: tuple[MonthUsage, ...]


@dataclass(frozen=True)
class Account:
    account_id: str
    kind: str  # heating, property, water
    due_fen: int
    period: str
    due_date: date | None


@dataclass(frozen=True)
class LastRecharge:
    meter_id: str
    amount_fen: int
    method: str
    at: datetime


@dataclass(frozen=True)
class HouseOverview:
    house: HouseRef
    payee: str
    meters: tuple[Meter, ...]
    accounts: tuple[Account, ...]
    last_recharge: LastRecharge | None
    #: The amounts this house recharges most often, most used first (elderly mode offers only these).
    usual_amounts_fen: tuple[int, ...] = ()

    def meter(self, meter_id: str) -> Meter:
        for meter in self.meters:
            if meter.meter_id == meter_id:
                return meter
        raise KeyError(meter_id)


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMING = "confirming"  # a payment code was accepted; the payer confirms (or declines) on the phone
    PAID = "paid"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Order:
    order_no: str
    status: OrderStatus
    house_id: str
    meter_id: str
    amount_fen: int
    pay_url: str
    receipt_url: str
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    new_balance_fen: int | None


def _get(data: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ProtocolError(f"missing field {key!r}")
    value = data[key]
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise ProtocolError(f"field {key!r} has the wrong type: {value!r}")
    return value


def _time(data: Any, key: str) -> datetime:
    try:
        return parse_utc(_get(data, key, str))
    except ValueError as exc:
        raise ProtocolError(f"field {key!r}: {exc}") from exc


def _optional(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def parse_house(data: Any) -> HouseRef:
    return HouseRef(
        house_id=_get(data, "house_id", str),
        community=_get(data, "community", str),
        building=_get(data, "building", str),
        unit=_get(data, "unit", str),
        room=_get(data, "room", str),
    )


def parse_overview(data: Any) -> HouseOverview:
    meters = tuple(
        Meter(
            meter_id=_get(m, "meter_id", str),
            use=_get(m, "use", str),
            number=_get(m, "number", str),
            balance_fen=_get(m, "balance_fen", int),
            price_fen_per_kwh=_get(m, "price_fen_per_kwh", int),
            month_to_date_kwh=float(_get(m, "month_to_date_kwh", (int, float))),
            usage=tuple(
                MonthUsage(_get(u, "month", str), float(_get(u, "kwh", (int, float))))
                for u in _get(m, "usage", list)
            ),
        )
        for m in _get(data, "meters", list)
    )
    accounts = []
    for a in _get(data, "accounts", list):
        due = _optional(a, "due_date")
        try:
            due_date = date.fromisoformat(due) if isinstance(due, str) else None
        except ValueError as exc:
            raise ProtocolError(f"due_date: {exc}") from exc
        accounts.append(
            Account(
                account_id=_get(a, "account_id", str),
                kind=_get(a, "kind", str),
                due_fen=_get(a, "due_fen", int),
                period=_get(a, "period", str),
                due_date=due_date,
            )
        )
    last = _optional(data, "last_recharge")
    last_recharge = (
        LastRecharge(
            meter_id=_get(last, "meter_id", str),
            amount_fen=_get(last, "amount_fen", int),
            method=_get(last, "method", str),
            at=_time(last, "at"),
        )
        if last
        else None
    )
    if not meters:
        raise ProtocolError("a house without meters")
    usual = _optional(data, "usual_amounts_fen") or []  # absent from an older HQ
    if not isinstance(usual, list) or any(isinstance(a, bool) or not isinstance(a, int) for a in usual):
        raise ProtocolError("usual_amounts_fen must be a list of integers")
    return HouseOverview(
        house=parse_house(_get(data, "house", dict)),
        payee=_get(data, "payee", str),
        meters=meters,
        accounts=tuple(accounts),
        last_recharge=last_recharge,
        usual_amounts_fen=tuple(usual),
    )


def parse_found_house(data: Any) -> FoundHouse:
    mode = _optional(data, "preferred_mode")
    if mode not in (None, "standard", "elderly"):
        raise ProtocolError(f"unknown preferred_mode {mode!r}")
    return FoundHouse(parse_house(data), mode)


def parse_order(data: Any) -> Order:
    try:
        status = OrderStatus(_get(data, "status", str))
    except ValueError as exc:
        raise ProtocolError(f"unknown order status {data.get('status')!r}") from exc
    paid_at = _time(data, "paid_at") if _optional(data, "paid_at") else None
    balance = _optional(data, "new_balance_fen")
    if balance is not None and (isinstance(balance, bool) or not isinstance(balance, int)):
        raise ProtocolError("new_balance_fen must be an integer")
    return Order(
        order_no=_get(data, "order_no", str),
        status=status,
        house_id=_get(data, "house_id", str),
        meter_id=_get(data, "meter_id", str),
        amount_fen=_get(data, "amount_fen", int),
        pay_url=_get(data, "pay_url", str),
        receipt_url=_get(data, "receipt_url", str),
        created_at=_time(data, "created_at"),
        expires_at=_time(data, "expires_at"),
        paid_at=paid_at,
        new_balance_fen=balance,
    )
