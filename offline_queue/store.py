"""The local transaction store: every order is written here before any network call; only a finished one ever
leaves it, into the archive (`offline_queue/archive.py`).

One `TransactionStore` is shared by the GUI thread and the worker threads: it holds one Engine; each write is one
BEGIN IMMEDIATE transaction of plain SQL on a pooled connection, each read a short ORM session; it hands out
frozen dataclasses, never live ORM objects.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import sqlite
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
    UTCDateTime,
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


@dataclass(frozen=True)
class StoredRows:
    """One transaction's rows exactly as stored (column name to value; times as ISO text): what the archive keeps."""

    transaction: dict[str, Any]
    events: list[dict[str, Any]]
    outbox: list[dict[str, Any]]


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


_WRITE_LOCKS: dict[Path, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    """The in-process write lock of one database file, shared by every store opened on it."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path.resolve(), threading.Lock())


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TransactionStore:
    """The durable journal of transactions, their state history and the outbox of messages to HQ.

    Thread-safe: any thread may call any method. Writes are serialised: within the process by a lock per database
    file, between processes by SQLite (BEGIN IMMEDIATE and the busy timeout).
    """

    def __init__(self, engine: Engine, path: Path, clock: Clock = _utc_now) -> None:
        """Use `TransactionStore.open(path)`; this takes an engine already made by `db.open_engine`."""
        self._engine = engine
        self._read_engine = db.read_only(engine)
        self._path = path
        self._clock = clock
        self._closed = False
        self._write_lock = _write_lock(path)
        self._connections = db.ThreadConnections(engine)

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
        """Close every connection. The store cannot be used afterwards."""
        self._closed = True
        self._connections.close_all()
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
    #
    # The hot paths: plain SQL on the pooled sqlite3 connection inside one BEGIN IMMEDIATE transaction. Through the
    # ORM's unit of work a state change cost about four times the bare INSERT+COMMIT it has to pay for anyway.

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
        values: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "idempotency_key": new_idempotency_key(),
            "terminal_id": _text("terminal_id", terminal_id),
            "service": _text("service", service),
            "house_id": _text("house_id", house_id),
            "house_label": _text("house_label", house_label),
            "meter_id": _text("meter_id", meter_id),
            "meter_label": _text("meter_label", meter_label),
            "amount_fen": _positive_amount(amount_fen),
            "state": TxState.NEW.value,
            "order_no": None,
            "pay_url": None,
            "receipt_url": None,
            "new_balance_fen": None,
            "receipt_status": ReceiptStatus.NONE.value,
            "attempts": 0,
            "last_error": None,
        }
        # The exact body HQ gets under this key; a retry must send it unchanged.
        body = _to_json(
            "outbox payload",
            {name: values[name] for name in ("terminal_id", "house_id", "meter_id", "service", "amount_fen")},
        )
        with self._write() as conn:
            now = self._now()
            values["created_at"] = values["updated_at"] = stamp = _stamp(now)
            conn.execute(_INSERT_TX, [values[name] for name in _TX_COLUMNS])
            conn.execute(_INSERT_EVENT, (values["id"], stamp, None, TxState.NEW.value, None, None))
            conn.execute(_INSERT_OUTBOX, (values["id"], OutboxKind.CREATE_ORDER.value, body, stamp))
        values.update(state=TxState.NEW, receipt_status=ReceiptStatus.NONE, created_at=now, updated_at=now)
        return TransactionRecord(**values)

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
        changes = {name: _TRANSITION_FIELDS[name](name, value) for name, value in fields.items()}
        reason = None if reason is None else _text("reason", reason)
        detail_json = None if detail is None else _to_json("detail", detail)
        message: tuple[str, str] | None = None
        if outbox is not None:
            kind, payload = outbox
            message = (OutboxKind(kind).value, _to_json("outbox payload", payload))
        sent_ids = list(sent)
        update = _update_statement(changes)

        with self._write() as conn:
            values = _select_tx(conn, tx_id)
            current = TxState(values["state"])
            check(current, target)
            new_order_no = changes.get("order_no")
            if new_order_no is not None and values["order_no"] not in (None, new_order_no):
                raise ValueError(f"transaction {tx_id} already has order {values['order_no']}; refusing {new_order_no}")
            stamp = _stamp(self._now())
            values.update(changes, state=target.value, updated_at=stamp)
            conn.execute(update, (target.value, stamp, *changes.values(), tx_id))
            conn.execute(_INSERT_EVENT, (tx_id, stamp, current.value, target.value, reason, detail_json))
            if message is not None:
                conn.execute(_INSERT_OUTBOX, (tx_id, message[0], message[1], stamp))
            for outbox_id in sent_ids:
                _mark_sent(conn, outbox_id, stamp, tx_id)
        return record_from_row(values)

    def outbox_failed(self, outbox_id: int, *, error: str, next_attempt_at: datetime | None) -> OutboxMessage:
        """Count a failed delivery of a message: its attempts, the error, and when to try again."""
        error = _text("error", error)
        retry_at = None if next_attempt_at is None else _stamp(next_attempt_at)
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
                (error[:500], retry_at, outbox_id),
            ).rowcount
            if not changed:
                raise RecordNotFound(f"no outbox message {outbox_id}")
            return _select_message(conn, outbox_id)

    def mark_outbox_sent(self, outbox_id: int) -> OutboxMessage:
        """Mark a message as delivered to HQ. Marking it again keeps the first time."""
        with self._write() as conn:
            _mark_sent(conn, outbox_id, _stamp(self._now()))
            return _select_message(conn, outbox_id)

    def set_receipt_status(self, tx_id: str, status: ReceiptStatus | str) -> TransactionRecord:
        """Record whether the paper receipt was printed ("none", "printed", "failed")."""
        receipt_status = ReceiptStatus(status)
        with self._write() as conn:
            values = _select_tx(conn, tx_id)
            stamp = _stamp(self._now())
            conn.execute(
                "UPDATE transactions SET receipt_status = ?, updated_at = ? WHERE id = ?",
                (receipt_status.value, stamp, tx_id),
            )
            values.update(receipt_status=receipt_status.value, updated_at=stamp)
        return record_from_row(values)

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

    def transactions(
        self, *, state: TxState | None = None, created_since: datetime | None = None
    ) -> list[TransactionRecord]:
        """Transactions of the live journal, oldest first: all, or those in `state` and created at or after
        `created_since` (the archived ones: `offline_queue.archive`)."""
        query = select(TransactionRow).order_by(TransactionRow.created_at, TransactionRow.id)
        if state is not None:
            query = query.where(TransactionRow.state == TxState(state).value)
        if created_since is not None:
            query = query.where(TransactionRow.created_at >= created_since)
        with self._read() as session:
            return [_record(r) for r in session.scalars(query)]

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

    # -- retention ------------------------------------------------------------------------------------

    def finished_before(self, cutoff: datetime, limit: int) -> list[StoredRows]:
        """Up to `limit` finished transactions last changed before `cutoff`, least recently changed first, each
        with its events and outbox messages exactly as stored. Finished: a terminal state and every message sent
        (a receipt is printed seconds after the payment, or never: `none` on an old payment is final)."""
        with self._raw("BEGIN DEFERRED") as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    f"SELECT id FROM transactions t WHERE state IN ({_TERMINAL_LIST}) AND updated_at < ? "
                    "AND NOT EXISTS (SELECT 1 FROM outbox u WHERE u.transaction_id = t.id AND u.sent_at IS NULL) "
                    "ORDER BY updated_at, id LIMIT ?",
                    (_stamp(cutoff), limit),
                )
            ]
            return [rows for tx_id in ids if (rows := _stored_rows(conn, tx_id)) is not None]

    def forget(self, archived: Iterable[StoredRows]) -> list[str]:
        """Delete, in one BEGIN IMMEDIATE transaction, the transactions of `archived` (with their events and
        messages) whose rows are still exactly as given; the ids deleted. Call it only once they are safely in
        the archive. The database itself refuses to delete a transaction that is not finished."""
        forgotten = []
        with self._write() as conn:
            for rows in archived:
                tx_id = rows.transaction["id"]
                if _stored_rows(conn, tx_id) != rows:
                    continue  # changed since it was archived, or gone: a later pass archives what is there now
                conn.execute("DELETE FROM outbox WHERE transaction_id = ?", (tx_id,))
                conn.execute("DELETE FROM transaction_events WHERE transaction_id = ?", (tx_id,))
                conn.execute("DELETE FROM transactions WHERE id = ?", (tx_id,))
                forgotten.append(tx_id)
        return forgotten

    # -- internals ------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise StoreError("the store's clock returned a naive datetime")
        return now.astimezone(UTC)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # Writers of this process queue here, woken in turn, rather than in SQLite's busy handler, which polls
        # with growing sleeps: under a steady stream of short writes a polling writer can lose every race for
        # longer than the busy timeout ("database is locked"). Other processes still meet the busy timeout.
        if not self._write_lock.acquire(timeout=db.BUSY_TIMEOUT_MS / 1000):
            raise StoreError(f"transaction store {self._path}: busy (another write took too long)")
        try:
            with self._raw("BEGIN IMMEDIATE") as conn:
                yield conn
        finally:
            self._write_lock.release()

    @contextmanager
    def _raw(self, begin: str) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's own sqlite3 connection (`db.ThreadConnections`), started with
        `begin`: committed when the block ends, rolled back on any error."""
        if self._closed:
            raise StoreError(f"transaction store {self._path} is closed")
        try:
            conn = self._connections.mine()
        except DBAPIError as exc:
            raise StoreError(f"transaction store {self._path}: {exc.orig}") from exc
        try:
            conn.execute(begin)
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # the error that got us here is the one to report
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"transaction store {self._path}: {exc}") from exc
        finally:
            if conn.in_transaction:
                self._connections.discard()  # it could not roll back: never use it again

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


# -- plain SQL of the write paths ---------------------------------------------------------------------------------

# A record's fields are the table's columns, in the same order (a test keeps them equal).
_TX_COLUMNS = tuple(f.name for f in fields(TransactionRecord))
_SELECT_TX = f"SELECT {', '.join(_TX_COLUMNS)} FROM transactions WHERE id = ?"
_INSERT_TX = f"INSERT INTO transactions ({', '.join(_TX_COLUMNS)}) VALUES ({', '.join('?' * len(_TX_COLUMNS))})"
_INSERT_EVENT = (
    "INSERT INTO transaction_events (transaction_id, at, from_state, to_state, reason, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_OUTBOX = "INSERT INTO outbox (transaction_id, kind, payload, created_at, attempts) VALUES (?, ?, ?, ?, 0)"
_SELECT_MESSAGE = (
    "SELECT o.id, o.transaction_id, t.idempotency_key, o.kind, o.payload, o.created_at, o.sent_at, o.attempts,"
    " o.next_attempt_at, o.last_error FROM outbox o JOIN transactions t ON t.id = o.transaction_id WHERE o.id = ?"
)
# The column type's own conversion, so the write paths store exactly what the ORM reads back.
_UTC_TEXT = UTCDateTime()
_DIALECT = sqlite.dialect()


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is UTC:  # the store's own clock readings (`_now`): the column type's format, without its checks
        return moment.isoformat(timespec="microseconds")
    text = _UTC_TEXT.process_bind_param(moment, _DIALECT)
    assert text is not None
    return text


def _moment(text: str | None) -> datetime | None:
    return _UTC_TEXT.process_result_value(text, _DIALECT)


def _select_tx(conn: sqlite3.Connection, tx_id: str) -> dict[str, Any]:
    row = conn.execute(_SELECT_TX, (tx_id,)).fetchone()
    if row is None:
        raise RecordNotFound(f"no transaction {tx_id}")
    return dict(zip(_TX_COLUMNS, row, strict=True))


def _update_statement(changes: Mapping[str, object]) -> str:
    # Column names come from _TRANSITION_FIELDS only (checked by the caller), never from outside.
    assigned = "".join(f", {name} = ?" for name in changes)
    return f"UPDATE transactions SET state = ?, updated_at = ?{assigned} WHERE id = ?"


def _mark_sent(conn: sqlite3.Connection, outbox_id: int, stamp: str, tx_id: str | None = None) -> None:
    """Mark a message delivered (keeping the first time); RecordNotFound if it is not there (or not `tx_id`'s)."""
    if tx_id is None:
        cursor = conn.execute("UPDATE outbox SET sent_at = coalesce(sent_at, ?) WHERE id = ?", (stamp, outbox_id))
    else:
        cursor = conn.execute(
            "UPDATE outbox SET sent_at = coalesce(sent_at, ?) WHERE id = ? AND transaction_id = ?",
            (stamp, outbox_id, tx_id),
        )
    if cursor.rowcount != 1:
        raise RecordNotFound(f"no outbox message {outbox_id}" + (f" of {tx_id}" if tx_id else ""))


_TERMINAL_LIST = ", ".join(f"'{state.value}'" for state in sorted(TERMINAL_STATES))


def _stored_rows(conn: sqlite3.Connection, tx_id: str) -> StoredRows | None:
    cursor = conn.execute("SELECT * FROM transactions WHERE id = ?", (tx_id,))
    row = cursor.fetchone()
    if row is None:
        return None
    return StoredRows(
        transaction=dict(zip(_column_names(cursor), row, strict=True)),
        events=_all_rows(conn, "SELECT * FROM transaction_events WHERE transaction_id = ? ORDER BY id", tx_id),
        outbox=_all_rows(conn, "SELECT * FROM outbox WHERE transaction_id = ? ORDER BY id", tx_id),
    )


def _all_rows(conn: sqlite3.Connection, sql: str, *params: object) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = _column_names(cursor)
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _select_message(conn: sqlite3.Connection, outbox_id: int) -> OutboxMessage:
    cursor = conn.execute(_SELECT_MESSAGE, (outbox_id,))
    values = dict(zip(_column_names(cursor), cursor.fetchone(), strict=True))
    return message_from_row(values, values.pop("idempotency_key"))


def _column_names(cursor: sqlite3.Cursor) -> list[str]:
    return [column[0] for column in cursor.description]


def record_from_row(values: Mapping[str, Any]) -> TransactionRecord:
    """A record from a `transactions` row as stored (state and times as text); other columns are ignored."""
    # Spelled out (not a loop over the fields): this runs on every write, and the loop cost as much as the SQL.
    return TransactionRecord(
        id=values["id"],
        idempotency_key=values["idempotency_key"],
        terminal_id=values["terminal_id"],
        service=values["service"],
        house_id=values["house_id"],
        house_label=values["house_label"],
        meter_id=values["meter_id"],
        meter_label=values["meter_label"],
        amount_fen=values["amount_fen"],
        state=TxState(values["state"]),
        order_no=values["order_no"],
        pay_url=values["pay_url"],
        receipt_url=values["receipt_url"],
        new_balance_fen=values["new_balance_fen"],
        receipt_status=ReceiptStatus(values["receipt_status"]),
        attempts=values["attempts"],
        last_error=values["last_error"],
        created_at=_moment_required(values["created_at"]),
        updated_at=_moment_required(values["updated_at"]),
    )


def event_from_row(values: Mapping[str, Any]) -> TransactionEvent:
    """An event from a `transaction_events` row as stored."""
    return TransactionEvent(
        id=values["id"],
        transaction_id=values["transaction_id"],
        at=_moment_required(values["at"]),
        from_state=None if values["from_state"] is None else TxState(values["from_state"]),
        to_state=TxState(values["to_state"]),
        reason=values["reason"],
        detail_json=values["detail"],
    )


def message_from_row(values: Mapping[str, Any], idempotency_key: str) -> OutboxMessage:
    """A message from an `outbox` row as stored, with its transaction's idempotency key."""
    return OutboxMessage(
        id=values["id"],
        transaction_id=values["transaction_id"],
        idempotency_key=idempotency_key,
        kind=OutboxKind(values["kind"]),
        payload_json=values["payload"],
        created_at=_moment_required(values["created_at"]),
        sent_at=_moment(values["sent_at"]),
        attempts=values["attempts"],
        next_attempt_at=_moment(values["next_attempt_at"]),
        last_error=values["last_error"],
    )


def _moment_required(text: str) -> datetime:
    moment = _moment(text)
    assert moment is not None  # the column is NOT NULL
    return moment
