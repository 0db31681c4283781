"""What a printed receipt says, in the receipt's language (Chinese by default)."""

from __future__ import annotations

from devices.base import Receipt, ReceiptLine
from kiosk.domain import HouseOverview, Meter, Order
from kiosk.i18n import N_, Translator
from kiosk.messages import meter_use_text
from offline_queue.store import TransactionRecord


def build_receipt(
    *, translator: Translator, overview: HouseOverview, meter: Meter, order: Order, terminal_id: str
) -> Receipt:
    """The receipt of a paid electricity recharge."""
    t = translator.gettext
    house = overview.house
    meter_name = f"{meter_use_text(meter.use, meter.number, translator)} {meter.number}"
    lines = [
        ReceiptLine(t(N_("Order number")), order.order_no),
        ReceiptLine(t(N_("Community")), house.community),
        ReceiptLine(t(N_("House")), t(N_("Building {building}, unit {unit}, room {room}")).format(
            building=house.building, unit=house.unit, room=house.room)),
        ReceiptLine(t(N_("Meter")), meter_name),
        ReceiptLine(t(N_("Amount")), translator.money(order.amount_fen)),
    ]
    if order.new_balance_fen is not None:
        lines.append(ReceiptLine(t(N_("New balance")), translator.money(order.new_balance_fen)))
    if order.paid_at is not None:
        lines.append(ReceiptLine(t(N_("Time")), translator.datetime(order.paid_at)))
    lines.append(ReceiptLine(t(N_("Terminal")), terminal_id))
    return Receipt(
        title=t(N_("Electricity recharge receipt")),
        lines=tuple(lines),
        qr_data=order.receipt_url,
        qr_caption=t(N_("Scan for your electronic receipt")),
        footer=(overview.payee, t(N_("Please keep this receipt."))),
    )


def build_pending_slip(
    *, translator: Translator, overview: HouseOverview, meter: Meter, tx: TransactionRecord, terminal_id: str
) -> Receipt:
    """The slip for a payment whose outcome the terminal could not learn: the reference to keep."""
    t = translator.gettext
    house = overview.house
    lines = [
        ReceiptLine(t(N_("Order number")), tx.order_no or tx.idempotency_key[:12]),
        ReceiptLine(t(N_("Community")), house.community),
        ReceiptLine(t(N_("House")), t(N_("Building {building}, unit {unit}, room {room}")).format(
            building=house.building, unit=house.unit, room=house.room)),
        ReceiptLine(t(N_("Meter")), f"{meter_use_text(meter.use, meter.number, translator)} {meter.number}"),
        ReceiptLine(t(N_("Amount")), translator.money(tx.amount_fen)),
        ReceiptLine(t(N_("Time")), translator.datetime(tx.created_at)),
        ReceiptLine(t(N_("Terminal")), terminal_id),
    ]
    return Receipt(
        title=t(N_("Payment being confirmed")),
        lines=tuple(lines),
        footer=(
            t(N_("If you paid, the recharge completes by itself when the network is back.")),
            t(N_("Nothing is charged twice. Keep this slip.")),
            overview.payee,
        ),
    )
