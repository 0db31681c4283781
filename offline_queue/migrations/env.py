"""Alembic environment: runs on the connection that offline_queue.db.migrate hands over.

To write a new revision, from the repository root:
``python -c "from alembic.config import Config; from alembic import command; c = Config();
c.set_main_option('script_location', 'offline_queue/migrations'); command.revision(c, 'what changed')"``
then write upgrade() by hand (use ``op.batch_alter_table`` for SQLite) and never edit released revisions.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from offline_queue.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the revisions on the caller's connection (it already holds a BEGIN IMMEDIATE transaction)."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("offline_queue migrations run through offline_queue.db.migrate(engine)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table and keeps its rows.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) mode is not supported for the transaction store")
run_migrations_online()
