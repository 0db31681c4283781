"""Fabricated screen models covering every screen and its notable variants (for screenshots and tests).

`sample_screens(mode=Mode.ELDERLY)` gives the same screens as the journey makes them in elderly mode (the frequent
fees only, no reprint, the house's usual amounts: kiosk/elderly.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from kiosk.domain import Account, HouseOverview, HouseRef, LastRecharge, Meter, MonthUsage
from kiosk.elderly import simpler_overview, usual_presets
from kiosk.forecast import Forecast
from kiosk.screens import (
    AmountScreen,
    CodePayment,
    HouseNumberScreen,
    IdleScreen,
    LastPayment,
    Loading,
    LoadingScreen,
    Mode,
    Notice,
    Outcome,
    OutOfServiceScreen,
    OverviewScreen,
    PaymentScreen,
    ReceiptState,
    ResultScreen,
    Screen,
)

HOUSE = HouseRef("h_3_2_501", "阳光花园", "3", "2", "501")
USAGE = tuple(MonthUsage(f"2026-{m:02d}", kwh) for m, kwh in ((5, 150.2), (6, 171.0), (7, 230.4), (8, 241.9),
                                                              (9, 180.3), (10, 160.8)))
LIGHTING = Meter("m_l", "lighting", "3205010001", 4210, 52, 61.5, USAGE)
AIRCON = Meter("m_ac", "air_conditioning", "3205010002", 830, 52, 120.0, USAGE)
ACCOUNTS = (
    Account("a_heat", "heating", 264000, "2026-2027", date(2026, 12, 31)),
    Account("a_prop", "property", 0, "2026", None),
)
LAST = LastRecharge("m_l", 10000, "qr", datetime(2026, 10, 2, 8, 11, tzinfo=UTC))
USUAL = (10000, 5000, 20000)  # the house's usual amounts, most used first
PRESETS = (2000, 5000, 10000, 20000)
OK_FORECAST = Forecast(5.6, 14, date(2026, 12, 4), 9200, low=False, abnormal_rise=False)
LOW_FORECAST = Forecast(4.1, 3, date(2026, 11, 23), 18700, low=True, abnormal_rise=True)
PAID_AT = datetime(2026, 11, 22, 3, 4, 5, tzinfo=UTC)
# 17:40 UTC on the 20th is already the 21st in Shanghai: the banner must say the 21st.
LAST_AT = datetime(2026, 11, 20, 17, 40, tzinfo=UTC)


def last_payment(outcome: Outcome) -> LastPayment:
    return LastPayment(outcome, 5000, LAST_AT, "HQ4ZT8RM2KXW6NPA")


def overview(
    meters: tuple[Meter, ...], selected: str, quick: int | None = 10000, last: LastPayment | None = None
) -> OverviewScreen:
    forecasts = {LIGHTING.meter_id: OK_FORECAST, AIRCON.meter_id: LOW_FORECAST}
    house = HouseOverview(HOUSE, "阳光花园物业服务中心", meters, ACCOUNTS, LAST, USUAL)
    return OverviewScreen(house, {m.meter_id: forecasts[m.meter_id] for m in meters}, selected, quick, last)


def result(outcome: Outcome, receipt: ReceiptState = ReceiptState.NONE, **extra: object) -> ResultScreen:
    paid = outcome is Outcome.PAID
    return ResultScreen(
        outcome=outcome,
        house=HOUSE,
        meter=LIGHTING,
        amount_fen=10000,
        order_no=None if outcome is Outcome.NOT_STARTED else "EO7KQ2M4X9ZP3R8T",
        new_balance_fen=14210 if paid else None,
        paid_at=PAID_AT if paid else None,
        receipt=receipt,
        **extra,  # type: ignore[arg-type]
    )


def as_elderly(model: Screen) -> Screen:
    """`model` as the journey makes it in elderly mode."""
    if isinstance(model, OverviewScreen):
        return replace(model, overview=simpler_overview(model.overview), reprint_available=False)
    if isinstance(model, AmountScreen):
        house = HouseOverview(HOUSE, "", (model.meter,), ACCOUNTS, LAST, USUAL)
        return replace(model, presets_fen=usual_presets(house, model.meter.meter_id, PRESETS, 1000, 200000))
    return model


def sample_screens(now: datetime | None = None, mode: Mode = Mode.STANDARD) -> dict[str, Screen]:
    """Name → model for every screen variant worth looking at, as the journey makes them in `mode`."""
    screens = _samples(now)
    if mode is Mode.ELDERLY:
        return {name: as_elderly(model) for name, model in screens.items()}
    return screens


def _samples(now: datetime | None) -> dict[str, Screen]:
    deadline = (now or datetime.now(UTC)) + timedelta(seconds=165)
    amount = AmountScreen(HOUSE, LIGHTING, PRESETS, 1000, 200000, selected_fen=10000)
    payment = PaymentScreen(HOUSE, LIGHTING, 10000, "EO7KQ2M4X9ZP3R8T",
                            "https://pay.example.cn/q/EO7KQ2M4X9ZP3R8T", deadline)
    return {
        "idle": IdleScreen(),
        "idle-offline": IdleScreen(online=False),
        "idle-notice": IdleScreen(notice=Notice.UNKNOWN_CARD),
        "idle-offline-waiting": IdleScreen(online=False, waiting=3),
        "idle-waiting": IdleScreen(waiting=1),
        "house-number": HouseNumberScreen(building="3", unit="2"),
        "house-number-notice": HouseNumberScreen("9", "9", "999", Notice.UNKNOWN_HOUSE),
        "loading": LoadingScreen(Loading.FINDING_HOUSE),
        "overview-one-meter": overview((LIGHTING,), LIGHTING.meter_id),
        "overview-two-meters": overview((LIGHTING, AIRCON), AIRCON.meter_id),
        "overview-no-quick": overview((LIGHTING,), LIGHTING.meter_id, quick=None),
        # The two-meter overview is the tightest in landscape: the banner must fit above it.
        "overview-last-paid": overview((LIGHTING, AIRCON), AIRCON.meter_id, last=last_payment(Outcome.PAID)),
        "overview-last-unknown": overview((LIGHTING, AIRCON), AIRCON.meter_id, last=last_payment(Outcome.UNKNOWN)),
        "overview-last-not-through": overview((LIGHTING, AIRCON), AIRCON.meter_id,
                                              last=last_payment(Outcome.EXPIRED)),
        "amount": amount,
        "amount-too-small": AmountScreen(HOUSE, LIGHTING, amount.presets_fen, 1000, 200000, 500,
                                         Notice.AMOUNT_TOO_SMALL),
        "payment": payment,
        "payment-connection-trouble": PaymentScreen(HOUSE, LIGHTING, 10000, payment.order_no, payment.pay_url,
                                                    deadline, connection_ok=False),
        "payment-code-checking": replace(payment, code=CodePayment.CHECKING),
        "payment-code-confirming": replace(payment, code=CodePayment.CONFIRMING),
        "payment-code-refused": replace(payment, notice=Notice.PAYMENT_CODE_REFUSED),
        "result-paid-printed": result(Outcome.PAID, ReceiptState.PRINTED),
        "result-paid-paper-out": result(Outcome.PAID, ReceiptState.PAPER_OUT,
                                        receipt_url="https://hq.example.cn/r/EO7KQ2M4X9ZP3R8T"),
        "result-declined": result(Outcome.DECLINED),
        "result-expired": result(Outcome.EXPIRED),
        "result-cancelled": result(Outcome.CANCELLED),
        "result-not-started": result(Outcome.NOT_STARTED, notice=Notice.HQ_UNREACHABLE),
        "result-unknown": result(Outcome.UNKNOWN),
        "result-unknown-slip-printed": result(Outcome.UNKNOWN, ReceiptState.PRINTED,
                                              notice=Notice.CONNECTION_TROUBLE),
        "result-unknown-slip-paper-out": result(Outcome.UNKNOWN, ReceiptState.PAPER_OUT,
                                                notice=Notice.CONNECTION_TROUBLE),
        "out-of-service": OutOfServiceScreen(
            where=(("zh_CN", "1号楼物业服务中心"), ("en", "the property office, building 1"))
        ),
    }
