"""The local transaction store: every order is written here before any network call, and never deleted.

One `TransactionStore` is shared by the GUI thread and the worker threads: it holds one Engine and opens
a short session per call, and hands out frozen dataclasses, never live ORM objects.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from offline_queue import db
from offline_queue.db import StoreError
from offline_queue.models import (
    OutboxKind,
    OutboxRow,
    ReceiptStatus,
    TransactionEventRow,
    TransactionRow,
)
from offline_queue.states import TERMINAL_STATES, TxState, check

Clock = Callable[[], datetime]


class RecordNotFound(LookupError):
    """No transaction (or outbox message) with that id."""


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A snapshot of one transaction, safe to hold on any thread."""

    id: str
    idempotency_key: str
    terminal_id: str
    service: str
    house_id: str
    house_label: str
    meter_id: str
    meter_label: str
    amount_fen: int
    state: TxState
    order_no: str | None
    pay_url: str | None
    receipt_url: str | None
    new_balance_fen: int | None
    receipt_status: ReceiptStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_terminal(self) -> bool:
        """True once the transaction can never change state again."""
        return self.state in TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """One entry of a transaction's state history (`from_state` is None for the creation)."""

    id: int
    transaction_id: str
    at: datetime
    from_state: TxState | None
    to_state: TxState
    reason: str | None
    detail_json: str | None

    @property
    def detail(self) -> dict[str, Any] | None:
        """The event's detail, decoded afresh on each access."""
        return None if self.detail_json is None else json.loads(self.detail_json)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message waiting for (or already sent to) HQ. `payload` is the exact request body to send."""

    id: int
    transaction_id: str
    idempotency_key: str
    kind: OutboxKind
    payload_json: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None

    @property
    def payload(self) -> dict[str, Any]:
        """The request body, decoded afresh on each access."""
        result: dict[str, Any] = json.loads(self.payload_json)
        return result


def _optional_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string or None, not {value!r}")
    return value


def _optional_int(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int or None, not {value!r}")
    return value


def _attempts(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, not {value!r}")
    return value


# The only columns `transition` may set, each with the check its value must pass.
_TRANSITION_FIELDS: dict[str, Callable[[str, object], object]] = {
    "order_no": _optional_text,
    "pay_url": _optional_text,
    "receipt_url": _optional_text,
    "new_balance_fen": _optional_int,
    "last_error": _optional_text,
    "attempts": _attempts,
}


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return value


def _positive_amount(value: object) -> int:
    # bool is an int subclass: True must not become a 1-fen order.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"amount_fen must be a positive int (fen), not {value!r}")
    return value


def _to_json(name: str, value: Mapping[str, Any]) -> str:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping, not {type(value).__name__}")
    try:
        return json.dumps(dict(value), ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not JSON-serialisable: {exc}") from exc


def new_idempotency_key() -> str:
    """An unguessable client-generated key: 32 characters of [A-Za-z0-9_-] (192 random bits)."""
    return secrets.token_urlsafe(24)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TransactionStore:
    """The durable journal of transactions, their state history and the outbox of messages to HQ.

    Thread-safe: any thread may call any method. Writes are serialised by SQLite (BEGIN IMMEDIATE).
    """

    def __init__(self, engine: Engine, path: Path, clock: Clock = _utc_now) -> None:
        """Use `TransactionStore.open(path)`; this takes an engine already made by `db.open_engine`."""
        self._engine = engine
        self._read_engine = db.read_only(engine)
        self._path = path
        self._clock = clock
        self._closed = False

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, clock: Clock | None = None) -> TransactionStore:
        """Open (creating if needed) the store at `path` and migrate its schema to the newest revision.

        Raises StoreError naming the file when it cannot be used.
        """
        db_path = Path(path)
        engine = db.open_engine(db_path)
        try:
            db.migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, db_path, clock or _utc_now)

    def close(self) -> None:
        """Close every pooled connection. The store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> TransactionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def engine(self) -> Engine:
        """The engine, for diagnostics (PRAGMA checks, maintenance menu); do not write through it."""
        return self._engine

    # -- writes ---------------------------------------------------------------------------------------

    def create(
        self,
        *,
        terminal_id: str,
        service: str,
        house_id: str,
        house_label: str,
        meter_id: str,
        meter_label: str,
        amount_fen: int,
    ) -> TransactionRecord:
        """Record a new order (state NEW) with a fresh idempotency key, its first event and a
        "create_order" outbox message, all in one transaction."""
        row = TransactionRow(
            id=str(uuid.uuid4()),
            idempotency_key=new_idempotency_key(),
            terminal_id=_text("terminal_id", terminal_id),
            service=_text("service", service),
            house_id=_text("house_id", house_id),
            house_label=_text("house_label", house_label),
            meter_id=_text("meter_id", meter_id),
            meter_label=_text("meter_label", meter_label),
            amount_fen=_positive_amount(amount_fen),
            state=TxState.NEW.value,
            receipt_status=ReceiptStatus.NONE.value,
            attempts=0,
        )
        # The exact body HQ gets under this key; a retry must send it unchanged.
        body = {
            "terminal_id": row.terminal_id,
            "house_id": row.house_id,
            "meter_id": row.meter_id,
            "service": row.service,
            "amount_fen": row.amount_fen,
        }
        with self._write() as session:
            now = self._now()
            row.created_at = row.updated_at = now
            session.add(row)
            # No ORM relationships, so the parent row must be flushed before rows that refer to it.
            session.flush()
            session.add(TransactionEventRow(transaction_id=row.id, at=now, from_state=None, to_state=TxState.NEW.value))
            session.add(self._outbox_row(row.id, OutboxKind.CREATE_ORDER, body, now))
            session.flush()
            return _record(row)

    def transition(
        self,
        tx_id: str,
        to_state: TxState,
        *,
        reason: str | None = None,
        detail: Mapping[str, Any] | None = None,
        outbox: tuple[OutboxKind | str, Mapping[str, Any]] | None = None,
        sent: Iterable[int] = (),
        **fields: Any,
    ) -> TransactionRecord:
        """Move a transaction to `to_state`: the one place where state changes.

        Checks `states.check` against the stored state, sets `fields` (order_no, pay_url, receipt_url,
        new_balance_fen, last_error, attempts), appends an event with `reason` and `detail`, and, with
        `outbox=(kind, payload)`, enqueues a message, and marks the outbox messages `sent` as delivered, all in
        one transaction. On any error nothing changes. An order_no, once set, cannot be replaced by another one
        (one transaction, one HQ order).
        """
        target = TxState(to_state)
        unknown = set(fields) - set(_TRANSITION_FIELDS)
        if unknown:
            raise TypeError(f"transition() cannot set {', '.join(sorted(unknown))}")
        values = {name: _TRANSITION_FIELDS[name](name, value) for name, value in fields.items()}
        reason = None if reason is None else _text("reason", reason)
        detail_json = None if detail is None else _to_json("detail", detail)
        message: tuple[OutboxKind, str] | None = None
        if outbox is not None:
            kind, payload = outbox
            message = (OutboxKind(kind), _to_json("outbox payload", payload))

        with self._write() as session:
            row = self._row(session, tx_id)
            current = TxState(row.state)
            check(current, target)
            new_order_no = values.get("order_no")
            if new_order_no is not None and row.order_no not in (None, new_order_no):
                raise ValueError(f"transaction {tx_id} already has order {row.order_no}; refusing {new_order_no}")
            now = self._now()
            for name, value in values.items():
                setattr(row, name, value)
            row.state = target.value
            row.updated_at = now
            session.add(
                TransactionEventRow(
                    transaction_id=row.id,
                    at=now,
                    from_state=current.value,
                    to_state=target.value,
                    reason=reason,
                    detail=detail_json,
                )
            )
            if message is not None:
                session.add(
                    OutboxRow(
                        transaction_id=row.id,
                        kind=message[0].value,
                        payload=message[1],
                        created_at=now,
                        attempts=0,
                    )
                )
            for outbox_id in sent:
                self._mark_sent(session, outbox_id, now, tx_id)
            session.flush()
            return _record(row)

    @staticmethod
    def _mark_sent(session: Session, outbox_id: int, now: datetime, tx_id: str | None = None) -> OutboxRow:
        row = session.get(OutboxRow, outbox_id)
        if row is None or (tx_id is not None and row.transaction_id != tx_id):
            raise RecordNotFound(f"no outbox message {outbox_id}" + (f" of {tx_id}" if tx_id else ""))
        if row.sent_at is None:
            row.sent_at = now
        return row

    def outbox_failed(self, outbox_id: int, *, error: str, next_attempt_at: datetime | None) -> OutboxMessage:
        """Count a failed delivery of a message: its attempts, the error, and when to try again."""
        error = _text("error", error)
        with self._write() as session:
            row = session.get(OutboxRow, outbox_id)
            if row is None:
                raise RecordNotFound(f"no outbox message {outbox_id}")
            row.attempts += 1
            row.last_error = error[:500]
            row.next_attempt_at = next_attempt_at
            session.flush()
            return self._message(session, row)

    def mark_outbox_sent(self, outbox_id: int) -> OutboxMessage:
        """Mark a message as delivered to HQ. Marking it again keeps the first time."""
        with self._write() as session:
            row = self._mark_sent(session, outbox_id, self._now())
            session.flush()
            return self._message(session, row)

    def set_receipt_status(self, tx_id: str, status: ReceiptStatus | str) -> TransactionRecord:
        """Record whether the paper receipt was printed ("none", "printed", "failed")."""
        receipt_status = ReceiptStatus(status)
        with self._write() as session:
            row = self._row(session, tx_id)
            row.receipt_status = receipt_status.value
            row.updated_at = self._now()
            session.flush()
            return _record(row)

    # -- reads ----------------------------------------------------------------------------------------

    def get(self, tx_id: str) -> TransactionRecord:
        """The transaction with this id; RecordNotFound if there is none."""
        with self._read() as session:
            return _record(self._row(session, tx_id))

    def get_by_key(self, idempotency_key: str) -> TransactionRecord | None:
        """The transaction with this idempotency key, or None."""
        with self._read() as session:
            row = session.scalar(select(TransactionRow).where(TransactionRow.idempotency_key == idempotency_key))
            return None if row is None else _record(row)

    def history(self, tx_id: str) -> list[TransactionEvent]:
        """Every state change of the transaction, oldest first; RecordNotFound for an unknown id."""
        with self._read() as session:
            self._row(session, tx_id)
            rows = session.scalars(
                select(TransactionEventRow)
                .where(TransactionEventRow.transaction_id == tx_id)
                .order_by(TransactionEventRow.id)
            )
            return [_event(r) for r in rows]

    def in_flight(self) -> list[TransactionRecord]:
        """Transactions not yet in a terminal state, oldest first."""
        with self._read() as session:
            rows = session.scalars(
                select(TransactionRow)
                .where(TransactionRow.state.not_in([s.value for s in TERMINAL_STATES]))
                .order_by(TransactionRow.created_at, TransactionRow.id)
            )
            return [_record(r) for r in rows]

    def last_for_house(self, house_id: str) -> TransactionRecord | None:
        """The house's most recently created transaction (any state), or None."""
        with self._read() as session:
            row = session.scalar(
                select(TransactionRow)
                .where(TransactionRow.house_id == house_id)
                .order_by(TransactionRow.created_at.desc(), TransactionRow.id.desc())
                .limit(1)
            )
            return None if row is None else _record(row)

    def count_by_state(self) -> dict[TxState, int]:
        """How many transactions are in each state (every state present, zero included)."""
        with self._read() as session:
            counts = dict.fromkeys(TxState, 0)
            for state, count in session.execute(
                select(TransactionRow.state, func.count()).group_by(TransactionRow.state)
            ):
                counts[TxState(state)] = count
            return counts

    def pending_outbox(self) -> list[OutboxMessage]:
        """Messages not yet sent, oldest first (in the order they were written)."""
        with self._read() as session:
            rows = session.execute(
                select(OutboxRow, TransactionRow.idempotency_key)
                .join(TransactionRow, OutboxRow.transaction_id == TransactionRow.id)
                .where(OutboxRow.sent_at.is_(None))
                .order_by(OutboxRow.id)
            )
            return [_message(row, key) for row, key in rows]

    def outbox_for(self, tx_id: str) -> list[OutboxMessage]:
        """Every message of one transaction, sent or not, oldest first."""
        with self._read() as session:
            rows = session.execute(
                select(OutboxRow, TransactionRow.idempotency_key)
                .join(TransactionRow, OutboxRow.transaction_id == TransactionRow.id)
                .where(OutboxRow.transaction_id == tx_id)
                .order_by(OutboxRow.id)
            )
            return [_message(row, key) for row, key in rows]

    # -- internals ------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise StoreError("the store's clock returned a naive datetime")
        return now.astimezone(UTC)

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._session(self._engine) as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._session(self._read_engine) as session:
            yield session

    @contextmanager
    def _session(self, engine: Engine) -> Iterator[Session]:
        if self._closed:
            raise StoreError(f"transaction store {self._path} is closed")
        try:
            with Session(engine, expire_on_commit=False, autoflush=False) as session, session.begin():
                yield session
        except DBAPIError as exc:
            raise StoreError(f"transaction store {self._path}: {exc.orig}") from exc

    @staticmethod
    def _row(session: Session, tx_id: str) -> TransactionRow:
        row = session.get(TransactionRow, tx_id)
        if row is None:
            raise RecordNotFound(f"no transaction {tx_id}")
        return row

    @staticmethod
    def _outbox_row(tx_id: str, kind: OutboxKind, payload: Mapping[str, Any], now: datetime) -> OutboxRow:
        return OutboxRow(
            transaction_id=tx_id,
            kind=kind.value,
            payload=_to_json("outbox payload", payload),
            created_at=now,
            attempts=0,
        )

    @staticmethod
    def _message(session: Session, row: OutboxRow) -> OutboxMessage:
        key = session.scalar(select(TransactionRow.idempotency_key).where(TransactionRow.id == row.transaction_id))
        assert key is not None  # the foreign key guarantees it
        return _message(row, key)


def _record(row: TransactionRow) -> TransactionRecord:
    return TransactionRecord(
        id=row.id,
        idempotency_key=row.idempotency_key,
        terminal_id=row.terminal_id,
        service=row.service,
        house_id=row.house_id,
        house_label=row.house_label,
        meter_id=row.meter_id,
        meter_label=row.meter_label,
        amount_fen=row.amount_fen,
        state=TxState(row.state),
        order_no=row.order_no,
        pay_url=row.pay_url,
        receipt_url=row.receipt_url,
        new_balance_fen=row.new_balance_fen,
        receipt_status=ReceiptStatus(row.receipt_status),
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _event(row: TransactionEventRow) -> TransactionEvent:
    return TransactionEvent(
        id=row.id,
        transaction_id=row.transaction_id,
        at=row.at,
        from_state=None if row.from_state is None else TxState(row.from_state),
        to_state=TxState(row.to_state),
        reason=row.reason,
        detail_json=row.detail,
    )


def _message(row: OutboxRow, idempotency_key: str) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        transaction_id=row.transaction_id,
        idempotency_key=idempotency_key,
        kind=OutboxKind(row.kind),
        payload_json=row.payload,
        created_at=row.created_at,
        sent_at=row.sent_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
    )
