"""Shared pieces of the HTML pages: loading an order with its house, and the bilingual status texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hq.context import HqContext
from hq.db import read_session
from hq.models import House, Order
from hq.orders import effective_status, settle_due_confirmation
from hq.schemas import ORDER_NO_RE
from hq.templating import templates

STATUS_TEXT = {
    "awaiting_payment": ("待支付", "Awaiting payment"),
    "confirming": ("待付款人确认", "Awaiting the payer's confirmation"),
    "paid": ("已支付", "Paid"),
    "declined": ("已拒绝", "Declined"),
    "expired": ("已过期", "Expired"),
    "cancelled": ("已取消", "Cancelled"),
}


@dataclass
class OrderView:
    """An order and what its pages show about it."""

    order: Order
    status: str
    community: str
    payee: str
    house_zh: str
    house_en: str
    meter_use: str
    meter_number: str

    def context(self) -> dict[str, Any]:
        """Template variables for this order."""
        zh, en = STATUS_TEXT.get(self.status, (self.status, self.status))
        return {
            "order": self.order,
            "status": self.status,
            "status_zh": zh,
            "status_en": en,
            "community": self.community,
            "payee": self.payee,
            "house_zh": self.house_zh,
            "house_en": self.house_en,
            "meter_use": self.meter_use,
            "meter_number": self.meter_number,
        }


def load_order_view(ctx: HqContext, order_no: str) -> OrderView | None:
    """The order ``order_no`` with its house, meter and community, or None (also for a malformed number)."""
    if not ORDER_NO_RE.fullmatch(order_no):
        return None
    settle_due_confirmation(ctx, order_no)
    with read_session(ctx.sessions) as session:
        order = session.scalars(
            select(Order)
            .where(Order.order_no == order_no)
            .options(selectinload(Order.house).selectinload(House.community), selectinload(Order.meter))
        ).first()
        if order is None:
            return None
        house = order.house
        return OrderView(
            order=order,
            status=effective_status(order, ctx.now()),
            community=house.community.name,
            payee=house.community.payee,
            house_zh=f"{house.building}号楼{house.unit}单元{house.room}室",
            house_en=f"Building {house.building}, Unit {house.unit}, Room {house.room}",
            meter_use=order.meter.use,
            meter_number=order.meter.number,
        )


def wants_json(request: Request) -> bool:
    """Whether the client asked for JSON (tests do) rather than an HTML page."""
    return "application/json" in request.headers.get("accept", "")


def not_found_page(request: Request, order_no: str) -> HTMLResponse:
    """The 404 page for an unknown order."""
    return templates.TemplateResponse(request, "not_found.html", {"order_no": order_no}, status_code=404)
