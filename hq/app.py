"""The FastAPI application factory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI

from hq import api, dashboard, heartbeat, metrics, receipts, sandbox
from hq.beat_batches import BeatBatches
from hq.beat_writer import BeatWriter
from hq.clock import Clock, utc_now
from hq.context import HqContext
from hq.credentials import CredentialCache
from hq.db import create_engine_for, make_session_factory
from hq.errors import install_error_handlers
from hq.fleet_context import FleetContext
from hq.heartbeat import HeartbeatEndpoint
from hq.models import Base
from hq.nonce_table import NonceTable
from hq.payment_codes import DEFAULT_CONFIRM_DELAY
from hq.peer_wake import PeerWake
from hq.secret_box import SecretBox
from hq.shared_counters import SharedCounters
from hq.terminal_auth import terminal_auth

DEFAULT_ORDER_TTL = timedelta(minutes=10)


def create_app(
    db_url: str,
    public_url: str | None = None,
    clock: Clock | None = None,
    *,
    order_ttl: timedelta = DEFAULT_ORDER_TTL,
    confirm_delay: timedelta = DEFAULT_CONFIRM_DELAY,
    create_tables: bool = True,
    require_signatures: bool = False,
    secret_box: SecretBox | None = None,
    metrics_token: str | None = None,
    run_dir: Path | None = None,
) -> FastAPI:
    """The HQ app on database ``db_url`` (any SQLAlchemy URL).

    ``public_url`` is the base of ``pay_url`` and ``receipt_url`` (default: the address each request used);
    ``clock`` returns aware UTC (default: the system clock); orders expire ``order_ttl`` after creation; a payer
    asked to confirm a payment code who does nothing is decided for by the sandbox after ``confirm_delay``.
    Tables are created if missing unless ``create_tables`` is false. The engine is in
    ``hq.context.hq_context(app).engine``; dispose of it when done.

    Terminals sign their requests (docs/api.md "Signed requests"): with ``require_signatures`` an unsigned
    /api/v1 request is refused, else served as before (a signed one is always checked). ``secret_box`` holds
    the master key that encrypts terminal secrets and signs operator sessions (default: a random one, for
    tests); ``metrics_token``, if given, is the bearer token /metrics asks for.

    ``run_dir`` is the directory the worker processes of one ``kiosk-hq serve --workers N`` share (hq.workers):
    the replay table of nonces, the /metrics counters and the word that an order changed. Without it, this app
    keeps them in its own memory, for one process. Release what the app holds with :func:`close_app`.
    """
    if order_ttl <= timedelta(0):
        raise ValueError("order_ttl must be positive")
    if confirm_delay <= timedelta(0):
        raise ValueError("confirm_delay must be positive")
    engine = create_engine_for(db_url, background_checkpoints=True)
    if create_tables:
        Base.metadata.create_all(engine)
    app = FastAPI(
        title="Community kiosk HQ API",
        version="1",
        description="Billing and payment API for the lobby payment kiosks (docs/api.md). "
        "Money is integer fen; times are ISO 8601 UTC.",
    )
    app.state.hq = HqContext(
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock or utc_now,
        public_url=public_url.rstrip("/") if public_url else None,
        order_ttl=order_ttl,
        confirm_delay=confirm_delay,
    )
    box = secret_box or SecretBox.ephemeral()
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    app.state.fleet = FleetContext(
        box=box, credentials=CredentialCache(app.state.hq.sessions, box, app.state.hq.clock),
        require_signatures=require_signatures, metrics_token=metrics_token,
        nonces=NonceTable(run_dir / "nonces" if run_dir else None, key=box.derive("nonce-table")),
        counters=SharedCounters(run_dir / "counters" if run_dir else None),
    )
    app.state.peers = None
    if run_dir is not None:
        app.state.peers = PeerWake(run_dir / "wake", app.state.hq.watch.wake_here)
        app.state.hq.watch.announce = app.state.peers.announce
    app.state.beat_writer = BeatWriter(app.state.hq, BeatBatches(app.state.hq, app.state.fleet))
    app.add_middleware(HeartbeatEndpoint)
    install_error_handlers(app)
    app.include_router(api.router, dependencies=[Depends(terminal_auth)])
    app.include_router(dashboard.router)
    app.include_router(metrics.router)
    app.include_router(sandbox.router)
    app.include_router(receipts.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = heartbeat.document(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def close_app(app: FastAPI) -> None:
    """Release what an app of :func:`create_app` holds: its word with other workers, its nonce table and
    counters, and its database engine."""
    if app.state.peers is not None:
        app.state.peers.close()
    app.state.fleet.nonces.close()
    app.state.fleet.counters.close()
    app.state.hq.engine.dispose()
