"""Durable staff data: PIN hashes, the wrong-PIN lock, the append-only audit log and overrides set at the terminal.

Kept in the transaction database (`offline_queue.db` opens it: WAL, `synchronous=FULL`, writes in BEGIN IMMEDIATE),
so the lock and the log survive a restart or a power cut. This module only stores: hashing PINs and deciding when
to lock is `kiosk.staff`'s. Thread-safe; hands out frozen dataclasses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from offline_queue import db
from offline_queue.db import StoreError
from offline_queue.staff_models import AuditRow, OverrideRow, PinLockRow, StaffMemberRow

Clock = Callable[[], datetime]
_MEMBERS = cast(Table, StaffMemberRow.__table__)
_LOCK = cast(Table, PinLockRow.__table__)
_AUDIT = cast(Table, AuditRow.__table__)
_OVERRIDES = cast(Table, OverrideRow.__table__)


@dataclass(frozen=True, slots=True)
class StaffMember:
    staff_id: str
    pin_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PinLock:
    """Wrong PINs in a row since the last right one (or the last lock), and until when the menu is locked."""

    failures: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True, slots=True)
class AuditNote:
    """An audit entry to write (in the same transaction as the change it describes, where there is one)."""

    staff_id: str | None
    action: str
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    staff_id: str | None
    action: str
    detail_json: str | None

    @property
    def detail(self) -> dict[str, Any]:
        return {} if self.detail_json is None else dict(json.loads(self.detail_json))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StaffStore:
    """Staff members, the PIN lock, the audit log and overrides, in the terminal's database."""

    def __init__(self, engine: Engine, path: Path, clock: Clock = _utc_now) -> None:
        """Use `StaffStore.open(path)`, or pass the engine of an open `TransactionStore` (already migrated)."""
        self._engine = engine
        self._read_engine = db.read_only(engine)
        self._path = path
        self._clock = clock
        self._owns_engine = False
        self._closed = False

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, clock: Clock | None = None) -> StaffStore:
        """Open (creating and migrating if needed) the database at `path`; StoreError when it cannot be used."""
        db_path = Path(path)
        engine = db.open_engine(db_path)
        try:
            db.migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        store = cls(engine, db_path, clock or _utc_now)
        store._owns_engine = True
        return store

    def close(self) -> None:
        self._closed = True
        if self._owns_engine:
            self._engine.dispose()

    def now(self) -> datetime:
        return self._clock().astimezone(UTC)

    # -- staff members ----------------------------------------------------------------------------------

    def members(self) -> list[StaffMember]:
        """Every member of staff, by id."""
        with self._read() as conn:
            rows = conn.execute(select(_MEMBERS).order_by(_MEMBERS.c.staff_id))
            return [StaffMember(r.staff_id, r.pin_hash, r.created_at, r.updated_at) for r in rows]

    def put_member(self, staff_id: str, pin_hash: str, audit: AuditNote | None = None) -> bool:
        """Add a member or replace their PIN hash; True when the member is new."""
        table = _MEMBERS
        with self._write() as conn:
            now = self.now()
            changed = conn.execute(
                update(table).where(table.c.staff_id == staff_id).values(pin_hash=pin_hash, updated_at=now)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(table).values(staff_id=staff_id, pin_hash=pin_hash, created_at=now, updated_at=now)
                )
            self._audit(conn, audit, now)
        return not changed

    def remove_member(self, staff_id: str, audit: AuditNote | None = None) -> bool:
        """Remove a member; False when there was none by that id."""
        table = _MEMBERS
        with self._write() as conn:
            removed = conn.execute(delete(table).where(table.c.staff_id == staff_id)).rowcount
            if removed:
                self._audit(conn, audit, self.now())
        return bool(removed)

    # -- the PIN lock -------------------------------------------------------------------------------------

    def pin_lock(self) -> PinLock:
        with self._read() as conn:
            row = conn.execute(select(_LOCK)).first()
            return PinLock() if row is None else PinLock(row.failures, row.locked_until)

    def pin_failed(self, max_failures: int, lock_for: timedelta, audit: AuditNote | None = None) -> PinLock:
        """Count a wrong PIN; the `max_failures`-th in a row locks the menu for `lock_for`. While locked, nothing
        is counted. Read, counted and written in one transaction, so two pads cannot both get a fifth try."""
        with self._write() as conn:
            now = self.now()
            lock = self._lock_row(conn)
            if lock.locked(now):
                return lock
            failures = lock.failures + 1
            lock = PinLock(0, now + lock_for) if failures >= max_failures else PinLock(failures, None)
            self._put_lock(conn, lock)
            self._audit(conn, audit, now)
            return lock

    def pin_succeeded(self, audit: AuditNote | None = None) -> None:
        """A right PIN: the count of wrong ones starts again."""
        with self._write() as conn:
            self._put_lock(conn, PinLock())
            self._audit(conn, audit, self.now())

    # -- the audit log ----------------------------------------------------------------------------------

    def audit(self, note: AuditNote) -> AuditEntry:
        """Append one entry to the audit log."""
        with self._write() as conn:
            return self._audit_entry(conn, note, self.now())

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        """The newest `limit` entries, newest first."""
        table = _AUDIT
        with self._read() as conn:
            rows = conn.execute(select(table).order_by(table.c.id.desc()).limit(limit))
            return [AuditEntry(r.id, r.at, r.staff_id, r.action, r.detail) for r in rows]

    # -- overrides ------------------------------------------------------------------------------------------

    def overrides(self) -> dict[str, Any]:
        """Every override, key to its (JSON-decoded) value."""
        with self._read() as conn:
            return {r.key: json.loads(r.value) for r in conn.execute(select(_OVERRIDES))}

    def set_override(self, key: str, value: Any, by: str | None, audit: AuditNote | None = None) -> None:
        """Set (or replace) one override; `by` says who (a staff id, "hq")."""
        table = _OVERRIDES
        encoded = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
        with self._write() as conn:
            now = self.now()
            changed = conn.execute(
                update(table).where(table.c.key == key).values(value=encoded, updated_at=now, updated_by=by)
            ).rowcount
            if not changed:
                conn.execute(insert(table).values(key=key, value=encoded, updated_at=now, updated_by=by))
            self._audit(conn, audit, now)

    def clear_override(self, key: str, audit: AuditNote | None = None) -> bool:
        table = _OVERRIDES
        with self._write() as conn:
            removed = conn.execute(delete(table).where(table.c.key == key)).rowcount
            self._audit(conn, audit, self.now())
        return bool(removed)

    # -- internals ------------------------------------------------------------------------------------------

    @staticmethod
    def _lock_row(conn: Connection) -> PinLock:
        row = conn.execute(select(_LOCK)).first()
        return PinLock() if row is None else PinLock(row.failures, row.locked_until)

    @staticmethod
    def _put_lock(conn: Connection, lock: PinLock) -> None:
        table = _LOCK
        values = {"failures": lock.failures, "locked_until": lock.locked_until}
        if not conn.execute(update(table).where(table.c.id == 1).values(**values)).rowcount:
            conn.execute(insert(table).values(id=1, **values))

    def _audit(self, conn: Connection, note: AuditNote | None, now: datetime) -> None:
        if note is not None:
            self._audit_entry(conn, note, now)

    @staticmethod
    def _audit_entry(conn: Connection, note: AuditNote, now: datetime) -> AuditEntry:
        if not note.action:
            raise ValueError("an audit entry needs an action")
        detail = None
        if note.detail is not None:
            detail = json.dumps(dict(note.detail), ensure_ascii=False, sort_keys=True, allow_nan=False)
        table = _AUDIT
        result = conn.execute(
            insert(table).values(at=now, staff_id=note.staff_id, action=note.action[:64], detail=detail)
        )
        (entry_id,) = result.inserted_primary_key or (0,)
        return AuditEntry(int(entry_id), now, note.staff_id, note.action[:64], detail)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._connect(self._engine) as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._connect(self._read_engine) as conn:
            yield conn

    @contextmanager
    def _connect(self, engine: Engine) -> Iterator[Connection]:
        if self._closed:
            raise StoreError(f"staff store {self._path} is closed")
        try:
            with engine.begin() as conn:  # BEGIN IMMEDIATE, or DEFERRED on the read-only engine (offline_queue.db)
                yield conn
        except DBAPIError as exc:
            raise StoreError(f"staff store {self._path}: {exc.orig}") from exc
