"""Per-app state of the fleet features: the trust settings, the master key, seen nonces and the counters.

Kept beside :class:`hq.context.HqContext` (in ``app.state.fleet``) so the billing API's context stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI, Request

from hq.credentials import CredentialCache
from hq.nonce_table import NonceTable
from hq.secret_box import SecretBox
from hq.shared_counters import SharedCounters

DEFAULT_INTERVAL_S = 30.0
OFFLINE_AFTER_BEATS = 3  # a terminal is offline once three intervals pass without a beat
COMMAND_TTL = timedelta(hours=24)
HISTORY_RETENTION = timedelta(days=7)
SESSION_MAX_AGE = timedelta(hours=12)
_OWNERS_KEPT = 100_000  # order owners remembered before the memory starts afresh


@dataclass
class FleetContext:
    """What the fleet routes run on; stored in ``app.state.fleet``.

    ``require_signatures``: every /api/v1 request (but the health check) must be signed by a registered
    terminal. When false, unsigned requests are served as before, a signed one is still checked in full, and
    the heartbeat always needs a signature.
    """

    box: SecretBox
    credentials: CredentialCache
    require_signatures: bool = False
    default_interval_s: float = DEFAULT_INTERVAL_S
    offline_after_beats: int = OFFLINE_AFTER_BEATS
    command_ttl: timedelta = COMMAND_TTL
    history_retention: timedelta = HISTORY_RETENTION
    session_max_age: timedelta = SESSION_MAX_AGE
    metrics_token: str | None = None
    # Both in this process's memory, or in files the worker processes of one HQ share (hq.app, hq.workers).
    nonces: NonceTable = field(default_factory=NonceTable)
    counters: SharedCounters = field(default_factory=SharedCounters)
    # An order's terminal never changes: remembered for the ownership check of every status poll.
    order_owners: dict[str, str] = field(default_factory=dict)

    def remember_owner(self, order_no: str, terminal_id: str) -> None:
        """Note the terminal of an order (it never changes), so its ownership checks need no read."""
        if len(self.order_owners) >= _OWNERS_KEPT:
            self.order_owners.clear()
        self.order_owners[order_no] = terminal_id

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter shown by /metrics (heartbeats received, refusals by code...)."""
        self.counters.add(name, amount)

    @property
    def session_key(self) -> bytes:
        return self.box.derive("operator-sessions")


def fleet_context(app: FastAPI) -> FleetContext:
    """The :class:`FleetContext` of an app made by :func:`hq.app.create_app`."""
    fleet = getattr(app.state, "fleet", None)
    if not isinstance(fleet, FleetContext):
        raise RuntimeError("not an HQ app with the fleet features (made by hq.app.create_app)")
    return fleet


async def request_fleet(request: Request) -> FleetContext:
    """FastAPI dependency: the fleet context of the app serving ``request``."""
    return fleet_context(request.app)
