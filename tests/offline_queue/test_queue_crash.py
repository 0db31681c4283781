"""Killing the writing process at random points never corrupts the journal nor loses a committed write."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from queue_helpers import integrity_ok

from offline_queue import OutboxKind, TransactionStore, TxState
from offline_queue.states import ALLOWED

REPO = Path(__file__).resolve().parents[2]

# The child writes as fast as it can and reports each write only after it is committed.
_WRITER = """
import random, sys
from offline_queue import TransactionStore, TxState
from offline_queue.states import ALLOWED
store = TransactionStore.open(sys.argv[1])
rng = random.Random(int(sys.argv[2]))
open_ids = [r.id for r in store.in_flight()]
print("ready", flush=True)
while True:
    if not open_ids or rng.random() < 0.4:
        record = store.create(terminal_id="T-0001", service="electricity", house_id="h_1",
                              house_label="1-1-101", meter_id="m_1", meter_label="L", amount_fen=100)
        open_ids.append(record.id)
    else:
        tx_id = rng.choice(open_ids)
        target = rng.choice(sorted(ALLOWED[store.get(tx_id).state]))
        record = store.transition(tx_id, target, reason="crash test",
                                  outbox=("settle", {"tx": tx_id}) if rng.random() < 0.5 else None)
        if record.is_terminal:
            open_ids.remove(tx_id)
    print(record.id, record.state.value, flush=True)
"""


ROUNDS = 3


def is_subsequence(part: list[TxState], whole: list[TxState]) -> bool:
    remaining = iter(whole)
    return all(any(state is other for other in remaining) for state in part)


def test_killed_writers_leave_a_consistent_journal(tmp_path: Path) -> None:
    path = tmp_path / "transactions.sqlite3"
    rng = random.Random(20261122)
    acknowledged: dict[str, list[TxState]] = {}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    for round_no in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(round_no)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        try:
            assert child.stdout.readline().strip() == "ready"
            for _ in range(rng.randint(20, 300)):
                tx_id, state = child.stdout.readline().split()
                acknowledged.setdefault(tx_id, []).append(TxState(state))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        # The child writes faster than this loop reads: what it printed before it died is acknowledged too.
        for line in child.stdout:
            tx_id, state = line.split()
            acknowledged.setdefault(tx_id, []).append(TxState(state))
        child.stdout.close()

    store = TransactionStore.open(path)
    try:
        assert integrity_ok(store)
        for tx_id, seen in acknowledged.items():
            record = store.get(tx_id)
            states = [e.to_state for e in store.history(tx_id)]
            # Everything acknowledged is there, in order. A write may commit and its child die before reporting
            # it, once per kill, and the next child carries on from it: unreported writes can sit in the middle.
            assert is_subsequence(seen, states), (seen, states)
            assert len(states) <= len(seen) + ROUNDS
            assert states[-1] is record.state
            for before, after in itertools.pairwise(states):
                assert after in ALLOWED[before]
            assert store.outbox_for(tx_id)[0].kind is OutboxKind.CREATE_ORDER
        assert sum(store.count_by_state().values()) >= len(acknowledged)
    finally:
        store.close()
