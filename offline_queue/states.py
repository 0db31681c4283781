"""The states of a transaction and the only transitions allowed between them.

`TransactionStore.transition` is the one place that moves a transaction; it checks this table.
"""

from __future__ import annotations

from enum import StrEnum


class TxState(StrEnum):
    NEW = "new"  # written locally; the order is not yet known to exist at HQ
    AWAITING_PAYMENT = "awaiting_payment"  # HQ created the order; the payment QR is shown
    PAYING = "paying"  # a wallet's payment code was submitted: HQ's answer, or the payer's confirmation, awaited
    PAID = "paid"  # HQ confirmed the payment and credited the meter
    DECLINED = "declined"  # the payer declined
    EXPIRED = "expired"  # not paid before the countdown ended; cancelled at HQ
    CANCELLED = "cancelled"  # the resident cancelled before paying
    ABANDONED = "abandoned"  # the order never came to exist at HQ (refused, or never reached it)
    UNKNOWN = "unknown"  # a request was sent and no answer came: ask HQ, never repeat blindly
    NEEDS_ATTENTION = "needs_attention"  # attempts used up; staff retry it under the same key


TERMINAL_STATES = frozenset(
    {TxState.PAID, TxState.DECLINED, TxState.EXPIRED, TxState.CANCELLED, TxState.ABANDONED}
)

_SETTLED_BY_HQ = {
    TxState.AWAITING_PAYMENT,
    TxState.PAID,
    TxState.DECLINED,
    TxState.EXPIRED,
    TxState.CANCELLED,
    TxState.ABANDONED,
}

ALLOWED: dict[TxState, frozenset[TxState]] = {
    TxState.NEW: frozenset({TxState.AWAITING_PAYMENT, TxState.ABANDONED, TxState.UNKNOWN}),
    TxState.AWAITING_PAYMENT: frozenset(
        {TxState.PAYING, TxState.PAID, TxState.DECLINED, TxState.EXPIRED, TxState.CANCELLED, TxState.UNKNOWN}
    ),
    # HQ's answer to the code or a status poll; refused (4xx) or never received: back to the QR; no answer: unknown.
    TxState.PAYING: frozenset(
        {TxState.PAID, TxState.DECLINED, TxState.EXPIRED, TxState.CANCELLED, TxState.AWAITING_PAYMENT, TxState.UNKNOWN}
    ),
    TxState.UNKNOWN: frozenset(_SETTLED_BY_HQ | {TxState.NEEDS_ATTENTION}),
    TxState.NEEDS_ATTENTION: frozenset(_SETTLED_BY_HQ | {TxState.UNKNOWN}),
}
for _state in TERMINAL_STATES:
    ALLOWED[_state] = frozenset()


class InvalidTransition(Exception):
    """A transition the state machine does not allow."""

    def __init__(self, current: TxState, target: TxState) -> None:
        super().__init__(f"transaction cannot go from {current} to {target}")
        self.current = current
        self.target = target


def check(current: TxState, target: TxState) -> None:
    """Raise InvalidTransition unless `current -> target` is allowed."""
    if target not in ALLOWED[current]:
        raise InvalidTransition(current, target)
