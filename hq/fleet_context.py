"""Per-app state of the fleet features: the trust settings, the master key, seen nonces and process counters.

Kept beside :class:`hq.context.HqContext` (in ``app.state.fleet``) so the billing API's context stays as it is.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI, Request

from hq.credentials import CredentialCache
from hq.secret_box import SecretBox
from hq.signing import WINDOW_S

DEFAULT_INTERVAL_S = 30.0
OFFLINE_AFTER_BEATS = 3  # a terminal is offline once three intervals pass without a beat
COMMAND_TTL = timedelta(hours=24)
HISTORY_RETENTION = timedelta(days=7)
SESSION_MAX_AGE = timedelta(hours=12)


class NonceCache:
    """Nonces seen within the signature window, per terminal, in memory.

    In memory because a write per request would put every status poll behind SQLite's write lock. What this
    costs: with several HQ processes behind one address, or right after a restart, a request captured in the last
    five minutes could be replayed once; run one HQ process per database (docs/api.md).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []

    def first_use(self, terminal_id: str, nonce: str, timestamp: float, now: float) -> bool:
        """Record the nonce; False when it was already used in a request that is still within the window."""
        key = (terminal_id, nonce)
        # A replay is only accepted while |now - timestamp| <= window, so the nonce need be kept no longer.
        expiry = timestamp + WINDOW_S
        with self._lock:
            while self._heap and self._heap[0][0] < now:
                old_expiry, old_key = heapq.heappop(self._heap)
                if self._expiry.get(old_key) == old_expiry:
                    del self._expiry[old_key]
            if key in self._expiry:
                return False
            self._expiry[key] = expiry
            heapq.heappush(self._heap, (expiry, key))
            return True

    def __len__(self) -> int:
        return len(self._expiry)


class LoginThrottle:
    """Slows password guessing: after ``limit`` failures for a name within ``window_s``, refuse until it passes."""

    def __init__(self, limit: int = 5, window_s: float = 300.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

    def blocked(self, username: str, now: float) -> bool:
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if now - t < self.window_s]
            self._failures[username] = recent
            return len(recent) >= self.limit

    def failed(self, username: str, now: float) -> None:
        with self._lock:
            self._failures.setdefault(username, []).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)


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
    nonces: NonceCache = field(default_factory=NonceCache)
    logins: LoginThrottle = field(default_factory=LoginThrottle)
    counters: Counter[str] = field(default_factory=Counter)
    # An order's terminal never changes: remembered for the ownership check of every status poll.
    order_owners: dict[str, str] = field(default_factory=dict)
    _counter_lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a process counter shown by /metrics (heartbeats received, refusals by code...)."""
        with self._counter_lock:
            self.counters[name] += amount

    def counters_snapshot(self) -> dict[str, int]:
        with self._counter_lock:
            return dict(self.counters)

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
