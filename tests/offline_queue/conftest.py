"""Fixtures for the transaction store tests: a fresh store in a folder that does not exist yet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_queue import TransactionStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    # A folder that does not exist yet: open() must create it.
    return tmp_path / "var" / "kiosk" / "transactions.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[TransactionStore]:
    opened = TransactionStore.open(db_path)
    yield opened
    opened.close()
