"""ORM tables. Money is integer fen; times are aware UTC (:class:`hq.db.UtcDateTime`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hq.db import UtcDateTime

# Order states as stored; "expired" is also derived on read for an order past expires_at (hq.orders).
AWAITING_PAYMENT = "awaiting_payment"
CONFIRMING = "confirming"  # a payment code was accepted; the payer confirms (or declines) on the phone
PAID = "paid"
DECLINED = "declined"
EXPIRED = "expired"
CANCELLED = "cancelled"
ORDER_STATUSES = (AWAITING_PAYMENT, CONFIRMING, PAID, DECLINED, EXPIRED, CANCELLED)


class Base(DeclarativeBase):
    """Declarative base of every HQ table."""


class Community(Base):
    """A residential community; ``payee`` is the merchant name shown when paying."""

    __tablename__ = "community"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    payee: Mapped[str] = mapped_column(String(64))

    houses: Mapped[list[House]] = relationship(back_populates="community")


class House(Base):
    """A home (building-unit-room) and the code printed in its door QR (``CPK:H:<code>``)."""

    __tablename__ = "house"
    __table_args__ = (UniqueConstraint("community_id", "building", "unit", "room"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("community.id"))
    building: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(8))
    room: Mapped[str] = mapped_column(String(8))
    house_code: Mapped[str] = mapped_column(String(12), unique=True)
    area_m2: Mapped[int] = mapped_column(Integer)

    community: Mapped[Community] = relationship(back_populates="houses")
    residents: Mapped[list[Resident]] = relationship(back_populates="house")
    meters: Mapped[list[Meter]] = relationship(back_populates="house", order_by="Meter.id")
    accounts: Mapped[list[Account]] = relationship(back_populates="house", order_by="Account.id")

    @property
    def number(self) -> str:
        """The house number as typed on the terminal, e.g. ``3-2-501``."""
        return f"{self.building}-{self.unit}-{self.room}"


class Resident(Base):
    """A resident and the id of their IC card (uppercase hex)."""

    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    house_id: Mapped[str] = mapped_column(ForeignKey("house.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(32))
    card_id: Mapped[str] = mapped_column(String(20), unique=True)

    house: Mapped[House] = relationship(back_populates="residents")


class CardPreference(Base):
    """What a card's holder chose on a terminal: ``mode`` standard or elderly (长辈版), shown again at their next visit.

    A table of its own rather than a column of ``resident``: ``create_all`` adds it to an existing database.
    """

    __tablename__ = "card_preference"

    card_id: Mapped[str] = mapped_column(String(20), primary_key=True)  # uppercase hex, as in ``resident``
    mode: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    terminal_id: Mapped[str | None] = mapped_column(String(32))  # the terminal it was chosen on (signed requests)


class Meter(Base):
    """A prepaid electricity meter of a house; ``use`` is lighting, air_conditioning or public."""

    __tablename__ = "meter"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    house_id: Mapped[str] = mapped_column(ForeignKey("house.id"), index=True)
    use: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(20), unique=True)
    balance_fen: Mapped[int] = mapped_column(Integer)
    price_fen_per_kwh: Mapped[int] = mapped_column(Integer)

    house: Mapped[House] = relationship(back_populates="meters")


class MonthlyUsage(Base):
    """kWh used by a meter in a month (``YYYY-MM``); the current month's row is the month to date."""

    __tablename__ = "monthly_usage"
    __table_args__ = (UniqueConstraint("meter_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meter_id: Mapped[str] = mapped_column(ForeignKey("meter.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    kwh: Mapped[float] = mapped_column(Float)

    meter: Mapped[Meter] = relationship()


class Account(Base):
    """A fee account of a house (heating, property, water) and what is due on it."""

    __tablename__ = "account"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    house_id: Mapped[str] = mapped_column(ForeignKey("house.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_fen: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)

    house: Mapped[House] = relationship(back_populates="accounts")
    bills: Mapped[list[Bill]] = relationship(back_populates="account")


class Bill(Base):
    """A bill issued on an account; its number is printed in the bill QR (``CPK:B:<bill_no>``)."""

    __tablename__ = "bill"

    bill_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())

    account: Mapped[Account] = relationship(back_populates="bills")


class Order(Base):
    """A recharge order. ``status`` is stored as last written; see hq.orders for the derived ``expired``."""

    __tablename__ = "orders"

    order_no: Mapped[str] = mapped_column(String(16), primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    house_id: Mapped[str] = mapped_column(ForeignKey("house.id"), index=True)
    meter_id: Mapped[str] = mapped_column(ForeignKey("meter.id"))
    service: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16), default="qr")  # qr, or the wallet of a payment code
    status: Mapped[str] = mapped_column(String(20), default=AWAITING_PAYMENT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    new_balance_fen: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    house: Mapped[House] = relationship()
    meter: Mapped[Meter] = relationship()


class IdempotencyRecord(Base):
    """The first answer given to an ``Idempotency-Key`` (POST /api/v1/orders, POST .../payment-code), replayed."""

    __tablename__ = "idempotency_record"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    order_no: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PaymentCode(Base):
    """The payment code an order was paid with (at most one per order). Only its last four digits are kept.

    A new table rather than new columns on ``orders``: ``create_all`` adds it to an existing database.
    """

    __tablename__ = "payment_code"

    order_no: Mapped[str] = mapped_column(ForeignKey("orders.order_no"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    wallet: Mapped[str] = mapped_column(String(16))
    code_last4: Mapped[str] = mapped_column(String(4))
    behaviour: Mapped[str] = mapped_column(String(24))  # hq.payment_codes.Behaviour
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirm_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
