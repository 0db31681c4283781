"""Orders: creation under an idempotency key, status, cancel, and the sandbox's pay and decline.

State changes are conditional UPDATEs (``WHERE`` the order is still open: awaiting payment and not expired, or
its payer confirming a payment code whose confirmation is not yet due) whose returned row decides who won, so
concurrent pay, decline, cancel and payment-code requests each take effect at most once, and a meter is credited
once per order. The returned row is also the answer: a change that wins reads nothing before or after.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hq.clock import as_utc
from hq.context import HqContext
from hq.db import read_session, write_session
from hq.errors import HqError, error_body
from hq.models import (
    AWAITING_PAYMENT,
    CANCELLED,
    CONFIRMING,
    DECLINED,
    EXPIRED,
    PAID,
    House,
    IdempotencyRecord,
    Meter,
    Order,
    PaymentCode,
)
from hq.payment_codes import Behaviour
from hq.schemas import MAX_AMOUNT_FEN, MIN_AMOUNT_FEN, OrderIn, OrderOut

# Uppercase letters and digits without the look-alikes 0/O, 1/I/L, for numbers read aloud or typed.
ORDER_NO_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ORDER_NO_LENGTH = 16
_CREATE_ATTEMPTS = 3

Outcome = Literal["paid", "declined", "already_paid", "already_declined", "cancelled", "expired"]


def new_order_no() -> str:
    """A fresh random order number (16 characters, about 79 bits from :mod:`secrets`)."""
    return "".join(secrets.choice(ORDER_NO_ALPHABET) for _ in range(ORDER_NO_LENGTH))


def effective_status(order: Order, now: datetime) -> str:
    """The status clients see: an unpaid order past ``expires_at`` reads as ``expired``."""
    if order.status == AWAITING_PAYMENT and now >= order.expires_at:
        return EXPIRED
    return order.status


def order_out(order: Order, now: datetime, base_url: str) -> OrderOut:
    """An order in the API's shape, with absolute pay and receipt URLs under ``base_url``."""
    return OrderOut(
        order_no=order.order_no,
        status=effective_status(order, now),  # type: ignore[arg-type]  # one of ORDER_STATUSES
        house_id=order.house_id,
        meter_id=order.meter_id,
        service=order.service,
        amount_fen=order.amount_fen,
        created_at=order.created_at,
        expires_at=order.expires_at,
        pay_url=f"{base_url}/sandbox/checkout/{order.order_no}",
        receipt_url=f"{base_url}/r/{order.order_no}",
        paid_at=order.paid_at,
        new_balance_fen=order.new_balance_fen,
    )


def request_hash(body: OrderIn) -> str:
    """SHA-256 of the canonical JSON of a validated order request (key order and spacing do not matter)."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(record: IdempotencyRecord, body_hash: str) -> tuple[int, dict[str, Any]]:
    """The stored first answer to a key; ``idempotency_key_reused`` if this request's body differs."""
    if record.request_hash != body_hash:
        raise HqError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body.",
        )
    return record.status_code, json.loads(record.response_body)


def _process(
    session: Session, body: OrderIn, now: datetime, ctx: HqContext, base_url: str
) -> tuple[int, dict[str, Any], Order | None]:
    """The first answer to an order request: (status, JSON body, the new order or None on an error)."""
    meter = session.get(Meter, body.meter_id)
    if meter is None or meter.house_id != body.house_id:
        # Only now is the house read, to tell which is unknown: a meter's house exists (a foreign key).
        if session.get(House, body.house_id) is None:
            return 404, error_body("unknown_house", f"No house {body.house_id}."), None
        return 404, error_body("unknown_meter", f"No meter {body.meter_id} in house {body.house_id}."), None
    if not MIN_AMOUNT_FEN <= body.amount_fen <= MAX_AMOUNT_FEN:
        return (
            422,
            error_body(
                "amount_out_of_range",
                f"amount_fen must be between {MIN_AMOUNT_FEN} and {MAX_AMOUNT_FEN}.",
            ),
            None,
        )
    order = Order(
        order_no=new_order_no(),
        terminal_id=body.terminal_id,
        house_id=body.house_id,
        meter_id=body.meter_id,
        service=body.service,
        amount_fen=body.amount_fen,
        method="qr",
        status=AWAITING_PAYMENT,
        created_at=now,
        expires_at=now + ctx.order_ttl,
    )
    return 201, order_out(order, now, base_url).model_dump(mode="json"), order


def create_order(
    ctx: HqContext, idempotency_key: str, body: OrderIn, base_url: str
) -> tuple[int, dict[str, Any], bool]:
    """Create an order under ``idempotency_key``: (HTTP status, JSON body, replayed?).

    The first answer (a new order, or a 404/422 business error) is stored with the request's hash in the
    same transaction as the order. A retry with the same body gets it back; a different body raises
    ``idempotency_key_reused``. When two requests race on one key the unique key makes the loser's
    commit fail; it then replays the winner's answer.
    """
    body_hash = request_hash(body)
    for _ in range(_CREATE_ATTEMPTS):
        # The reads before the write transaction, not in it: every writer waits for the one holding the write
        # lock, so it holds it only to insert. A house or meter is never deleted, and a key stored meanwhile
        # by a racing request fails this insert on its unique key: the next attempt replays it.
        with read_session(ctx.sessions) as session:
            record = session.get(IdempotencyRecord, idempotency_key)
            if record is not None:
                status, payload = replay(record, body_hash)
                return status, payload, True
            now = ctx.now()
            status, payload, order = _process(session, body, now, ctx, base_url)
        record_row = {
            "key": idempotency_key, "request_hash": body_hash, "status_code": status,
            "response_body": json.dumps(payload, ensure_ascii=False),
            "order_no": order.order_no if order is not None else None, "created_at": now,
        }
        # Core inserts, not the ORM's flush: its bookkeeping would run while every other writer waits.
        with write_session(ctx.sessions) as session:
            try:
                if order is not None:
                    order.idempotency_key = idempotency_key
                    session.execute(insert(Order).values(_column_values(order)))
                session.execute(insert(IdempotencyRecord).values(record_row))
                session.commit()
            except IntegrityError:
                # Another request stored this key first (or, astronomically rarely, the order number
                # collided): the next attempt replays that answer or retries with a fresh number.
                session.rollback()
                continue
            return status, payload, False
    raise HqError(503, "busy", "Could not store the order; try again with the same Idempotency-Key.")


def _column_values(order: Order) -> dict[str, Any]:
    """The columns set on a new, unsaved order (the others take their defaults)."""
    return {attr.key: getattr(order, attr.key) for attr in _ORDER_COLUMNS if attr.key in order.__dict__}


_ORDER_COLUMNS = sa_inspect(Order).column_attrs


def _read_order(ctx: HqContext, order_no: str) -> Order:
    with read_session(ctx.sessions) as session:
        order = session.get(Order, order_no)
    if order is None:
        raise HqError(404, "unknown_order", f"No order {order_no}.")
    return order


def get_order(ctx: HqContext, order_no: str) -> Order:
    """The order ``order_no``; 404 ``unknown_order`` if there is none."""
    return _current(ctx, _read_order(ctx, order_no))


def get_order_by_key(ctx: HqContext, idempotency_key: str) -> Order:
    """The order created under ``idempotency_key``; 404 ``unknown_order`` if there is none."""
    with read_session(ctx.sessions) as session:
        order = session.scalars(select(Order).where(Order.idempotency_key == idempotency_key)).first()
    if order is None:
        raise HqError(404, "unknown_order", "No order was created with this Idempotency-Key.")
    return _current(ctx, order)


def _current(ctx: HqContext, order: Order) -> Order:
    """``order`` as it stands once a confirmation left alone past its delay has been decided."""
    if order.status != CONFIRMING or not settle_due_confirmation(ctx, order.order_no):
        return order
    with read_session(ctx.sessions) as session:
        fresh = session.get(Order, order.order_no)
    assert fresh is not None
    return fresh


def settle_due_confirmation(ctx: HqContext, order_no: str) -> bool:
    """Decide a payment-code confirmation the payer left alone past its delay, as the code says; True if done.

    The sandbox wallet has no clock of its own: the decision is taken when the order is next read (status,
    cancel, checkout page), dated when it fell due, in one transaction, and at most once.
    """
    now = ctx.now()
    with read_session(ctx.sessions) as session:
        due = session.execute(
            select(PaymentCode.behaviour, PaymentCode.confirm_due_at)
            .join(Order, Order.order_no == PaymentCode.order_no)
            .where(PaymentCode.order_no == order_no, Order.status == CONFIRMING, PaymentCode.confirm_due_at <= now)
        ).first()
    if due is None:
        return False
    behaviour, due_at = Behaviour(due[0]), due[1]
    pay = behaviour is Behaviour.CONFIRM_THEN_PAY
    values: dict[str, Any] = {"status": PAID, "paid_at": due_at} if pay else {"status": DECLINED}
    with write_session(ctx.sessions) as session:
        closed = session.execute(
            update(Order)
            .where(Order.order_no == order_no, Order.status == CONFIRMING)
            .values(closed_at=due_at, **values)
            .returning(Order.meter_id, Order.amount_fen)
            .execution_options(synchronize_session=False)
        ).first()
        if closed is None:
            return False  # a button on the checkout page, or a cancel, decided it first
        if pay:
            credit(session, order_no, closed.meter_id, closed.amount_fen)
        session.commit()
    ctx.watch.changed(order_no)
    return True


def _is_open(now: datetime) -> Any:
    """Open to a pay, decline or cancel: awaiting payment and not expired, or its payer confirming a payment code
    whose confirmation is not yet due (a due one is decided as its code says: settle_due_confirmation)."""
    due = exists().where(PaymentCode.order_no == Order.order_no, PaymentCode.confirm_due_at <= now)
    return or_(and_(Order.status == AWAITING_PAYMENT, Order.expires_at > now), and_(Order.status == CONFIRMING, ~due))


_RETURNING_ROWS = {"synchronize_session": False, "populate_existing": True}


def _close_if_open(session: Session, order_no: str, now: datetime, **values: Any) -> Order | None:
    """Apply ``values`` only if the order is still open (:func:`_is_open`); the order as it now stands if it
    was, else None. One statement: RETURNING gives the row, so no read follows."""
    return session.scalars(
        update(Order).where(Order.order_no == order_no, _is_open(now)).values(**values).returning(Order)
        .execution_options(**_RETURNING_ROWS)
    ).first()


def credit(session: Session, order_no: str, meter_id: str, amount_fen: int) -> Order:
    """Credit the meter with the order's amount and note the new balance on the order (caller commits); the order
    as it now stands.

    Only ever called by the request whose conditional UPDATE closed the order as paid: once per order. Two
    statements and no ORM flush, as it runs while holding the database's write lock. The order row is locked
    before the meter's, by that UPDATE, on every path that pays.
    """
    balance: int = session.execute(
        update(Meter)
        .where(Meter.id == meter_id)
        .values(balance_fen=Meter.balance_fen + amount_fen)
        .returning(Meter.balance_fen)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return session.scalars(
        update(Order).where(Order.order_no == order_no).values(new_balance_fen=balance).returning(Order)
        .execution_options(**_RETURNING_ROWS)
    ).one()


def _outcome_for_closed(order: Order, now: datetime) -> Outcome:
    status = effective_status(order, now)
    if status == PAID:
        return "already_paid"
    if status == DECLINED:
        return "already_declined"
    if status == CANCELLED:
        return "cancelled"
    return "expired"


def _as_it_stands(ctx: HqContext, order_no: str) -> Order:
    """An order a close did not take: decide its confirmation first if that fell due, then read it (404
    ``unknown_order`` if there is none)."""
    settle_due_confirmation(ctx, order_no)
    return _read_order(ctx, order_no)


def pay_order(ctx: HqContext, order_no: str) -> tuple[Order, Outcome]:
    """Pay an order: credit its meter once, in one transaction. Returns the order and what happened.

    Also the payer confirming a payment code on the phone. Paying an order that is no longer open (paid,
    declined, cancelled, expired, or a confirmation already due) changes nothing.
    """
    with write_session(ctx.sessions) as session:
        now = ctx.now()
        closed = _close_if_open(session, order_no, now, status=PAID, paid_at=now, closed_at=now)
        if closed is not None:
            order = credit(session, order_no, closed.meter_id, closed.amount_fen)
            session.commit()
    if closed is None:
        order = _as_it_stands(ctx, order_no)
        return order, _outcome_for_closed(order, now)
    ctx.watch.changed(order_no)
    return order, "paid"


def decline_order(ctx: HqContext, order_no: str) -> tuple[Order, Outcome]:
    """Decline an open order (the payer refused, or declined a payment code). Anything else is left unchanged."""
    with write_session(ctx.sessions) as session:
        now = ctx.now()
        order = _close_if_open(session, order_no, now, status=DECLINED, closed_at=now)
        session.commit()
    if order is None:
        order = _as_it_stands(ctx, order_no)
        return order, _outcome_for_closed(order, now)
    ctx.watch.changed(order_no)
    return order, "declined"


def cancel_order(ctx: HqContext, order_no: str, base_url: str) -> Order:
    """Cancel an open order (awaiting payment, or a payment code the payer is still confirming: the wallet's
    reversal); cancelled, expired and declined ones come back unchanged.

    A paid order raises ``409 order_already_paid`` carrying the order, so a raced payment is not lost.
    """
    with write_session(ctx.sessions) as session:
        now = ctx.now()
        order = _close_if_open(session, order_no, now, status=CANCELLED, closed_at=now)
        session.commit()
    if order is not None:
        ctx.watch.changed(order_no)
        return order
    order = _as_it_stands(ctx, order_no)
    if order.status == PAID:
        raise HqError(
            409,
            "order_already_paid",
            f"Order {order_no} is already paid and cannot be cancelled.",
            order=order_out(order, now, base_url).model_dump(mode="json"),
        )
    return order


_OPEN = (AWAITING_PAYMENT, CONFIRMING)


async def wait_for_change(ctx: HqContext, order: Order, wait_s: float, seen: str | None = None) -> Order:
    """``order`` as it stands once its status changed from ``seen`` (default: its status now), ``wait_s`` seconds
    passed, or it expired, whichever comes first (a long poll); at once for an order already final or no longer
    in status ``seen``.

    Holds no session or thread while waiting (hq.order_watch); each wake-up reads the order again, which also
    decides a payment-code confirmation left alone past its delay.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + wait_s
    status = effective_status(order, ctx.now())
    seen = seen or status
    while status == seen and seen in _OPEN:
        left = end - loop.time()
        if seen == AWAITING_PAYMENT:
            left = min(left, (order.expires_at - as_utc(ctx.clock())).total_seconds())
        if left <= 0 or ctx.watch.closed:
            break
        await ctx.watch.wait(order.order_no, seen, left)
        order = get_order(ctx, order.order_no)
        status = effective_status(order, ctx.now())
    return order
