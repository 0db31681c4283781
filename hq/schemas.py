"""Pydantic request and response models, so /openapi.json describes the API of docs/api.md exactly.

Requests are strict (no type coercion) and refuse unknown fields; any violation is ``422 invalid_request``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

from hq.clock import iso_utc

UtcTime = Annotated[
    datetime,
    PlainSerializer(iso_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-11-22T03:00:00+00:00"}),
]
"""An aware UTC time, serialised with an explicit ``+00:00`` offset."""

IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ORDER_NO_RE = re.compile(r"^[A-Z0-9]{16}$")
ID_PATTERN = r"^[a-z0-9_]{1,64}$"
IDEMPOTENCY_KEY_PATTERN = IDEMPOTENCY_KEY_RE.pattern
ORDER_NO_PATTERN = ORDER_NO_RE.pattern

# Each identify method and the exact form of its value; card, house and bill codes are matched uppercase.
IDENTIFY_VALUE_RES: dict[str, re.Pattern[str]] = {
    "card": re.compile(r"^[0-9A-Fa-f]{8,20}$"),
    "house_number": re.compile(r"^[0-9A-Za-z]{1,8}-[0-9A-Za-z]{1,8}-[0-9A-Za-z]{1,8}$"),
    "house_code": re.compile(r"^[0-9A-Za-z]{8,12}$"),
    "bill": re.compile(r"^[0-9A-Za-z]{6,32}$"),
}
IDENTIFY_VALUE_HELP = {
    "card": "a card id of 8 to 20 hex digits",
    "house_number": "a house number building-unit-room, e.g. 3-2-501",
    "house_code": "a house code of 8 to 12 letters and digits",
    "bill": "a bill number of 6 to 32 letters and digits",
}

MIN_AMOUNT_FEN = 100
MAX_AMOUNT_FEN = 500_000

_REQUEST_CONFIG = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=False)


class ErrorDetail(BaseModel):
    """The body of every error: a stable machine ``code`` and an English ``message`` for logs."""

    code: str = Field(examples=["unknown_house"])
    message: str = Field(examples=["No house 9-9-999 in this community."])
    order: OrderOut | None = Field(
        default=None,
        description="Only for 409 order_already_paid (so a raced payment is not lost) and 409 "
        "order_not_awaiting_payment: the order as it stands.",
    )


class ErrorOut(BaseModel):
    """``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorDetail


class HealthOut(BaseModel):
    """Answer of GET /api/v1/health."""

    status: Literal["ok"]
    time: UtcTime


class IdentifyIn(BaseModel):
    """How the resident identified their home, and the value read or typed."""

    model_config = _REQUEST_CONFIG

    method: Literal["card", "house_number", "house_code", "bill"]
    value: str = Field(min_length=1, max_length=32)

    @model_validator(mode="after")
    def _check_value(self) -> IdentifyIn:
        if not IDENTIFY_VALUE_RES[self.method].fullmatch(self.value):
            raise ValueError(f"value for method {self.method} must be {IDENTIFY_VALUE_HELP[self.method]}")
        return self


class HouseOut(BaseModel):
    """A house as the terminal shows it."""

    house_id: str = Field(examples=["h_3_2_501"])
    community: str = Field(examples=["阳光花园"])
    building: str = Field(examples=["3"])
    unit: str = Field(examples=["2"])
    room: str = Field(examples=["501"])


Mode = Literal["standard", "elderly"]


class IdentifyOut(HouseOut):
    """Answer of POST /api/v1/identify: the house, and for a card the mode its holder chose last."""

    preferred_mode: Mode | None = Field(
        default=None,
        description="Only for method card: the mode (elderly: 长辈版) the card's holder last chose on a terminal, "
        "which the terminal switches to; left out when none was chosen, and for the other methods.",
    )


class CardPreferenceIn(BaseModel):
    """Body of PUT /api/v1/card-preferences: remember the mode a card's holder chose (standard clears elderly)."""

    model_config = _REQUEST_CONFIG

    card_id: str = Field(pattern=IDENTIFY_VALUE_RES["card"].pattern, examples=["04A1B2C3D4"])
    mode: Mode


class CardPreferenceOut(BaseModel):
    """The preference as stored (the card id is not repeated)."""

    mode: Mode


class UsageMonthOut(BaseModel):
    """kWh used in one complete month."""

    month: str = Field(examples=["2026-05"], pattern=r"^\d{4}-\d{2}$")
    kwh: float


class MeterOut(BaseModel):
    """A meter with its balance and usage history."""

    meter_id: str
    use: str = Field(description="lighting, air_conditioning or public (more may come)")
    number: str
    balance_fen: int
    price_fen_per_kwh: int
    month_to_date_kwh: float
    usage: list[UsageMonthOut] = Field(description="The last complete months, oldest first (up to 6).")


class AccountOut(BaseModel):
    """A fee account and what is due on it (0 when nothing is due)."""

    account_id: str
    kind: Literal["heating", "property", "water"]
    due_fen: int
    period: str
    due_date: date


class LastRechargeOut(BaseModel):
    """The house's latest paid recharge."""

    meter_id: str
    amount_fen: int
    method: str
    at: UtcTime


class OverviewOut(BaseModel):
    """Everything the terminal shows for a house."""

    house: HouseOut
    payee: str
    meters: list[MeterOut]
    accounts: list[AccountOut]
    last_recharge: LastRechargeOut | None
    usual_amounts_fen: list[int] = Field(
        default_factory=list,
        description="The amounts of the house's recent paid recharges, most often used first (ties: most recent "
        "first), at most 4; empty for a house that never recharged.",
    )


class OrderIn(BaseModel):
    """Body of POST /api/v1/orders. ``amount_fen`` is checked by the handler (``amount_out_of_range``)."""

    model_config = _REQUEST_CONFIG

    terminal_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", examples=["T-0001"])
    house_id: str = Field(pattern=ID_PATTERN, examples=["h_3_2_501"])
    meter_id: str = Field(pattern=ID_PATTERN, examples=["m_3_2_501_l"])
    service: Literal["electricity"]
    amount_fen: int = Field(
        description=f"{MIN_AMOUNT_FEN} to {MAX_AMOUNT_FEN}, else 422 amount_out_of_range", examples=[10000]
    )


class PaymentCodeIn(BaseModel):
    """Body of POST /api/v1/orders/{order_no}/payment-code: the code the payer's wallet shows.

    WeChat Pay: 18 digits beginning with 10 to 15; Alipay: 16 to 24 digits beginning with 25 to 30; anything else
    answers ``422 invalid_payment_code``.
    """

    model_config = _REQUEST_CONFIG

    payment_code: str = Field(min_length=1, max_length=32, examples=["134567890123456781"])


OrderStatus = Literal["awaiting_payment", "confirming", "paid", "declined", "expired", "cancelled"]


class OrderOut(BaseModel):
    """An order as the API returns it."""

    order_no: str = Field(examples=["E7KQ2M4X9ZP3R8TW"])
    status: OrderStatus = Field(
        description="confirming: a payment code was accepted and the payer is asked to confirm on the phone"
    )
    house_id: str
    meter_id: str
    service: str
    amount_fen: int
    created_at: UtcTime
    expires_at: UtcTime
    pay_url: str
    receipt_url: str
    paid_at: UtcTime | None
    new_balance_fen: int | None


ErrorDetail.model_rebuild()
