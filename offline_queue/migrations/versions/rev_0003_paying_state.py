"""The state `paying`: a wallet's payment code was submitted; HQ's answer or the payer's confirmation is awaited.

SQLite cannot change a CHECK constraint in place, so `transactions` is rebuilt with every row: the rows are copied
aside, the table dropped and made again under its own name (as 0001 made it, with the new state allowed), the rows
copied back, and its indexes and triggers made again as 0001 and 0002 left them. Nothing is renamed, so the
history's and the outbox's foreign keys and triggers keep pointing at `transactions`; their foreign keys are
checked at commit (`defer_foreign_keys`), when every row is back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the values at this revision: later revisions must not change what this one did.
_STATES = (
    "new",
    "awaiting_payment",
    "paying",
    "paid",
    "declined",
    "expired",
    "cancelled",
    "abandoned",
    "unknown",
    "needs_attention",
)
_RECEIPT_STATUSES = ("none", "printed", "failed")
_TERMINAL = "('paid', 'declined', 'expired', 'cancelled', 'abandoned')"
_UNSENT = "EXISTS (SELECT 1 FROM outbox u WHERE u.transaction_id = OLD.id AND u.sent_at IS NULL)"
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
_ASIDE = "_transactions_before_0003"


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Rebuild `transactions` with the new state allowed, keeping every row and the journal's guards."""
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute(f"CREATE TABLE {_ASIDE} AS SELECT * FROM transactions")
    op.execute("DROP TABLE transactions")  # its indexes and triggers go with it; no trigger fires
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
    columns = ", ".join((
        "id", "idempotency_key", "terminal_id", "service", "house_id", "house_label", "meter_id", "meter_label",
        "amount_fen", "state", "order_no", "pay_url", "receipt_url", "new_balance_fen", "receipt_status",
        "attempts", "last_error", "created_at", "updated_at",
    ))
    op.execute(f"INSERT INTO transactions ({columns}) SELECT {columns} FROM {_ASIDE}")
    op.execute(f"DROP TABLE {_ASIDE}")

    op.create_index("ix_transactions_state", "transactions", ["state"])
    op.create_index("ix_transactions_house_id_created_at", "transactions", ["house_id", "created_at"])
    op.create_index("ix_transactions_created_at", "transactions", ["created_at"])
    op.execute(  # as 0002 made it
        "CREATE TRIGGER transactions_delete_finished_only BEFORE DELETE ON transactions "
        f"WHEN OLD.state NOT IN {_TERMINAL} OR {_UNSENT} "
        "BEGIN SELECT RAISE(ABORT, 'only finished transactions leave the journal'); END"
    )
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _IMMUTABLE)
    op.execute(  # as 0001 made it
        "CREATE TRIGGER transactions_identity_fixed BEFORE UPDATE ON transactions "
        f"WHEN {changed} "
        "BEGIN SELECT RAISE(ABORT, 'the identity of a transaction never changes'); END"
    )


def downgrade() -> None:
    """Refuse: a transaction may be in the new state, which the older schema cannot hold."""
    raise NotImplementedError("the transaction store's revision 0003 cannot be downgraded")
