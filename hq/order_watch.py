"""Long polls of an order's status (``GET /api/v1/orders/{order_no}?wait_s=...``): who waits, and waking them.

A waiting request holds neither a database session nor a thread: it awaits an asyncio event of its own. Three
things set it:

- every code path of this process that changes an order's status calls :meth:`OrderWatch.changed` once its
  transaction has committed (``hq.orders``: pay, decline, cancel, a confirmation decided; ``hq.code_payments``);
  these run on the thread pool or in the event loop, so waking goes through ``call_soon_threadsafe``;
- when HQ runs as several worker processes, another worker's word that it changed an order (hq.peer_wake);
- a sweep, one per event loop while anyone waits on it, re-reads every watched order in one query each
  ``recheck_s`` (1 s): it sees a change made by another process on the same database (a worker's word that
  was lost, the command line), an unpaid order reaching its expiry (a status no row change announces) and a
  payment-code confirmation falling due (decided when the woken request reads the order, as any read does).

A woken request reads the order again and answers it, or waits on if its status did not change after all.
When the server shuts down, :meth:`OrderWatch.close` answers every waiting request at once (with the order as it
is), so a restart does not wait for them nor cut them off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hq.db import read_session
from hq.models import AWAITING_PAYMENT, CONFIRMING, EXPIRED, Order, PaymentCode

log = logging.getLogger(__name__)

RECHECK_S = 1.0
MAX_WAIT_S = 25
_CHUNK = 500  # order numbers per IN (...) of the sweep's query
_DUE = "confirmation_due"  # the sweep's name for a confirmation past its delay: not a status anyone has seen


@dataclass(eq=False)
class _Waiter:
    order_no: str
    seen: str  # the status (as clients see it) the request began waiting on
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # its loop has closed: nobody is waiting any more
            self.loop.call_soon_threadsafe(self.event.set)


class OrderWatch:
    """The requests waiting for orders to change, in one HQ process."""

    def __init__(
        self, sessions: sessionmaker[Session], now: Callable[[], datetime], recheck_s: float = RECHECK_S
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._recheck_s = recheck_s
        self._lock = threading.Lock()
        self._waiters: dict[str, set[_Waiter]] = {}
        self._sweepers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self.closed = False
        # Tells the other worker processes of this HQ (hq.peer_wake); None when this process serves alone.
        self.announce: Callable[[str], None] | None = None

    def waiting(self, order_no: str | None = None) -> int:
        """How many requests wait now (on order ``order_no``, if given)."""
        with self._lock:
            if order_no is not None:
                return len(self._waiters.get(order_no, ()))
            return sum(len(waiters) for waiters in self._waiters.values())

    def changed(self, order_no: str) -> None:
        """Order ``order_no`` changed (its transaction committed): wake whoever waits on it, here and, through
        ``announce`` when set, in the other worker processes. Any thread."""
        self.wake_here(order_no)
        if self.announce is not None:
            self.announce(order_no)

    def wake_here(self, order_no: str) -> None:
        """Wake whoever waits on order ``order_no`` in this process. Any thread."""
        with self._lock:
            waiters = tuple(self._waiters.get(order_no, ()))
        for waiter in waiters:
            waiter.wake()

    def close(self) -> None:
        """The server is stopping: wake every waiting request and let no more wait. Any thread."""
        with self._lock:
            self.closed = True
            waiters = [w for ws in self._waiters.values() for w in ws]
        for waiter in waiters:
            waiter.wake()

    async def wait(self, order_no: str, seen: str, timeout_s: float) -> None:
        """Return when order ``order_no`` may have changed from status ``seen``, or after ``timeout_s`` (at once
        once closed)."""
        if timeout_s <= 0:
            return
        loop = asyncio.get_running_loop()
        waiter = _Waiter(order_no, seen, loop)
        with self._lock:
            if self.closed:
                return
            self._waiters.setdefault(order_no, set()).add(waiter)
            if loop not in self._sweepers:
                self._sweepers[loop] = loop.create_task(self._sweep(loop), name="hq-order-watch")
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.event.wait(), timeout_s)
        finally:
            sweeper = self._forget(waiter)
            if sweeper is not None:
                sweeper.cancel()

    def _forget(self, waiter: _Waiter) -> asyncio.Task[None] | None:
        """Drop ``waiter``; the sweeper of its loop if nobody else waits there (for the caller to cancel)."""
        with self._lock:
            waiters = self._waiters.get(waiter.order_no)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[waiter.order_no]
            if any(w.loop is waiter.loop for ws in self._waiters.values() for w in ws):
                return None
            return self._sweepers.pop(waiter.loop, None)

    async def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            await asyncio.sleep(self._recheck_s)
            with self._lock:
                waiters = [w for ws in self._waiters.values() for w in ws if w.loop is loop]
            if not waiters:
                continue
            try:
                current = self.statuses({w.order_no for w in waiters})
            except Exception:  # the database is away for a moment: the next sweep tries again
                log.exception("order watch: could not re-read %d waiting orders", len(waiters))
                continue
            for waiter in waiters:
                if current.get(waiter.order_no) != waiter.seen:
                    waiter.event.set()

    def statuses(self, order_nos: Iterable[str]) -> dict[str, str]:
        """The status clients would see of each order (``confirmation_due`` for a confirmation past its delay);
        one query per 500 orders. Sync, in the event loop, like the payment API's database work (hq.api)."""
        wanted = sorted(order_nos)
        now = self._now()
        found: dict[str, str] = {}
        with read_session(self._sessions) as session:
            for start in range(0, len(wanted), _CHUNK):
                rows = session.execute(
                    select(Order.order_no, Order.status, Order.expires_at, PaymentCode.confirm_due_at)
                    .outerjoin(PaymentCode, PaymentCode.order_no == Order.order_no)
                    .where(Order.order_no.in_(wanted[start:start + _CHUNK]))
                ).all()
                for order_no, status, expires_at, due_at in rows:
                    if status == AWAITING_PAYMENT and now >= expires_at:
                        status = EXPIRED
                    elif status == CONFIRMING and due_at is not None and due_at <= now:
                        status = _DUE
                    if found.get(order_no) != _DUE:
                        found[order_no] = status
        return found
