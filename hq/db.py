"""Engine and session factory for any SQLAlchemy URL (SQLite file by default, PostgreSQL via psycopg2)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

DEFAULT_DB_URL = "sqlite:///hq.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 40
POOL_OVERFLOW = 10

# Session execution option that makes a SQLite transaction start with BEGIN IMMEDIATE (see write_session).
_WRITE_OPTION = "hq_write"


class DatabaseUrlError(ValueError):
    """The database URL cannot be used (malformed, or its driver is not installed)."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp column that only accepts aware datetimes and always gives back aware UTC.

    SQLite has no time zone type, so values are stored there as naive UTC; PostgreSQL uses timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def create_engine_for(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, synchronous=FULL, foreign keys and a busy timeout.

    Raises :class:`DatabaseUrlError` with a readable message for a malformed URL or a missing driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(
            f"not a database URL: {url!r} (expected e.g. sqlite:///hq.db or "
            "postgresql+psycopg2://user:password@host/dbname)"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=_default_postgres_driver())
    kwargs: dict[str, Any] = {}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if parsed.database in (None, "", ":memory:"):
            # One shared connection, or every pooled connection would see its own empty database.
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.drivername == "postgresql+psycopg2":
            # Batched UPDATEs (the heartbeats' executemany): psycopg2's own executemany sends one round trip a row.
            kwargs["executemany_mode"] = "values_plus_batch"
    if kwargs.get("poolclass") is not StaticPool:
        # As many pooled connections as the server's worker threads (anyio's 40): with the default 5, every
        # request beyond them opened and closed a connection of its own, which under load cost more than the query.
        kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseUrlError(f"no driver for database URL {parsed!r}: {exc}") from exc
    except ArgumentError as exc:
        raise DatabaseUrlError(f"bad database URL {parsed!r}: {exc}") from exc
    if is_sqlite:
        _configure_sqlite(engine)
    return engine


def _default_postgres_driver() -> str:
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the project ships psycopg2, so prefer
    # whichever is installed.
    for module, driver in (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql+psycopg2")):
        try:
            __import__(module)
        except ImportError:
            continue
        return driver
    return "postgresql"


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def _configure_sqlite(engine: Engine) -> None:
    _WRITE_LOCKS[engine] = threading.RLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself: pysqlite's implicit transactions start too late
        # (at the first write), so a read-then-write transaction could fail on a stale snapshot.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front so concurrent writers queue on the busy timeout
        # instead of failing with SQLITE_BUSY when upgrading a read snapshot.
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory used by the app; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads; rolled back and closed on exit."""
    with factory() as session:
        yield session


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose (first) transaction holds the SQLite write lock from its first statement.

    The caller commits; anything not committed is rolled back on exit. After a commit or rollback, open a
    new write_session for the next write transaction.

    On SQLite, this process's writers first queue on a lock of their own: SQLite's busy handler retries a
    locked database after growing sleeps (up to 100 ms each), so under load a writer could wait seconds for a
    lock free most of the time; a waiter on the process lock is woken as soon as it is released. Writers of
    other processes still meet the busy timeout.
    """
    lock = _WRITE_LOCKS.get(factory.kw["bind"])
    with lock if lock is not None else nullcontext(), factory() as session:
        session.connection(execution_options={_WRITE_OPTION: True})
        yield session


def redact_url(url: str) -> str:
    """``url`` with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
