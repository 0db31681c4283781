"""Initial schema: transactions, their state history, and the outbox of messages to HQ.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the values at this revision: later revisions must not change what this one did.
_STATES = (
    "new",
    "awaiting_payment",
    "paid",
    "declined",
    "expired",
    "cancelled",
    "abandoned",
    "unknown",
    "needs_attention",
)
_RECEIPT_STATUSES = ("none", "printed", "failed")
# Columns that identify an order at HQ: changing one would send a different body under the same key.
_IMMUTABLE = (
    "id",
    "idempotency_key",
    "terminal_id",
    "service",
    "house_id",
    "meter_id",
    "amount_fen",
    "created_at",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Create the three tables and the triggers that keep the journal append-only."""
    op.create_table(
        "transactions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("terminal_id", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("house_id", sa.Text(), nullable=False),
        sa.Column("house_label", sa.Text(), nullable=False),
        sa.Column("meter_id", sa.Text(), nullable=False),
        sa.Column("meter_label", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("order_no", sa.Text(), nullable=True),
        sa.Column("pay_url", sa.Text(), nullable=True),
        sa.Column("receipt_url", sa.Text(), nullable=True),
        sa.Column("new_balance_fen", sa.Integer(), nullable=True),
        sa.Column("receipt_status", sa.String(16), server_default="none", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_transactions_amount_positive"),
        sa.CheckConstraint("attempts >= 0", name="ck_transactions_attempts_not_negative"),
        sa.CheckConstraint(_in("state", _STATES), name="ck_transactions_state_known"),
        sa.CheckConstraint(_in("receipt_status", _RECEIPT_STATUSES), name="ck_transactions_receipt_status_known"),
        sa.PrimaryKeyConstraint("id", name="pk_transactions"),
        sa.UniqueConstraint("idempotency_key", name="uq_transactions_idempotency_key"),
    )
    op.create_index("ix_transactions_state", "transactions", ["state"])
    op.create_index("ix_transactions_house_id_created_at", "transactions", ["house_id", "created_at"])
    op.create_index("ix_transactions_created_at", "transactions", ["created_at"])

    op.create_table(
        "transaction_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name="fk_transaction_events_transaction_id_transactions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transaction_events"),
    )
    op.create_index("ix_transaction_events_transaction_id_id", "transaction_events", ["transaction_id", "id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("attempts >= 0", name="ck_outbox_attempts_not_negative"),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"], name="fk_outbox_transaction_id_transactions"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_sent_at_id", "outbox", ["sent_at", "id"])
    op.create_index("ix_outbox_transaction_id", "outbox", ["transaction_id"])

    # No record is ever deleted, history is never rewritten, and an order's identity never changes.
    for table in ("transactions", "transaction_events", "outbox"):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are never deleted'); END"
        )
    op.execute(
        "CREATE TRIGGER transaction_events_no_update BEFORE UPDATE ON transaction_events "
        "BEGIN SELECT RAISE(ABORT, 'transaction_events rows are never changed'); END"
    )
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _IMMUTABLE)
    op.execute(
        "CREATE TRIGGER transactions_identity_fixed BEFORE UPDATE ON transactions "
        f"WHEN {changed} "
        "BEGIN SELECT RAISE(ABORT, 'the identity of a transaction never changes'); END"
    )


def downgrade() -> None:
    """Refuse: the journal is never dropped, not even by a downgrade."""
    raise NotImplementedError("the transaction store's first revision cannot be downgraded")
