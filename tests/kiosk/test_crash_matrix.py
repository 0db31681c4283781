"""Crash or power loss at any instant: terminals taking real payments are killed with SIGKILL, and lose nothing.

The rig is `crash_child.py`: each life of the terminal is a child forked from multiprocessing's fork server; it
recovers what the last one left (as `Terminal.start` does), then pays against the real HQ on loopback until it
is killed, at a store write or an HQ request chosen by the parent, or at a random instant. After every kill and
every recovery the parent checks the invariants (see crash_child.py). `benchmarks/crash_matrix.py` runs the
same with 1000 kills.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from crash_child import ACTIONS, CrashMatrix, KillPlan

BOUNDARY_KILLS = 100
RANDOM_KILLS = 100


def test_killed_at_every_boundary_and_at_random_the_terminal_loses_nothing_and_agrees_with_hq(
    tmp_path: Path,
) -> None:
    with CrashMatrix(tmp_path, seed=20261122) as matrix:
        report = matrix.run(BOUNDARY_KILLS, RANDOM_KILLS)
    print(report.summary())  # shown with -s, and below any failure
    assert report.violations == [], report.summary()
    assert report.total_kills >= 200, report.summary()
    assert report.kills["random"] == RANDOM_KILLS
    assert report.kills["boundary-write"] + report.kills["boundary-http"] >= BOUNDARY_KILLS
    assert report.uncovered == [], report.summary()
    assert len(report.required) >= 40  # every write and request of a payment's life, before and after
    assert report.integrity_ok == report.integrity_checks > report.total_kills
    # Real work was killed and recovered: payments of every kind, transactions settled by restarted terminals.
    assert set(report.payments) == set(ACTIONS)
    assert report.recoveries_with_work >= 50 and report.settled_after_restart >= 50
    for state in ("paid", "declined", "cancelled", "expired", "abandoned"):
        assert report.final_states[state] > 0, report.summary()


def test_the_checks_see_a_lost_write_a_stuck_payment_and_a_charge_the_terminal_does_not_know(
    tmp_path: Path,
) -> None:
    """The invariants are not vacuous: tampering with either database after a clean life is caught."""
    with CrashMatrix(tmp_path, seed=7) as matrix:
        matrix.life(KillPlan(), actions=ACTIONS, max_payments=len(ACTIONS))
        assert matrix.report.violations == []
        with closing(sqlite3.connect(matrix.db_path)) as db, db:
            states = dict(db.execute("SELECT state, id FROM transactions"))
            last_event = db.execute(
                "SELECT max(id) FROM transaction_events WHERE transaction_id = ?", (states["declined"],)
            ).fetchone()[0]
            # A lost write (the journal's own trigger forbids deleting history outside the archive: it goes first).
            db.execute("DROP TRIGGER transaction_events_delete_finished_only")
            db.execute("DELETE FROM transaction_events WHERE id = ?", (last_event,))
            db.execute("UPDATE transactions SET state = 'unknown' WHERE id = ?", (states["cancelled"],))
            order_no, meter = db.execute(
                "SELECT order_no, meter_id FROM transactions WHERE id = ?", (states["expired"],)
            ).fetchone()
        with closing(sqlite3.connect(matrix.hq_db_path)) as hq, hq:  # HQ lets an order it had cancelled be paid
            hq.execute("UPDATE orders SET status = 'paid' WHERE order_no = ?", (order_no,))
            hq.execute("UPDATE meter SET balance_fen = balance_fen + 1 WHERE id = ?", (meter,))
        matrix.final_check()
        found = "\n".join(matrix.report.violations)
    assert f"transaction {states['declined']}: acknowledged" in found
    assert f"transaction {states['declined']} (declined): history ends in awaiting_payment" in found
    assert f"transaction {states['cancelled']} (unknown) still in flight" in found
    assert f"HQ says paid (order {order_no})" in found
    assert f"meter {meter}: balance" in found
