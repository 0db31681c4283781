"""What each screen of the journey shows, as plain data. The core decides; `ui/` only renders these.

Texts are not here: a screen model carries codes and numbers, and the UI turns them into catalog texts at paint
time, so a language switch repaints everything at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kiosk.domain import HouseOverview, HouseRef, Meter
from kiosk.forecast import Forecast


class Mode(StrEnum):
    """How the terminal serves a resident: standard, or elderly mode (长辈版: larger, calmer, spoken)."""

    STANDARD = "standard"
    ELDERLY = "elderly"


class Notice(StrEnum):
    """A message for the resident; its text is in `kiosk.messages`."""

    UNKNOWN_CARD = "unknown_card"
    UNKNOWN_HOUSE = "unknown_house"
    UNKNOWN_HOUSE_CODE = "unknown_house_code"
    UNKNOWN_BILL = "unknown_bill"
    QR_NOT_OURS = "qr_not_ours"
    QR_UNREADABLE = "qr_unreadable"
    HOUSE_NUMBER_INCOMPLETE = "house_number_incomplete"
    HQ_UNREACHABLE = "hq_unreachable"
    HQ_SLOW = "hq_slow"
    HQ_ERROR = "hq_error"
    AMOUNT_TOO_SMALL = "amount_too_small"
    AMOUNT_TOO_LARGE = "amount_too_large"
    CONNECTION_TROUBLE = "connection_trouble"
    PAYMENT_CODE_TOO_EARLY = "payment_code_too_early"  # a wallet's code shown before there is an order to pay
    NOT_A_PAYMENT_CODE = "not_a_payment_code"  # another code shown on the payment screen
    PAYMENT_CODE_REFUSED = "payment_code_refused"  # HQ (the wallet) would not take the code


class Loading(StrEnum):
    FINDING_HOUSE = "finding_house"
    CREATING_ORDER = "creating_order"
    CANCELLING = "cancelling"
    CHECKING_PAYMENT = "checking_payment"  # asking HQ how a payment whose answer was lost ended


class Outcome(StrEnum):
    PAID = "paid"
    DECLINED = "declined"
    EXPIRED = "expired"  # not paid before the countdown ended
    CANCELLED = "cancelled"
    NOT_STARTED = "not_started"  # the order could not be created (HQ unreachable or refused)
    UNKNOWN = "unknown"  # the terminal could not learn whether the payment went through


class ReceiptState(StrEnum):
    NONE = "none"
    PRINTING = "printing"
    PRINTED = "printed"
    PAPER_OUT = "paper_out"
    FAILED = "failed"


@dataclass(frozen=True)
class IdleScreen:
    online: bool = True
    language: str = "zh_CN"
    notice: Notice | None = None
    waiting: int = 0  # payments the terminal is still settling with HQ
    card_reader_ready: bool = True  # False while the card reader is down: its way to start is not offered
    qr_scanner_ready: bool = True  # the same for the QR scanner


@dataclass(frozen=True)
class LastPayment:
    """How this house's last payment at this terminal ended, shown when the resident could not see it end."""

    outcome: Outcome
    amount_fen: int
    at: datetime
    order_no: str | None


@dataclass(frozen=True)
class HouseNumberScreen:
    building: str = ""
    unit: str = ""
    room: str = ""
    notice: Notice | None = None


@dataclass(frozen=True)
class LoadingScreen:
    what: Loading


@dataclass(frozen=True)
class OverviewScreen:
    overview: HouseOverview
    forecasts: Mapping[str, Forecast]
    selected_meter_id: str
    quick_amount_fen: int | None  # the last recharge's amount, offered as a one-touch repeat
    last_payment: LastPayment | None = None
    #: The house's last payment here was paid: "Reprint last receipt" is offered.
    reprint_available: bool = False
    #: How a reprint asked for on this screen is going (NONE until one is asked for).
    reprint: ReceiptState = ReceiptState.NONE


@dataclass(frozen=True)
class AmountScreen:
    house: HouseRef
    meter: Meter
    presets_fen: tuple[int, ...]
    min_fen: int
    max_fen: int
    selected_fen: int | None = None
    notice: Notice | None = None


class CodePayment(StrEnum):
    """How a payment with a wallet's payment code is going, on the payment screen."""

    CHECKING = "checking"  # sent to HQ; its answer is awaited
    CONFIRMING = "confirming"  # the wallet asks the resident to confirm on the phone


@dataclass(frozen=True)
class PaymentScreen:
    house: HouseRef
    meter: Meter
    amount_fen: int
    order_no: str
    pay_url: str
    deadline: datetime  # aware UTC; the UI counts down to it (not while a payment code is under way)
    connection_ok: bool = True
    code: CodePayment | None = None  # the resident showed a wallet's payment code instead of scanning the QR
    notice: Notice | None = None


@dataclass(frozen=True)
class ResultScreen:
    outcome: Outcome
    house: HouseRef
    meter: Meter
    amount_fen: int
    order_no: str | None = None
    new_balance_fen: int | None = None
    paid_at: datetime | None = None
    receipt_url: str | None = None
    receipt: ReceiptState = ReceiptState.NONE
    notice: Notice | None = None


@dataclass(frozen=True)
class OutOfServiceScreen:
    """Staff or HQ took the terminal out of service: say so, and where else to pay (from the configuration)."""

    where: tuple[tuple[str, str], ...] = ()  # (language, place) pairs

    def where_in(self, language: str) -> str:
        places = dict(self.where)
        return places.get(language) or places.get("zh_CN") or next(iter(places.values()), "")


Screen = (
    IdleScreen | HouseNumberScreen | LoadingScreen | OverviewScreen | AmountScreen | PaymentScreen | ResultScreen
    | OutOfServiceScreen
)
