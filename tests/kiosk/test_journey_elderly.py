"""Elderly mode (长辈版) journeys against the real HQ on loopback: fewer choices, a card that remembers the mode, and
time enough (longer time-outs, more time as often as asked, the payment QR's time extended)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from journey_rig import Rig, make_config, pay_in_sandbox
from sqlalchemy import delete, update

from hq.context import hq_context
from hq.models import CardPreference, Order
from hq.seed import DEMO_HOUSES, NEW_HOUSE, DemoHouse
from hq.server import HqServer
from kiosk.config import ConfigError
from kiosk.domain import Account, HouseOverview
from kiosk.hq_client import HqClient, HqError, HqUnreachable, new_idempotency_key
from kiosk.screens import (
    AmountScreen,
    CodePayment,
    IdleScreen,
    Mode,
    OverviewScreen,
    PaymentScreen,
    ResultScreen,
)
from offline_queue.states import TxState

RigFactory = Callable[..., Rig]

_BY_NUMBER = {h.number: h for h in DEMO_HOUSES}
# Houses no other journey test picks on purpose; one per test that pays or stores a card's mode.
USUAL_HOUSE = _BY_NUMBER["2-2-601"]
CARD_HOUSE = _BY_NUMBER["3-2-601"]
TIMING_HOUSE = _BY_NUMBER["3-2-602"]
PAYMENT_HOUSE = _BY_NUMBER["2-2-602"]
FAULT_HOUSE = _BY_NUMBER["1-1-602"]

CONFIRMS = "286543210987654328"  # a sandbox payment code whose payer is asked to confirm on the phone


@pytest.fixture(autouse=True)
def forget_card_modes(hq_server: HqServer) -> Iterator[None]:
    """The HQ on loopback lives for the whole session: no card keeps a mode chosen here for other tests."""
    yield
    assert hq_server.app is not None
    with hq_context(hq_server.app).sessions() as session:
        session.execute(delete(CardPreference))
        session.commit()


@pytest.fixture
def hq(hq_server: HqServer) -> Iterator[HqClient]:
    """A client of the test's own, to ask HQ what it stored (never the journey's, which its lane uses)."""
    client = HqClient(hq_server.base_url, 1.0, 5.0)
    yield client
    client.close()


def follow_loop_clock(rig: Rig) -> None:
    """The journey's clock moves with the loop's: `rig.loop.advance` skips ahead for the payment's deadline too."""
    rig.journey._clock = lambda: datetime.now(UTC) + timedelta(seconds=rig.loop.offset)


def by_number(rig: Rig, house: DemoHouse) -> OverviewScreen:
    building, unit, room = house.number.split("-")
    rig.journey.enter_house_number()
    rig.journey.submit_house_number(building, unit, room)
    return rig.wait_for(OverviewScreen)


def to_payment(rig: Rig, house: DemoHouse, amount_fen: int = 3000) -> PaymentScreen:
    by_number(rig, house)
    rig.journey.select_meter(house.lighting_meter_id)
    rig.journey.other_amount()
    rig.wait_for(AmountScreen)
    rig.journey.choose_amount(amount_fen)
    return rig.wait_for(PaymentScreen)


def recharge_at_hq(hq: HqClient, hq_server: HqServer, house: DemoHouse, amounts_fen: tuple[int, ...]) -> None:
    """Paid recharges of the house's lighting meter made elsewhere (another terminal, the resident's phone) over
    the past days, oldest first: HQ's timestamps are whole seconds, so they are dated back to keep their order."""
    paid = []
    for amount_fen in amounts_fen:
        order = hq.create_order(
            idempotency_key=new_idempotency_key(), terminal_id="T-OTHER", house_id=house.house_id,
            meter_id=house.lighting_meter_id, amount_fen=amount_fen,
        )
        pay_in_sandbox(order.pay_url)
        paid.append(order.order_no)
    assert hq_server.app is not None
    start = datetime.now(UTC) - timedelta(days=len(paid))
    with hq_context(hq_server.app).sessions() as session:
        for days, order_no in enumerate(paid):
            when = start + timedelta(days=days)
            session.execute(update(Order).where(Order.order_no == order_no).values(paid_at=when))
        session.commit()


def no_warning(rig: Rig) -> bool:
    return not rig.warnings or rig.warnings[-1] is None


def seconds_left(rig: Rig, screen: PaymentScreen) -> float:
    return (screen.deadline - rig.journey._clock()).total_seconds()


# ---- fewer choices ------------------------------------------------------------------------------------------------


def test_elderly_overview_and_amounts(
    make_rig: RigFactory, hq: HqClient, hq_server: HqServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    house = USUAL_HOUSE
    # The house recharged elsewhere: 4400 four times, 8800 three times, 5500 twice...
    recharge_at_hq(hq, hq_server, house, (5500, 8800, 4400, 5500, 8800, 4400, 8800, 4400, 4400))
    rig = make_rig()

    # An HQ newer than this terminal may send fees of other kinds; standard mode shows them all.
    real_overview = rig.hq.overview

    def with_parking(house_id: str) -> HouseOverview:
        overview = real_overview(house_id)
        parking = Account(f"a_{house_id}_park", "parking", 36000, "2026", None)
        return replace(overview, accounts=(*overview.accounts, parking))

    monkeypatch.setattr(rig.hq, "overview", with_parking)

    # ...and 6600 here, in standard mode: the last recharge, and a receipt this terminal could reprint.
    payment = to_payment(rig, house, 6600)
    pay_in_sandbox(payment.pay_url)
    assert rig.wait_for(ResultScreen).amount_fen == 6600
    rig.wait(lambda: rig.store.last_for_house(house.house_id).state is TxState.PAID)  # type: ignore[union-attr]
    rig.journey.finish()

    standard = by_number(rig, house)
    assert rig.journey.mode is Mode.STANDARD
    assert [a.kind for a in standard.overview.accounts] == ["heating", "property", "parking"]
    assert standard.reprint_available
    assert standard.overview.usual_amounts_fen[:3] == (4400, 8800, 5500)
    rig.journey.other_amount()
    assert rig.wait_for(AmountScreen).presets_fen == (2000, 5000, 10000, 20000)
    rig.journey.finish()

    rig.journey.set_mode(Mode.ELDERLY)
    elderly = by_number(rig, house)
    assert rig.journey.mode is Mode.ELDERLY
    assert [a.kind for a in elderly.overview.accounts] == ["heating", "property"]  # the frequent fees only
    assert not elderly.reprint_available  # no extras: one way on, Recharge
    assert elderly.overview.meters == standard.overview.meters
    assert elderly.quick_amount_fen == 6600  # the one-touch repeat stays
    rig.journey.other_amount()
    amount = rig.wait_for(AmountScreen)
    # The last recharge first, then the house's most usual amounts; at most three, smallest first.
    assert amount.presets_fen == (4400, 6600, 8800)
    rig.journey.choose_amount(4400)
    assert rig.wait_for(PaymentScreen).amount_fen == 4400
    rig.journey.cancel_payment()
    rig.wait_for(ResultScreen)


def test_elderly_amounts_of_a_house_with_no_usual_amounts_are_the_first_presets(make_rig: RigFactory) -> None:
    rig = make_rig(payment={"presets_fen": [500, 2000, 5000, 10000, 20000], "min_fen": 1000})
    rig.journey.set_mode(Mode.ELDERLY)
    overview = by_number(rig, NEW_HOUSE)  # never recharged
    assert overview.overview.usual_amounts_fen == () and overview.quick_amount_fen is None
    rig.journey.other_amount()
    assert rig.wait_for(AmountScreen).presets_fen == (2000, 5000, 10000)  # 500 is below the minimum


# ---- a card remembers the mode ---------------------------------------------------------------------------------


def test_a_card_remembers_the_mode_its_holder_chose(make_rig: RigFactory, hq: HqClient) -> None:
    card = CARD_HOUSE.card_id
    rig = make_rig()
    shown: list[tuple[type, Mode]] = []
    rig.journey.add_screen_listener(lambda screen: shown.append((type(screen), rig.journey.mode)))
    assert hq.find_house("card", card).preferred_mode is None

    # The resident switches to 长辈版 on the idle screen, then shows their card: HQ remembers it for the card.
    rig.journey.set_mode(Mode.ELDERLY)
    assert isinstance(rig.journey.screen, IdleScreen) and rig.journey.mode is Mode.ELDERLY
    rig.journey.card_inserted(card)
    rig.wait_for(OverviewScreen)
    rig.drain()
    assert hq.find_house("card", card).preferred_mode == "elderly"
    assert hq.find_house("card", card.lower()).preferred_mode == "elderly"
    assert hq.find_house("house_number", CARD_HOUSE.number).preferred_mode is None  # only a card says it
    rig.journey.finish()
    assert rig.journey.mode is Mode.STANDARD  # the next resident starts in the default mode

    # Next visit: the card alone switches the journey to elderly mode, before the house's screen is shown.
    shown.clear()
    rig.journey.card_inserted(card)
    overview = rig.wait_for(OverviewScreen)
    assert rig.journey.mode is Mode.ELDERLY
    assert [mode for kind, mode in shown if kind is OverviewScreen] == [Mode.ELDERLY]
    assert not overview.reprint_available
    rig.journey.other_amount()
    assert len(rig.wait_for(AmountScreen).presets_fen) <= 3
    rig.drain()
    assert hq.find_house("card", card).preferred_mode == "elderly"
    rig.journey.finish()
    assert rig.journey.mode is Mode.STANDARD

    # Another resident's card is not switched.
    other = _BY_NUMBER["3-1-602"].card_ids[1]
    rig.journey.card_inserted(other)
    rig.wait_for(OverviewScreen)
    assert rig.journey.mode is Mode.STANDARD
    rig.journey.finish()

    # The holder chooses standard again: that clears it.
    rig.journey.set_mode(Mode.STANDARD)
    rig.journey.card_inserted(card)
    rig.wait_for(OverviewScreen)
    assert rig.journey.mode is Mode.STANDARD  # their choice now wins over the remembered one
    rig.drain()
    assert hq.find_house("card", card).preferred_mode == "standard"
    rig.journey.finish()
    rig.journey.card_inserted(card)
    rig.wait_for(OverviewScreen)
    assert rig.journey.mode is Mode.STANDARD


def test_a_mode_chosen_without_a_card_is_not_remembered(make_rig: RigFactory, hq_server: HqServer) -> None:
    rig = make_rig()
    rig.journey.set_mode(Mode.ELDERLY)
    by_number(rig, CARD_HOUSE)
    rig.drain()
    assert hq_server.app is not None
    with hq_context(hq_server.app).sessions() as session:
        assert session.query(CardPreference).count() == 0
    # A card that identifies in the mode it already has sends nothing either.
    rig.journey.finish()
    rig.journey.set_mode(Mode.STANDARD)
    rig.journey.card_inserted(CARD_HOUSE.card_id)
    rig.wait_for(OverviewScreen)
    rig.drain()
    with hq_context(hq_server.app).sessions() as session:
        assert session.query(CardPreference).count() == 0


@pytest.mark.parametrize(
    "failure",
    [HqUnreachable("connection refused"), HqError(503, "busy"), HqError(404, "unknown_card"), RuntimeError("bug")],
    ids=["unreachable", "busy", "unknown_card", "bug"],
)
def test_a_failed_card_preference_never_disturbs_the_journey(
    make_rig: RigFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failure: Exception
) -> None:
    rig = make_rig()
    calls: list[tuple[str, str]] = []

    def set_card_mode(card_id: str, mode: str) -> None:
        calls.append((card_id, mode))
        raise failure

    monkeypatch.setattr(rig.hq, "set_card_mode", set_card_mode)
    rig.journey.set_mode(Mode.ELDERLY)
    with caplog.at_level(logging.WARNING, logger="kiosk.journey"):
        rig.journey.card_inserted(FAULT_HOUSE.card_id)
        overview = rig.wait_for(OverviewScreen)
        rig.drain()
    assert calls == [(FAULT_HOUSE.card_id, "elderly")]
    assert rig.journey.screen == overview  # the resident still sees their house, nothing said
    assert rig.journey.mode is Mode.ELDERLY and rig.journey.online
    assert any("not remembered" in r.getMessage() for r in caplog.records)
    assert FAULT_HOUSE.card_id not in caplog.text  # the card number is not written into the log
    rig.journey.other_amount()
    rig.wait_for(AmountScreen)
    rig.journey.choose_amount(3000)
    assert rig.wait_for(PaymentScreen).amount_fen == 3000
    rig.journey.cancel_payment()
    rig.wait_for(ResultScreen)


# ---- the default mode and language come back -------------------------------------------------------------------


@pytest.mark.parametrize("default", [Mode.STANDARD, Mode.ELDERLY])
def test_finish_restores_the_default_mode_and_language(make_rig: RigFactory, default: Mode) -> None:
    rig = make_rig(ui={"mode": default.value})
    assert rig.journey.mode is default and rig.journey.screen.language == "en"  # type: ignore[union-attr]
    other = Mode.STANDARD if default is Mode.ELDERLY else Mode.ELDERLY
    rig.journey.set_language("zh_CN")
    rig.journey.set_mode(other)
    assert rig.journey.screen.language == "zh_CN"  # type: ignore[union-attr]
    by_number(rig, TIMING_HOUSE)
    assert rig.journey.mode is other
    rig.journey.finish()
    idle = rig.wait_for(IdleScreen)
    assert rig.journey.mode is default
    assert idle.language == "en" == rig.config.ui.language

    # Also when the journey ended by itself (the resident walked away).
    rig.journey.set_language("zh_CN")
    rig.journey.set_mode(other)
    by_number(rig, TIMING_HOUSE)
    rig.loop.advance(rig.config.ui.elderly_inactivity_s + rig.config.ui.inactivity_s)
    rig.wait(lambda: bool(rig.warnings) and rig.warnings[-1] is not None)
    for _ in range(max(rig.config.ui.warning_s, rig.config.ui.elderly_warning_s) + 1):
        if isinstance(rig.journey.screen, IdleScreen):
            break
        rig.loop.advance(1.0)
        rig.drain()
    idle = rig.wait_for(IdleScreen)
    assert rig.journey.mode is default and idle.language == "en"


# ---- time enough -----------------------------------------------------------------------------------------------

TIMINGS = {
    "inactivity_s": 30, "warning_s": 20, "result_s": 10,
    "elderly_inactivity_s": 90, "elderly_warning_s": 45, "elderly_result_s": 40,
}


def test_elderly_timings_and_more_time_as_often_as_asked(make_rig: RigFactory) -> None:
    rig = make_rig(ui=TIMINGS)
    rig.journey.set_mode(Mode.ELDERLY)
    by_number(rig, TIMING_HOUSE)

    rig.loop.advance(30)  # standard mode would ask now
    rig.drain()
    assert no_warning(rig)
    rig.loop.advance(59)
    rig.drain()
    assert no_warning(rig)
    rig.loop.advance(1)
    rig.wait(lambda: bool(rig.warnings) and rig.warnings[-1] == 45)

    for turn in range(12):  # asked again and again: always more time, and the screen stays
        if turn:
            rig.loop.advance(90)
            rig.wait(lambda: rig.warnings[-1] == 45)
        for _ in range(turn % 3 * 10):  # sometimes only once the question has waited a while
            rig.loop.advance(1.0)
            rig.drain()
        assert rig.warnings[-1] == 45 - turn % 3 * 10
        rig.journey.more_time()
        assert rig.warnings[-1] is None
        assert isinstance(rig.journey.screen, OverviewScreen)

    rig.journey.other_amount()  # the amount screen has the same time
    rig.wait_for(AmountScreen)
    rig.loop.advance(89)
    rig.drain()
    assert no_warning(rig) and isinstance(rig.journey.screen, AmountScreen)
    rig.loop.advance(1)
    rig.wait(lambda: rig.warnings[-1] == 45)
    for left in range(44, -1, -1):  # nobody answers: the question counts down and the journey ends
        rig.loop.advance(1.0)
        rig.wait(lambda left=left: rig.warnings[-1] in (left, None))  # type: ignore[misc]
    rig.wait_for(IdleScreen)
    assert rig.warnings[-1] is None and rig.journey.current_house is None and rig.journey.mode is Mode.STANDARD


def test_elderly_result_screen_stays_longer(make_rig: RigFactory) -> None:
    rig = make_rig(ui=TIMINGS)
    rig.journey.set_mode(Mode.ELDERLY)
    to_payment(rig, TIMING_HOUSE)
    rig.journey.cancel_payment()
    rig.wait_for(ResultScreen)
    rig.drain()
    rig.loop.advance(10)  # standard mode's result_s
    rig.drain()
    assert no_warning(rig)
    rig.loop.advance(29)
    rig.drain()
    assert no_warning(rig) and isinstance(rig.journey.screen, ResultScreen)
    rig.loop.advance(1)
    rig.wait(lambda: bool(rig.warnings) and rig.warnings[-1] == 45)
    rig.journey.more_time()
    assert rig.warnings[-1] is None and isinstance(rig.journey.screen, ResultScreen)


def test_standard_timings_are_unchanged(make_rig: RigFactory) -> None:
    rig = make_rig(ui=TIMINGS)
    by_number(rig, TIMING_HOUSE)
    rig.loop.advance(30)
    rig.wait(lambda: bool(rig.warnings) and rig.warnings[-1] == 20)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("elderly_warning_s", 19), ("elderly_inactivity_s", 29), ("elderly_result_s", 19)],
)
def test_elderly_timings_have_a_floor(setting: str, value: int) -> None:
    with pytest.raises(ConfigError):
        make_config("http://127.0.0.1:1", ui={setting: value})


def test_elderly_countdown_has_a_floor() -> None:
    with pytest.raises(ConfigError):
        make_config("http://127.0.0.1:1", payment={"elderly_countdown_s": 59})


# ---- the payment QR's time ---------------------------------------------------------------------------------------

PAYMENT = {"countdown_s": 60, "elderly_countdown_s": 240}
ELDERLY_WARNING = {"elderly_warning_s": 30}


def test_elderly_payment_asks_before_the_qr_time_ends_and_extends_it(make_rig: RigFactory, hq: HqClient) -> None:
    rig = make_rig(payment=PAYMENT, ui=ELDERLY_WARNING)
    follow_loop_clock(rig)
    rig.journey.set_mode(Mode.ELDERLY)
    payment = to_payment(rig, PAYMENT_HOUSE)
    order = hq.order(payment.order_no)
    assert order.expires_at - order.created_at == timedelta(minutes=10)  # HQ's own validity
    assert 235 < seconds_left(rig, payment) <= 240  # elderly_countdown_s, not countdown_s

    rig.loop.advance(60)  # standard mode's countdown would have ended
    rig.drain()
    assert isinstance(rig.journey.screen, PaymentScreen) and no_warning(rig)
    rig.loop.advance(240 - 30 - 60 - 2)
    rig.drain()
    assert no_warning(rig)
    rig.loop.advance(3)  # 30 s before the QR's time ends: "more time?"
    rig.wait(lambda: bool(rig.warnings) and rig.warnings[-1] is not None)
    assert 28 <= rig.warnings[-1] <= 30  # type: ignore[operator]
    assert rig.journey.screen == payment

    first_deadline = payment.deadline
    rig.journey.more_time()
    extended = rig.journey.screen
    assert isinstance(extended, PaymentScreen) and extended.order_no == payment.order_no
    assert rig.warnings[-1] is None
    assert 235 < seconds_left(rig, extended) <= 240  # the full countdown again
    assert extended.deadline > first_deadline

    rig.loop.advance(240 - 30 + 1)
    rig.wait(lambda: rig.warnings[-1] is not None)
    rig.journey.user_activity()  # any touch while asked is a yes
    capped = rig.journey.screen
    assert isinstance(capped, PaymentScreen) and rig.warnings[-1] is None
    assert capped.deadline == order.expires_at  # no later than the order's own end at HQ

    # Nothing more to give: no more question, the countdown on screen says it; then the order is closed.
    rig.loop.advance(seconds_left(rig, capped) - 5)
    rig.drain()
    assert isinstance(rig.journey.screen, PaymentScreen) and no_warning(rig)
    rig.journey.more_time()  # asked anyway: the QR cannot outlive its order
    assert isinstance(rig.journey.screen, PaymentScreen) and rig.journey.screen.deadline == order.expires_at
    rig.loop.advance(6)
    result = rig.wait_for(ResultScreen)
    assert result.outcome.value == "expired"
    rig.wait(lambda: hq.order(payment.order_no).status.value == "cancelled")


def test_elderly_payment_unanswered_question_ends_it(make_rig: RigFactory, hq: HqClient) -> None:
    rig = make_rig(payment=PAYMENT, ui=ELDERLY_WARNING)
    follow_loop_clock(rig)
    rig.journey.set_mode(Mode.ELDERLY)
    payment = to_payment(rig, PAYMENT_HOUSE)
    rig.loop.advance(240 - 30 + 1)
    rig.wait(lambda: bool(rig.warnings) and rig.warnings[-1] is not None)
    for _ in range(40):
        if not isinstance(rig.journey.screen, PaymentScreen):
            break
        rig.loop.advance(1.0)
        rig.drain()
    assert rig.wait_for(ResultScreen).outcome.value == "expired"
    rig.wait(lambda: hq.order(payment.order_no).status.value == "cancelled")


def test_standard_payment_asks_nothing_before_its_deadline(make_rig: RigFactory) -> None:
    rig = make_rig(payment=PAYMENT, ui=ELDERLY_WARNING)
    follow_loop_clock(rig)
    payment = to_payment(rig, PAYMENT_HOUSE)
    assert 55 < seconds_left(rig, payment) <= 60
    rig.loop.advance(58)
    rig.drain()
    assert rig.journey.screen == payment and no_warning(rig)
    rig.loop.advance(3)
    assert rig.wait_for(ResultScreen).outcome.value == "expired"


def test_no_deadline_while_the_payer_confirms_on_the_phone(make_rig: RigFactory, hq: HqClient) -> None:
    rig = make_rig(payment=PAYMENT, ui=ELDERLY_WARNING)
    follow_loop_clock(rig)
    rig.journey.set_mode(Mode.ELDERLY)
    payment = to_payment(rig, PAYMENT_HOUSE)
    # A payment code shown elsewhere for this order: the payer is asked to confirm on the phone.
    answer = hq.pay_with_code(payment.order_no, idempotency_key=new_idempotency_key(), payment_code=CONFIRMS)
    assert answer.status.value == "confirming"
    rig.wait(lambda: getattr(rig.journey.screen, "code", None) is CodePayment.CONFIRMING)

    for _ in range(8):  # well past the QR's time and the order's own validity: still waiting for the payer
        rig.loop.advance(120)
        rig.drain()
        assert isinstance(rig.journey.screen, PaymentScreen) and no_warning(rig)
    pay_in_sandbox(payment.pay_url)  # the payer confirms
    result = rig.wait_for(ResultScreen)
    assert result.outcome.value == "paid" and result.order_no == payment.order_no
