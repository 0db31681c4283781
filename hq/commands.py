"""Remote commands: issued by an operator, handed out in heartbeat answers, acknowledged by a later beat.

A command handed out but not acknowledged (its answer lost) is handed out again with every beat until it is;
the terminal carries each id out once and repeats its outcome. One not handed out within its time to live
(the terminal stayed away) expires. Every command keeps who issued it, when, and how it ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from hq.db import read_session, write_session
from hq.fleet_models import (
    DELIVERED,
    DONE,
    EXPIRED,
    FAILED,
    OPEN_COMMAND_STATES,
    PENDING,
    REVOKED,
    TerminalCommand,
    TerminalRecord,
)
from hq.fleet_schemas import COMMAND_KINDS, AckIn


class CommandError(ValueError):
    """A command that cannot be issued (unknown kind or terminal, revoked terminal)."""


def issue(
    sessions: sessionmaker[Session], terminal_id: str, kind: str, issued_by: str, now: datetime, ttl: timedelta
) -> TerminalCommand:
    """Queue a command for a terminal's next beat."""
    if kind not in COMMAND_KINDS:
        raise CommandError(f"unknown command {kind!r}; known: {', '.join(COMMAND_KINDS)}")
    with write_session(sessions) as session:
        record = session.get(TerminalRecord, terminal_id)
        if record is None:
            raise CommandError(f"no terminal {terminal_id}")
        if record.status == REVOKED:
            raise CommandError(f"terminal {terminal_id} is revoked")
        command = TerminalCommand(
            terminal_id=terminal_id, kind=kind, issued_by=issued_by[:64], issued_at=now, expires_at=now + ttl,
            status=PENDING, deliveries=0,
        )
        session.add(command)
        session.commit()
        return command


def apply_acks(session: Session, terminal_id: str, acks: Sequence[AckIn], now: datetime) -> None:
    """Record the outcomes a beat reports; only this terminal's open commands are touched, each once."""
    for ack in acks:
        session.execute(
            update(TerminalCommand)
            .where(
                TerminalCommand.id == ack.id,
                TerminalCommand.terminal_id == terminal_id,
                TerminalCommand.status.in_(OPEN_COMMAND_STATES),
            )
            .values(
                status=DONE if ack.status == "done" else FAILED, acked_at=now, detail=ack.detail or None,
                attachment=ack.log,
            )
        )


_ANY_OPEN = (
    select(TerminalCommand.__table__.c.id)
    .where(TerminalCommand.__table__.c.terminal_id == bindparam("tid"),
           TerminalCommand.__table__.c.status.in_(OPEN_COMMAND_STATES))
    .limit(1)
)


def hand_out(session: Session, terminal_id: str, now: datetime) -> list[TerminalCommand]:
    """The terminal's open commands, oldest first, marked delivered; the expired ones are closed instead."""
    if session.execute(_ANY_OPEN, {"tid": terminal_id}).first() is None:
        return []  # the usual beat: a cheap Core query, no ORM load
    rows = list(session.scalars(
        select(TerminalCommand)
        .where(TerminalCommand.terminal_id == terminal_id, TerminalCommand.status.in_(OPEN_COMMAND_STATES))
        .order_by(TerminalCommand.id)
    ))
    out = []
    for command in rows:
        if command.status == PENDING and command.expires_at <= now:
            command.status = EXPIRED
            continue
        command.status = DELIVERED
        command.delivered_at = now
        command.deliveries += 1
        out.append(command)
    return out


def recent(sessions: sessionmaker[Session], terminal_id: str, limit: int = 50) -> list[TerminalCommand]:
    """A terminal's latest commands, newest first (its page)."""
    with read_session(sessions) as session:
        return list(session.scalars(
            select(TerminalCommand)
            .where(TerminalCommand.terminal_id == terminal_id)
            .order_by(TerminalCommand.id.desc())
            .limit(limit)
        ))


def get(sessions: sessionmaker[Session], command_id: int) -> TerminalCommand | None:
    with read_session(sessions) as session:
        return session.get(TerminalCommand, command_id)


__all__ = ["DELIVERED", "DONE", "EXPIRED", "FAILED", "PENDING", "CommandError", "apply_acks", "get", "hand_out",
           "issue", "recent"]
