"""Per-app state shared by the routes: database, clock, public URL, order lifetime and the sandbox's delays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hq.clock import Clock, as_utc
from hq.order_watch import OrderWatch
from hq.payment_codes import DEFAULT_CONFIRM_DELAY


@dataclass
class HqContext:
    """What one HQ app instance runs on; stored in ``app.state.hq``.

    ``confirm_delay`` is how long the sandbox wallet waits for a payer asked to confirm a payment code on the
    phone before it decides by itself (hq.payment_codes). ``watch`` holds the requests waiting for an order to
    change (hq.order_watch); whatever changes an order tells it.
    """

    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    public_url: str | None
    order_ttl: timedelta
    confirm_delay: timedelta = DEFAULT_CONFIRM_DELAY
    watch: OrderWatch = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.watch = OrderWatch(self.sessions, self.now)

    def now(self) -> datetime:
        """The clock's time as aware UTC, in whole seconds (the API's precision)."""
        return as_utc(self.clock()).replace(microsecond=0)

    def base_url(self, request: Request) -> str:
        """The public base URL for absolute links: ``public_url`` or the address the client used."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")


def hq_context(app: FastAPI) -> HqContext:
    """The :class:`HqContext` of an app made by :func:`hq.app.create_app`."""
    ctx = getattr(app.state, "hq", None)
    if not isinstance(ctx, HqContext):
        raise RuntimeError("not an HQ app (made by hq.app.create_app)")
    return ctx


async def request_context(request: Request) -> HqContext:
    """FastAPI dependency: the context of the app serving ``request``."""
    return hq_context(request.app)
