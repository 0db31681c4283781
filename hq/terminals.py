"""The terminal registry: register, rotate, revoke and list terminals (``kiosk-hq terminals ...``).

Each terminal gets its own random secret, shown once when registered or rotated, and stored encrypted
(hq/secret_box.py). The terminal keeps it in a file named by ``terminal.secret_file`` in its configuration.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hq.credentials import forget_everywhere
from hq.db import read_session, write_session
from hq.fleet_models import ACTIVE, REVOKED, TerminalRecord
from hq.secret_box import SecretBox
from hq.signing import TERMINAL_ID_RE

SECRET_BYTES = 32


class RegistryError(ValueError):
    """A registry operation that cannot be done (unknown id, already registered, bad id)."""


@dataclass(frozen=True)
class TerminalInfo:
    """A registered terminal, without its secret."""

    id: str
    name: str
    status: str
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Credentials:
    """What the terminal needs: its id and the secret for its ``terminal.secret_file``."""

    terminal_id: str
    secret: str


def new_secret() -> str:
    """A fresh terminal secret: 32 random bytes, urlsafe base64 (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _checked_id(terminal_id: str) -> str:
    if not TERMINAL_ID_RE.fullmatch(terminal_id):
        raise RegistryError(f"terminal id {terminal_id!r} must be 1 to 32 characters from A-Z a-z 0-9 _ -")
    return terminal_id


def register(
    sessions: sessionmaker[Session], box: SecretBox, terminal_id: str, now: datetime, *, name: str = "",
    secret: str | None = None,
) -> Credentials:
    """Register a new terminal and return its secret (shown once). A revoked id cannot be registered again."""
    _checked_id(terminal_id)
    secret = secret or new_secret()
    with write_session(sessions) as session:
        if session.get(TerminalRecord, terminal_id) is not None:
            raise RegistryError(f"terminal {terminal_id} is already registered (rotate its secret instead)")
        session.add(TerminalRecord(
            id=terminal_id, name=name[:64], secret_enc=box.encrypt(secret), status=ACTIVE, created_at=now,
        ))
        session.commit()
    return Credentials(terminal_id, secret)


def rotate(
    sessions: sessionmaker[Session], box: SecretBox, terminal_id: str, now: datetime, *,
    grace: timedelta = timedelta(0),
) -> Credentials:
    """Give a terminal a new secret; the old one keeps working for ``grace`` (to install the new one)."""
    secret = new_secret()
    with write_session(sessions) as session:
        record = session.get(TerminalRecord, terminal_id)
        if record is None:
            raise RegistryError(f"no terminal {terminal_id}")
        if record.status == REVOKED:
            raise RegistryError(f"terminal {terminal_id} is revoked; register a new id instead")
        if grace > timedelta(0):
            record.previous_secret_enc, record.previous_valid_until = record.secret_enc, now + grace
        else:
            record.previous_secret_enc, record.previous_valid_until = None, None
        record.secret_enc = box.encrypt(secret)
        record.rotated_at = now
        session.commit()
    forget_everywhere(terminal_id)
    return Credentials(terminal_id, secret)


def revoke(sessions: sessionmaker[Session], terminal_id: str, now: datetime) -> None:
    """Refuse every further request of this terminal (its history stays)."""
    with write_session(sessions) as session:
        record = session.get(TerminalRecord, terminal_id)
        if record is None:
            raise RegistryError(f"no terminal {terminal_id}")
        record.status = REVOKED
        record.revoked_at = now
        record.previous_secret_enc, record.previous_valid_until = None, None
        session.commit()
    forget_everywhere(terminal_id)


def list_terminals(sessions: sessionmaker[Session]) -> list[TerminalInfo]:
    with read_session(sessions) as session:
        return [
            TerminalInfo(r.id, r.name, r.status, r.created_at, r.rotated_at, r.revoked_at)
            for r in session.scalars(select(TerminalRecord).order_by(TerminalRecord.id))
        ]
