"""At start, before the idle screen: every transaction found in flight is handed to the outbox worker to settle.

A crash or power loss can stop the terminal at any instant. Whatever a transaction was doing then, its outcome is
now unknown to the terminal, so it moves to `unknown` with a `settle` message (in one SQLite transaction); the
worker then asks HQ under the same idempotency key and records the answer. Nothing is sent again blindly.
"""

from __future__ import annotations

import logging

from kiosk.outbox_worker import Intent
from offline_queue.models import OutboxKind
from offline_queue.states import TxState
from offline_queue.store import TransactionStore

log = logging.getLogger(__name__)


def recover(store: TransactionStore) -> int:
    """Queue every interrupted transaction for settling; returns how many were found."""
    found = 0
    for tx in store.in_flight():
        if tx.state is TxState.NEEDS_ATTENTION:
            continue  # waits for staff, as before the restart
        found += 1
        unsent = [m for m in store.outbox_for(tx.id) if m.sent_at is None]
        if any(m.kind is OutboxKind.SETTLE for m in unsent):
            continue  # already queued
        settle = (OutboxKind.SETTLE, {"intent": Intent.RECOVER})
        if tx.state is TxState.UNKNOWN:
            # Unknown without a settle message (written by an older version): route it through staff's
            # retry path, which the state machine allows, so the history says what happened.
            store.transition(tx.id, TxState.NEEDS_ATTENTION, reason="recovered_without_message")
            store.transition(tx.id, TxState.UNKNOWN, reason="recovered_at_start", outbox=settle)
            continue
        # An unsent order request or payment code is superseded: settling asks HQ, it never sends them again.
        superseded = [m.id for m in unsent if m.kind in (OutboxKind.CREATE_ORDER, OutboxKind.PAYMENT_CODE)]
        store.transition(tx.id, TxState.UNKNOWN, reason="recovered_at_start", outbox=settle, sent=superseded)
    if found:
        log.warning("recovered %d interrupted transaction(s); settling them with HQ", found)
    return found
