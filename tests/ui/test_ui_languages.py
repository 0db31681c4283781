"""Languages on screen: a switch repaints every text at once, and every number, amount and date a person sees is
formatted for the language by Babel (kiosk/i18n.py), never by hand.

The switch is checked on every screen sample and maintenance page: the texts in the frame after tapping the other
language must be those of the same screen drawn afresh, by a new window, in that language. The
formats are checked in French's locale data, whose decimal comma, spaced thousands and day-month-year dates differ
from anything made by hand (`f"{yuan:.2f}"`, `1,234`, `isoformat()`).
"""

from __future__ import annotations

import dataclasses
import gettext
import re
from collections.abc import Callable
from typing import Any

import pytest
from babel import Locale

from kiosk import i18n
from kiosk.config import Config
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.maintenance.host import MaintenanceHost
from ui.maintenance.samples import sample_states
from ui.maintenance.screenshots import StillMenu
from ui.qt import QAbstractButton, QApplication, QLabel, QLineEdit, Qt, QWidget
from ui.samples import sample_screens
from ui.screenshots import StillJourney
from ui.theme import Theme
from ui.widgets.countdown import CountdownLabel

LEFT = Qt.MouseButton.LeftButton
# Made by hand: a dot between digits (12.34, or 1.234 grouped the German way), a comma before three digits
# (1,234), or an ISO date (2026-12-01). None can come from Babel in French.
HAND_MADE = re.compile(r"\d\.\d|\d,\d{3}\b|\b\d{4}-\d{2}-\d{2}\b")


def texts(root: QWidget) -> list[tuple[str, str]]:
    """Every visible text and accessible name under `root`, but the payment countdown (it ticks)."""
    found = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or isinstance(widget, CountdownLabel):
            continue
        kind = type(widget).__name__
        if isinstance(widget, QLabel | QAbstractButton) and widget.text():
            found.append((kind, widget.text()))
        if isinstance(widget, QLineEdit) and widget.placeholderText():
            found.append((kind, widget.placeholderText()))
        if widget.accessibleName():
            found.append((kind + ".name", widget.accessibleName()))
    return sorted(found)


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def drawn_afresh(qtbot: Any, orientation: str, language: str, menu: bool = False) -> dict[str, list[tuple[str, str]]]:
    """Every screen sample (or maintenance page) drawn by a new window in `language`: the reference. The window has
    a translator of its own, so the switches under test leave it alone."""
    with i18n.using(i18n.Translator(language)) as own:
        config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
        window = MainWindow(StillJourney(own), config, own, theme=Theme())  # type: ignore[arg-type]
        qtbot.addWidget(window)
        window.resize(LANDSCAPE if orientation == "landscape" else PORTRAIT)
        window.show()
        found = {}
        if menu:
            host = MaintenanceHost(window, StillMenu())  # type: ignore[arg-type]
            for name, state in sample_states().items():
                host.show_state(state)
                settle()
                found[name] = texts(host)
        else:
            for name, model in sample_screens().items():
                window.show_screen(model)
                settle()
                found[name] = texts(window)
        window.close()
        return found


def test_a_language_switch_repaints_every_screen_at_once(
    qtbot: Any, make_window: Callable[..., MainWindow], journey: Any, translator: i18n.Translator
) -> None:
    orientation = "landscape"  # the texts are the same in portrait; the layouts are tested there elsewhere
    expected = {language: drawn_afresh(qtbot, orientation, language) for language in ("zh_CN", "en")}
    window = make_window(orientation)
    stale: list[str] = []
    for name, model in sample_screens().items():
        for before, after in (("zh_CN", "en"), ("en", "zh_CN")):
            translator.set_language(before)
            journey.emit(model)
            settle()
            button = window.header.language_buttons[after]
            if button.isVisible():
                qtbot.mouseClick(button, LEFT)  # as a resident taps it
            else:
                journey.set_language(after)  # no language buttons on this screen: as the menu's setting would
            settle()  # the next frame: new widgets show, no timer or other thread is waited for
            switched = texts(window)
            assert translator.language == after  # what the voice reads (kiosk/voice.py)
            assert expected[after][name] != expected[before][name], name
            stale += [f"{name} {before}->{after}: {kind} {text!r}"
                      for kind, text in sorted(set(switched) ^ set(expected[after][name]))]
    assert stale == []


def test_a_language_switch_repaints_every_maintenance_page(
    qtbot: Any, make_window: Callable[..., MainWindow], translator: i18n.Translator
) -> None:
    expected = drawn_afresh(qtbot, "landscape", "en", menu=True)
    window = make_window("landscape")
    host = MaintenanceHost(window, StillMenu())  # type: ignore[arg-type]
    stale: list[str] = []
    for name, state in sample_states().items():
        translator.set_language("zh_CN")
        host.show_state(state)
        settle()
        translator.set_language("en")  # as the menu's settings page switches the terminal's language
        settle()
        stale += [f"{name}: {kind} {text!r}" for kind, text in sorted(set(texts(host)) ^ set(expected[name]))]
    assert stale == []


@pytest.fixture
def french(translator: i18n.Translator) -> Any:
    """English texts with French number, money and date formats (what a French catalog would bring)."""
    translator._catalog = gettext.NullTranslations()
    translator._locale = Locale.parse("fr")
    yield translator
    translator.set_language("zh_CN")
    translator.set_language("en")


def hand_made(root: QWidget, data: list[str]) -> list[str]:
    found = []
    for kind, text in texts(root):
        rest = text
        for value in data:  # data from HQ or the configuration is shown as it comes (log lines, addresses)
            rest = rest.replace(value, " ")
        if HAND_MADE.search(rest):
            found.append(f"{kind} {text!r}")
    return found


def strings(model: Any) -> list[str]:
    """Every string a screen model carries, longest first."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                walk(getattr(value, item.name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(model)
    return sorted(found, key=len, reverse=True)


def test_every_number_amount_and_date_on_screen_is_formatted_by_babel(qtbot: Any, french: i18n.Translator) -> None:
    config = Config().with_changes("ui", fullscreen=False, orientation="landscape")
    window = MainWindow(StillJourney(french), config, french, theme=Theme())  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.resize(LANDSCAPE)
    window.show()
    qtbot.waitExposed(window)
    found: list[str] = []
    amounts = 0
    for name, model in sample_screens().items():
        window.show_screen(model)
        settle()
        found += [f"{name}: {v}" for v in hand_made(window, strings(model))]
        amounts += sum(french.money(10000) in text for _kind, text in texts(window))
    host = MaintenanceHost(window, StillMenu())  # type: ignore[arg-type]
    for name, state in sample_states().items():
        host.show_state(state)
        settle()
        found += [f"menu {name}: {v}" for v in hand_made(host, strings(state))]
    assert found == []
    assert french.money(10000) == "¥100,00" and amounts >= 10  # French formats really were on screen


def test_the_rule_finds_hand_made_formats() -> None:
    assert HAND_MADE.search("Balance: ¥12.34") and HAND_MADE.search("¥1,234") and HAND_MADE.search("2026-12-01")
    assert not any(HAND_MADE.search(t) for t in ("¥1 234,56", "3-2-501", "2026-2027", "1 déc. 2026, 10:05"))
