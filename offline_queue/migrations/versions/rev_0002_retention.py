"""Retention: a finished transaction may leave the live journal (into the archive); nothing else ever may.

Replaces the three "never deleted" triggers of 0001 with ones that refuse deleting any row of a transaction that is
not finished: not in a terminal state, or with a message to HQ not yet sent. The archive pass
(`offline_queue/archive.py`) writes and fsyncs such rows to the archive before it deletes them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the terminal states at this revision: later revisions must not change what this one did.
_TERMINAL = "('paid', 'declined', 'expired', 'cancelled', 'abandoned')"
_UNSENT = "EXISTS (SELECT 1 FROM outbox u WHERE u.transaction_id = {tx} AND u.sent_at IS NULL)"
_FINISHED = (
    "EXISTS (SELECT 1 FROM transactions t WHERE t.id = {tx} AND t.state IN " + _TERMINAL + " AND NOT "
    + _UNSENT.format(tx="t.id") + ")"
)


def upgrade() -> None:
    """Allow deleting the rows of finished transactions only."""
    for table in ("transactions", "transaction_events", "outbox"):
        op.execute(f"DROP TRIGGER {table}_no_delete")
    op.execute(
        "CREATE TRIGGER transactions_delete_finished_only BEFORE DELETE ON transactions "
        f"WHEN OLD.state NOT IN {_TERMINAL} OR {_UNSENT.format(tx='OLD.id')} "
        "BEGIN SELECT RAISE(ABORT, 'only finished transactions leave the journal'); END"
    )
    op.execute(
        "CREATE TRIGGER transaction_events_delete_finished_only BEFORE DELETE ON transaction_events "
        f"WHEN NOT {_FINISHED.format(tx='OLD.transaction_id')} "
        "BEGIN SELECT RAISE(ABORT, 'only events of finished transactions leave the journal'); END"
    )
    op.execute(
        "CREATE TRIGGER outbox_delete_finished_only BEFORE DELETE ON outbox "
        f"WHEN OLD.sent_at IS NULL OR NOT {_FINISHED.format(tx='OLD.transaction_id')} "
        "BEGIN SELECT RAISE(ABORT, 'only sent messages of finished transactions leave the journal'); END"
    )


def downgrade() -> None:
    """Back to "never deleted"."""
    for table in ("transactions", "transaction_events", "outbox"):
        op.execute(f"DROP TRIGGER {table}_delete_finished_only")
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are never deleted'); END"
        )
