"""Terminal credentials as the signature check needs them, kept in memory between requests.

Every signed request needs its terminal's status and secrets. Reading them from the database and decrypting them
(Fernet) on each request was a fifth of HQ's work under load, for rows that change only when an operator
registers, rotates or revokes a terminal. So each HQ process keeps them, and forgets an entry when it may be
stale:

- a change made through ``hq.terminals`` in this process (the CLI's functions, the tests, an embedded HQ) is
  announced by :func:`forget_everywhere`, at once;
- a change made by another process (``kiosk-hq terminals revoke`` run beside a serving HQ, another HQ process) is
  found by a sweep: at most once every ``sweep_s`` (1 s), on the next request, one query for the terminals whose
  ``created_at``, ``rotated_at`` or ``revoked_at`` is within ``RECENT`` of now. So a revocation made elsewhere
  takes effect within about a second, provided the clocks of the machines agree within ``RECENT`` (5 minutes,
  the signature window: beyond that their signatures fail anyway).

An unknown terminal is not remembered, so registering it needs no announcement to be seen.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select
from sqlalchemy.orm import Session, sessionmaker

from hq.db import read_session
from hq.fleet_models import REVOKED, TerminalRecord
from hq.secret_box import SecretBox
from hq.signing import WINDOW_S

SWEEP_S = 1.0
RECENT = timedelta(seconds=WINDOW_S)

_TERMINAL = cast(Table, TerminalRecord.__table__)
_COLUMNS = (
    _TERMINAL.c.id, _TERMINAL.c.status, _TERMINAL.c.secret_enc, _TERMINAL.c.previous_secret_enc,
    _TERMINAL.c.previous_valid_until, _TERMINAL.c.rotated_at, _TERMINAL.c.revoked_at,
)
_ONE = select(*_COLUMNS).where(_TERMINAL.c.id == bindparam("tid"))
_CHANGED = select(_TERMINAL.c.id, _TERMINAL.c.rotated_at, _TERMINAL.c.revoked_at).where(or_(
    _TERMINAL.c.created_at >= bindparam("since"), _TERMINAL.c.rotated_at >= bindparam("since"),
    _TERMINAL.c.revoked_at >= bindparam("since"),
))


@dataclass(frozen=True)
class Credential:
    """A registered terminal's standing and its secrets in clear (``previous`` during a rotation's grace)."""

    terminal_id: str
    revoked: bool
    secret: str
    previous: str | None
    previous_valid_until: datetime | None
    stamp: tuple[datetime | None, datetime | None]  # (rotated_at, revoked_at) when read

    def secrets_at(self, now: datetime) -> list[str]:
        """The secrets accepted at ``now``: the current one, and the previous one until its grace ends."""
        if self.previous is not None and self.previous_valid_until is not None and now < self.previous_valid_until:
            return [self.secret, self.previous]
        return [self.secret]


class CredentialCache:
    """The credentials of the terminals that have called this HQ process; thread-safe.

    ``decrypt`` failures (:class:`hq.secret_box.SecretUnreadable`) propagate and nothing is kept.
    """

    def __init__(
        self, sessions: sessionmaker[Session], box: SecretBox, now: Callable[[], datetime], sweep_s: float = SWEEP_S
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._now = now
        self._sweep_s = sweep_s
        self._lock = threading.Lock()
        self._kept: dict[str, Credential] = {}
        self._next_sweep = 0.0
        self.reads = 0  # database reads of one terminal's row, for tests and the benchmark
        _CACHES.add(self)

    def get(self, terminal_id: str) -> Credential | None:
        """The terminal's credential, or None when no such terminal is registered."""
        if time.monotonic() >= self._next_sweep:
            self._sweep()
        with self._lock:
            found = self._kept.get(terminal_id)
        if found is not None:
            return found
        with read_session(self._sessions) as session:
            row = session.execute(_ONE, {"tid": terminal_id}).first()
        self.reads += 1
        if row is None:
            return None
        credential = self._credential(row)
        with self._lock:
            self._kept[terminal_id] = credential
        return credential

    def forget(self, terminal_id: str) -> None:
        with self._lock:
            self._kept.pop(terminal_id, None)

    def _credential(self, row: Any) -> Credential:
        return Credential(
            terminal_id=row.id, revoked=row.status == REVOKED, secret=self._box.decrypt(row.secret_enc),
            previous=self._box.decrypt(row.previous_secret_enc) if row.previous_secret_enc else None,
            previous_valid_until=row.previous_valid_until, stamp=(row.rotated_at, row.revoked_at),
        )

    def _sweep(self) -> None:
        """Forget the kept terminals changed (by any process) since they were read."""
        self._next_sweep = time.monotonic() + self._sweep_s
        with read_session(self._sessions) as session:
            changed = session.execute(_CHANGED, {"since": self._now() - RECENT}).all()
        with self._lock:
            for row in changed:
                kept = self._kept.get(row.id)
                if kept is not None and kept.stamp != (row.rotated_at, row.revoked_at):
                    del self._kept[row.id]


_CACHES: weakref.WeakSet[CredentialCache] = weakref.WeakSet()


def forget_everywhere(terminal_id: str) -> None:
    """Drop ``terminal_id`` from every cache of this process: its registration changed (hq.terminals calls this)."""
    for cache in list(_CACHES):
        cache.forget(terminal_id)
