"""Revision 0003 (the `paying` state) rebuilds the transactions table: every row, guard and link survives it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from offline_queue import db
from offline_queue.models import OutboxKind
from offline_queue.states import TxState
from offline_queue.store import TransactionStore


def _upgrade(engine: object, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    with engine.begin() as conn:  # type: ignore[attr-defined]
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _dump(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_rows_history_outbox_and_guards_survive(tmp_path: Path) -> None:
    path = tmp_path / "terminal.db"
    engine = db.open_engine(path)
    _upgrade(engine, "0002")
    store = TransactionStore(engine, path)
    ids = []
    for n, target in enumerate((TxState.AWAITING_PAYMENT, TxState.PAID, TxState.UNKNOWN)):
        tx = store.create(terminal_id="T", service="electricity", house_id=f"h{n}", house_label="1-1-1",
                          meter_id="m", meter_label="lighting:1", amount_fen=100 + n)
        tx = store.transition(tx.id, TxState.AWAITING_PAYMENT, order_no=f"ORDER{n}", sent=[
            m.id for m in store.outbox_for(tx.id)])
        if target is not TxState.AWAITING_PAYMENT:
            store.transition(tx.id, target, outbox=(OutboxKind.SETTLE, {"intent": "cancel"}))
        ids.append(tx.id)
    tables = ("transactions", "transaction_events", "outbox")
    before = {t: _dump(path, f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    triggers = _dump(path, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
    indexes = _dump(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions' "
                          "AND name NOT LIKE 'sqlite_%' ORDER BY name")

    _upgrade(engine, "0003")
    assert {t: _dump(path, f"SELECT * FROM {t} ORDER BY 1") for t in tables} == before
    assert _dump(path, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name") == triggers
    assert _dump(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions' "
                       "AND name NOT LIKE 'sqlite_%' ORDER BY name") == indexes
    assert _dump(path, "PRAGMA foreign_key_check") == []
    assert _dump(path, "PRAGMA integrity_check") == [("ok",)]
    assert _dump(path, "SELECT version_num FROM alembic_version") == [("0003",)]
    assert not _dump(path, "SELECT name FROM sqlite_master WHERE name LIKE '%before_0003%'")

    # The new state is storable, and the journal's guards still hold on the rebuilt table.
    paying = store.transition(ids[0], TxState.PAYING, outbox=(OutboxKind.PAYMENT_CODE, {"code": "****6781"}))
    assert paying.state is TxState.PAYING
    with sqlite3.connect(path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="identity"):
            conn.execute("UPDATE transactions SET amount_fen = 1 WHERE id = ?", (ids[0],))
        with pytest.raises(sqlite3.IntegrityError, match="finished"):
            conn.execute("DELETE FROM transactions WHERE id = ?", (ids[0],))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("UPDATE transactions SET state = 'bogus' WHERE id = ?", (ids[1],))
    store.close()
