"""The payment screen while a payment code is checked and while the payer confirms; the panel's sample codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from hq.payment_codes import SAMPLE_CODES
from kiosk.screens import CodePayment, Notice, PaymentScreen
from ui.main_window import LANDSCAPE, PORTRAIT
from ui.qt import QApplication, Qt
from ui.samples import sample_screens
from ui.screens.payment import PaymentView
from ui.sim_panel import SimulatorPanel


def payment() -> PaymentScreen:
    model = sample_screens()["payment"]
    assert isinstance(model, PaymentScreen)
    return replace(model, deadline=datetime.now(UTC) + timedelta(seconds=125))


def test_by_qr_the_screen_also_offers_the_payment_code(window, journey):
    journey.emit(payment())
    view = window.current_view
    assert isinstance(view, PaymentView)
    assert view.qr.isVisible() and view.code_panel.isHidden() and view.countdown.isVisible()
    assert "payment code" in view.code_hint.text() and view.code_hint.isVisible()
    assert view.notice.isHidden()


def test_checking_a_code_hides_the_qr_and_holds_cancel(window, journey):
    journey.emit(replace(payment(), code=CodePayment.CHECKING))
    view = window.current_view
    assert isinstance(view, PaymentView)
    assert view.qr.isHidden() and view.code_panel.isVisible()
    assert view.code_panel.spinner.isVisible() and view.code_panel.clock.isHidden()
    assert view.countdown.isHidden() and view.countdown_caption.isHidden() and view.code_hint.isHidden()
    assert not view.cancel.isEnabled()
    assert "Checking your payment code" in view.code_panel.message.text()


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_waiting_for_the_payer_says_confirm_on_your_phone(qtbot, make_window, journey, orientation):
    window = make_window(orientation)
    journey.emit(replace(payment(), code=CodePayment.CONFIRMING))
    view = window.current_view
    assert isinstance(view, PaymentView)
    for _ in range(3):
        QApplication.processEvents()
    assert view.instruction.text() == "Please confirm the payment on your phone"
    assert view.qr.isHidden() and view.countdown.isHidden()  # no time limit while the payer confirms
    assert view.code_panel.clock.isVisible() and view.code_panel.spinner.isHidden()
    assert "nothing is charged" in view.code_panel.detail.text()
    assert view.amount.text() == "¥100.00"
    assert window.size() == (LANDSCAPE if orientation == "landscape" else PORTRAIT)
    assert not window.header.home.isVisible()
    assert view.cancel.isEnabled()
    qtbot.mouseClick(view.cancel, Qt.MouseButton.LeftButton)  # the resident may still cancel: the wallet reverses
    assert journey.names()[-1] == "cancel_payment"

    journey.emit(replace(payment(), code=None))  # back to the QR (e.g. the code was refused)
    assert view.qr.isVisible() and view.code_panel.isHidden() and view.countdown.isVisible()


def test_a_refused_code_shows_why_instead_of_the_hint(window, journey):
    journey.emit(replace(payment(), notice=Notice.PAYMENT_CODE_REFUSED))
    view = window.current_view
    assert isinstance(view, PaymentView)
    assert view.notice.isVisible() and "not accepted" in view.notice.text
    assert view.code_hint.isHidden() and view.qr.isVisible()


def test_the_panel_shows_a_payment_code_to_the_scanner(qtbot):
    reader, scanner, printer = SimulatedCardReader(), SimulatedQrScanner(), SimulatedPrinter()
    for device in (reader, scanner, printer):
        device.open()
    try:
        panel = SimulatorPanel(reader, scanner, printer)
        qtbot.addWidget(panel)
        scans: list[str] = []
        scanner.set_listener(scans.append)
        assert list(panel.payment_code_buttons) == list(SAMPLE_CODES)
        for label in SAMPLE_CODES:
            qtbot.mouseClick(panel.payment_code_buttons[label], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: scans == list(SAMPLE_CODES.values()), timeout=2000)
        shown = panel.message.text()
        assert SAMPLE_CODES["declined (WeChat Pay)"][-4:] in shown
        assert all(code not in shown for code in SAMPLE_CODES.values())  # masked, as in the terminal's logs
    finally:
        for device in (reader, scanner, printer):
            device.close()
