"""Settles, in the background, every transaction whose outcome the terminal does not know yet.

The worker is the only retrying layer. It takes the outbox's `settle` messages one transaction at a time, oldest
first, so one failure never holds back the others, and for each asks HQ what became of the order under its
idempotency key, cancels it if it still awaits a payment nobody will make, and records HQ's answer. It never
repeats a request whose outcome is unknown: it asks. A failure a retry can fix (no answer, reset, 5xx, 429) is
retried with exponential backoff and full jitter, at most `max_attempts` in all; one that cannot (other 4xx)
goes to `needs_attention` at once. While HQ is unreachable the worker holds, and that time costs no attempts.

An order whose payer is still confirming a payment code on the phone is not settled yet and is not a failure: the
worker asks again `recheck_s` later, spending no attempt (unless the resident cancelled: then it is cancelled, as
a wallet reverses a payment, and a confirmation that won the race stands).
"""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.clock import utc_now
from kiosk.domain import Order, OrderStatus, ProtocolError
from kiosk.hq_client import HqClient, HqError, HqNoAnswer, HqUnreachable
from offline_queue.models import OutboxKind
from offline_queue.states import InvalidTransition, TxState
from offline_queue.store import OutboxMessage, TransactionRecord, TransactionStore

log = logging.getLogger(__name__)

SettledListener = Callable[[TransactionRecord], None]

_FINAL = {
    OrderStatus.PAID: TxState.PAID,
    OrderStatus.DECLINED: TxState.DECLINED,
    OrderStatus.EXPIRED: TxState.EXPIRED,
    OrderStatus.CANCELLED: TxState.CANCELLED,
}


class Intent:
    """Why a transaction is being settled (the `intent` of a settle message)."""

    CANCEL = "cancel"  # the resident cancelled
    EXPIRE = "expire"  # the payment countdown ended
    CREATE_UNKNOWN = "create_unknown"  # the order request got no answer
    PAYMENT_UNKNOWN = "payment_unknown"  # a payment code was submitted and no answer came
    RECOVER = "recover"  # found in flight at start, after a crash or power loss
    STAFF_RETRY = "staff_retry"


@dataclass(frozen=True)
class RetryPolicy:
    """At most `max_attempts`; the wait before attempt n+1 is uniform in [0, min(cap, base * 2**(n-1))]."""

    max_attempts: int = 3
    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, attempts_so_far: int, rand: Callable[[], float]) -> float:
        return rand() * min(self.cap_s, self.base_s * 2 ** (attempts_so_far - 1))


@dataclass(frozen=True)
class QueueStatus:
    """What the idle screen, staff and HQ see of the queue."""

    waiting: int
    needs_attention: int


class _Hold(Exception):
    """HQ is unreachable: stop until it answers again."""


class _PayerConfirming(Exception):
    """The payer is still confirming a payment code on the phone: ask again later, at no attempt's cost."""


class OutboxWorker:
    """Delivers `settle` messages on its own thread; `run_once` does one pass on the caller's thread (tests)."""

    def __init__(
        self,
        store: TransactionStore,
        client: HqClient,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        rand: Callable[[], float] = random.random,
        on_status: Callable[[QueueStatus], None] = lambda status: None,
        on_settled: SettledListener = lambda record: None,
        recheck_s: float = 5.0,
    ) -> None:
        self._store = store
        self._client = client
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._rand = rand
        self._on_status = on_status
        self._on_settled = on_settled
        self._cond = threading.Condition()
        self._urgent: deque[tuple[str, SettledListener]] = deque()
        self._settled_urgently: set[str] = set()  # this pass: their queued message may be stale
        self.recheck_s = recheck_s
        # Transactions whose payer is confirming on the phone, and when to ask again. Only in memory: after a
        # restart the worker simply asks at once.
        self._not_before: dict[str, datetime] = {}
        self._woken = False
        self._stopping = False
        self._online = True
        self._thread: threading.Thread | None = None

    # ---- control (any thread) ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """New work was written: look at the outbox now."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def set_online(self, online: bool) -> None:
        """Told by the connectivity monitor; coming back online releases the worker at once."""
        with self._cond:
            was, self._online = self._online, online
            if online and not was:
                self._woken = True
                self._cond.notify_all()

    @property
    def online(self) -> bool:
        return self._online

    def settle_now(self, tx_id: str, on_done: SettledListener) -> None:
        """Settle this transaction before anything else; `on_done` gets its record after the first try."""
        with self._cond:
            self._urgent.append((tx_id, on_done))
            self._woken = True
            self._cond.notify_all()

    def retry(self, tx_id: str) -> TransactionRecord:
        """Staff: give a transaction that needs attention three more attempts, under the same key."""
        # A settle message left unsent (its attempts used up) is superseded: the retry's attempts are its own.
        spent = [m.id for m in self._store.outbox_for(tx_id) if m.kind is OutboxKind.SETTLE and m.sent_at is None]
        record = self._store.transition(
            tx_id, TxState.UNKNOWN, reason="staff_retry", sent=spent,
            outbox=(OutboxKind.SETTLE, {"intent": Intent.STAFF_RETRY}),
        )
        self.wake()
        return record

    # ---- the loop ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            timeout = self._seconds_until_due()  # outside the lock: the GUI thread may be waiting for it
            with self._cond:
                if self._stopping:
                    return
                if not self._woken:
                    self._cond.wait(timeout)
                self._woken = False
                if self._stopping:
                    return
            try:
                self.run_once()
            except Exception:  # the worker must outlive any single bad record
                log.exception("outbox pass failed")

    def _seconds_until_due(self) -> float | None:
        if not self._online:
            return None  # the connectivity monitor wakes us
        pending = [m for m in self._store.pending_outbox() if m.kind is OutboxKind.SETTLE]
        if not pending:
            return None
        now = self._clock()
        waits = [(self._due(m) - now).total_seconds() for m in pending]
        return max(min(waits), 0.0)

    def _due(self, message: OutboxMessage) -> datetime:
        """When a settle message may be tried next: its backoff, or the recheck of a payer confirming."""
        due = message.next_attempt_at or datetime.min.replace(tzinfo=UTC)
        return max(due, self._not_before.get(message.transaction_id, due))

    def run_once(self) -> int:
        """One pass: urgent transactions first, then every due settle message. Returns how many were tried."""
        tried = 0
        try:
            tried += self._drain_urgent()
            now = self._clock()
            seen: set[str] = set()
            for message in self._store.pending_outbox():
                if message.kind is not OutboxKind.SETTLE or message.transaction_id in seen:
                    continue
                seen.add(message.transaction_id)  # one message per transaction per pass, oldest first
                if self._due(message) > now:
                    continue
                tried += self._drain_urgent()  # a resident waiting on a cancel goes before the backlog
                if message.transaction_id in self._settled_urgently:
                    continue
                self._settle(message)
                tried += 1
        except _Hold:
            log.info("HQ unreachable: outbox held")
        finally:
            self._settled_urgently.clear()
            self._publish_status()
        return tried

    def _drain_urgent(self) -> int:
        tried = 0
        while True:
            with self._cond:
                if not self._urgent:
                    return tried
                tx_id, on_done = self._urgent.popleft()
            self._settled_urgently.add(tx_id)
            tried += self._settle_urgent(tx_id, on_done)

    def _settle_urgent(self, tx_id: str, on_done: SettledListener) -> int:
        message = next(
            (m for m in self._store.outbox_for(tx_id) if m.kind is OutboxKind.SETTLE and m.sent_at is None), None
        )
        try:
            if message is not None:
                self._settle(message)
        finally:
            on_done(self._store.get(tx_id))
        return 1 if message is not None else 0

    def _settle(self, message: OutboxMessage) -> None:
        tx = self._store.get(message.transaction_id)
        if tx.is_terminal:
            self._store.mark_outbox_sent(message.id)
            return
        if tx.state is TxState.NEEDS_ATTENTION:
            self._store.mark_outbox_sent(message.id)  # stale: staff's retry writes a fresh message
            return
        if not self._online:
            raise _Hold
        intent = str(message.payload.get("intent", Intent.RECOVER))
        try:
            order = self._ask(tx, intent)
        except _PayerConfirming:
            self._not_before[tx.id] = self._clock() + timedelta(seconds=self.recheck_s)
            log.info("transaction %s: the payer is still confirming; asking again in %.0f s", tx.id, self.recheck_s)
            return
        except HqUnreachable as exc:
            self.set_online(False)
            raise _Hold from exc
        except HqError as exc:
            if exc.status == 404 and exc.code == "unknown_order" and not tx.order_no:
                # Asked by key: the order never came to exist. (A 404 for a number HQ gave us is HQ's trouble.)
                self._finish(tx, message, TxState.ABANDONED, reason="not_at_hq")
                return
            self._failed(tx, message, exc, retryable=exc.retryable)
            return
        except (HqNoAnswer, ProtocolError) as exc:
            self._failed(tx, message, exc, retryable=True)
            return
        state = _FINAL[order.status]
        if state is TxState.CANCELLED and intent == Intent.EXPIRE:
            state = TxState.EXPIRED
        self._finish(
            tx, message, state, reason=f"hq_{order.status.value}",
            order_no=order.order_no, new_balance_fen=order.new_balance_fen,
        )

    def _ask(self, tx: TransactionRecord, intent: str) -> Order:
        """What HQ says the order is now; an order still awaiting payment is cancelled (a raced payment wins).

        A payment code the payer is still confirming is left to the payer unless the resident cancelled.
        """
        order = self._client.order(tx.order_no) if tx.order_no else self._client.order_by_key(tx.idempotency_key)
        if order.status is OrderStatus.CONFIRMING and intent not in (Intent.CANCEL, Intent.EXPIRE):
            raise _PayerConfirming
        if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.CONFIRMING):
            order = self._client.cancel_order(order.order_no)
        if order.status not in _FINAL:
            raise ProtocolError(f"HQ left the order {order.status.value} after a cancel")
        return order

    def _finish(self, tx: TransactionRecord, message: OutboxMessage, state: TxState, **fields: object) -> None:
        self._not_before.pop(tx.id, None)
        try:
            record = self._store.transition(tx.id, state, sent=[message.id], **fields)  # type: ignore[arg-type]
        except InvalidTransition:
            # Another thread settled it meanwhile (a status poll that saw the payment): that answer stands.
            self._store.mark_outbox_sent(message.id)
            return
        log.info("transaction %s settled: %s", tx.id, state.value)
        self._on_settled(record)

    def _failed(self, tx: TransactionRecord, message: OutboxMessage, exc: Exception, *, retryable: bool) -> None:
        attempts = message.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if not retryable or attempts >= self.policy.max_attempts:
            self._store.outbox_failed(message.id, error=error, next_attempt_at=None)
            self._store.transition(
                tx.id, TxState.NEEDS_ATTENTION, reason="attempts_used_up" if retryable else "refused_by_hq",
                last_error=error[:500], attempts=attempts, sent=[message.id],  # done with: nothing left to try
            )
            log.warning("transaction %s needs attention after %d attempt(s): %s", tx.id, attempts, error)
            self._not_before.pop(tx.id, None)
            return
        wait = self.policy.delay(attempts, self._rand)
        self._store.outbox_failed(message.id, error=error, next_attempt_at=self._clock() + timedelta(seconds=wait))
        log.info("transaction %s: attempt %d failed (%s); next in %.1f s", tx.id, attempts, error, wait)

    def _publish_status(self) -> None:
        counts = self._store.count_by_state()
        attention = counts[TxState.NEEDS_ATTENTION]
        waiting = sum(counts[s] for s in (TxState.UNKNOWN, TxState.NEW, TxState.AWAITING_PAYMENT, TxState.PAYING))
        self._on_status(QueueStatus(waiting=waiting, needs_attention=attention))
