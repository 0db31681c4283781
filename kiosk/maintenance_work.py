"""The blocking work behind the maintenance menu's actions, each run on a worker lane (never the GUI thread).

Settling a transaction by hand, exporting the journal to CSV, the printer's test receipt and what the network
page shows. No Qt, no screen state: `kiosk.maintenance` calls these and turns the answers into models.
"""

from __future__ import annotations

import csv
import socket
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from devices.base import Receipt, ReceiptLine
from kiosk.i18n import N_, Translator
from kiosk.queue_cli import CSV_COLUMNS
from offline_queue.states import InvalidTransition, TxState
from offline_queue.store import TransactionRecord, TransactionStore

#: Printed on the test receipt whatever the receipt language: the test is whether the printer's Chinese font and
#: GB18030 encoding work, so these characters are test data, not a message to translate.
CHINESE_SAMPLE = "中文打印测试：缴费成功 电费充值 ¥100.00"


class SettleOutcome(StrEnum):
    """What staff found out about a payment that needs attention."""

    PAID = "paid"
    NOT_PAID = "not_paid"


class SettleReason(StrEnum):
    """How staff found out (the menu offers these; typing on a touchscreen is slow and error-prone)."""

    CHECKED_WITH_HQ = "checked_with_hq"  # HQ's back office or the payment provider's records
    PAYER_RECORD = "payer_record"  # the resident showed the payment (or its absence) on the phone
    HANDLED_AT_OFFICE = "handled_at_office"  # refunded or collected at the property office


def settle_by_staff(
    store: TransactionStore, tx_id: str, outcome: SettleOutcome, reason: SettleReason, staff_id: str
) -> TransactionRecord:
    """Close a transaction that needs attention with the outcome staff established outside the terminal.

    Paid becomes `paid`; not paid becomes `cancelled` when HQ had made an order, else `abandoned`. Its unsent
    messages to HQ are marked done in the same transaction (nothing is sent for it again). Only a transaction in
    `needs_attention` can be settled this way: anything else is still the worker's to settle.
    """
    tx = store.get(tx_id)
    not_paid = TxState.CANCELLED if tx.order_no else TxState.ABANDONED
    target = TxState.PAID if outcome is SettleOutcome.PAID else not_paid
    if tx.state is not TxState.NEEDS_ATTENTION:
        raise InvalidTransition(tx.state, target)
    unsent = [m.id for m in store.outbox_for(tx_id) if m.sent_at is None]
    return store.transition(
        tx_id, target, reason="staff_settled", sent=unsent,
        detail={"staff_id": staff_id, "outcome": outcome.value, "reason": reason.value},
    )


def export_transactions(store: TransactionStore, folder: Path, terminal_id: str, now: datetime) -> tuple[Path, int]:
    """Write every transaction of the live journal to a new CSV file in `folder` (the columns of
    `kiosk queue export`); the file and the number of rows."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"transactions-{terminal_id}-{now:%Y%m%d-%H%M%S}.csv"
    records = store.transactions()
    # utf-8-sig: a spreadsheet opened by double-click reads the Chinese labels right.
    with open(path, "x", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for record in records:
            writer.writerow([_cell(record, column) for column in CSV_COLUMNS])
    return path, len(records)


def _cell(record: TransactionRecord, column: str) -> object:
    if column == "where":
        return "live"
    value = getattr(record, column)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Enum):
        return value.value
    return "" if value is None else value


def test_receipt(translator: Translator, terminal_id: str, now: datetime) -> Receipt:
    """A receipt that exercises the printer: Chinese text, a QR code, the terminal and the time."""
    t = translator.gettext
    return Receipt(
        title=t(N_("Printer test")),
        lines=(
            ReceiptLine(t(N_("Terminal")), terminal_id),
            ReceiptLine(t(N_("Time")), translator.datetime(now)),
            ReceiptLine(t(N_("Chinese text")), CHINESE_SAMPLE),
        ),
        qr_data=f"KIOSK-PRINTER-TEST/{terminal_id}/{now:%Y%m%dT%H%M%SZ}",
        qr_caption=t(N_("If this text and the code above are clear, the printer works.")),
        footer=(CHINESE_SAMPLE,),
    )


@dataclass(frozen=True)
class NetworkInfo:
    """What the network page shows: HQ's address and whether (and how fast) it answered a check just now."""

    hq_url: str
    reachable: bool
    latency_ms: int | None
    error: str
    host_name: str
    local_address: str  # the address this terminal reaches HQ from ("" when there is no route)


def local_address(hq_url: str) -> str:
    """The local address packets to HQ leave from (a UDP `connect` sends nothing); "" without a route."""
    parts = urlsplit(hq_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((parts.hostname or "127.0.0.1", port))
            return str(probe.getsockname()[0])
    except OSError:
        return ""
