"""Writing heartbeats: a batch of them in one transaction, with a few set-based statements (hq/beat_writer.py).

Per beat: the acknowledged commands, the latest state (one row per terminal, inserted at its first beat), a history
row, the counters it reports, and the open commands handed out in its answer.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Insert, Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hq import commands
from hq.clock import as_utc
from hq.context import HqContext
from hq.fleet_context import FleetContext
from hq.fleet_models import OPEN_COMMAND_STATES, TerminalBeat, TerminalCommand, TerminalCounter, TerminalStatus
from hq.fleet_schemas import CommandOut, CountsIn, HeartbeatIn

PRUNE_EVERY_S = 600.0  # a terminal's old history is deleted now and then, not on every beat
WORKING_STATES = ("online", "busy")

Beat = tuple[str, HeartbeatIn]  # the signing terminal's id and its report


class BeatBatches:
    """The beat writer's ``write_all``: writes a batch of beats; the commands handed out in each one's answer.

    A terminal's history older than ``history_retention`` is deleted at its first beat after HQ starts, then every
    ``PRUNE_EVERY_S``.
    """

    def __init__(self, ctx: HqContext, fleet: FleetContext) -> None:
        self._ctx = ctx
        self._fleet = fleet
        self._pruned_at: dict[str, float] = {}

    def __call__(self, session: Session, beats: list[Beat]) -> list[list[CommandOut]]:
        now = as_utc(self._ctx.clock())
        conn = session.connection()
        ids = sorted({terminal_id for terminal_id, _ in beats})
        for terminal_id, beat in beats:
            if beat.acks:
                commands.apply_acks(session, terminal_id, beat.acks, now)
        rows = [(terminal_id, beat, _status_values(beat, now)) for terminal_id, beat in beats]
        # One row per terminal however many of its beats the batch holds: the latest values (a cut-off reported
        # by an earlier one kept), and its beats counted. One upsert statement for the batch.
        latest: dict[str, dict[str, object]] = {}
        counted: dict[str, int] = {}
        for terminal_id, _, values in rows:
            latest.setdefault(terminal_id, {}).update(values)
            counted[terminal_id] = counted.get(terminal_id, 0) + 1
        # Rows in terminal order, here and for the counts below: another worker's batch may hold the same
        # terminals, and on PostgreSQL two transactions locking rows in different orders deadlock.
        by_columns: dict[frozenset[str], list[dict[str, object]]] = {}
        for terminal_id in ids:
            values = latest[terminal_id]
            by_columns.setdefault(frozenset(values), []).append(
                {"terminal_id": terminal_id, "beats": counted[terminal_id], **values})
        for columns, params in by_columns.items():
            conn.execute(_upsert_status(conn.dialect.name, columns), params)
        conn.execute(_BEAT.insert(), [{
            "terminal_id": terminal_id, "received_at": now, "health": values["health"],
            "problems": values["problems"], "out_of_service": beat.out_of_service, "paper": values["paper"],
            "queue_waiting": beat.queue.waiting, "queue_attention": beat.queue.needs_attention,
            "latency_ms": beat.latency_ms, "cut_off_s": beat.cut_off_s,
        } for terminal_id, beat, values in rows])
        for terminal_id, beat in sorted(beats, key=lambda item: item[0]):
            _add_counts(session, terminal_id, beat.counts)
        with_commands = set(conn.execute(_WITH_OPEN_COMMANDS, {"ids": ids}).scalars())
        answers = []
        for terminal_id, _ in beats:
            handed = commands.hand_out(session, terminal_id, now) if terminal_id in with_commands else []
            answers.append([CommandOut(id=c.id, kind=c.kind, issued_at=c.issued_at)  # type: ignore[arg-type]
                            for c in handed])
        self._prune(conn, ids, now)
        return answers

    def _prune(self, conn: Connection, ids: list[str], now: datetime) -> None:
        clock = time.monotonic()
        for terminal_id in ids:
            if clock - self._pruned_at.get(terminal_id, -PRUNE_EVERY_S) >= PRUNE_EVERY_S:
                self._pruned_at[terminal_id] = clock
                conn.execute(_PRUNE, {"tid": terminal_id, "before": now - self._fleet.history_retention})


_STATUS = cast(Table, TerminalStatus.__table__)
_BEAT = cast(Table, TerminalBeat.__table__)
_COMMAND = cast(Table, TerminalCommand.__table__)
_WITH_OPEN_COMMANDS = select(_COMMAND.c.terminal_id).distinct().where(
    _COMMAND.c.terminal_id.in_(bindparam("ids", expanding=True)), _COMMAND.c.status.in_(OPEN_COMMAND_STATES)
)
_PRUNE = delete(_BEAT).where(_BEAT.c.terminal_id == bindparam("tid"), _BEAT.c.received_at < bindparam("before"))


@functools.cache
def _upsert_status(dialect: str, columns: frozenset[str]) -> Insert:
    """``INSERT INTO terminal_status ... ON CONFLICT (terminal_id) DO UPDATE SET beats = beats + excluded.beats,
    <columns> = excluded.<columns> RETURNING terminal_id`` (SQLite and PostgreSQL say it alike).

    The RETURNING, whose rows nobody reads, is what makes SQLAlchemy send a batch's rows as one multi-row
    statement ("insertmanyvalues"): without it, that form is off for ON CONFLICT, and the batch went as one
    statement per row, each parsed and planned by PostgreSQL. Each terminal appears once in a batch, as a
    multi-row upsert needs. (Rows written into the statement's VALUES instead cost SQLAlchemy ~10 ms of CPU a
    batch of 32 to compile.)
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_STATUS)
    return statement.on_conflict_do_update(
        index_elements=[_STATUS.c.terminal_id],
        set_={"beats": _STATUS.c.beats + statement.excluded.beats,
              **{name: statement.excluded[name] for name in sorted(columns)}},
    ).returning(_STATUS.c.terminal_id)


def _status_values(beat: HeartbeatIn, now: datetime) -> dict[str, object]:
    paper = next((d.paper for d in beat.devices if d.paper is not None), None)
    last = beat.last_journey
    return {
        "last_beat_at": now,
        "interval_s": beat.interval_s,
        "version": beat.software_version,
        "uptime_s": beat.uptime_s,
        "out_of_service": beat.out_of_service,
        "health": beat.health.status,
        "problems": " ".join(beat.health.problems),
        "paper": paper,
        "devices_in_error": sum(1 for d in beat.devices if d.state not in WORKING_STATES),
        "queue_waiting": beat.queue.waiting,
        "queue_attention": beat.queue.needs_attention,
        "queue_oldest_s": beat.queue.oldest_age_s,
        "latency_ms": beat.latency_ms,
        "disk_free_bytes": beat.disk_free_bytes,
        "last_journey_at": last.ended_at if last else None,
        "last_journey_result": last.result if last else None,
        "last_journey_s": last.duration_s if last else None,
        "report": beat.model_dump_json(exclude={"acks"}),
        **({"last_cut_off_s": beat.cut_off_s, "last_cut_off_at": now} if beat.cut_off_s is not None else {}),
    }


def _add_counts(session: Session, terminal_id: str, counts: CountsIn) -> None:
    """Add the beat's counts to the terminal's running totals (one row per name and label)."""
    additions: dict[tuple[str, str], float] = {}
    for name, table in (("language", counts.languages), ("mode", counts.modes), ("result", counts.results)):
        for label, count in table.items():
            if count:
                additions[(name, label)] = float(count)
    for entry, figures in counts.entries.items():
        for name, figure in (("entry_journeys", float(figures.journeys)), ("entry_paid", float(figures.paid)),
                             ("entry_seconds", figures.seconds)):
            if figure:
                additions[(name, entry)] = figure
    if not additions:
        return
    existing = {
        (row.name, row.label): row
        for row in session.scalars(select(TerminalCounter).where(TerminalCounter.terminal_id == terminal_id))
    }
    for (name, label), value in additions.items():
        row = existing.get((name, label))
        if row is None:
            session.add(TerminalCounter(terminal_id=terminal_id, name=name, label=label, value=value))
        else:
            row.value += value
