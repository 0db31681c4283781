"""Opening the journal: durable PRAGMAs, BEGIN IMMEDIATE, clear errors, migrations and append-only rules."""

from __future__ import annotations

import ctypes
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from queue_helpers import integrity_ok, new_order
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from offline_queue import StoreError, TransactionStore, TxState
from offline_queue.db import HEAD_REVISION, read_only
from offline_queue.models import Base

REPO = Path(__file__).resolve().parents[2]


def test_open_creates_missing_folders(db_path: Path) -> None:
    assert not db_path.parent.exists()
    TransactionStore.open(db_path).close()
    assert db_path.is_file()


def test_pragmas_are_in_effect_on_a_fresh_connection(store: TransactionStore) -> None:
    store.engine.dispose()  # the next connection is a new one, set up by the connect hook
    with store.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 5000, "foreign_keys": 1}


def test_wal_mode_is_recorded_in_the_file(store: TransactionStore) -> None:
    raw = sqlite3.connect(store.path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def _try_begin_immediate(path: Path) -> bool:
    """Whether another connection can take the write lock right now (without waiting)."""
    raw = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        raw.close()


def test_write_transactions_take_the_write_lock_at_begin(store: TransactionStore) -> None:
    with store.engine.begin():
        # No statement yet: only BEGIN IMMEDIATE can be holding the lock.
        assert not _try_begin_immediate(store.path)
    assert _try_begin_immediate(store.path)


def test_read_transactions_do_not_block_writers(store: TransactionStore) -> None:
    record = new_order(store)
    with read_only(store.engine).begin() as conn:
        conn.execute(text("SELECT count(*) FROM transactions")).scalar_one()
        assert _try_begin_immediate(store.path)
        # And a write made meanwhile goes through while this snapshot is open.
        store.transition(record.id, TxState.AWAITING_PAYMENT)


def test_foreign_keys_are_enforced(store: TransactionStore) -> None:
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transaction_events (transaction_id, at, to_state) "
                "VALUES ('no-such-transaction', '2026-01-01T00:00:00.000000+00:00', 'new')"
            )
        )


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM transactions",
        "DELETE FROM transaction_events",
        "DELETE FROM outbox",
        "UPDATE transaction_events SET reason = 'rewritten'",
        "UPDATE transactions SET amount_fen = 1",
        "UPDATE transactions SET idempotency_key = 'another-key-0123456789'",
    ],
)
def test_journal_is_append_only(store: TransactionStore, statement: str) -> None:
    new_order(store)
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert store.count_by_state()[TxState.NEW] == 1
    assert len(store.pending_outbox()) == 1


def test_corrupt_file_raises_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "transactions.sqlite3"
    path.write_bytes(b"this is not a database, just some text. " * 100)
    with pytest.raises(StoreError) as info:
        TransactionStore.open(path)
    assert str(path) in str(info.value)
    assert "not a database" in str(info.value)
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was


def test_directory_in_place_of_the_file_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "transactions.sqlite3").mkdir()
    with pytest.raises(StoreError, match="is a directory"):
        TransactionStore.open(tmp_path / "transactions.sqlite3")


_PROBE = """
import json, os, sys
from offline_queue import StoreError, TransactionStore
folder = sys.argv[1]
results = {"folder_writable": os.access(folder, os.W_OK)}
for name in ("new.sqlite3", "sub/new.sqlite3", "existing.sqlite3"):
    path = os.path.join(folder, name)
    try:
        TransactionStore.open(path).close()
        results[name] = "opened"
    except StoreError as exc:
        results[name] = str(exc)
print(json.dumps(results))
"""

_PR_CAPBSET_DROP = 24
_CAPS_THAT_BYPASS_PERMISSIONS = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER


def _drop_permission_bypass() -> None:
    # Root ignores file permissions; without these capabilities, its next exec honours them.
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in _CAPS_THAT_BYPASS_PERMISSIONS:
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.skipif(sys.platform != "linux", reason="uses Linux permissions and capabilities")
def test_read_only_folder_raises_a_clear_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    TransactionStore.open(folder / "existing.sqlite3").close()
    folder.chmod(0o555)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    try:
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PROBE, str(folder)],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                preexec_fn=_drop_permission_bypass if os.geteuid() == 0 else None,
            )
        except subprocess.SubprocessError as exc:
            pytest.skip(f"cannot drop root's permission bypass here: {exc}")
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    if results.pop("folder_writable"):
        pytest.skip("the folder stays writable for this user (e.g. root with CAP_DAC_OVERRIDE)")
    for name, outcome in results.items():
        assert outcome.startswith(f"transaction store {folder / name}:"), outcome
    assert "writable" in results["new.sqlite3"] or "unable to open" in results["new.sqlite3"]
    assert "Permission denied" in results["sub/new.sqlite3"]
    assert "readonly" in results["existing.sqlite3"] or "not 'wal'" in results["existing.sqlite3"]


def test_data_survives_close_and_reopen(db_path: Path) -> None:
    store = TransactionStore.open(db_path)
    record = new_order(store)
    record = store.transition(record.id, TxState.AWAITING_PAYMENT, order_no="EO7KQ2M4X9ZP3R8T")
    history = store.history(record.id)
    store.close()
    for _ in range(2):  # reopening runs the migrations again: they must change nothing
        store = TransactionStore.open(db_path)
        assert store.get(record.id) == record
        assert store.history(record.id) == history
        assert [m.kind for m in store.pending_outbox()] == ["create_order"]
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD_REVISION]
        assert integrity_ok(store)
        store.close()


def test_migrations_build_exactly_the_models_schema(store: TransactionStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_schema_from_a_newer_program_is_refused(db_path: Path) -> None:
    store = TransactionStore.open(db_path)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(StoreError, match="migration"):
        TransactionStore.open(db_path)


def test_closed_store_refuses_calls(store: TransactionStore) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.in_flight()


def test_head_revision_constant_matches_the_migrations() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from offline_queue.db import HEAD_REVISION, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_each_thread_has_its_own_set_up_connection_closed_when_done(store: TransactionStore) -> None:
    from offline_queue.db import ThreadConnections

    connections = ThreadConnections(store.engine)
    mine = connections.mine()
    assert connections.mine() is mine  # kept for this thread's next transaction
    assert mine.execute("PRAGMA synchronous").fetchone()[0] == 2  # set up by the connect hook like any other
    others: list[sqlite3.Connection] = []
    for _ in range(3):
        thread = threading.Thread(target=lambda: others.append(connections.mine()))
        thread.start()
        thread.join()
    assert len({id(c) for c in [mine, *others]}) == 4
    for ended in others[:-1]:  # an ended thread's connection is closed once another thread gets one
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            ended.execute("SELECT 1")
    connections.discard()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        mine.execute("SELECT 1")
    assert connections.mine() is not mine  # a fresh one after a discard
    connections.close_all()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        others[-1].execute("SELECT 1")
