"""Paying with a wallet's payment code: written down before it is sent, sent once, and HQ's answer recorded.

Runs on the journey's `hq` lane. The submission (its own idempotency key, the wallet, the code's last four digits)
is written to the outbox in the same SQLite transaction as the move to `paying`, before the request leaves; the
code itself is never written anywhere, since it is a bearer credential for a minute. Whatever happens to the
request, the state it leads to marks the message sent in the same transaction:

- paid or declined: that final state; the payer confirming on the phone: still `paying`, and the journey polls;
- refused by HQ (a 4xx) or never delivered: back to `awaiting_payment` (the QR still works), or, when HQ says
  the order is closed (409 with the order), the state HQ gives;
- no answer, a garbled one or a 5xx: `unknown` with a `settle` message, so the outbox worker asks HQ what became
  of the order. The code is never sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.domain import Order, OrderStatus, ProtocolError, parse_order
from kiosk.hq_client import HqClient, HqError, HqFailure, HqUnreachable
from kiosk.outbox_worker import Intent
from kiosk.qr_payload import Payload, PayloadKind
from offline_queue.models import OutboxKind
from offline_queue.states import InvalidTransition, TxState
from offline_queue.store import TransactionRecord, TransactionStore, new_idempotency_key

log = logging.getLogger(__name__)

_FINAL = {
    OrderStatus.PAID: TxState.PAID,
    OrderStatus.DECLINED: TxState.DECLINED,
    OrderStatus.EXPIRED: TxState.EXPIRED,
    OrderStatus.CANCELLED: TxState.CANCELLED,
}


@dataclass(frozen=True)
class CodeAnswer:
    """Where a payment code left the transaction, HQ's order if it told us, and why it got no answer if so."""

    tx: TransactionRecord
    order: Order | None = None
    failure: Exception | None = None


def pay_with_code(
    store: TransactionStore, hq: HqClient, tx_id: str, order_no: str, payload: Payload
) -> CodeAnswer:
    """Submit `payload` (a wallet's payment code) for the order of transaction `tx_id` (worker thread)."""
    assert payload.kind is PayloadKind.PAYMENT_CODE and payload.wallet is not None
    key = new_idempotency_key()
    masked = payload.masked
    try:
        tx = store.transition(
            tx_id, TxState.PAYING, reason="payment_code", detail={"wallet": payload.wallet.value, "code": masked},
            outbox=(OutboxKind.PAYMENT_CODE, {
                "idempotency_key": key, "order_no": order_no, "wallet": payload.wallet.value, "code": masked,
            }),
        )
    except InvalidTransition:
        log.info("payment code %s not sent: transaction %s is no longer awaiting payment", masked, tx_id)
        return CodeAnswer(store.get(tx_id))
    message = max(m.id for m in store.outbox_for(tx_id) if m.kind is OutboxKind.PAYMENT_CODE and m.sent_at is None)
    log.info("transaction %s: paying with %s code %s", tx_id, payload.wallet.value, masked)
    try:
        order = hq.pay_with_code(order_no, idempotency_key=key, payment_code=payload.code)
        if order.status is OrderStatus.CONFIRMING:
            store.mark_outbox_sent(message)
            return CodeAnswer(store.get(tx_id), order)
        if order.status not in (OrderStatus.PAID, OrderStatus.DECLINED):
            raise ProtocolError(f"HQ answered a payment code with an order {order.status.value}")
    except (HqFailure, ProtocolError) as exc:
        return _record_failure(store, tx_id, message, exc)
    tx = store.transition(
        tx_id, _FINAL[order.status], reason=f"hq_{order.status.value}", new_balance_fen=order.new_balance_fen,
        sent=[message],
    )
    return CodeAnswer(tx, order)


def _record_failure(
    store: TransactionStore, tx_id: str, message: int, exc: HqFailure | ProtocolError
) -> CodeAnswer:
    if isinstance(exc, HqUnreachable) or (isinstance(exc, HqError) and exc.status < 500):
        reason = exc.code if isinstance(exc, HqError) else "hq_unreachable"
        closed = _closed_order(exc)
        if closed is not None:  # HQ says the order is over (paid by QR meanwhile, expired...): that stands
            tx = store.transition(
                tx_id, _FINAL[closed.status], reason=f"hq_{closed.status.value}", sent=[message],
                new_balance_fen=closed.new_balance_fen,
            )
            return CodeAnswer(tx, closed, exc)
        log.info("transaction %s: payment code not taken (%s)", tx_id, reason)
        tx = store.transition(
            tx_id, TxState.AWAITING_PAYMENT, reason=reason, last_error=str(exc)[:500], sent=[message]
        )
        return CodeAnswer(tx, None, exc)
    log.warning("transaction %s: no answer to the payment code (%s); settling it by asking", tx_id, exc)
    tx = store.transition(
        tx_id, TxState.UNKNOWN, reason="payment_no_answer", last_error=str(exc)[:500], sent=[message],
        outbox=(OutboxKind.SETTLE, {"intent": Intent.PAYMENT_UNKNOWN}),
    )
    return CodeAnswer(tx, None, exc)


def _closed_order(exc: Exception) -> Order | None:
    """The order a `409 order_not_awaiting_payment` carries, if it is closed for good."""
    if not isinstance(exc, HqError) or exc.code != "order_not_awaiting_payment":
        return None
    try:
        order = parse_order(exc.body.get("order"))
    except ProtocolError:
        return None
    return order if order.status in _FINAL else None
