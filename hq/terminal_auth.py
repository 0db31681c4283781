"""Checking a terminal's signed request (hq/signing.py) and that it asks only for its own data.

``terminal_auth`` runs before every /api/v1 route. A signed request is checked in full whatever the mode; an
unsigned one is refused when signatures are required (``kiosk-hq serve``, by default), else served as before.
The terminal it identifies is in ``request.state.terminal_id`` (None for an unsigned request).

Refusals, each ``{"error": {"code", "message"}}``: 401 ``signature_missing``, ``signature_malformed``,
``timestamp_out_of_window`` (with ``server_time``), ``unknown_terminal``, ``signature_invalid``,
``nonce_reused``; 403 ``terminal_revoked``, ``terminal_mismatch``; 503 ``nonce_table_full`` (hq.nonce_table).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Request
from sqlalchemy import select

from hq.clock import iso_utc
from hq.context import HqContext, hq_context
from hq.db import read_session
from hq.errors import HqError
from hq.fleet_context import FleetContext, fleet_context
from hq.models import Order
from hq.nonce_table import NonceTableFull
from hq.secret_box import SecretUnreadable
from hq.signing import (
    NONCE_HEADER,
    NONCE_RE,
    SIGNATURE_HEADER,
    SIGNATURE_RE,
    SIGNED_HEADERS,
    TERMINAL_HEADER,
    TERMINAL_ID_RE,
    TIMESTAMP_HEADER,
    TIMESTAMP_RE,
    WINDOW_S,
    canonical_string,
    signature_matches,
)

log = logging.getLogger(__name__)

UNSIGNED_PATHS = frozenset({"/api/v1/health"})  # liveness stays open to load balancers and monitors


def _refuse(fleet: FleetContext, status: int, code: str, message: str, **extra: Any) -> HqError:
    fleet.count(f"refused:{code}")
    return HqError(status, code, message, **extra)


def signed_path(request: Request) -> str:
    """The request target as the client sent it: raw path, and ``?query`` when there is one."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.scope["path"]
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def terminal_auth(request: Request) -> None:
    """FastAPI dependency of the terminal API: authenticate, then check the data asked for is the terminal's."""
    fleet = fleet_context(request.app)
    request.state.terminal_id = None
    present = [h for h in SIGNED_HEADERS if h in request.headers]
    if not present:
        if fleet.require_signatures and request.url.path not in UNSIGNED_PATHS:
            raise _refuse(fleet, 401, "signature_missing", "This HQ only serves signed requests of registered "
                          f"terminals (headers {', '.join(SIGNED_HEADERS)}).")
        return
    missing = [h for h in SIGNED_HEADERS if h not in request.headers]
    if missing:
        raise _refuse(fleet, 401, "signature_missing", f"Signed request without header(s) {', '.join(missing)}.")
    body = await request.body()
    ctx = hq_context(request.app)

    # In the event loop, not the thread pool: credentials and order owners are kept in memory, and a miss reads
    # one row by primary key, cheaper than a trip to the pool and back, which every terminal request would pay.
    terminal_id = verify_signed(ctx, fleet, request.method, signed_path(request), request.headers, body)
    check_ownership(ctx, fleet, request, terminal_id, body)
    request.state.terminal_id = terminal_id


def verify_signed(
    ctx: HqContext, fleet: FleetContext, method: str, path: str, headers: Any, body: bytes
) -> str:
    """The id of the registered, active terminal that signed this request; HqError otherwise."""
    terminal_id = headers[TERMINAL_HEADER]
    timestamp = headers[TIMESTAMP_HEADER]
    nonce = headers[NONCE_HEADER]
    signature = headers[SIGNATURE_HEADER]
    if not TERMINAL_ID_RE.fullmatch(terminal_id):
        raise _refuse(fleet, 401, "signature_malformed", f"{TERMINAL_HEADER} must be 1 to 32 of A-Z a-z 0-9 _ -.")
    if not TIMESTAMP_RE.fullmatch(timestamp):
        raise _refuse(fleet, 401, "signature_malformed", f"{TIMESTAMP_HEADER} must be Unix time in whole seconds.")
    if not NONCE_RE.fullmatch(nonce):
        raise _refuse(fleet, 401, "signature_malformed", f"{NONCE_HEADER} must be 16 to 64 of A-Z a-z 0-9 _ -.")
    if not SIGNATURE_RE.fullmatch(signature):
        raise _refuse(fleet, 401, "signature_malformed", f"{SIGNATURE_HEADER} must be v1= and 64 hex digits.")
    now = ctx.clock()
    skew = int(timestamp) - now.timestamp()
    if abs(skew) > WINDOW_S:
        raise _refuse(
            fleet, 401, "timestamp_out_of_window",
            f"Request time is {skew:+.0f} s from HQ's clock; more than {WINDOW_S} s off is refused "
            "(check the terminal's clock).", server_time=iso_utc(now),
        )
    try:
        credential = fleet.credentials.get(terminal_id)
    except SecretUnreadable:
        log.error("secret of terminal %s does not decrypt: is HQ running with the right --key-file?", terminal_id)
        raise HqError(500, "terminal_secret_unreadable", "HQ cannot read this terminal's secret.") from None
    if credential is None:
        raise _refuse(fleet, 401, "unknown_terminal", f"No terminal {terminal_id} is registered at HQ.")
    if credential.revoked:
        raise _refuse(fleet, 403, "terminal_revoked", f"Terminal {terminal_id} has been revoked.")
    message = canonical_string(terminal_id, method, path, timestamp, nonce, body)
    if not any(signature_matches(secret, message, signature) for secret in credential.secrets_at(now)):
        raise _refuse(fleet, 401, "signature_invalid", "The signature does not match this request under the "
                      f"secret registered for {terminal_id}.")
    try:
        first = fleet.nonces.first_use(terminal_id, nonce, float(timestamp), now.timestamp())
    except NonceTableFull:
        log.error("nonce table full (%d slots): refusing requests until nonces age out", fleet.nonces.slots)
        raise _refuse(fleet, 503, "nonce_table_full", "HQ remembers too many recent requests to check this one "
                      "against replay; try again shortly.") from None
    if not first:
        raise _refuse(fleet, 401, "nonce_reused", "This nonce was already used: a request is signed once.")
    return terminal_id


def check_ownership(ctx: HqContext, fleet: FleetContext, request: Request, terminal_id: str, body: bytes) -> None:
    """Refuse ``terminal_mismatch`` when a signed request names or touches another terminal's data."""
    owner = _named_terminal(ctx, fleet, request, body)
    if owner is not None and owner != terminal_id:
        raise _refuse(fleet, 403, "terminal_mismatch", f"Terminal {terminal_id} may not act for or read the data "
                      "of another terminal.")


def _named_terminal(ctx: HqContext, fleet: FleetContext, request: Request, body: bytes) -> str | None:
    """The terminal whose data the request is about, if any: a path's, an order's, or the order body's."""
    params = request.path_params
    if "terminal_id" in params:
        return str(params["terminal_id"])
    path = request.url.path
    if "order_no" in params:
        return _owner_of_order(ctx, fleet, str(params["order_no"]))
    if path == "/api/v1/orders" and request.method == "GET":
        key = request.query_params.get("idempotency_key")
        return _order_owner(ctx, Order.idempotency_key == key) if key else None
    if path == "/api/v1/orders" and request.method == "POST":
        try:
            data = json.loads(body)
        except ValueError:
            return None  # the route answers 422
        owner = data.get("terminal_id") if isinstance(data, dict) else None
        return owner if isinstance(owner, str) else None
    return None


def _owner_of_order(ctx: HqContext, fleet: FleetContext, order_no: str) -> str | None:
    owner = fleet.order_owners.get(order_no)
    if owner is None:
        owner = _order_owner(ctx, Order.order_no == order_no)
        if owner is not None:
            fleet.remember_owner(order_no, owner)
    return owner


def _order_owner(ctx: HqContext, where: Any) -> str | None:
    with read_session(ctx.sessions) as session:
        return session.scalar(select(Order.terminal_id).where(where))
