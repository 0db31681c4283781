"""What a printed receipt says, in the receipt's language (Chinese by default), and reprinting the last one.

A receipt is built from HQ's order when the payment is confirmed (`build_receipt`), or rebuilt later from the
stored transaction (`receipt_from_record`) for a reprint; both go through one layout, so a reprint says what the
first receipt said, plus the line that marks it as a reprint. `reprint_receipt` is what the journey (a resident
who identified their house) and the maintenance menu call, on a worker thread.
"""

from __future__ import annotations

from datetime import datetime

from devices.base import Receipt, ReceiptLine, ReceiptPrinter
from kiosk.clock import utc_now
from kiosk.domain import HouseOverview, HouseRef, Meter, Order
from kiosk.i18n import N_, Translator
from kiosk.messages import meter_use_text
from offline_queue.states import TxState
from offline_queue.store import TransactionRecord, TransactionStore


class NotReprintable(ValueError):
    """The transaction has no receipt to reprint (it was not paid)."""


def _house_text(translator: Translator, house: HouseRef) -> str:
    return translator.gettext(N_("Building {building}, unit {unit}, room {room}")).format(
        building=house.building, unit=house.unit, room=house.room
    )


def _recharge_receipt(
    translator: Translator,
    *,
    order_no: str,
    community: str | None,
    house: str,
    meter: str,
    amount_fen: int,
    new_balance_fen: int | None,
    paid_at: datetime | None,
    terminal_id: str,
    receipt_url: str | None,
    payee: str | None,
    reprinted_at: datetime | None = None,
) -> Receipt:
    t = translator.gettext
    lines = [ReceiptLine(t(N_("Order number")), order_no)]
    if community:
        lines.append(ReceiptLine(t(N_("Community")), community))
    lines += [
        ReceiptLine(t(N_("House")), house),
        ReceiptLine(t(N_("Meter")), meter),
        ReceiptLine(t(N_("Amount")), translator.money(amount_fen)),
    ]
    if new_balance_fen is not None:
        lines.append(ReceiptLine(t(N_("New balance")), translator.money(new_balance_fen)))
    if paid_at is not None:
        lines.append(ReceiptLine(t(N_("Time")), translator.datetime(paid_at)))
    lines.append(ReceiptLine(t(N_("Terminal")), terminal_id))
    if reprinted_at is not None:
        # So that a reprint is never taken for a second payment.
        lines.append(ReceiptLine(t(N_("Reprinted")), translator.datetime(reprinted_at)))
    footer = tuple(x for x in (payee, t(N_("Please keep this receipt."))) if x)
    return Receipt(
        title=t(N_("Electricity recharge receipt")),
        lines=tuple(lines),
        qr_data=receipt_url,
        qr_caption=t(N_("Scan for your electronic receipt")),
        footer=footer,
    )


def build_receipt(
    *, translator: Translator, overview: HouseOverview, meter: Meter, order: Order, terminal_id: str
) -> Receipt:
    """The receipt of a paid electricity recharge."""
    house = overview.house
    return _recharge_receipt(
        translator,
        order_no=order.order_no,
        community=house.community,
        house=_house_text(translator, house),
        meter=f"{meter_use_text(meter.use, meter.number, translator)} {meter.number}",
        amount_fen=order.amount_fen,
        new_balance_fen=order.new_balance_fen,
        paid_at=order.paid_at,
        terminal_id=terminal_id,
        receipt_url=order.receipt_url,
        payee=overview.payee,
    )


def _meter_text(translator: Translator, tx: TransactionRecord, overview: HouseOverview | None) -> str:
    meters = {m.meter_id: m for m in overview.meters} if overview is not None else {}
    if tx.meter_id in meters:
        meter = meters[tx.meter_id]
        return f"{meter_use_text(meter.use, meter.number, translator)} {meter.number}"
    use, _, number = tx.meter_label.partition(":")  # stored as "use:number"
    number = number or use
    return f"{meter_use_text(use, number, translator)} {number}"


def _house_of(translator: Translator, tx: TransactionRecord, overview: HouseOverview | None) -> str:
    if overview is not None and overview.house.house_id == tx.house_id:
        return _house_text(translator, overview.house)
    parts = tx.house_label.split("-")  # stored as building-unit-room
    if len(parts) == 3:
        return _house_text(translator, HouseRef(tx.house_id, "", *parts))
    return tx.house_label


def receipt_from_record(
    *,
    translator: Translator,
    tx: TransactionRecord,
    paid_at: datetime | None,
    reprinted_at: datetime,
    overview: HouseOverview | None = None,
) -> Receipt:
    """The receipt of a paid transaction rebuilt from the store, marked as reprinted at `reprinted_at`.

    With the house's overview (a resident at the terminal) it names the community, meter and payee as the first
    receipt did; without it (the maintenance menu) it uses what the transaction stored.
    """
    if tx.state is not TxState.PAID or not tx.order_no:
        raise NotReprintable(f"transaction {tx.id} is {tx.state.value}: there is no receipt to reprint")
    same_house = overview is not None and overview.house.house_id == tx.house_id
    return _recharge_receipt(
        translator,
        order_no=tx.order_no,
        community=overview.house.community if overview is not None and same_house else None,
        house=_house_of(translator, tx, overview if same_house else None),
        meter=_meter_text(translator, tx, overview if same_house else None),
        amount_fen=tx.amount_fen,
        new_balance_fen=tx.new_balance_fen,
        paid_at=paid_at,
        terminal_id=tx.terminal_id,
        receipt_url=tx.receipt_url,
        payee=overview.payee if overview is not None and same_house else None,
        reprinted_at=reprinted_at,
    )


def paid_at(store: TransactionStore, tx_id: str) -> datetime | None:
    """When the terminal recorded the payment (its move to paid)."""
    for event in store.history(tx_id):
        if event.to_state is TxState.PAID:
            return event.at
    return None


def reprintable(store: TransactionStore, house_id: str, terminal_id: str) -> TransactionRecord | None:
    """The house's last transaction at this terminal, when it was paid (so it has a receipt to reprint)."""
    tx = store.last_for_house(house_id)
    if tx is None or tx.state is not TxState.PAID or tx.terminal_id != terminal_id or not tx.order_no:
        return None
    return tx


def reprint_receipt(
    *,
    store: TransactionStore,
    printer: ReceiptPrinter,
    translator: Translator,
    tx_id: str,
    overview: HouseOverview | None = None,
    now: datetime | None = None,
) -> TransactionRecord:
    """Rebuild the receipt of paid transaction `tx_id` and print it; blocks on the printer (a worker thread).

    Raises NotReprintable when it was not paid, PrinterError when it cannot be printed. The transaction's state
    is never touched; its receipt status becomes "printed" once a copy came out.
    """
    tx = store.get(tx_id)
    receipt = receipt_from_record(
        translator=translator, tx=tx, paid_at=paid_at(store, tx_id), reprinted_at=now or utc_now(),
        overview=overview,
    )
    printer.print_receipt(receipt)
    return store.set_receipt_status(tx_id, "printed")


def build_pending_slip(
    *, translator: Translator, overview: HouseOverview, meter: Meter, tx: TransactionRecord, terminal_id: str
) -> Receipt:
    """The slip for a payment whose outcome the terminal could not learn: the reference to keep."""
    t = translator.gettext
    house = overview.house
    lines = [
        ReceiptLine(t(N_("Order number")), tx.order_no or tx.idempotency_key[:12]),
        ReceiptLine(t(N_("Community")), house.community),
        ReceiptLine(t(N_("House")), _house_text(translator, house)),
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
