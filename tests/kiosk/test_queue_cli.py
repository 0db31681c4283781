"""`kiosk queue`: list, show and export read the live journal and the archive."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.cli import parse
from kiosk.queue_cli import run_queue
from offline_queue.archive import TransactionArchive
from offline_queue.states import TxState
from offline_queue.store import TransactionStore

ORDER = {
    "terminal_id": "T-0001", "service": "electricity", "house_label": "3-2-501",
    "meter_id": "m_1", "meter_label": "照明 3205010001",
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> dict[str, str]:
    """A journal with one archived payment (2025), one live payment and one live unknown (2026)."""
    path = tmp_path / "transactions.db"
    clock = Clock(datetime(2025, 3, 1, 2, 0, tzinfo=UTC))
    with TransactionStore.open(path, clock=clock) as store:
        old = store.create(house_id="h_old", amount_fen=1250, **ORDER)  # type: ignore[arg-type]
        store.transition(old.id, TxState.AWAITING_PAYMENT, order_no="EO-OLD")
        store.transition(old.id, TxState.PAID, reason="status poll", sent=[m.id for m in store.outbox_for(old.id)])
        clock.now = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)  # 00:30 on the 21st in Shanghai
        paid = store.create(house_id="h_paid", amount_fen=10000, **ORDER)  # type: ignore[arg-type]
        store.transition(paid.id, TxState.AWAITING_PAYMENT, order_no="EO-PAID")
        store.transition(paid.id, TxState.PAID, sent=[m.id for m in store.outbox_for(paid.id)])
        clock.now += timedelta(hours=1)
        unknown = store.create(house_id="h_unknown", amount_fen=5000, **ORDER)  # type: ignore[arg-type]
        store.transition(unknown.id, TxState.UNKNOWN, reason="no answer", outbox=("settle", {"intent": "x"}))
        archived = TransactionArchive(store, clock=clock).archive_finished(datetime(2026, 1, 1, tzinfo=UTC))
        assert archived.archived == 1
    return {"path": str(path), "old": old.id, "paid": paid.id, "unknown": unknown.id}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_queue(parse(["queue", *argv]), out, err)
    return code, out.getvalue(), err.getvalue()


def test_list_shows_the_live_journal_and_with_the_archive_on_request(db: dict[str, str]) -> None:
    code, out, _ = run("--db", db["path"], "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["created", "id", "state", "house", "amount", "order", "receipt", "where"]
    assert db["paid"] in lines[1] and "paid" in lines[1] and "100.00" in lines[1] and "EO-PAID" in lines[1]
    assert lines[1].startswith("2026-11-21 00:30:00+08:00")  # terminal time
    assert db["unknown"] in lines[2] and "unknown" in lines[2] and "50.00" in lines[2]
    assert lines[-1] == "2 transactions"
    assert db["old"] not in out

    code, out, _ = run("--db", db["path"], "list", "--include-archive")
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "3 transactions"
    assert db["old"] in lines[1] and lines[1].rstrip().endswith("archive") and "12.50" in lines[1]
    assert lines[2].rstrip().endswith("live")


def test_list_filters_by_state_and_date_in_terminal_time(db: dict[str, str]) -> None:
    _, out, _ = run("--db", db["path"], "list", "--include-archive", "--state", "paid")
    assert out.splitlines()[-1] == "2 transactions" and db["unknown"] not in out
    _, out, _ = run("--db", db["path"], "list", "--include-archive", "--since", "2026-11-21")
    assert out.splitlines()[-1] == "2 transactions" and db["old"] not in out  # 00:30 Shanghai is the 21st
    _, out, _ = run("--db", db["path"], "list", "--include-archive", "--since", "2026-11-22")
    assert out.splitlines()[-1] == "0 transactions"


def test_show_prints_the_history_of_a_live_and_of_an_archived_transaction(db: dict[str, str]) -> None:
    code, out, _ = run("--db", db["path"], "show", db["unknown"])
    assert code == 0
    assert "where:           live" in out and "state:           unknown" in out
    assert "new -> unknown  (no answer)" in out
    assert "settle" in out and "not sent" in out

    code, out, _ = run("--db", db["path"], "show", db["old"])
    assert code == 0
    assert "where:           archive" in out
    history = out[out.index("history:"):out.index("messages to HQ:")].splitlines()[1:]
    assert [line.split("  ")[2] for line in history] == ["new", "new -> awaiting_payment", "awaiting_payment -> paid"]
    assert "create_order" in out and "sent 2025-03-01 10:00:00+08:00" in out


def test_export_writes_a_csv_a_spreadsheet_reads(db: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "audit.csv"
    code, out, _ = run("--db", db["path"], "export", "--csv", str(target), "--include-archive")
    assert code == 0 and out.strip() == f"3 transactions written to {target}"
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == [db["old"], db["paid"], db["unknown"]]
    assert [r["where"] for r in rows] == ["archive", "live", "live"]
    assert rows[0]["amount_fen"] == "1250" and rows[0]["meter_label"] == "照明 3205010001"
    assert rows[0]["created_at"] == "2025-03-01T02:00:00+00:00" and rows[2]["order_no"] == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--state", "lost"], "--state 'lost': must be one of"),
        (["list", "--since", "yesterday"], "--since 'yesterday': expected a date"),
        (["show", "no-such-id"], "no transaction no-such-id"),
    ],
)
def test_bad_arguments_get_a_clear_message(db: dict[str, str], argv: list[str], message: str) -> None:
    code, out, err = run("--db", db["path"], *argv)
    assert code in (1, 2) and message in err and out == ""


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    code, _, err = run("--db", str(path), "list")
    assert code == 2 and f"no transaction database at {path}" in err
    assert not path.exists()
