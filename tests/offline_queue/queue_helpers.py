"""Helpers shared by the transaction store tests (a unique module name: tests/ is not a package)."""

from __future__ import annotations

from collections import deque
from typing import Any

from offline_queue import TransactionRecord, TransactionStore, TxState
from offline_queue.states import ALLOWED

ORDER = {
    "terminal_id": "T-0001",
    "service": "electricity",
    "house_id": "h_3_2_501",
    "house_label": "3-2-501",
    "meter_id": "m_3_2_501_l",
    "meter_label": "照明 3205010001",
    "amount_fen": 10000,
}


def new_order(store: TransactionStore, **overrides: Any) -> TransactionRecord:
    """Create a transaction with the sample order, changing the given fields."""
    return store.create(**{**ORDER, **overrides})


def path_to(target: TxState) -> list[TxState]:
    """The shortest chain of allowed states from NEW to `target` (NEW itself excluded)."""
    previous: dict[TxState, TxState | None] = {TxState.NEW: None}
    queue = deque([TxState.NEW])
    while queue:
        state = queue.popleft()
        for nxt in sorted(ALLOWED[state]):
            if nxt not in previous:
                previous[nxt] = state
                queue.append(nxt)
    assert target in previous, f"{target} cannot be reached from NEW"
    chain: list[TxState] = []
    step: TxState | None = target
    while step is not None and step is not TxState.NEW:
        chain.append(step)
        step = previous[step]
    return chain[::-1]


def tx_in_state(store: TransactionStore, state: TxState) -> TransactionRecord:
    """A new transaction moved along allowed transitions to `state`."""
    record = new_order(store)
    for step in path_to(state):
        record = store.transition(record.id, step, reason=f"test: to {step}")
    return record


def integrity_ok(store: TransactionStore) -> bool:
    """Whether SQLite's integrity_check passes on the store's file."""
    with store.engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
