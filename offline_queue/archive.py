"""The archive of finished transactions: append-only monthly gzip JSON-lines files beside the database.

A finished transaction (terminal state, every message to HQ sent) that has not changed for the retention period
moves out of the live journal into ``<database stem>-archive/transactions-YYYY-MM.jsonl.gz`` (the month it was
created, UTC): one JSON line per transaction with its row, its events and its outbox messages exactly as they were
stored. The order of a pass is what makes it safe:

1. read a batch of finished transactions (a snapshot);
2. write them to the month's file: the old file's bytes plus one new gzip member go to a temporary file, which is
   fsynced and renamed over the old one, and the folder is fsynced, so a file is always whole;
3. only then delete them from the live journal, in one BEGIN IMMEDIATE transaction, and only the ones whose rows
   are still exactly as archived.

A crash between 2 and 3 leaves a transaction both archived and live; the next pass archives it again. Readers keep
one copy per transaction (the last written), so the worst a crash does is a duplicate line, never a loss.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from offline_queue.store import (
    OutboxMessage,
    StoredRows,
    TransactionEvent,
    TransactionRecord,
    TransactionStore,
    event_from_row,
    message_from_row,
    record_from_row,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FILE_PREFIX = "transactions-"
FILE_SUFFIX = ".jsonl.gz"
BATCH = 200  # transactions per write-then-delete round: bounds the write lock and the memory of one round


class ArchiveError(Exception):
    """The archive cannot be written (names the file and the problem); nothing was deleted."""


@dataclass(frozen=True)
class ArchivedTransaction:
    """A transaction read back from the archive, with its whole history."""

    record: TransactionRecord
    events: tuple[TransactionEvent, ...]
    outbox: tuple[OutboxMessage, ...]
    archived_at: datetime


@dataclass(frozen=True)
class PassResult:
    """What one archive pass did."""

    archived: int  # transactions moved out of the live journal
    files: tuple[Path, ...]  # archive files written


def archive_folder(database: Path) -> Path:
    """The archive folder of the journal at `database`: beside it, named after it."""
    return database.with_name(f"{database.stem}-archive")


class TransactionArchive:
    """Moves finished transactions out of a store into its archive folder, and reads them back.

    One pass at a time (the terminal runs them on one lane); reading is safe at any time, from any process.
    """

    def __init__(
        self, store: TransactionStore, folder: Path | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self.folder = folder or archive_folder(store.path)
        self._clock = clock or (lambda: datetime.now(UTC))

    def archive_finished(self, older_than: datetime, batch: int = BATCH) -> PassResult:
        """Move every transaction finished and unchanged since before `older_than` into the archive."""
        archived = 0
        files: set[Path] = set()
        while True:
            finished = self._store.finished_before(older_than, batch)
            if not finished:
                break
            files.update(self.write(finished))
            forgotten = self._store.forget(finished)
            archived += len(forgotten)
            if not forgotten or len(finished) < batch:
                break  # nothing more to take, or what is left changed meanwhile (a later pass takes it)
        if archived:
            log.info("archived %d finished transactions into %s", archived, self.folder)
        return PassResult(archived, tuple(sorted(files)))

    def write(self, finished: Sequence[StoredRows]) -> list[Path]:
        """Append the transactions to their months' files, durably (fsynced, renamed whole); the files written."""
        archived_at = self._clock().astimezone(UTC).isoformat(timespec="microseconds")
        by_month: dict[str, list[bytes]] = defaultdict(list)
        for rows in finished:
            entry = {
                "format": FORMAT_VERSION,
                "archived_at": archived_at,
                "transaction": rows.transaction,
                "events": rows.events,
                "outbox": rows.outbox,
            }
            line = json.dumps(entry, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n"
            by_month[str(rows.transaction["created_at"])[:7]].append(line.encode("utf-8"))
        written = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for month, lines in sorted(by_month.items()):
                path = self.folder / f"{FILE_PREFIX}{month}{FILE_SUFFIX}"
                _append_member(path, gzip.compress(b"".join(lines), mtime=0))
                written.append(path)
            _fsync_folder(self.folder)
        except OSError as exc:
            raise ArchiveError(f"archive {self.folder}: cannot write: {exc}") from exc
        return written

    def files(self) -> list[Path]:
        """The archive's files, oldest month first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}"))

    def transactions(self) -> Iterator[ArchivedTransaction]:
        """Every archived transaction once (the copy written last), oldest month first."""
        for path in self.files():
            latest: dict[str, ArchivedTransaction] = {}
            for archived in _entries(path):
                latest[archived.record.id] = archived  # a crash may have archived one twice: keep the last
            yield from sorted(latest.values(), key=lambda a: (a.record.created_at, a.record.id))

    def find(self, tx_id: str) -> ArchivedTransaction | None:
        """The archived transaction with this id, or None."""
        found = None
        for path in self.files():
            for archived in _entries(path):
                if archived.record.id == tx_id:
                    found = archived
        return found


def _append_member(path: Path, member: bytes) -> None:
    """Replace `path` by its bytes plus `member`, through a temporary file that is fsynced, then renamed."""
    temporary = path.with_name(path.name + ".tmp")  # a leftover from a crash is simply overwritten
    with open(temporary, "wb") as out:
        if path.exists():
            with open(path, "rb") as old:
                while chunk := old.read(1 << 20):
                    out.write(chunk)
        out.write(member)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder to fsync it; its rename is durable once the file is
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _entries(path: Path) -> Iterator[ArchivedTransaction]:
    """The transactions of one archive file; a damaged line or file is logged and skipped, never fatal."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    yield _archived(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    log.warning("archive %s: line %d is damaged (%s); skipped", path, number, exc)
    except (OSError, EOFError, zlib.error) as exc:
        log.warning("archive %s: cannot be read to the end: %s", path, exc)


def _archived(entry: dict[str, Any]) -> ArchivedTransaction:
    record = record_from_row(entry["transaction"])
    archived_at = datetime.fromisoformat(entry["archived_at"])
    return ArchivedTransaction(
        record=record,
        events=tuple(event_from_row(row) for row in entry["events"]),
        outbox=tuple(message_from_row(row, record.idempotency_key) for row in entry["outbox"]),
        archived_at=archived_at,
    )
