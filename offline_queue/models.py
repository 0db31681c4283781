"""ORM tables of the transaction store. Only store.py uses them; callers get frozen dataclasses.

The schema itself is created and changed by the Alembic revisions in ``migrations/versions``; these
classes must match them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from offline_queue.states import TxState


class ReceiptStatus(StrEnum):
    """Whether the paper receipt of a transaction was printed."""

    NONE = "none"
    PRINTED = "printed"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """The messages written for HQ.

    `create_order` and `payment_code` are sent by the journey while the resident waits, each once; `settle` is the
    outbox worker's: ask HQ what became of the order (by idempotency key), cancel it if it still awaits a payment
    nobody will make, and record the answer. Settling never repeats a request blindly, so it is safe after any
    crash or lost answer.

    A `payment_code` message records the submission (its own idempotency key, the wallet, the code's last four
    digits); the code itself is a one-minute bearer credential and is never written down, so it cannot be sent
    again: a submission whose answer was lost is settled by asking.
    """

    CREATE_ORDER = "create_order"
    PAYMENT_CODE = "payment_code"
    SETTLE = "settle"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as fixed-width ISO 8601 UTC text, so text order is time order."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times only")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


# Named constraints let later batch migrations drop or change them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class TransactionRow(Base):
    """One order from the terminal: the latest state and what HQ told us about it."""

    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint(_in("state", TxState), name="state_known"),
        CheckConstraint(_in("receipt_status", ReceiptStatus), name="receipt_status_known"),
        Index(None, "state"),
        Index(None, "house_id", "created_at"),
        Index(None, "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    terminal_id: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(Text)
    house_id: Mapped[str] = mapped_column(Text)
    house_label: Mapped[str] = mapped_column(Text)
    meter_id: Mapped[str] = mapped_column(Text)
    meter_label: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    order_no: Mapped[str | None] = mapped_column(Text)
    pay_url: Mapped[str | None] = mapped_column(Text)
    receipt_url: Mapped[str | None] = mapped_column(Text)
    new_balance_fen: Mapped[int | None] = mapped_column(Integer)
    receipt_status: Mapped[str] = mapped_column(String(16), server_default=ReceiptStatus.NONE.value)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TransactionEventRow(Base):
    """One state change of a transaction (append-only)."""

    __tablename__ = "transaction_events"
    __table_args__ = (Index(None, "transaction_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(36), ForeignKey("transactions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)


class OutboxRow(Base):
    """A message to HQ, written in the same SQLite transaction as the state change that needs it."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(None, "sent_at", "id"),
        Index(None, "transaction_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(36), ForeignKey("transactions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
