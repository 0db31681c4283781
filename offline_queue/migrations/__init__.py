"""Alembic migrations of the transaction store, run by offline_queue.db.migrate at open."""
