"""Retention: finished transactions move to the archive files, unfinished ones never; a crash loses nothing."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from queue_helpers import integrity_ok, new_order, path_to, tx_in_state
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from offline_queue import OutboxKind, ReceiptStatus, RecordNotFound, TransactionStore, TxState
from offline_queue.archive import ArchiveError, TransactionArchive, archive_folder
from offline_queue.store import StoredRows

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 1, 30, 8, 0, tzinfo=UTC)


class Clock:
    """A settable clock: tests move it forward instead of waiting."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_path: Path, clock: Clock) -> Iterator[TransactionStore]:
    opened = TransactionStore.open(db_path, clock=clock)
    yield opened
    opened.close()


def finished(store: TransactionStore, state: TxState = TxState.PAID, **order: Any) -> str:
    """A transaction in a terminal `state` with every message sent."""
    record = new_order(store, **order)
    for step in path_to(state):
        record = store.transition(record.id, step, reason=f"test: to {step}")
    for message in store.outbox_for(record.id):
        store.mark_outbox_sent(message.id)
    return record.id


def snapshot(store: TransactionStore, tx_id: str) -> tuple[object, ...]:
    return store.get(tx_id), tuple(store.history(tx_id)), tuple(store.outbox_for(tx_id))


def live_ids(store: TransactionStore) -> set[str]:
    return {r.id for r in store.transactions()}


def test_finished_transactions_past_retention_move_with_their_history(store: TransactionStore, clock: Clock) -> None:
    done = [finished(store, state) for state in (TxState.PAID, TxState.DECLINED, TxState.ABANDONED)]
    before = {tx_id: snapshot(store, tx_id) for tx_id in done}
    in_flight = tx_in_state(store, TxState.AWAITING_PAYMENT).id
    stuck = tx_in_state(store, TxState.NEEDS_ATTENTION).id
    unsent = tx_in_state(store, TxState.CANCELLED).id  # its create_order message was never marked sent
    clock.now += timedelta(days=30)
    recent = finished(store)

    archive = TransactionArchive(store, clock=clock)
    result = archive.archive_finished(clock.now - timedelta(days=10))

    assert result.archived == 3
    assert result.files == (archive_folder(store.path) / "transactions-2026-01.jsonl.gz",)
    assert live_ids(store) == {in_flight, stuck, unsent, recent}
    archived = {a.record.id: a for a in archive.transactions()}
    assert set(archived) == set(done)
    for tx_id, (record, history, outbox) in before.items():
        assert (archived[tx_id].record, archived[tx_id].events, archived[tx_id].outbox) == (record, history, outbox)
        assert archived[tx_id].archived_at == clock.now
        assert archive.find(tx_id) == archived[tx_id]
        with pytest.raises(RecordNotFound):
            store.get(tx_id)
    assert archive.find(in_flight) is None
    assert integrity_ok(store)
    # Nothing more to do: a second pass is a no-op.
    assert archive.archive_finished(clock.now - timedelta(days=10)).archived == 0


def test_archive_files_are_gzip_json_lines_by_month_of_creation(store: TransactionStore, clock: Clock) -> None:
    january = finished(store)
    clock.now = datetime(2026, 2, 3, tzinfo=UTC)
    february = [finished(store, house_id=f"h_{n}") for n in range(5)]
    clock.now += timedelta(days=400)
    archive = TransactionArchive(store, clock=clock)
    result = archive.archive_finished(clock.now, batch=2)  # several rounds of two
    assert result.archived == 6
    assert [p.name for p in result.files] == ["transactions-2026-01.jsonl.gz", "transactions-2026-02.jsonl.gz"]
    with gzip.open(result.files[1], "rt", encoding="utf-8") as lines:
        entries = [json.loads(line) for line in lines]
    assert sorted(e["transaction"]["id"] for e in entries) == sorted(february)
    entry = entries[0]
    assert entry["format"] == 1
    assert [e["to_state"] for e in entry["events"]] == ["new", "awaiting_payment", "paid"]
    assert entry["outbox"][0]["kind"] == "create_order" and entry["outbox"][0]["sent_at"]
    assert [a.record.id for a in archive.transactions()] == [january, *sorted(february)]


def test_later_passes_append_and_never_rewrite_what_is_there(store: TransactionStore, clock: Clock) -> None:
    archive = TransactionArchive(store, clock=clock)
    first = finished(store)
    [path] = archive.archive_finished(clock.now + timedelta(seconds=1)).files
    content = path.read_bytes()
    second = finished(store, house_id="h_2")
    archive.archive_finished(clock.now + timedelta(seconds=1))
    assert path.read_bytes().startswith(content)  # append-only: a new gzip member after the old bytes
    assert {a.record.id for a in archive.transactions()} == {first, second}


def test_a_transaction_changed_after_it_was_written_stays_live(
    store: TransactionStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    tx_id = finished(store)
    archive = TransactionArchive(store, clock=clock)
    original_write = archive.write

    def write_then_the_printer_reports(rows: Sequence[StoredRows]) -> list[Path]:
        written = original_write(rows)
        store.set_receipt_status(tx_id, ReceiptStatus.PRINTED)  # lands between the snapshot and the delete
        return written

    with monkeypatch.context() as patched:
        patched.setattr(archive, "write", write_then_the_printer_reports)
        assert archive.archive_finished(clock.now + timedelta(seconds=1)).archived == 0
    assert store.get(tx_id).receipt_status is ReceiptStatus.PRINTED  # not lost
    assert archive.archive_finished(clock.now + timedelta(seconds=1)).archived == 1
    # Archived twice; read back once, as it was last.
    [only] = archive.transactions()
    assert only.record.receipt_status is ReceiptStatus.PRINTED


def test_an_archive_that_cannot_be_written_deletes_nothing(store: TransactionStore, clock: Clock) -> None:
    tx_id = finished(store)
    blocker = archive_folder(store.path)
    blocker.write_text("a file where the archive folder should be")
    archive = TransactionArchive(store, clock=clock)
    with pytest.raises(ArchiveError, match=str(blocker)):
        archive.archive_finished(clock.now + timedelta(seconds=1))
    assert store.get(tx_id).state is TxState.PAID


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM transactions WHERE id = :id",
        "DELETE FROM transaction_events WHERE transaction_id = :id",
        "DELETE FROM outbox WHERE transaction_id = :id",
    ],
)
@pytest.mark.parametrize("state", [TxState.NEW, TxState.AWAITING_PAYMENT, TxState.UNKNOWN, TxState.NEEDS_ATTENTION])
def test_the_database_refuses_to_delete_anything_unfinished(
    store: TransactionStore, statement: str, state: TxState
) -> None:
    record = tx_in_state(store, state)
    for message in store.outbox_for(record.id):
        store.mark_outbox_sent(message.id)
    with pytest.raises(IntegrityError, match="leave the journal"), store.engine.begin() as conn:
        conn.execute(text(statement), {"id": record.id})
    assert store.get(record.id) == record


def test_the_database_refuses_to_delete_a_finished_one_with_an_unsent_message(store: TransactionStore) -> None:
    record = tx_in_state(store, TxState.PAID)  # create_order not marked sent
    for statement in (
        "DELETE FROM outbox WHERE transaction_id = :id",
        "DELETE FROM transaction_events WHERE transaction_id = :id",
    ):
        with pytest.raises(IntegrityError, match="leave the journal"), store.engine.begin() as conn:
            conn.execute(text(statement), {"id": record.id})
    with pytest.raises(IntegrityError, match="leave the journal"), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM transactions WHERE id = :id"), {"id": record.id})
    assert (len(store.history(record.id)), len(store.outbox_for(record.id))) == (3, 1)


def test_damaged_archive_lines_are_skipped_not_fatal(
    store: TransactionStore, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    archive = TransactionArchive(store, clock=clock)
    good = finished(store)
    archive.archive_finished(clock.now + timedelta(seconds=1))
    damaged = archive.folder / "transactions-2026-01.jsonl.gz"
    with open(damaged, "ab") as handle:
        handle.write(gzip.compress(b'{"not": "an entry"}\nnot json at all\n'))
    (archive.folder / "transactions-2026-02.jsonl.gz").write_bytes(b"\x1f\x8b truncated")
    (archive.folder / "transactions-2026-03.jsonl.gz.tmp").write_bytes(b"left by a crash")
    assert [a.record.id for a in archive.transactions()] == [good]
    assert "line 2 is damaged" in caplog.text and "line 3 is damaged" in caplog.text
    assert "2026-02" in caplog.text


# -- a crash between writing the archive and deleting from the journal ------------------------------------------

_PASS_KILLED = """
import os, signal, sys
from datetime import datetime, timedelta, UTC
from offline_queue import TransactionStore
from offline_queue import archive as archive_module
from offline_queue.archive import TransactionArchive
store = TransactionStore.open(sys.argv[1])
where = sys.argv[2]
def die(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if where == "before_delete":
    store.forget = die  # the archive is written and fsynced; the delete never happens
else:
    archive_module.os.replace = die  # the temporary file is written; the rename never happens
TransactionArchive(store).archive_finished(datetime.now(UTC) + timedelta(days=1))
print("not killed", flush=True)
"""


def _killed_pass(db_path: Path, where: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", _PASS_KILLED, str(db_path), where],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


@pytest.mark.parametrize("where", ["before_delete", "before_rename"])
def test_a_crash_in_the_middle_of_a_pass_loses_nothing(db_path: Path, where: str) -> None:
    store = TransactionStore.open(db_path, clock=lambda: START)  # one month for all, whatever the date
    archive = TransactionArchive(store)
    kept = finished(store)
    archive.archive_finished(datetime.now(UTC) + timedelta(days=1))  # an earlier pass, whole
    [month_file] = archive.files()
    earlier = month_file.read_bytes()
    ids = [finished(store, house_id=f"h_{n}") for n in range(3)]
    before = {tx_id: snapshot(store, tx_id) for tx_id in ids}
    store.close()

    _killed_pass(db_path, where)

    store = TransactionStore.open(db_path)
    try:
        archive = TransactionArchive(store)
        assert integrity_ok(store)
        assert {tx_id: snapshot(store, tx_id) for tx_id in ids} == before  # all still live, unchanged
        in_archive = {a.record.id for a in archive.transactions()}
        if where == "before_delete":
            assert in_archive == {kept, *ids}  # and archived: a duplicate, never a loss
        else:
            assert month_file.read_bytes() == earlier  # the half-written file never replaced the whole one
            assert in_archive == {kept}
        # The next pass finishes the job; each transaction is read back once, as it was.
        assert archive.archive_finished(datetime.now(UTC) + timedelta(days=1)).archived == 3
        assert live_ids(store) == set()
        archived = {a.record.id: a for a in archive.transactions()}
        assert set(archived) == {kept, *ids}
        for tx_id, (record, history, outbox) in before.items():
            assert (archived[tx_id].record, archived[tx_id].events, archived[tx_id].outbox) == (record, history, outbox)
        with gzip.open(month_file, "rt", encoding="utf-8") as lines:
            written = [json.loads(line)["transaction"]["id"] for line in lines]
        assert len(written) == (7 if where == "before_delete" else 4)
    finally:
        store.close()


def test_kinds_of_message_survive_the_round_trip(store: TransactionStore, clock: Clock) -> None:
    record = store.transition(new_order(store).id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"intent": "x"}))
    store.transition(record.id, TxState.ABANDONED, reason="not at HQ", detail={"status": 404})
    for message in store.outbox_for(record.id):
        store.mark_outbox_sent(message.id)
    before = snapshot(store, record.id)
    archive = TransactionArchive(store, clock=clock)
    assert archive.archive_finished(clock.now + timedelta(seconds=1)).archived == 1
    [archived] = archive.transactions()
    assert (archived.record, archived.events, archived.outbox) == before
    assert archived.events[-1].detail == {"status": 404}
    assert [m.kind for m in archived.outbox] == [OutboxKind.CREATE_ORDER, OutboxKind.SETTLE]
