"""Right to left: a language Babel says is written right to left mirrors every screen, with no code of its own.

Shown with a pseudo right-to-left language: Uyghur's locale data (as a translator adding `ug` would bring) and a
pseudo-catalog whose texts are reversed and wrapped in right-to-left marks, since no Uyghur catalog ships yet.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from typing import Any

import pytest
from babel import Locale

from kiosk import i18n
from kiosk.config import Config
from ui.accessibility import NORMAL, Panel, check_screen
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow, layout_direction
from ui.qt import QApplication, QPoint, Qt
from ui.samples import sample_screens
from ui.screenshots import StillJourney
from ui.theme import Theme

RLE, PDF = "\u202b", "\u202c"  # right-to-left embedding around each text, as a right-to-left catalog reads


class PseudoRtlCatalog(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return f"{RLE}{message}{PDF}"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


@pytest.fixture
def rtl(translator: i18n.Translator) -> Iterator[i18n.Translator]:
    translator._catalog = PseudoRtlCatalog()
    translator._locale = Locale.parse("ug")
    yield translator
    translator.set_language("zh_CN")
    translator.set_language("en")


def build(qtbot: Any, translator: i18n.Translator, orientation: str) -> MainWindow:
    config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
    window = MainWindow(StillJourney(translator), config, translator, theme=Theme())  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.resize(LANDSCAPE if orientation == "landscape" else PORTRAIT)
    window.show()
    qtbot.waitExposed(window)
    return window


def home_x(window: MainWindow) -> int:
    window.show_screen(sample_screens()["overview-two-meters"])
    QApplication.processEvents()
    assert window.header.home.isVisible()
    return window.header.home.mapTo(window, QPoint(0, 0)).x()


def test_the_direction_follows_the_locale(translator: i18n.Translator) -> None:
    assert layout_direction(translator) is Qt.LayoutDirection.LeftToRight
    translator._locale = Locale.parse("ug")
    assert layout_direction(translator) is Qt.LayoutDirection.RightToLeft
    translator.set_language("en")


def test_a_right_to_left_language_mirrors_the_header(qtbot: Any, translator: i18n.Translator) -> None:
    window = build(qtbot, translator, "landscape")
    left_to_right = home_x(window)
    assert left_to_right > window.width() // 2  # Home sits on the right...
    translator._catalog = PseudoRtlCatalog()
    translator._locale = Locale.parse("ug")
    window.retranslate()
    assert window.layoutDirection() is Qt.LayoutDirection.RightToLeft
    assert home_x(window) < window.width() // 2  # ...and on the left when the language reads right to left
    translator.set_language("zh_CN")
    window.retranslate()
    assert window.layoutDirection() is Qt.LayoutDirection.LeftToRight


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_right_to_left_has_nothing_clipped_or_overlapping(
    qtbot: Any, rtl: i18n.Translator, orientation: str
) -> None:
    window = build(qtbot, rtl, orientation)
    window.retranslate()
    size = window.size()
    panel = Panel(Panel().diagonal_in, size.width(), size.height(), Panel().distance_mm)
    found = []
    for name, model in sample_screens().items():
        window.show_screen(model)
        for _ in range(3):
            QApplication.processEvents()
        found += [f"{name}: {v}" for v in check_screen(window, panel, NORMAL) if v.rule in ("clipped", "overlap")]
    assert found == []
