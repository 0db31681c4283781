"""The heartbeat route: a terminal reports its state; HQ keeps the latest and a history, answers with commands.

``POST /api/v1/terminals/{terminal_id}/heartbeat`` always needs a signature, whatever ``require_signatures``
says, and only for the signer's own id. Each beat writes, in its own savepoint of a transaction shared with the
other beats arriving at the same moment (hq/beat_writer.py): the acknowledged commands, the latest state, a
history row, the counters, and the commands handed out.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from functools import partial
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Table, Update, bindparam, delete, select, update
from sqlalchemy.orm import Session

from hq import commands
from hq.beat_writer import BeatWriter
from hq.clock import as_utc
from hq.context import HqContext, request_context
from hq.errors import HqError
from hq.fleet_context import FleetContext, request_fleet
from hq.fleet_models import TerminalBeat, TerminalCounter, TerminalStatus
from hq.fleet_schemas import CommandOut, CountsIn, HeartbeatIn, HeartbeatOut
from hq.schemas import ErrorOut
from hq.signing import SIGNED_HEADERS
from hq.terminal_auth import terminal_auth

router = APIRouter(prefix="/api/v1", tags=["fleet"], dependencies=[Depends(terminal_auth)])

PRUNE_EVERY_BEATS = 500  # old history is deleted now and then, not on every beat
WORKING_STATES = ("online", "busy")
TerminalId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="The signing terminal's own id")]


async def signed_terminal(request: Request, fleet: Annotated[FleetContext, Depends(request_fleet)]) -> str:
    """FastAPI dependency: the terminal that signed this request; unsigned is refused in every mode."""
    terminal_id = getattr(request.state, "terminal_id", None)
    if terminal_id is None:
        fleet.count("refused:signature_missing")
        raise HqError(401, "signature_missing", f"Only a registered terminal's signed request (headers "
                      f"{', '.join(SIGNED_HEADERS)}) may send a heartbeat.")
    return str(terminal_id)


@router.post(
    "/terminals/{terminal_id}/heartbeat",
    response_model=HeartbeatOut,
    responses={status: {"model": ErrorOut} for status in (401, 403, 422)},
)
async def heartbeat(
    terminal_id: TerminalId,
    beat: HeartbeatIn,
    request: Request,
    ctx: Annotated[HqContext, Depends(request_context)],
    fleet: Annotated[FleetContext, Depends(request_fleet)],
    signer: Annotated[str, Depends(signed_terminal)],
) -> HeartbeatOut:
    """Store the terminal's state, record the outcomes of earlier commands, and hand out the waiting ones.

    Errors: 401 signature_missing and the other signature refusals (docs/api.md); 403 terminal_revoked,
    terminal_mismatch; 422 invalid_request.
    """
    fleet.count("heartbeats")
    writer: BeatWriter = request.app.state.beat_writer
    # Answered once the beat is committed, with the other beats waiting at the same moment (hq/beat_writer.py).
    handed = await asyncio.wrap_future(writer.submit(partial(write_beat, ctx, fleet, signer, beat)))
    return HeartbeatOut(server_time=ctx.now(), commands=handed)


def write_beat(
    ctx: HqContext, fleet: FleetContext, terminal_id: str, beat: HeartbeatIn, session: Session
) -> list[CommandOut]:
    """Write one beat in ``session`` (the caller commits); the commands handed out in its answer."""
    now = as_utc(ctx.clock())
    values = _status_values(beat, now)
    if beat.cut_off_s is not None:
        values.update(last_cut_off_s=beat.cut_off_s, last_cut_off_at=now)
    # Prepared Core statements (built once per set of columns, compiled once by SQLAlchemy's cache), no ORM
    # objects unless a command is waiting.
    conn = session.connection()
    if beat.acks:
        commands.apply_acks(session, terminal_id, beat.acks, now)
    beats = conn.execute(_bump_status(frozenset(values)), {"tid": terminal_id, **values}).scalar()
    if beats is None:
        beats = 1
        conn.execute(_STATUS.insert(), {"terminal_id": terminal_id, "beats": beats, **values})
    conn.execute(_BEAT.insert(), {
        "terminal_id": terminal_id, "received_at": now, "health": values["health"],
        "problems": values["problems"], "out_of_service": beat.out_of_service, "paper": values["paper"],
        "queue_waiting": beat.queue.waiting, "queue_attention": beat.queue.needs_attention,
        "latency_ms": beat.latency_ms, "cut_off_s": beat.cut_off_s,
    })
    _add_counts(session, terminal_id, beat.counts)
    handed = commands.hand_out(session, terminal_id, now)
    if beats % PRUNE_EVERY_BEATS == 0:
        session.execute(delete(TerminalBeat).where(
            TerminalBeat.terminal_id == terminal_id, TerminalBeat.received_at < now - fleet.history_retention
        ))
    return [CommandOut(id=c.id, kind=c.kind, issued_at=c.issued_at) for c in handed]  # type: ignore[arg-type]


_STATUS = cast(Table, TerminalStatus.__table__)
_BEAT = cast(Table, TerminalBeat.__table__)


@functools.cache
def _bump_status(columns: frozenset[str]) -> Update:
    """``UPDATE terminal_status SET beats = beats + 1, <columns> ... RETURNING beats`` with bound values."""
    return (
        update(_STATUS).where(_STATUS.c.terminal_id == bindparam("tid"))
        .values(beats=_STATUS.c.beats + 1, **{name: bindparam(name) for name in sorted(columns)})
        .returning(_STATUS.c.beats)
    )


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
