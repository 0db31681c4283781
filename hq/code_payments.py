"""Paying an order with a wallet's payment code, under an idempotency key (``POST .../payment-code``).

The first answer to a key is stored with the request's hash in the same transaction as its effect and replayed
for a retry, exactly as for creating an order (:func:`hq.orders.create_order`). The order changes through the
same conditional UPDATE as every other payment, so it takes at most one payment code and is credited once.
Only the code's last four digits are kept anywhere.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hq.context import HqContext
from hq.db import write_session
from hq.errors import HqError, error_body
from hq.models import AWAITING_PAYMENT, CONFIRMING, DECLINED, PAID, IdempotencyRecord, Order, PaymentCode
from hq.orders import credit, effective_status, order_out, replay, settle_due_confirmation
from hq.payment_codes import Behaviour, sandbox_behaviour, wallet_of
from hq.schemas import PaymentCodeIn

_ATTEMPTS = 3


def request_hash(order_no: str, body: PaymentCodeIn) -> str:
    """SHA-256 of the canonical request: the order it is for and its body."""
    canonical = json.dumps({"order_no": order_no, **body.model_dump(mode="json")}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_payment_code(
    ctx: HqContext, order_no: str, idempotency_key: str, body: PaymentCodeIn, base_url: str
) -> tuple[int, dict[str, Any], bool]:
    """Pay ``order_no`` with ``body.payment_code``: (HTTP status, JSON body, replayed?).

    200 with the order (``paid``, ``declined``, or ``confirming`` while the payer confirms on the phone);
    404 ``unknown_order``; 409 ``order_not_awaiting_payment`` (with the order) when it is not open to a code;
    422 ``invalid_payment_code`` for a code no wallet issues. Each of these is the stored first answer.
    """
    body_hash = request_hash(order_no, body)
    settle_due_confirmation(ctx, order_no)  # so a refusal shows the order as it now stands
    for _ in range(_ATTEMPTS):
        with write_session(ctx.sessions) as session:
            record = session.get(IdempotencyRecord, idempotency_key)
            if record is not None:
                status, payload = replay(record, body_hash)
                return status, payload, True
            now = ctx.now()
            status, payload, known = _process(session, order_no, idempotency_key, body.payment_code, now, ctx,
                                              base_url)
            session.add(
                IdempotencyRecord(
                    key=idempotency_key,
                    request_hash=body_hash,
                    status_code=status,
                    response_body=json.dumps(payload, ensure_ascii=False),
                    order_no=order_no if known else None,
                    created_at=now,
                )
            )
            try:
                session.commit()
            except IntegrityError:
                # Another request stored this key first: the next attempt replays its answer.
                session.rollback()
                continue
            if status == 200:
                ctx.watch.changed(order_no)  # paid, declined or confirming now: wake whoever waits on it
            return status, payload, False
    raise HqError(503, "busy", "Could not store the answer; try again with the same Idempotency-Key.")


_EFFECTS: dict[Behaviour, dict[str, str]] = {
    Behaviour.PAY: {"status": PAID},
    Behaviour.DECLINE: {"status": DECLINED},
    Behaviour.CONFIRM_THEN_PAY: {"status": CONFIRMING},
    Behaviour.CONFIRM_THEN_DECLINE: {"status": CONFIRMING},
}


def _process(
    session: Session, order_no: str, key: str, code: str, now: datetime, ctx: HqContext, base_url: str
) -> tuple[int, dict[str, Any], bool]:
    """The first answer to a payment code: (status, JSON body, whether the order exists)."""
    wallet = wallet_of(code)
    if wallet is None:
        return 422, error_body(
            "invalid_payment_code",
            "Not a payment code: WeChat Pay's are 18 digits from 10-15, Alipay's 16 to 24 digits from 25-30.",
        ), False
    order = session.get(Order, order_no)
    if order is None:
        return 404, error_body("unknown_order", f"No order {order_no}."), False
    behaviour = sandbox_behaviour(code)
    values: dict[str, Any] = {**_EFFECTS[behaviour], "method": wallet}
    if behaviour is Behaviour.PAY:
        values.update(paid_at=now, closed_at=now)
    elif behaviour is Behaviour.DECLINE:
        values.update(closed_at=now)
    # Only an order awaiting payment takes a code: one being confirmed already has its code.
    won = _take_code(session, order_no, now, values)
    session.refresh(order)
    if not won:
        return 409, error_body(
            "order_not_awaiting_payment",
            f"Order {order_no} is {effective_status(order, now)} and takes no payment code.",
            order=order_out(order, now, base_url).model_dump(mode="json"),
        ), True
    if behaviour is Behaviour.PAY:
        # The same order object, as the database now has it: its new balance included.
        order = credit(session, order_no, order.meter_id, order.amount_fen)
    session.add(
        PaymentCode(
            order_no=order_no,
            idempotency_key=key,
            wallet=wallet,
            code_last4=code[-4:],
            behaviour=behaviour.value,
            submitted_at=now,
            confirm_due_at=now + ctx.confirm_delay if behaviour.needs_confirmation else None,
        )
    )
    return 200, order_out(order, now, base_url).model_dump(mode="json"), True


def _take_code(session: Session, order_no: str, now: datetime, values: dict[str, Any]) -> bool:
    """Apply ``values`` only if the order awaits payment and has not expired; True if it did."""
    result = session.execute(
        update(Order)
        .where(Order.order_no == order_no, Order.status == AWAITING_PAYMENT, Order.expires_at > now)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1
