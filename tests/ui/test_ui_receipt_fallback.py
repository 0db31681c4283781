"""When the paper receipt cannot be printed: the result screen's e-receipt fallback, and the overview's reprint.

Each variant is rendered in both orientations and both languages, fits the panel, and is written as a PNG to
`KIOSK_SHOTS` (a folder) when that is set, to look at.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.screens import Outcome, ReceiptState
from ui.main_window import LANDSCAPE, PORTRAIT
from ui.qt import QApplication, Qt
from ui.samples import AIRCON, LIGHTING, overview, result
from ui.screens.overview import OverviewView
from ui.screens.result import ResultView

URL = "https://hq.example.cn/r/EO7KQ2M4X9ZP3R8T"
VARIANTS = {
    "result-paid-print-failed": result(Outcome.PAID, ReceiptState.FAILED, receipt_url=URL),
    "result-paid-paper-out": result(Outcome.PAID, ReceiptState.PAPER_OUT, receipt_url=URL),
    "result-paid-print-failed-no-url": result(Outcome.PAID, ReceiptState.FAILED),
    "overview-reprint": replace(overview((LIGHTING, AIRCON), AIRCON.meter_id), reprint_available=True),
    "overview-reprint-failed": replace(
        overview((LIGHTING, AIRCON), AIRCON.meter_id), reprint_available=True, reprint=ReceiptState.PAPER_OUT
    ),
}


def _settle() -> None:
    for _ in range(3):  # wrapped texts settle their heights only once laid out
        QApplication.processEvents()


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_fallback_screens_render_and_fit(make_window, translator, orientation: str, language: str) -> None:
    window = make_window(orientation)
    translator.set_language(language)
    panel = LANDSCAPE if orientation == "landscape" else PORTRAIT
    shots = os.environ.get("KIOSK_SHOTS")
    for name, model in VARIANTS.items():
        window.show_screen(model)
        _settle()
        needed = window.minimumSizeHint()
        assert needed.width() <= panel.width() and needed.height() <= panel.height(), (name, needed)
        assert window.size() == panel, name
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            assert window.grab().save(str(Path(shots) / f"{orientation}-{language}-{name}.png"))


def test_a_failed_print_says_so_beside_an_icon_and_shows_the_e_receipt(make_window, translator) -> None:
    window = make_window("landscape")
    translator.set_language("en")
    window.show_screen(VARIANTS["result-paid-print-failed"])
    _settle()
    view = window.current_view
    assert isinstance(view, ResultView)
    assert view.title.text() == "Payment successful"  # the payment stands
    assert view.receipt.text() == "The receipt could not be printed. Scan the code for your electronic receipt."
    assert view.receipt_icon.isVisible() and view.receipt_icon.name == "warning"  # not colour alone
    assert view.qr_panel.isVisible() and view.qr.data == URL

    window.show_screen(VARIANTS["result-paid-print-failed-no-url"])
    _settle()
    assert view.qr_panel.isHidden()
    assert view.receipt.text() == "The paper receipt could not be printed. Your payment is complete."

    window.show_screen(result(Outcome.PAID, ReceiptState.PRINTED, receipt_url=URL))
    _settle()
    assert not view.receipt_icon.isVisible() and view.receipt.text() == "Please take your receipt."


def test_overview_offers_the_reprint_and_tells_how_it_went(qtbot, make_window, translator, journey) -> None:
    window = make_window("landscape")
    translator.set_language("en")
    journey.emit(VARIANTS["overview-reprint"])
    _settle()
    view = window.current_view
    assert isinstance(view, OverviewView)
    assert view.reprint.isVisible() and view.reprint.text() == "Reprint last receipt"
    assert not view.reprint_state.isVisible()
    qtbot.mouseClick(view.reprint, Qt.MouseButton.LeftButton)
    assert journey.names()[-1] == "reprint_last_receipt"

    journey.emit(replace(VARIANTS["overview-reprint"], reprint=ReceiptState.PRINTING))
    _settle()
    assert not view.reprint.isEnabled() and view.reprint_state.text() == "Printing your last receipt…"
    journey.emit(VARIANTS["overview-reprint-failed"])
    _settle()
    assert view.reprint.isEnabled() and view.reprint_icon.isVisible()
    assert "out of paper" in view.reprint_state.text()

    journey.emit(overview((LIGHTING,), LIGHTING.meter_id))
    _settle()
    assert not view.reprint.isVisible()
