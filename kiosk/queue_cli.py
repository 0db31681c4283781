"""`kiosk queue`: list, show and export transactions for staff and auditors, from the live journal and its archive.

Reads only; safe while the terminal runs (SQLite WAL readers do not block it). A transaction found both live and
archived (a crash between archiving and deleting) is shown once, from the live journal.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time
from enum import Enum
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from kiosk.config import Config, ConfigError, load_config
from offline_queue.archive import ArchivedTransaction, TransactionArchive
from offline_queue.db import StoreError
from offline_queue.states import TxState
from offline_queue.store import OutboxMessage, RecordNotFound, TransactionEvent, TransactionRecord, TransactionStore

LIVE, ARCHIVE = "live", "archive"
CSV_COLUMNS = (
    "id", "created_at", "updated_at", "state", "terminal_id", "service", "house_id", "house_label", "meter_id",
    "meter_label", "amount_fen", "order_no", "idempotency_key", "receipt_status", "new_balance_fen", "attempts",
    "last_error", "where",
)


class UsageError(Exception):
    """A bad argument, with the message to print."""


def run_queue(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run `kiosk queue ACTION`; 0 done, 1 not found, 2 bad arguments or no usable database."""
    try:
        config = load_config(args.config)
        zone = ZoneInfo(config.terminal.timezone)
        path = Path(args.db) if args.db else _configured_database(config)
        if not path.is_file():
            raise UsageError(f"no transaction database at {path}")
        with TransactionStore.open(path) as store:
            archive = TransactionArchive(store)
            if args.queue_command == "show":
                return _show(store, archive, args.id, zone, out, err)
            state = _state(args.state)
            since = _since(args.since, zone)
            rows = _select(store, archive if args.include_archive else None, state, since)
            if args.queue_command == "list":
                _list(rows, zone, out)
            else:
                count = _export(rows, Path(args.csv))
                print(f"{count} transactions written to {args.csv}", file=out)
            return 0
    except (UsageError, ConfigError, StoreError, OSError) as exc:
        print(f"kiosk queue: {exc}", file=err)
        return 2


def _configured_database(config: Config) -> Path:
    from kiosk.app import database_path  # the app's wiring knows the default place

    return database_path(config)


def _state(text: str | None) -> TxState | None:
    if text is None:
        return None
    try:
        return TxState(text)
    except ValueError:
        raise UsageError(f"--state {text!r}: must be one of {', '.join(s.value for s in TxState)}") from None


def _since(text: str | None, zone: ZoneInfo) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r}: expected a date such as 2026-11-01") from None
    if len(text) <= 10:  # a bare date: from that midnight, terminal time
        moment = datetime.combine(moment.date(), time(0), zone)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _select(
    store: TransactionStore, archive: TransactionArchive | None, state: TxState | None, since: datetime | None
) -> list[tuple[TransactionRecord, str]]:
    """Matching transactions with where each was found, oldest first."""
    live = store.transactions(state=state, created_since=since)
    rows = [(record, LIVE) for record in live]
    if archive is not None:
        seen = {record.id for record in live}
        for archived in archive.transactions():
            record = archived.record
            if record.id in seen or (state is not None and record.state is not state):
                continue
            if since is not None and record.created_at < since:
                continue
            rows.append((record, ARCHIVE))
    rows.sort(key=lambda row: (row[0].created_at, row[0].id))
    return rows


def _list(rows: Iterable[tuple[TransactionRecord, str]], zone: ZoneInfo, out: TextIO) -> None:
    header = ("created", "id", "state", "house", "amount", "order", "receipt", "where")
    table = [header] + [
        (
            _local(r.created_at, zone), r.id, r.state.value, r.house_label, _yuan(r.amount_fen), r.order_no or "-",
            r.receipt_status.value, where,
        )
        for r, where in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)
    print(f"{len(table) - 1} transactions", file=out)


def _show(
    store: TransactionStore, archive: TransactionArchive, tx_id: str, zone: ZoneInfo, out: TextIO, err: TextIO
) -> int:
    found = _find(store, archive, tx_id)
    if found is None:
        print(f"kiosk queue: no transaction {tx_id} in {store.path} or its archive", file=err)
        return 1
    record, events, messages, where = found
    for name, value in (
        ("id", record.id),
        ("where", where),
        ("state", record.state.value),
        ("created", _local(record.created_at, zone)),
        ("updated", _local(record.updated_at, zone)),
        ("terminal", record.terminal_id),
        ("service", record.service),
        ("house", f"{record.house_label} ({record.house_id})"),
        ("meter", f"{record.meter_label} ({record.meter_id})"),
        ("amount", f"{_yuan(record.amount_fen)} yuan ({record.amount_fen} fen)"),
        ("order", record.order_no or "-"),
        ("idempotency key", record.idempotency_key),
        ("receipt", record.receipt_status.value),
        ("new balance", "-" if record.new_balance_fen is None else _yuan(record.new_balance_fen)),
        ("attempts", str(record.attempts)),
        ("last error", record.last_error or "-"),
    ):
        print(f"{name + ':':17}{value}", file=out)
    print("history:", file=out)
    for event in events:
        print(f"  {_event_line(event, zone)}", file=out)
    print("messages to HQ:", file=out)
    for message in messages:
        sent = "not sent" if message.sent_at is None else f"sent {_local(message.sent_at, zone)}"
        error = f", last error: {message.last_error}" if message.last_error else ""
        print(
            f"  #{message.id} {message.kind.value}, written {_local(message.created_at, zone)}, {sent}, "
            f"{message.attempts} failed attempts{error}",
            file=out,
        )
    return 0


def _find(
    store: TransactionStore, archive: TransactionArchive, tx_id: str
) -> tuple[TransactionRecord, Iterable[TransactionEvent], Iterable[OutboxMessage], str] | None:
    try:
        record = store.get(tx_id)
    except RecordNotFound:
        archived: ArchivedTransaction | None = archive.find(tx_id)
        if archived is None:
            return None
        return archived.record, archived.events, archived.outbox, ARCHIVE
    return record, store.history(tx_id), store.outbox_for(tx_id), LIVE


def _event_line(event: TransactionEvent, zone: ZoneInfo) -> str:
    moved = event.to_state.value if event.from_state is None else f"{event.from_state.value} -> {event.to_state.value}"
    reason = f"  ({event.reason})" if event.reason else ""
    detail = f"  {event.detail_json}" if event.detail_json else ""
    return f"{_local(event.at, zone)}  {moved}{reason}{detail}"


def _export(rows: Iterable[tuple[TransactionRecord, str]], path: Path) -> int:
    count = 0
    # utf-8-sig: a spreadsheet opened by double-click reads the Chinese labels right.
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for values in _csv_rows(rows):
            writer.writerow(values)
            count += 1
    return count


def _csv_rows(rows: Iterable[tuple[TransactionRecord, str]]) -> Iterator[list[object]]:
    for record, where in rows:
        values: list[object] = []
        for column in CSV_COLUMNS:
            if column == "where":
                values.append(where)
                continue
            value = getattr(record, column)
            if isinstance(value, datetime):
                value = value.isoformat(timespec="seconds")
            elif isinstance(value, Enum):
                value = value.value
            values.append("" if value is None else value)
        yield values


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
