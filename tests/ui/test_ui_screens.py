"""Every screen renders every model variant, fits both panels, and calls the right journey methods."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.screens import IdleScreen, LastPayment, Notice, Outcome, PaymentScreen, ReceiptState
from ui.main_window import LANDSCAPE, PORTRAIT
from ui.qt import QApplication, QScrollArea, Qt
from ui.samples import AIRCON, LIGHTING, last_payment, overview, result, sample_screens
from ui.screens.amount import AmountView
from ui.screens.house_number import HouseNumberView
from ui.screens.idle import IdleView
from ui.screens.overview import MeterCard, OverviewView
from ui.screens.payment import PaymentView
from ui.screens.result import ResultView
from ui.widgets.countdown import format_countdown, seconds_left

SAMPLES = sample_screens()


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_renders_and_fits_the_panel(make_window, translator, orientation, language):
    window = make_window(orientation)
    translator.set_language(language)
    panel = LANDSCAPE if orientation == "landscape" else PORTRAIT
    for name, model in SAMPLES.items():
        window.show_screen(model)
        assert window.current_view.model == model, name
        needed = window.minimumSizeHint()
        assert needed.width() <= panel.width() and needed.height() <= panel.height(), (name, needed)
        for _ in range(3):  # wrapped texts settle their heights only once laid out, as in the screenshots
            QApplication.processEvents()
        assert window.size() == panel, (name, window.size())
        if isinstance(window.current_view, OverviewView) and len(model.overview.meters) <= 2:  # type: ignore[union-attr]
            # Two meters, with or without the last payment's banner, fit without scrolling (nothing clipped).
            scroll = window.current_view.findChild(QScrollArea)
            assert scroll.verticalScrollBar().maximum() == 0, (name, orientation, language)
    assert window.size() == panel


def test_idle_offers_three_ways_and_shows_offline_and_notices(qtbot, window, journey):
    journey.emit(IdleScreen())
    view = window.current_view
    assert isinstance(view, IdleView)
    assert view.offline.isHidden() and view.notice.isHidden()
    assert not window.header.home.isVisible()
    click(qtbot, view.house_number)
    assert journey.names() == ["enter_house_number"]
    journey.emit(IdleScreen(online=False, notice=Notice.UNKNOWN_CARD))
    assert view.offline.isVisible()
    assert "not registered" in view.notice.text


def test_idle_forgets_what_the_previous_resident_typed(qtbot, window, journey):
    journey.emit(SAMPLES["house-number"])
    view = window.current_view
    assert isinstance(view, HouseNumberView)
    click(qtbot, view.keypad.keys["7"])
    journey.emit(IdleScreen())
    assert view.values == {"building": "", "unit": "", "room": ""}
    assert window.header.title.text() == ""


def test_house_number_fields_keypad_and_submit(qtbot, window, journey):
    journey.emit(SAMPLES["house-number"].__class__())
    view = window.current_view
    assert isinstance(view, HouseNumberView)
    assert view.active == "building"
    click(qtbot, view.keypad.keys["3"])
    click(qtbot, view.boxes["unit"])
    click(qtbot, view.keypad.keys["2"])
    click(qtbot, view.boxes["room"])
    for digit in "5019":
        click(qtbot, view.keypad.keys[digit])
    click(qtbot, view.keypad.keys["backspace"])
    click(qtbot, view.find_home)
    assert journey.calls[-1] == ("submit_house_number", ("3", "2", "501"))
    click(qtbot, view.keypad.keys["clear"])
    assert view.values["room"] == ""
    click(qtbot, view.back)
    assert journey.names()[-1] == "back"


def test_house_number_keeps_typing_across_a_language_switch(qtbot, window, journey):
    journey.emit(SAMPLES["house-number-notice"])
    view = window.current_view
    click(qtbot, view.keypad.keys["8"])
    click(qtbot, window.header.language_buttons["zh_CN"])
    assert view.values["building"] == "98"
    assert view.notice.isVisible()


def test_overview_selects_meters_and_offers_quick_pay(qtbot, window, journey):
    journey.emit(SAMPLES["overview-two-meters"])
    view = window.current_view
    assert isinstance(view, OverviewView)
    cards = view.findChildren(MeterCard)
    assert {card.meter_id: card.selected for card in cards} == {LIGHTING.meter_id: False, AIRCON.meter_id: True}
    lighting = next(card for card in cards if card.meter_id == LIGHTING.meter_id)
    click(qtbot, lighting)
    assert journey.calls[-1] == ("select_meter", (LIGHTING.meter_id,))
    assert "100.00" in view.quick.text()
    click(qtbot, view.quick)
    click(qtbot, view.other)
    click(qtbot, view.back)
    assert journey.names()[-3:] == ["quick_pay", "other_amount", "back"]
    assert "3-2-501" in window.header.title.text()
    assert "阳光花园" in window.header.title.text()


def test_overview_without_a_last_recharge_hides_quick_pay(window, journey):
    journey.emit(overview((LIGHTING,), LIGHTING.meter_id, quick=None))
    view = window.current_view
    assert view.quick.isHidden()
    assert view.other.variant == "primary"


def test_low_balance_is_said_in_words_not_only_colour(window, journey):
    journey.emit(SAMPLES["overview-two-meters"])
    texts = [label.text() for label in window.current_view.findChildren(type(window.header.title))]
    assert any("Balance is low: about 3 days left." in text for text in texts)
    assert any("much higher than usual" in text for text in texts)


def test_amount_presets_keypad_and_confirm(qtbot, window, journey):
    journey.emit(SAMPLES["amount"])
    view = window.current_view
    assert isinstance(view, AmountView)
    assert "100.00" in view.pay.text()  # the model's selected amount
    preset = next(b for b in view.preset_group.buttons() if b.property("amount_fen") == 5000)
    click(qtbot, preset)
    assert preset.isChecked() and "50.00" in view.display.text()
    click(qtbot, view.pay)
    assert journey.calls[-1] == ("choose_amount", (5000,))
    click(qtbot, view.keypad.keys["clear"])
    assert not view.pay.isEnabled()
    for digit in "0150":  # a leading zero is ignored
        click(qtbot, view.keypad.keys[digit])
    click(qtbot, view.pay)
    assert journey.calls[-1] == ("choose_amount", (15000,))
    assert "From" in view.hint.text() and "2,000.00" in view.hint.text()


def test_amount_out_of_range_notice_names_the_limit(window, journey):
    journey.emit(SAMPLES["amount-too-small"])
    view = window.current_view
    assert view.notice.isVisible()
    assert "10.00" in view.notice.text
    assert "5.00" in view.display.text()


def test_payment_shows_qr_countdown_and_cancels(qtbot, window, journey):
    model = SAMPLES["payment"]
    assert isinstance(model, PaymentScreen)
    journey.emit(replace(model, deadline=datetime.now(UTC) + timedelta(seconds=125)))
    view = window.current_view
    assert isinstance(view, PaymentView)
    assert view.qr.data == model.pay_url
    assert view.qr.module_px() >= 4
    assert view.countdown.text() in ("2:05", "2:04")
    assert view.connection.isHidden()
    assert not window.header.home.isVisible()  # leaving goes through Cancel
    click(qtbot, view.cancel)
    assert journey.names()[-1] == "cancel_payment"
    journey.emit(replace(model, connection_ok=False))
    assert view.connection.isVisible()


def test_countdown_arithmetic():
    deadline = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert seconds_left(deadline, deadline - timedelta(seconds=61.2)) == 62
    assert seconds_left(deadline, deadline + timedelta(seconds=5)) == 0
    assert format_countdown(185) == "3:05"


@pytest.mark.parametrize(
    ("outcome", "icon"),
    [(Outcome.PAID, "tick"), (Outcome.DECLINED, "cross"), (Outcome.EXPIRED, "clock"),
     (Outcome.CANCELLED, "cross"), (Outcome.NOT_STARTED, "cross"), (Outcome.UNKNOWN, "clock")],
)
def test_result_icon_per_outcome(window, journey, outcome, icon):
    journey.emit(result(outcome))
    view = window.current_view
    assert isinstance(view, ResultView)
    assert view.icon.name == icon
    assert view.qr_panel.isHidden()


def test_result_paid_with_paper_out_offers_the_e_receipt(qtbot, window, journey):
    journey.emit(SAMPLES["result-paid-paper-out"])
    view = window.current_view
    assert view.qr_panel.isVisible()
    assert view.qr.data.startswith("https://")
    assert "out of paper" in view.receipt.text()
    click(qtbot, view.done)
    assert journey.names()[-1] == "finish"


def test_result_printed_has_no_qr(window, journey):
    journey.emit(result(Outcome.PAID, ReceiptState.PRINTED))
    assert window.current_view.qr_panel.isHidden()
    assert "take your receipt" in window.current_view.receipt.text()


def test_idle_counts_payments_waiting_calmly_online_and_with_the_badge_offline(window, journey):
    journey.emit(IdleScreen(waiting=1))
    view = window.current_view
    assert isinstance(view, IdleView)
    assert view.offline.isHidden() and view.waiting_note.isVisible()
    assert view.waiting_note.text == "1 payment being confirmed"
    assert view.waiting_note.icon.name == "clock"  # words and an icon, not colour alone
    journey.emit(IdleScreen(online=False, waiting=3))
    assert view.offline.isVisible() and view.waiting_note.isHidden()
    assert view.offline.waiting.isVisible() and view.offline.waiting.text() == "3 payments waiting to be confirmed"
    journey.emit(IdleScreen(online=False))
    assert view.offline.isVisible() and view.offline.waiting.isHidden()
    journey.emit(IdleScreen())
    assert view.offline.isHidden() and view.waiting_note.isHidden()


@pytest.mark.parametrize(
    ("outcome", "kind", "icon", "words"),
    [
        (Outcome.PAID, "success", "tick", "went through. Your meter was recharged."),
        (Outcome.UNKNOWN, "info", "clock", "is still being confirmed. It completes by itself; nothing is charged"),
        (Outcome.DECLINED, "warning", "cross", "did not go through. Nothing was charged."),
        (Outcome.EXPIRED, "warning", "cross", "did not go through. Nothing was charged."),
        (Outcome.CANCELLED, "warning", "cross", "did not go through. Nothing was charged."),
        (Outcome.NOT_STARTED, "warning", "cross", "did not go through. Nothing was charged."),
    ],
)
def test_overview_tells_how_the_last_payment_ended(window, journey, outcome, kind, icon, words):
    journey.emit(overview((LIGHTING,), LIGHTING.meter_id, last=last_payment(outcome)))
    view = window.current_view
    assert isinstance(view, OverviewView)
    banner = view.last_payment
    assert banner.isVisible() and banner.kind == kind and banner.icon.name == icon
    # 17:40 UTC on 20 November is the 21st in Shanghai; the amount in yuan.
    assert banner.text.startswith("Your last payment of ¥50.00 on November 21, 2026 ")
    assert words in banner.text


def test_overview_without_a_last_payment_has_no_banner_and_idle_forgets_it(window, journey):
    journey.emit(overview((LIGHTING,), LIGHTING.meter_id, last=last_payment(Outcome.PAID)))
    view = window.current_view
    journey.emit(overview((LIGHTING,), LIGHTING.meter_id))
    assert view.last_payment.isHidden()
    unknown = LastPayment(Outcome.UNKNOWN, 100, datetime.now(UTC), None)
    journey.emit(overview((LIGHTING,), LIGHTING.meter_id, last=unknown))
    assert view.last_payment.isVisible()
    journey.emit(IdleScreen())
    assert view.last_payment.isHidden() and view.last_payment.text == ""


def test_result_unknown_shows_the_order_number_to_keep_and_the_slip(window, journey):
    journey.emit(result(Outcome.UNKNOWN, ReceiptState.PRINTING, notice=Notice.CONNECTION_TROUBLE))
    view = window.current_view
    assert isinstance(view, ResultView)
    assert view.order_panel.isVisible() and view.order_panel.number.text() == "EO7KQ2M4X9ZP3R8T"
    assert view.order_panel.number.property("role") == "huge"
    assert view.receipt.text() == "Printing your slip…"
    assert view.notice.isVisible() and "Connection trouble" in view.notice.text
    journey.emit(result(Outcome.UNKNOWN, ReceiptState.PRINTED, notice=Notice.CONNECTION_TROUBLE))
    assert view.receipt.text() == "Please take your slip. It shows your order number."
    journey.emit(result(Outcome.UNKNOWN, ReceiptState.PAPER_OUT, notice=Notice.CONNECTION_TROUBLE))
    assert "write down your order number" in view.receipt.text()
    assert view.qr_panel.isHidden()  # there is no electronic receipt for a slip
    journey.emit(result(Outcome.PAID, ReceiptState.PRINTED))
    assert view.order_panel.isHidden()
    assert view.receipt.text() == "Please take your receipt."
