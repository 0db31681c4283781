"""Durable local record of every transaction: written before any network call; only finished ones ever leave it,
into the archive (`offline_queue.archive`)."""

from offline_queue.db import StoreError
from offline_queue.models import OutboxKind, ReceiptStatus
from offline_queue.staff_store import StaffStore  # also puts the staff tables into the schema's metadata
from offline_queue.states import TERMINAL_STATES, InvalidTransition, TxState
from offline_queue.store import (
    OutboxMessage,
    RecordNotFound,
    TransactionEvent,
    TransactionRecord,
    TransactionStore,
    new_idempotency_key,
)

__all__ = [
    "TERMINAL_STATES",
    "InvalidTransition",
    "OutboxKind",
    "OutboxMessage",
    "ReceiptStatus",
    "RecordNotFound",
    "StaffStore",
    "StoreError",
    "TransactionEvent",
    "TransactionRecord",
    "TransactionStore",
    "TxState",
    "new_idempotency_key",
]
