"""Payment sandbox standing in for WeChat Pay / Alipay: a checkout page a phone opens, with Pay and Decline.

The same page is the payer's phone for a payment code that needs confirming (status ``confirming``, see
``hq.payment_codes``): Pay confirms it, Decline declines it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hq import orders
from hq.context import HqContext, request_context
from hq.errors import HqError, error_response
from hq.pages import load_order_view, not_found_page, wants_json
from hq.schemas import ORDER_NO_RE
from hq.templating import templates

router = APIRouter(prefix="/sandbox/checkout", tags=["sandbox"])

Ctx = Annotated[HqContext, Depends(request_context)]

OUTCOME_TEXT = {
    "paid": ("支付成功，电费已充入电表。", "Payment successful. The meter has been credited."),
    "declined": ("您已拒绝本次支付，未扣款。", "You declined this payment. Nothing was charged."),
    "already_paid": ("该订单已支付，不会重复扣款。", "This order was already paid. Nothing was charged again."),
    "already_declined": ("该订单已被拒绝，未作任何更改。", "This order was already declined. Nothing changed."),
    "cancelled": ("该订单已在终端取消，未扣款。", "This order was cancelled at the terminal. Nothing was charged."),
    "expired": ("该订单已过期，未扣款。请在终端重新下单。", "This order has expired. Nothing was charged. "
                "Please start again at the terminal."),
}


@router.get("/{order_no}", response_class=HTMLResponse)
def checkout(order_no: str, request: Request, ctx: Ctx) -> Response:
    """The checkout page: payee, community, house, meter and amount, with Pay and Decline buttons."""
    view = load_order_view(ctx, order_no)
    if view is None:
        return not_found_page(request, order_no)
    return templates.TemplateResponse(request, "checkout.html", view.context())


def _finish(request: Request, ctx: HqContext, order_no: str, pay: bool) -> Response:
    found = None
    if ORDER_NO_RE.fullmatch(order_no):
        try:
            found = orders.pay_order(ctx, order_no) if pay else orders.decline_order(ctx, order_no)
        except HqError as exc:
            if exc.code != "unknown_order":
                raise
    if found is not None and wants_json(request):
        # The order alone: the house and meter of the page are not read (as a wallet's notification needs none).
        return JSONResponse(orders.order_out(found[0], ctx.now(), ctx.base_url(request)).model_dump(mode="json"))
    view = load_order_view(ctx, order_no) if found is not None else None
    if found is None or view is None:
        if wants_json(request):
            return error_response(404, "unknown_order", f"No order {order_no}.")
        return not_found_page(request, order_no)
    zh, en = OUTCOME_TEXT[found[1]]
    context = {**view.context(), "outcome": found[1], "outcome_zh": zh, "outcome_en": en}
    return templates.TemplateResponse(request, "result.html", context)


@router.post("/{order_no}/pay", response_class=HTMLResponse)
async def pay(order_no: str, request: Request, ctx: Ctx) -> Response:
    """Pay: credits the meter exactly once; paying again or a closed order changes nothing and says so.

    With ``Accept: application/json`` the answer is the order as JSON.
    """
    return _finish(request, ctx, order_no, pay=True)


@router.post("/{order_no}/decline", response_class=HTMLResponse)
async def decline(order_no: str, request: Request, ctx: Ctx) -> Response:
    """Decline: the order becomes declined if it still awaited payment."""
    return _finish(request, ctx, order_no, pay=False)
