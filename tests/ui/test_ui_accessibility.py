"""Every screen, measured as a resident sees it: text size, touch targets, contrast, clipping, overlap.

Rendered offscreen at the panel's resolution in both orientations and both languages; the physical sizes come
from the configured panel (21.5-inch 1920x1080 seen from 500 mm by default).
"""

from __future__ import annotations

from typing import Any

import pytest

from kiosk import i18n
from kiosk.config import LANGUAGES, Config
from kiosk.screens import Mode
from ui.accessibility import ELDERLY, NORMAL, Panel, Requirements, Violation, check_screen, measured_contrast
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.qt import QApplication, QHBoxLayout, QLabel, QPushButton, QSize, QWidget
from ui.samples import sample_screens
from ui.screenshots import StillJourney
from ui.theme import Theme, elderly

CONFIG = Config()
PANEL = Panel(diagonal_in=CONFIG.ui.panel_diagonal_in, distance_mm=CONFIG.ui.viewing_distance_mm)


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def panel_window(
    qtbot: Any, translator: i18n.Translator, orientation: str, mode: Mode
) -> tuple[MainWindow, QSize, Panel]:
    """A window of the panel's size in `mode`, shown, with the panel it is measured on."""
    size = LANDSCAPE if orientation == "landscape" else PORTRAIT
    config = CONFIG.with_changes("ui", fullscreen=False, orientation=orientation)
    theme = elderly() if mode is Mode.ELDERLY else Theme()
    window = MainWindow(StillJourney(translator, mode), config, translator, theme=theme)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.resize(size)
    window.show()
    qtbot.waitExposed(window)
    return window, size, Panel(PANEL.diagonal_in, size.width(), size.height(), PANEL.distance_mm)


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_meets_the_normal_mode_rules(qtbot: Any, translator: i18n.Translator, orientation: str) -> None:
    window, _size, panel = panel_window(qtbot, translator, orientation, Mode.STANDARD)
    found: list[str] = []
    for language in LANGUAGES:
        translator.set_language(language)
        screens = sample_screens()
        for name, model in screens.items():
            window.show_screen(model)
            settle()
            found += [f"{language} {name}: {v}" for v in check_screen(window, panel, NORMAL)]
        window.show_screen(screens["overview-two-meters"])
        window.show_time_warning(17)
        settle()
        # Under the overlay the screen is dimmed on purpose: the overlay's own texts and buttons are what counts.
        found += [f"{language} time-warning: {v}" for v in check_screen(window.overlay, panel, NORMAL)]
        window.show_time_warning(None)
    assert found == []


def misfit(window: MainWindow, size: QSize) -> str | None:
    """Why the window's contents do not fit the panel (they never grow the window past it), or None."""
    layout = window.layout()
    assert layout is not None
    need = layout.totalMinimumSize()
    tall = max(need.height(), layout.totalHeightForWidth(size.width()))
    if window.size() != size or need.width() > size.width() or tall > size.height():
        return f"needs {need.width()} x {tall} px on a {size.width()} x {size.height()} panel"
    return None


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_meets_the_elderly_rules(qtbot: Any, translator: i18n.Translator, orientation: str) -> None:
    """长辈版: capital height 0.7° of view, targets 15 mm, contrast 7:1; every screen fits the panel as it is."""
    window, size, panel = panel_window(qtbot, translator, orientation, Mode.ELDERLY)
    found: list[str] = []
    for language in LANGUAGES:
        translator.set_language(language)
        screens = sample_screens(mode=Mode.ELDERLY)
        for name, model in screens.items():
            window.show_screen(model)
            settle()
            found += [f"{language} {name}: {v}" for v in check_screen(window, panel, ELDERLY)]
            for _ in range(5):  # a layout asked for while another screen's banner went may take a moment more
                if (why := misfit(window, size)) is None:
                    break
                settle()
            else:
                found.append(f"{language} {name}: {why}")
        for name in ("overview-two-meters", "payment"):  # elderly mode asks before the QR's time ends too
            window.show_screen(screens[name])
            window.show_time_warning(17)
            settle()
            found += [f"{language} {name} time-warning: {v}" for v in check_screen(window.overlay, panel, ELDERLY)]
            window.show_time_warning(None)
    assert found == []


def test_the_panel_turns_pixels_into_millimetres_and_degrees() -> None:
    panel = Panel()
    assert panel.mm_per_px == pytest.approx(0.2479, abs=1e-4)
    assert panel.degrees(24.6) == pytest.approx(0.7, abs=0.01)  # ELDERLY's 6.1 mm at 500 mm


def violations_of(qtbot: Any, build: Any, needs: Requirements = NORMAL) -> list[Violation]:
    root = QWidget()
    qtbot.addWidget(root)
    root.setStyleSheet("background: #ffffff; color: #000000;")
    build(root)
    root.resize(800, 300)
    root.show()
    qtbot.waitExposed(root)
    settle()
    return check_screen(root, Panel(), needs)


def test_small_text_and_small_buttons_are_caught(qtbot: Any) -> None:
    def build(root: QWidget) -> None:
        layout = QHBoxLayout(root)
        label = QLabel("Tiny")
        label.setStyleSheet("font-size: 12px;")
        layout.addWidget(label)
        button = QPushButton("OK")
        button.setFixedSize(30, 30)
        layout.addWidget(button)

    rules = {v.rule for v in violations_of(qtbot, build)}
    assert {"text_size", "target_size"} <= rules


def test_low_contrast_on_the_rendered_pixels_is_caught(qtbot: Any) -> None:
    def build(root: QWidget) -> None:
        label = QLabel("Faint words", root)
        label.setStyleSheet("font-size: 40px; color: #bbbbbb; background: #ffffff;")
        label.adjustSize()

    found = [v for v in violations_of(qtbot, build) if v.rule == "contrast"]
    assert found and "Faint" in found[0].widget


def test_clipped_and_overlapping_widgets_are_caught(qtbot: Any) -> None:
    def build(root: QWidget) -> None:
        label = QLabel("A sentence far too long for its box", root)
        label.setStyleSheet("font-size: 40px;")
        label.setGeometry(0, 0, 120, 60)
        first, second = QPushButton("One", root), QPushButton("Two", root)
        first.setGeometry(200, 100, 200, 100)
        second.setGeometry(300, 150, 200, 100)

    rules = {v.rule for v in violations_of(qtbot, build)}
    assert {"clipped", "overlap"} <= rules


def test_elderly_rules_are_stricter_than_normal_ones(qtbot: Any) -> None:
    def build(root: QWidget) -> None:
        label = QLabel("Normal size", root)
        label.setStyleSheet("font-size: 28px;")  # capital height about 5 mm: fine normally, small for elderly
        label.adjustSize()

    assert violations_of(qtbot, build, NORMAL) == []
    assert {v.rule for v in violations_of(qtbot, build, ELDERLY)} == {"text_size"}


def test_contrast_of_a_blank_area_is_not_measured(qtbot: Any) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    root.setStyleSheet("background: #ffffff;")
    root.resize(100, 100)
    root.show()
    qtbot.waitExposed(root)
    image = root.grab().toImage()
    assert measured_contrast(image, image.rect()) is None
