"""The /api/v1 routes of docs/api.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from hq import code_payments, houses, orders, preferences
from hq.context import HqContext, request_context
from hq.db import read_session, write_session
from hq.errors import HqError
from hq.fleet_context import fleet_context
from hq.order_watch import MAX_WAIT_S
from hq.schemas import (
    ID_PATTERN,
    IDEMPOTENCY_KEY_PATTERN,
    IDEMPOTENCY_KEY_RE,
    ORDER_NO_PATTERN,
    CardPreferenceIn,
    CardPreferenceOut,
    ErrorOut,
    HealthOut,
    IdentifyIn,
    IdentifyOut,
    OrderIn,
    OrderOut,
    OrderStatus,
    OverviewOut,
    PaymentCodeIn,
)

router = APIRouter(prefix="/api/v1")

Ctx = Annotated[HqContext, Depends(request_context)]
OrderNo = Annotated[str, Path(pattern=ORDER_NO_PATTERN, description="16 uppercase letters and digits")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Client-generated key, 16 to 64 characters [A-Za-z0-9_-]; "
        "missing or malformed answers 400 idempotency_key_missing.",
    ),
]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut} for status in statuses}


# Every route here runs in the event loop, writes too (tests/hq/test_hq_routes_in_loop.py). A sync route runs on
# the thread pool, where under load it took turns at Python's GIL with the loop after every statement, holding
# SQLite's write lock meanwhile while every writer of every worker queued behind it. In runs side by side at 1,000
# residents (benchmarks/fleet_bench.py, SQLite) the payment API's p99 was 186, 205 and 324 ms that way against
# 22, 60 and 65 ms in the loop. Every write is a few rows, so the loop waiting for the write lock costs less.
@router.get("/health", response_model=HealthOut)
async def health(ctx: Ctx) -> HealthOut:
    """Liveness and the server's clock."""
    return HealthOut(status="ok", time=ctx.now())


@router.post("/identify", response_model=IdentifyOut, response_model_exclude_none=True, responses=_errors(404, 422))
async def identify(body: IdentifyIn, ctx: Ctx) -> IdentifyOut:
    """The house named by a card id, house number, house code or bill number; for a card, also the mode its
    holder last chose (``preferred_mode``).

    Errors: 404 unknown_card, unknown_house, unknown_house_code, unknown_bill; 422 invalid_request.
    """
    with read_session(ctx.sessions) as session:
        house = houses.identify(session, body.method, body.value)
        mode = preferences.preferred_mode(session, body.value) if body.method == "card" else None
        return IdentifyOut.model_validate({**houses.house_out(house).model_dump(), "preferred_mode": mode})


@router.put("/card-preferences", response_model=CardPreferenceOut, responses=_errors(404, 422))
async def set_card_preference(body: CardPreferenceIn, request: Request, ctx: Ctx) -> CardPreferenceOut:
    """Remember the mode a resident card's holder chose on a terminal (``standard`` clears elderly mode); the
    card's next identify answers with it.

    Errors: 404 unknown_card; 422 invalid_request.
    """
    with write_session(ctx.sessions) as session:
        mode = preferences.set_preferred_mode(
            session, body.card_id, body.mode, ctx.now(), getattr(request.state, "terminal_id", None)
        )
        session.commit()
    return CardPreferenceOut.model_validate({"mode": mode})


@router.get("/houses/{house_id}/overview", response_model=OverviewOut, responses=_errors(404, 422))
async def overview(house_id: Annotated[str, Path(pattern=ID_PATTERN)], ctx: Ctx) -> OverviewOut:
    """Meters (balance, usage oldest first, month to date), accounts and the last recharge of a house."""
    with read_session(ctx.sessions) as session:
        return houses.overview(session, house_id, ctx.now())


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    responses={
        **_errors(400, 404, 422),
        201: {
            "description": "The new order, or the stored first answer to this key "
            "(then with header Idempotent-Replayed: true)."
        },
    },
)
async def create_order(
    body: OrderIn, request: Request, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Create a recharge order (idempotent under the Idempotency-Key header).

    Errors: 400 idempotency_key_missing; 404 unknown_house, unknown_meter; 422 amount_out_of_range,
    idempotency_key_reused, invalid_request.
    """
    key = _checked_key(idempotency_key)
    status, payload, replayed = orders.create_order(ctx, key, body, ctx.base_url(request))
    if status == 201:
        # The terminal polls its order next, most often on this same connection and so in this same process.
        fleet_context(request.app).remember_owner(payload["order_no"], body.terminal_id)
    return _answer(status, payload, replayed)


def _checked_key(idempotency_key: str | None) -> str:
    if idempotency_key is None or not IDEMPOTENCY_KEY_RE.fullmatch(idempotency_key):
        raise HqError(
            400,
            "idempotency_key_missing",
            "Header Idempotency-Key must hold 16 to 64 characters from A-Z a-z 0-9 _ -.",
        )
    return idempotency_key


def _answer(status: int, payload: dict[str, Any], replayed: bool) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(payload, status_code=status, headers=headers)


@router.get("/orders", response_model=OrderOut, responses=_errors(404, 422))
async def find_order(
    request: Request,
    ctx: Ctx,
    idempotency_key: Annotated[str, Query(pattern=IDEMPOTENCY_KEY_PATTERN)],
) -> OrderOut:
    """The order created under an Idempotency-Key (to settle a request whose answer was lost)."""
    order = orders.get_order_by_key(ctx, idempotency_key)
    return orders.order_out(order, ctx.now(), ctx.base_url(request))


WaitS = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_WAIT_S,
        description=f"Long poll: up to this many seconds (0 to {MAX_WAIT_S}) to wait for the order's status to "
        "change before answering, if it is awaiting_payment or confirming; the answer comes as soon as it "
        "changes, at the order's expiry, or after wait_s with the order unchanged. 0 (the default) answers at once.",
    ),
]
SeenStatus = Annotated[
    OrderStatus | None,
    Query(
        description="With wait_s: the status the client last saw. If the order's status is another one already, "
        "the answer comes at once (nothing that changed before the request arrived is missed); by default the "
        "wait is for a change from the status the order has when the request arrives.",
    ),
]


@router.get("/orders/{order_no}", response_model=OrderOut, responses=_errors(404, 422))
async def order_status(
    order_no: OrderNo, request: Request, ctx: Ctx, wait_s: WaitS = 0, seen_status: SeenStatus = None
) -> OrderOut:
    """An order with its current status (an unpaid order past expires_at reads as expired).

    With ``wait_s``, a long poll: an open order is answered once its status changes from ``seen_status`` (paid,
    declined, cancelled, expired, confirming...) or after ``wait_s`` seconds, whichever comes first. A final
    order is answered at once.
    """
    order = orders.get_order(ctx, order_no)
    if wait_s > 0:
        order = await orders.wait_for_change(ctx, order, wait_s, seen_status)
    return orders.order_out(order, ctx.now(), ctx.base_url(request))


@router.post("/orders/{order_no}/cancel", response_model=OrderOut, responses=_errors(404, 409, 422))
async def cancel_order(order_no: OrderNo, request: Request, ctx: Ctx) -> OrderOut:
    """Cancel an order awaiting payment; 409 order_already_paid (with error.order) if it was paid."""
    base_url = ctx.base_url(request)
    order = orders.cancel_order(ctx, order_no, base_url)
    return orders.order_out(order, ctx.now(), base_url)


@router.post(
    "/orders/{order_no}/payment-code",
    response_model=OrderOut,
    responses={
        **_errors(400, 404, 409, 422),
        200: {
            "description": "The order after the wallet's answer: paid, declined, or confirming while the payer "
            "confirms on the phone; or the stored first answer to this key (then with header "
            "Idempotent-Replayed: true)."
        },
    },
)
async def pay_with_code(
    order_no: OrderNo, body: PaymentCodeIn, request: Request, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Pay an order awaiting payment with the payment code of the payer's wallet (idempotent, like creating).

    Errors: 400 idempotency_key_missing; 404 unknown_order; 409 order_not_awaiting_payment (with error.order);
    422 invalid_payment_code, idempotency_key_reused, invalid_request.
    """
    key = _checked_key(idempotency_key)
    status, payload, replayed = code_payments.submit_payment_code(ctx, order_no, key, body, ctx.base_url(request))
    return _answer(status, payload, replayed)
