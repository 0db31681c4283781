"""Staff: PIN hashes, the wrong-PIN lock, the audit log of staff actions, and overrides set at the terminal.

The audit log is append-only, like the journal's history: triggers refuse changing or deleting a row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the four staff tables and the audit log's guards."""
    op.create_table(
        "staff_members",
        sa.Column("staff_id", sa.String(32), nullable=False),
        sa.Column("pin_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", name="pk_staff_members"),
    )
    op.create_table(
        "staff_pin_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.String(32), nullable=True),
        sa.CheckConstraint("id = 1", name="ck_staff_pin_lock_single_row"),
        sa.CheckConstraint("failures >= 0", name="ck_staff_pin_lock_failures_not_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_pin_lock"),
    )
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_audit"),
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_table(
        "terminal_overrides",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_terminal_overrides"),
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER staff_audit_no_{verb.lower()} BEFORE {verb} ON staff_audit "
            "BEGIN SELECT RAISE(ABORT, 'the staff audit log is append-only'); END"
        )


def downgrade() -> None:
    """Drop the staff tables (the transactions are untouched)."""
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER staff_audit_no_{verb}")
    for table in ("terminal_overrides", "staff_audit", "staff_pin_lock", "staff_members"):
        op.drop_table(table)
