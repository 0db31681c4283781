"""Tables of the fleet: registered terminals, their latest state and beat history, remote commands, counters
reported by the terminals, the operators who log in to the dashboard and their recent failed logins.

On the same declarative base as ``hq.models``, so ``create_all`` adds them to an existing database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hq.db import UtcDateTime
from hq.models import Base

ACTIVE = "active"
REVOKED = "revoked"

# Command states: pending (not yet handed out), delivered (in a heartbeat's answer, not yet acknowledged),
# done or failed (acknowledged with its outcome), expired (never delivered in time).
PENDING = "pending"
DELIVERED = "delivered"
DONE = "done"
FAILED = "failed"
EXPIRED = "expired"
OPEN_COMMAND_STATES = (PENDING, DELIVERED)


class TerminalRecord(Base):
    """A terminal registered at HQ and its secret, encrypted under the master key (hq/secret_box.py).

    After a rotation the previous secret stays valid until ``previous_valid_until`` (a grace period to install
    the new one on the terminal); then only the new one is.
    """

    __tablename__ = "terminal"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    secret_enc: Mapped[str] = mapped_column(Text)
    previous_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(12), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TerminalStatus(Base):
    """A terminal's latest heartbeat: the columns the dashboard filters on, and the whole report as JSON."""

    __tablename__ = "terminal_status"

    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminal.id"), primary_key=True)
    last_beat_at: Mapped[datetime] = mapped_column(UtcDateTime())
    interval_s: Mapped[float] = mapped_column(Float)
    version: Mapped[str] = mapped_column(String(32))
    uptime_s: Mapped[float] = mapped_column(Float)
    out_of_service: Mapped[bool] = mapped_column(Boolean, default=False)
    health: Mapped[str] = mapped_column(String(16))
    problems: Mapped[str] = mapped_column(Text, default="")  # space-separated problem codes
    paper: Mapped[str | None] = mapped_column(String(12))
    devices_in_error: Mapped[int] = mapped_column(Integer, default=0)
    queue_waiting: Mapped[int] = mapped_column(Integer, default=0)
    queue_attention: Mapped[int] = mapped_column(Integer, default=0)
    queue_oldest_s: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    disk_free_bytes: Mapped[int | None] = mapped_column(BigInteger)
    last_journey_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_journey_result: Mapped[str | None] = mapped_column(String(24))
    last_journey_s: Mapped[float | None] = mapped_column(Float)
    last_cut_off_s: Mapped[float | None] = mapped_column(Float)
    last_cut_off_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    beats: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[str] = mapped_column(Text)


class TerminalBeat(Base):
    """One heartbeat as received, in summary (the history on a terminal's page)."""

    __tablename__ = "terminal_beat"
    __table_args__ = (Index("ix_terminal_beat_terminal_received", "terminal_id", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    health: Mapped[str] = mapped_column(String(16))
    problems: Mapped[str] = mapped_column(Text, default="")
    out_of_service: Mapped[bool] = mapped_column(Boolean, default=False)
    paper: Mapped[str | None] = mapped_column(String(12))
    queue_waiting: Mapped[int] = mapped_column(Integer, default=0)
    queue_attention: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    cut_off_s: Mapped[float | None] = mapped_column(Float)


class TerminalCommand(Base):
    """A remote command for a terminal and its outcome, as the terminal acknowledged it."""

    __tablename__ = "terminal_command"
    __table_args__ = (Index("ix_terminal_command_open", "terminal_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminal.id"))
    kind: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    detail: Mapped[str | None] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(Text)  # send_log: the log lines the terminal sent


class TerminalCounter(Base):
    """A running total a terminal reports in its beats (journeys by entry, languages, modes...)."""

    __tablename__ = "terminal_counter"
    __table_args__ = (UniqueConstraint("terminal_id", "name", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float, default=0.0)


class Operator(Base):
    """A person who logs in to the fleet dashboard; the password is a scrypt hash (hq/operators.py)."""

    __tablename__ = "operator"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class OperatorLoginFailure(Base):
    """A failed dashboard login, kept for the login throttle's window (hq/login_throttle.py).

    In the database so every HQ process on it shares the throttle and a restart does not reset it; rows older
    than the window are pruned as failures are recorded.
    """

    __tablename__ = "operator_login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
