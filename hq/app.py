"""The FastAPI application factory."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from hq import api, receipts, sandbox
from hq.clock import Clock, utc_now
from hq.context import HqContext
from hq.db import create_engine_for, make_session_factory
from hq.errors import install_error_handlers
from hq.models import Base

DEFAULT_ORDER_TTL = timedelta(minutes=10)


def create_app(
    db_url: str,
    public_url: str | None = None,
    clock: Clock | None = None,
    *,
    order_ttl: timedelta = DEFAULT_ORDER_TTL,
    create_tables: bool = True,
) -> FastAPI:
    """The HQ app on database ``db_url`` (any SQLAlchemy URL).

    ``public_url`` is the base of ``pay_url`` and ``receipt_url`` (default: the address each request used);
    ``clock`` returns aware UTC (default: the system clock); orders expire ``order_ttl`` after creation.
    Tables are created if missing unless ``create_tables`` is false. The engine is in
    ``hq.context.hq_context(app).engine``; dispose of it when done.
    """
    if order_ttl <= timedelta(0):
        raise ValueError("order_ttl must be positive")
    engine = create_engine_for(db_url)
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
    )
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(sandbox.router)
    app.include_router(receipts.router)
    return app
