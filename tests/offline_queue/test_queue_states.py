"""The state table itself: every state reachable, terminal states final, check() agrees with ALLOWED."""

from __future__ import annotations

import itertools

import pytest
from queue_helpers import path_to

from offline_queue.states import ALLOWED, TERMINAL_STATES, InvalidTransition, TxState, check


def test_table_covers_every_state() -> None:
    assert set(ALLOWED) == set(TxState)


@pytest.mark.parametrize("state", list(TxState))
def test_every_state_is_reachable_from_new(state: TxState) -> None:
    chain = path_to(state)
    for before, after in itertools.pairwise([TxState.NEW, *chain]):
        check(before, after)


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
def test_terminal_states_are_final(state: TxState) -> None:
    assert ALLOWED[state] == frozenset()


@pytest.mark.parametrize("state", sorted(set(TxState) - TERMINAL_STATES))
def test_every_open_state_can_still_end(state: TxState) -> None:
    # From any state not yet final, some chain of transitions reaches a terminal state.
    seen, frontier = {state}, [state]
    while frontier:
        for nxt in ALLOWED[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen & TERMINAL_STATES


def test_invalid_transition_names_both_states() -> None:
    with pytest.raises(InvalidTransition) as info:
        check(TxState.PAID, TxState.NEW)
    assert (info.value.current, info.value.target) == (TxState.PAID, TxState.NEW)
    assert "paid" in str(info.value) and "new" in str(info.value)
