"""The screen half of `kiosk self-test`: Qt starts, a Chinese font is installed, and the idle screen paints."""

from __future__ import annotations

from kiosk.config import Config
from kiosk.i18n import Translator
from kiosk.self_test import CheckResult, Verdict, run_checks
from ui.deferred_journey import DeferredJourney
from ui.main_window import MainWindow
from ui.qt import QApplication, QImage
from ui.theme import PREFERRED_FAMILIES, font_family


def check_font() -> CheckResult:
    family = font_family()
    if family in PREFERRED_FAMILIES:
        return CheckResult("font", Verdict.OK, family)
    return CheckResult(
        "font", Verdict.FAIL, f"no Chinese font (found {family!r}); install fonts-noto-cjk or bundle one"
    )


def check_idle_screen(config: Config) -> CheckResult:
    """Render the idle screen off screen: it must show more than a blank page."""
    window = MainWindow(DeferredJourney(config.ui.language), config.with_changes("ui", fullscreen=False),
                        Translator(config.ui.language, config.terminal.timezone))
    try:
        window.resize(1920, 1080)
        image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    finally:
        window.close()
        window.deleteLater()
    width, height = image.width(), image.height()
    colours = {image.pixel(x, y) for x in range(0, width, 16) for y in range(0, height, 16)}
    if width < 100 or len(colours) < 3:
        return CheckResult("idle screen", Verdict.FAIL, f"painted {width}x{height} with {len(colours)} colours")
    return CheckResult("idle screen", Verdict.OK, f"painted {width}x{height}, {len(colours)} colours sampled")


def screen_checks(config: Config) -> list[CheckResult]:
    """Needs a QApplication (offscreen is fine)."""
    assert QApplication.instance() is not None, "create the QApplication first"
    return run_checks([("font", check_font), ("idle screen", lambda: check_idle_screen(config))])
