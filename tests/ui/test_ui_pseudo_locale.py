"""A pseudo-locale in which every catalog text is wrapped in ⟦…⟧: any visible text left unwrapped did not come
from the catalogs.

Every screen sample (ui/samples.py) and the "more time?" overlay is rendered in it, in both orientations and in
the standard and elderly looks, and so is every page of the maintenance menu (ui/maintenance/samples.py). Checked
are the texts of labels and buttons, input fields' placeholders, and every widget's accessible name and tooltip
(what a screen reader says). What may stand outside the markers is data, by these rules and nothing else:
- values the screen model carries from HQ or the configuration (a community's name, an order number, where else
  to pay, a device's error text for staff), except codes (an identifier such as `lighting`, `card_reader` or
  `ui.language`): a code on screen is a text that missed the catalog;
- numbers and punctuation (amounts, house numbers, times);
- the month and day-period names Babel puts into formatted dates;
- the header's language names, each written in its own language so a resident finds theirs whatever is on screen.
The catalog is generated at test time from nothing but the looked-up messages, so no file under locales/ is
needed and every message, shipped or new, is covered.
"""

from __future__ import annotations

import dataclasses
import gettext
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kiosk import i18n
from kiosk.config import Config
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.maintenance.host import MaintenanceHost
from ui.maintenance.samples import sample_states
from ui.maintenance.screenshots import StillMenu
from ui.qt import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget
from ui.samples import sample_screens
from ui.screenshots import StillJourney
from ui.theme import Theme, elderly
from ui.widgets.header import LANGUAGE_NAMES

OPEN, CLOSE = "⟦", "⟧"
INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
LETTER = re.compile(r"[^\W\d_]")
TAG = re.compile(r"<[^>]+>")
# A code rather than words: one lower-case word (`lighting`), or words joined by _ or . (`card_reader`, `ui.mode`).
CODE = re.compile(r"[a-z]+|[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)+")
# The looks a screen is drawn in. Elderly mode's own layouts come with its screen models (ui/samples.py).
LOOKS: dict[str, Callable[[], Theme]] = {"standard": Theme, "elderly": elderly}


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
    """Every string a screen model carries."""
    if isinstance(model, str):
        yield model
    elif dataclasses.is_dataclass(model) and not isinstance(model, type):
        for item in dataclasses.fields(model):
            yield from model_values(getattr(model, item.name))
    elif isinstance(model, list | tuple):
        for item in model:
            yield from model_values(item)


def data(model: Any) -> list[str]:
    """The model's strings that are data from HQ or the configuration, not codes the screen must put in words."""
    return [value for value in model_values(model) if not CODE.fullmatch(value)]


def babel_words(translator: i18n.Translator) -> set[str]:
    locale = translator.locale
    words: set[str] = set()
    for width in ("abbreviated", "wide"):
        words |= set(locale.months["format"][width].values())
        words |= set(locale.days["format"][width].values())
    words |= set(locale.day_periods["format"]["abbreviated"].values())
    return words


def shown_texts(widget: QWidget) -> list[str]:
    """What a person sees of a widget or hears of it from a screen reader."""
    texts = [widget.accessibleName(), widget.toolTip(), widget.windowTitle() if widget.isWindow() else ""]
    if isinstance(widget, QLabel | QAbstractButton):
        texts.append(widget.text())
    if isinstance(widget, QLineEdit):
        texts += [widget.placeholderText(), widget.text()]
    return [text for text in texts if text]


def leftovers(window: QWidget, allowed: list[str]) -> list[str]:
    found = []
    for widget in [window, *window.findChildren(QWidget)]:
        if not widget.isVisibleTo(window) and widget is not window:
            continue
        for text in shown_texts(widget):
            rest = unmarked(text)
            for value in sorted(allowed, key=len, reverse=True):
                rest = rest.replace(value, " ")
            if LETTER.search(rest):
                found.append(f"{type(widget).__name__} {text!r}")
    return found


def fixed_words(config: Config, translator: i18n.Translator) -> list[str]:
    words = [name for _code, name in LANGUAGE_NAMES] + sorted(babel_words(translator))
    return [*words, config.out_of_service.where_en, config.out_of_service.where_zh_CN]


@pytest.fixture
def pseudo(translator: i18n.Translator) -> Iterator[i18n.Translator]:
    translator._catalog = PseudoCatalog()  # what set_language would load, replaced for this test only
    yield translator
    translator.set_language("zh_CN")
    translator.set_language("en")


def build(qtbot: Any, translator: i18n.Translator, orientation: str, theme: Theme) -> tuple[MainWindow, Config]:
    config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
    window = MainWindow(StillJourney(translator), config, translator, theme=theme)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.resize(LANDSCAPE if orientation == "landscape" else PORTRAIT)
    window.show()
    qtbot.waitExposed(window)
    return window, config


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


@pytest.mark.parametrize("look", sorted(LOOKS))
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_visible_text_comes_from_the_catalog(
    qtbot: Any, pseudo: i18n.Translator, orientation: str, look: str
) -> None:
    window, config = build(qtbot, pseudo, orientation, LOOKS[look]())
    fixed = fixed_words(config, pseudo)
    found: list[str] = []
    marked = 0
    screens = sample_screens()
    for name, model in screens.items():
        window.show_screen(model)
        settle()
        found += [f"{name}: {text}" for text in leftovers(window, fixed + data(model))]
        marked += sum(OPEN in w.text() for w in window.findChildren(QLabel) if w.isVisibleTo(window))
    under = screens["overview-two-meters"]
    window.show_screen(under)
    window.show_time_warning(17)
    QApplication.processEvents()
    found += [f"time warning: {text}" for text in leftovers(window, fixed + data(under))]
    assert found == []
    assert marked > 100  # the pseudo-catalog really was in use


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_maintenance_page_text_comes_from_the_catalog(
    qtbot: Any, pseudo: i18n.Translator, orientation: str
) -> None:
    window, config = build(qtbot, pseudo, orientation, Theme())
    host = MaintenanceHost(window, StillMenu())  # type: ignore[arg-type]
    fixed = fixed_words(config, pseudo)
    found: list[str] = []
    pages = sample_states()
    for name, state in pages.items():
        host.show_state(state)
        settle()
        found += [f"{name}: {text}" for text in leftovers(host, fixed + data(state))]
    assert found == []
    assert len(pages) >= 15  # the PIN pad's variants and every section of the menu


def test_the_rules_catch_a_hard_coded_text() -> None:
    assert unmarked("⟦For: {meter}⟧ ⟦Lighting⟧") == ""
    assert unmarked("⟦For: ⟦Lighting⟧, meter no. 3205⟧") == ""
    assert unmarked("<b>Pay now</b> ⟦Back⟧") == "Pay now"
    assert LETTER.search(unmarked("¥1,234.56  3-2-501 ⟦Done⟧")) is None
    # codes are never data; names and numbers from HQ are
    assert data(("lighting", "card_reader", "ui.language", "阳光花园", "EO7KQ2M4X9ZP3R8T", "lobby-3")) == [
        "阳光花园", "EO7KQ2M4X9ZP3R8T", "lobby-3"]


def test_a_hard_coded_accessible_name_is_found(qtbot: Any, pseudo: i18n.Translator) -> None:
    window, config = build(qtbot, pseudo, "landscape", Theme())
    assert leftovers(window, fixed_words(config, pseudo)) == []
    window.header.language_buttons["en"].setAccessibleName("Switch to English")
    assert leftovers(window, fixed_words(config, pseudo)) == ["QPushButton 'Switch to English'"]
