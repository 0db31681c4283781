"""Random sequences of creations, transitions and reopenings: nothing lost, history always matches state."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from queue_helpers import ORDER

from offline_queue import TERMINAL_STATES, InvalidTransition, OutboxKind, TransactionStore, TxState
from offline_queue.states import ALLOWED


class StoreMachine(RuleBasedStateMachine):
    """Model: the state and the number of transitions of every transaction, and the outbox size."""

    transactions = Bundle("transactions")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="offline-queue-stateful-"))
        self.path = self.folder / "transactions.sqlite3"
        self.store = TransactionStore.open(self.path)
        self.states: dict[str, TxState] = {}
        self.transitions: dict[str, int] = {}
        self.messages = 0

    @rule(
        target=transactions,
        house=st.sampled_from(["h_1", "h_2", "h_3"]),
        amount=st.integers(min_value=1, max_value=500_000),
    )
    def create(self, house: str, amount: int) -> str:
        record = self.store.create(**{**ORDER, "house_id": house, "amount_fen": amount})
        self.states[record.id] = TxState.NEW
        self.transitions[record.id] = 0
        self.messages += 1
        return record.id

    @rule(tx_id=transactions, to_state=st.sampled_from(list(TxState)), with_message=st.booleans())
    def transition(self, tx_id: str, to_state: TxState, with_message: bool) -> None:
        outbox = (OutboxKind.SETTLE, {"tx": tx_id}) if with_message else None
        current = self.states[tx_id]
        try:
            record = self.store.transition(tx_id, to_state, reason="random", outbox=outbox)
        except InvalidTransition:
            assert to_state not in ALLOWED[current]
            return
        assert to_state in ALLOWED[current]
        assert record.state is to_state
        self.states[tx_id] = to_state
        self.transitions[tx_id] += 1
        self.messages += with_message

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = TransactionStore.open(self.path)

    @invariant()
    def every_record_is_there_with_its_state_and_history(self) -> None:
        for tx_id, state in self.states.items():
            assert self.store.get(tx_id).state is state
            events = self.store.history(tx_id)
            assert len(events) == self.transitions[tx_id] + 1
            assert (events[0].from_state, events[0].to_state) == (None, TxState.NEW)
            for before, after in itertools.pairwise(events):
                assert after.from_state is before.to_state
                assert after.to_state in ALLOWED[before.to_state]
                assert after.at >= before.at
            assert events[-1].to_state is state

    @invariant()
    def counts_in_flight_and_outbox_agree(self) -> None:
        counts = self.store.count_by_state()
        assert counts == {s: list(self.states.values()).count(s) for s in TxState}
        assert {r.id for r in self.store.in_flight()} == {
            tx_id for tx_id, s in self.states.items() if s not in TERMINAL_STATES
        }
        assert len(self.store.pending_outbox()) == self.messages

    def teardown(self) -> None:
        try:
            with self.store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        finally:
            self.store.close()
            shutil.rmtree(self.folder, ignore_errors=True)


StoreMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoreMachine = StoreMachine.TestCase
