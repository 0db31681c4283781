"""The electronic receipt page ``/r/{order_no}`` (the link printed on the terminal's receipt)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hq.context import HqContext, request_context
from hq.pages import load_order_view, not_found_page
from hq.templating import templates

router = APIRouter(tags=["receipts"])


@router.get("/r/{order_no}", response_class=HTMLResponse)
def receipt(
    order_no: str, request: Request, ctx: Annotated[HqContext, Depends(request_context)]
) -> Response:
    """Order number, community, house, meter, amount, new balance and time in China Standard Time."""
    view = load_order_view(ctx, order_no)
    if view is None:
        return not_found_page(request, order_no)
    return templates.TemplateResponse(request, "receipt.html", view.context())
