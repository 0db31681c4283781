"""hq.db: engine set-up for SQLite and PostgreSQL, and the UTC timestamp type."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hq_helpers import until
from sqlalchemy import Column, MetaData, Table, event, insert, select, text
from sqlalchemy.orm import Session

from hq.db import (
    DatabaseUrlError,
    UtcDateTime,
    create_engine_for,
    make_session_factory,
    read_session,
    redact_url,
    wal_checkpointer,
    write_session,
)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


@pytest.mark.parametrize("url", ["nonsense", "foo://x", "sqlite+nodriver:///x.db"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(DatabaseUrlError):
        create_engine_for(url)


def test_postgresql_url_uses_an_installed_driver() -> None:
    engine = create_engine_for("postgresql://u:secret@127.0.0.1:1/x")
    assert engine.dialect.driver in ("psycopg2", "psycopg")
    engine.dispose()


def test_redact_url() -> None:
    assert redact_url("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert redact_url("nonsense") == "nonsense"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_utc_datetime_round_trip(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}" if backend == "sqlite" else request.getfixturevalue("db_url_pg")
    engine = create_engine_for(url)
    metadata = MetaData()
    table = Table("t_times", metadata, Column("at", UtcDateTime()))
    metadata.create_all(engine)
    china = timezone(timedelta(hours=8))
    with engine.begin() as conn:
        conn.execute(insert(table).values(at=datetime(2026, 11, 22, 11, 0, 5, 123456, tzinfo=china)))
        value = conn.execute(select(table.c.at)).scalar_one()
        assert value == datetime(2026, 11, 22, 3, 0, 5, 123456, tzinfo=UTC)
        assert value.utcoffset() == timedelta(0)
        assert conn.execute(
            select(table.c.at).where(table.c.at < datetime(2026, 11, 22, 3, 0, 6, tzinfo=UTC))
        ).scalar_one() == value
        with pytest.raises(Exception, match="naive"):
            conn.execute(insert(table).values(at=datetime(2026, 11, 22)))
    engine.dispose()


@pytest.fixture
def db_url_pg(postgres_server: str) -> str:
    import uuid

    from sqlalchemy import create_engine, text

    name = f"hq_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{postgres_server}/{name}"


def test_reads_on_postgresql_send_only_their_statements_and_writes_stay_transactions(db_url_pg: str) -> None:
    """A read session's statements run in autocommit, and nothing else reaches the server for it (no BEGIN,
    ROLLBACK or SET round trips, before or after); the pooled connection it used is a transaction again for
    the write session that gets it next."""
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INTRANS

    engine = create_engine_for(db_url_pg)
    sessions = make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    watcher = create_engine_for(db_url_pg)

    def count_and_status(session: Session) -> tuple[int, int, int]:
        count = session.execute(text("SELECT count(*) FROM t")).scalar_one()
        dbapi_connection = session.connection().connection.dbapi_connection
        assert dbapi_connection is not None
        return count, dbapi_connection.get_transaction_status(), dbapi_connection.info.backend_pid

    def last_statement(backend_pid: int) -> str:
        # What that backend ran last, as the server saw it: a SET or ROLLBACK after the read would show here.
        with watcher.connect() as conn:
            return str(conn.execute(
                text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend_pid}
            ).scalar_one())

    for _ in range(2):  # the second time round, on a connection that has been through a write
        with read_session(sessions) as session:
            count, status, pid = count_and_status(session)
            assert (count, status) == (0, TRANSACTION_STATUS_IDLE)
        assert last_statement(pid) == "SELECT count(*) FROM t"
        with write_session(sessions) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            count, status, pid = count_and_status(session)
            assert (count, status) == (1, TRANSACTION_STATUS_INTRANS)
            # not committed: rolled back on leaving
        assert last_statement(pid) == "ROLLBACK"
    watcher.dispose()
    engine.dispose()


def test_writers_of_this_process_queue_on_a_lock_not_on_sqlite_busy_retries(tmp_path: Path) -> None:
    """A second writer waits for the first on the process lock: with SQLite's busy timeout set to nothing, its
    BEGIN IMMEDIATE would otherwise fail at once with "database is locked"."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'w.db'}")
    event.listen(engine, "connect", lambda dbapi_conn, _record: dbapi_conn.execute("PRAGMA busy_timeout = 0"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    sessions = make_session_factory(engine)
    holding, second_starting, release = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write(value: int, hold: bool) -> None:
        try:
            if not hold:
                second_starting.set()
            with write_session(sessions) as session:
                session.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
                if hold:
                    holding.set()
                    assert release.wait(10)
                session.commit()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    first = threading.Thread(target=write, args=(1, True))
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=write, args=(2, False))
    second.start()
    assert second_starting.wait(10)
    release.set()
    first.join(10)
    second.join(10)
    assert errors == []
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT x FROM t")).scalars()) == [1, 2]
    engine.dispose()


_HOLDER = """
import sys
from sqlalchemy import text
from hq.db import create_engine_for, make_session_factory, write_session
sessions = make_session_factory(create_engine_for(sys.argv[1]))
with write_session(sessions) as session:
    session.execute(text("INSERT INTO t VALUES (1)"))
    print("holding", flush=True)
    sys.stdin.readline()
    session.commit()
"""


def test_writers_of_other_processes_queue_on_a_file_lock_not_on_sqlite_busy_retries(tmp_path: Path) -> None:
    """Another process holding a write transaction holds ``<database>.write-lock``; a writer here waits on that
    lock, so with SQLite's busy timeout set to nothing it still gets through once the other commits."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = create_engine_for(url)
    event.listen(engine, "connect", lambda dbapi_conn, _record: dbapi_conn.execute("PRAGMA busy_timeout = 0"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, url], cwd=Path(__file__).parents[2],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == "holding\n"
        probe = os.open(tmp_path / "w.db.write-lock", os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(probe)
        errors: list[BaseException] = []

        def write() -> None:
            try:
                with write_session(make_session_factory(engine)) as session:
                    session.execute(text("INSERT INTO t VALUES (2)"))
                    session.commit()
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        _wait_until_blocked_on_flock(os.getpid())
        holder.stdin.write("commit\n")
        holder.stdin.flush()
        assert holder.wait(10) == 0
        writer.join(10)
        assert errors == []
    finally:
        if holder.poll() is None:
            holder.kill()
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT x FROM t")).scalars()) == [1, 2]
    engine.dispose()


def _wait_until_blocked_on_flock(pid: int) -> None:
    """Until /proc/locks lists a waiter (``->``) of process ``pid``: the writer is queued on the file lock."""
    until(lambda: any("->" in line and f" {pid} " in line for line in Path("/proc/locks").read_text().splitlines()),
          timeout=10, what="the writer waiting on the file lock")


def test_the_serving_engine_checkpoints_the_log_on_a_thread_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits never checkpoint (wal_autocheckpoint 0): a thread does, until the engine is disposed."""
    monkeypatch.setattr("hq.db.CHECKPOINT_EVERY_S", 0.02)
    plain = create_engine_for(f"sqlite:///{tmp_path / 'plain.db'}")
    engine = create_engine_for(f"sqlite:///{tmp_path / 'served.db'}", background_checkpoints=True)
    with plain.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # SQLite's own, at commits
    assert wal_checkpointer(plain) is None
    plain.dispose()
    with engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    checkpointer = wal_checkpointer(engine)
    assert checkpointer is not None

    def checkpointed() -> bool:
        last = checkpointer.last
        return last is not None and last[1] > 0 and last[1] == last[2]

    until(checkpointed, timeout=10, what="the log checkpointed")
    engine.dispose()
    assert not checkpointer._thread.is_alive()
