"""ORM tables of the staff side of the terminal: PIN hashes, the PIN lock, the audit log and runtime overrides.

They live in the transaction database (one file to back up, one set of migrations) but share nothing with the
journal's tables. Revision 0004 creates them; these classes must match it (the schema test compares the two).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from offline_queue.models import Base, UTCDateTime


class StaffMemberRow(Base):
    """A member of staff who may open the maintenance menu: an id and the Argon2id hash of their PIN."""

    __tablename__ = "staff_members"

    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PinLockRow(Base):
    """The one row counting wrong PINs in a row, and until when the menu is locked (survives a restart)."""

    __tablename__ = "staff_pin_lock"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("failures >= 0", name="failures_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One staff action (append-only: triggers refuse updates and deletes)."""

    __tablename__ = "staff_audit"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_id: Mapped[str | None] = mapped_column(String(32))  # None: nobody signed in (a wrong PIN)
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON


class OverrideRow(Base):
    """A value set at the terminal that outlives a restart: a setting changed in the menu, out of service."""

    __tablename__ = "terminal_overrides"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64))
