"""What a resident card's holder chose on a terminal (standard or elderly mode), given back when the card is used.

The terminal sets it after a card identifies a house in a mode the resident chose on the idle screen
(`PUT /api/v1/card-preferences`), and `POST /api/v1/identify` by card answers with it (`preferred_mode`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.errors import HqError
from hq.models import CardPreference, Resident


def preferred_mode(session: Session, card_id: str) -> str | None:
    """The mode stored for ``card_id``, or None."""
    return session.scalar(select(CardPreference.mode).where(CardPreference.card_id == card_id.upper()))


def set_preferred_mode(session: Session, card_id: str, mode: str, now: datetime, terminal_id: str | None) -> str:
    """Store ``mode`` for a known resident card (the caller commits); 404 ``unknown_card`` for any other card."""
    card = card_id.upper()
    if session.scalar(select(Resident.id).where(Resident.card_id == card).limit(1)) is None:
        raise HqError(404, "unknown_card", f"No resident card {card}.")
    row = session.get(CardPreference, card)
    if row is None:
        session.add(CardPreference(card_id=card, mode=mode, updated_at=now, terminal_id=terminal_id))
    else:
        row.mode, row.updated_at, row.terminal_id = mode, now, terminal_id
    return mode
