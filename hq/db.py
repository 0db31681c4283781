"""Engine and session factory for any SQLAlchemy URL (SQLite file by default, PostgreSQL via psycopg2)."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
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

log = logging.getLogger(__name__)

DEFAULT_DB_URL = "sqlite:///hq.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 40
POOL_OVERFLOW = 10
CHECKPOINT_EVERY_S = 1.0

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


def create_engine_for(url: str, *, background_checkpoints: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, synchronous=FULL, foreign keys and a busy timeout.

    With ``background_checkpoints`` (the serving app's engine), a SQLite file's WAL is checkpointed by a thread
    of its own (:class:`WalCheckpointer`) until the engine is disposed, instead of by whichever commit finds the
    WAL long: that commit copies pages and syncs the database while every other writer waits for the lock.

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
        # No pool_pre_ping: its round trip at every checkout cost HQ's payment API about 40 % of its p99 under
        # load. A connection the server dropped (a database restart) fails the one request that meets it, which
        # answers 503 database_unavailable (hq.errors); SQLAlchemy then discards every pooled connection made
        # before, and the next requests connect afresh.
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
        _configure_sqlite(engine, None if kwargs.get("poolclass") is StaticPool else parsed.database,
                          background_checkpoints)
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


class _SqliteWriteLock:
    """Queues the writers of one SQLite database: this process's threads on a lock, then every process on an
    ``flock`` of a file beside the database (``<database>.write-lock``).

    Waiting here instead of in SQLite's busy handler matters under load: that handler retries a locked database
    after growing sleeps (up to 100 ms each), so a writer could wait seconds for a lock that is free most of the
    time, while a waiter on these locks is woken as soon as the holder lets go. Re-entrant, like the thread lock.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.RLock()
        self._path = f"{database}.write-lock" if database else None
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0  # only the thread holding _threads touches it

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._depth == 0:
            try:
                fd = self._file()
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1

    def __exit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def _file(self) -> int | None:
        # An flock belongs to an open file description, which a forked child would share with its parent: each
        # process opens the file for itself.
        if self._path is None or (self._fd is not None and self._pid == os.getpid()):
            return self._fd
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            log.warning("cannot open %s (%s): writers of other processes will meet SQLite's busy timeout",
                        self._path, exc)
            self._path = None
            return None
        self._fd, self._pid = fd, os.getpid()
        weakref.finalize(self, os.close, fd)
        return fd


class WalCheckpointer:
    """Checkpoints a SQLite database's write-ahead log every ``interval_s`` on a daemon thread.

    PASSIVE checkpoints: they copy what no reader still needs and never wait, and writers go on appending to
    the log meanwhile, so the copying and syncing stay off the writers' path.
    """

    def __init__(self, database: str, interval_s: float | None = None) -> None:
        self._database = database
        self._interval_s = interval_s or CHECKPOINT_EVERY_S
        self._stop = threading.Event()
        self.last: tuple[int, int, int] | None = None  # (busy, frames in the log, frames checkpointed)
        self._thread = threading.Thread(target=self._run, name="hq-wal-checkpoint", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        conn = sqlite3.connect(self._database, isolation_level=None, check_same_thread=False, timeout=0)
        try:
            while not self._stop.wait(self._interval_s):
                try:
                    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # e.g. the file is gone after a test: try again next time
                    log.debug("WAL checkpoint of %s failed: %s", self._database, exc)
                    continue
                self.last = tuple(row)
        finally:
            conn.close()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, _SqliteWriteLock] = weakref.WeakKeyDictionary()
_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()


def wal_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """The thread checkpointing ``engine``'s SQLite file, if it has one (``background_checkpoints``)."""
    return _CHECKPOINTERS.get(engine)


def _configure_sqlite(engine: Engine, database: str | None, background_checkpoints: bool) -> None:
    _WRITE_LOCKS[engine] = _SqliteWriteLock(database)
    checkpoints_here = background_checkpoints and database is not None
    if checkpoints_here:
        checkpointer = _CHECKPOINTERS[engine] = WalCheckpointer(str(database))
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.close())

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
        if checkpoints_here:
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
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
    """A session for reads; rolled back and closed on exit.

    On PostgreSQL its statements run in autocommit: at READ COMMITTED, PostgreSQL's default and HQ's, each
    statement of a transaction sees its own snapshot anyway, and the BEGIN and ROLLBACK around them cost two
    round trips to the server, with the event loop waiting (hq.api). SQLite keeps one snapshot for the session.

    The driver connection's own ``autocommit`` flag is switched, not SQLAlchemy's ``isolation_level`` option:
    resetting that option as the connection goes back to the pool names READ COMMITTED explicitly, after which
    psycopg2 sends ``SET default_transaction_isolation`` to the server each time autocommit is switched off, a
    round trip per read again. The flag alone sends nothing.
    """
    with factory() as session:
        if factory.kw["bind"].dialect.name == "sqlite":
            yield session
            return
        dbapi_connection = session.connection().connection.dbapi_connection
        assert dbapi_connection is not None
        dbapi_connection.autocommit = True
        try:
            yield session
        finally:
            # A connection lost meanwhile is already closed (and discarded by the pool): leave it be.
            if not dbapi_connection.closed:
                dbapi_connection.autocommit = False


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose (first) transaction holds the SQLite write lock from its first statement.

    The caller commits; anything not committed is rolled back on exit. After a commit or rollback, open a
    new write_session for the next write transaction.

    On SQLite, writers first queue on locks of HQ's own, in this process and across processes
    (:class:`_SqliteWriteLock`), rather than in SQLite's busy handler.
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
