"""A pseudo-locale in which every catalog text is wrapped in ⟦…⟧: any visible text left unwrapped did not come
from the catalogs.

Every screen sample (ui/samples.py) and the "more time?" overlay is rendered in it, in both orientations. What may
stand outside the markers is data, by these rules and nothing else: values the screen model carries from HQ or
the configuration (a community's name, an order number, where else to pay); numbers and punctuation (amounts,
house numbers, times); the month and day-period names Babel puts into formatted dates; and the header's language
names, each written in its own language so a resident finds theirs whatever is on screen.
"""

from __future__ import annotations

import dataclasses
import gettext
import re
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk import i18n
from kiosk.config import Config
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.qt import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget
from ui.samples import sample_screens
from ui.screenshots import StillJourney
from ui.theme import Theme
from ui.widgets.header import LANGUAGE_NAMES

OPEN, CLOSE = "⟦", "⟧"
INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
LETTER = re.compile(r"[^\W\d_]")
TAG = re.compile(r"<[^>]+>")


class PseudoCatalog(gettext.NullTranslations):
    """Every text marked; placeholders inside stay as they are, so formatting still works."""

    def gettext(self, message: str) -> str:
        return f"{OPEN}{message}{CLOSE}"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"{OPEN}{singular if n == 1 else plural}{CLOSE}"


def unmarked(text: str) -> str:
    """What is left of ``text`` once every marked part (nested ones too) is taken out."""
    text = TAG.sub("", text)
    while True:
        stripped = INNERMOST.sub(" ", text)
        if stripped == text:
            return text.strip()
        text = stripped


def model_values(model: Any) -> Iterator[str]:
    """Every string a screen model carries: data from HQ or the configuration, never from the catalogs."""
    if isinstance(model, str):
        yield model
    elif dataclasses.is_dataclass(model) and not isinstance(model, type):
        for item in dataclasses.fields(model):
            yield from model_values(getattr(model, item.name))
    elif isinstance(model, list | tuple):
        for item in model:
            yield from model_values(item)


def babel_words(translator: i18n.Translator) -> set[str]:
    locale = translator.locale
    words: set[str] = set()
    for width in ("abbreviated", "wide"):
        words |= set(locale.months["format"][width].values())
        words |= set(locale.days["format"][width].values())
    words |= set(locale.day_periods["format"]["abbreviated"].values())
    return words


def leftovers(window: MainWindow, allowed: list[str]) -> list[str]:
    found = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window):
            continue
        texts: list[str] = []
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QLineEdit):
            texts += [widget.placeholderText(), widget.text()]
        for text in texts:
            rest = unmarked(text)
            for value in sorted(allowed, key=len, reverse=True):
                rest = rest.replace(value, " ")
            if LETTER.search(rest):
                found.append(f"{type(widget).__name__} {text!r}")
    return found


@pytest.fixture
def pseudo(translator: i18n.Translator) -> Iterator[i18n.Translator]:
    translator._catalog = PseudoCatalog()  # what set_language would load, replaced for this test only
    yield translator
    translator.set_language("zh_CN")
    translator.set_language("en")


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_visible_text_comes_from_the_catalog(qtbot: Any, pseudo: i18n.Translator, orientation: str) -> None:
    config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
    window = MainWindow(StillJourney(pseudo), config, pseudo, theme=Theme())
    qtbot.addWidget(window)
    window.resize(LANDSCAPE if orientation == "landscape" else PORTRAIT)
    window.show()
    qtbot.waitExposed(window)
    fixed = [name for _code, name in LANGUAGE_NAMES] + sorted(babel_words(pseudo))
    fixed += [config.out_of_service.where_en, config.out_of_service.where_zh_CN]
    found: list[str] = []
    marked = 0
    screens = sample_screens()
    for name, model in screens.items():
        window.show_screen(model)
        for _ in range(3):
            QApplication.processEvents()
        found += [f"{name}: {text}" for text in leftovers(window, fixed + list(model_values(model)))]
        marked += sum(OPEN in w.text() for w in window.findChildren(QLabel) if w.isVisibleTo(window))
    under = screens["overview-two-meters"]
    window.show_screen(under)
    window.show_time_warning(17)
    QApplication.processEvents()
    found += [f"time warning: {text}" for text in leftovers(window, fixed + list(model_values(under)))]
    assert found == []
    assert marked > 100  # the pseudo-catalog really was in use


def test_the_rules_catch_a_hard_coded_text() -> None:
    assert unmarked("⟦For: {meter}⟧ ⟦Lighting⟧") == ""
    assert unmarked("⟦For: ⟦Lighting⟧, meter no. 3205⟧") == ""
    assert unmarked("<b>Pay now</b> ⟦Back⟧") == "Pay now"
    assert LETTER.search(unmarked("¥1,234.56  3-2-501 ⟦Done⟧")) is None
