"""The 长辈版 switch through the real widgets, the real core and the real HQ on loopback: the window shows the
elderly page at once, a card takes its holder's mode up at the next visit, and the end of a journey goes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from devices.simulators import SimulatedCardReader
from hq.seed import MAIN_HOUSE
from hq.server import HqServer
from kiosk.app import Terminal
from kiosk.screens import AmountScreen, IdleScreen, Mode, OverviewScreen
from ui.main_window import MainWindow
from ui.qt import Qt
from ui.screens.idle import IdleView

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def kiosk(start_kiosk: Callable[..., tuple[Terminal, MainWindow]], hq: HqServer) -> tuple[Terminal, MainWindow]:
    return start_kiosk({
        "terminal": {"id": "T-UI-ELDERLY"},
        "hq": {"url": hq.base_url, "connect_timeout_s": 1.0, "read_timeout_s": 3.0},
        "ui": {"fullscreen": False, "orientation": "landscape", "language": "zh_CN"},
    })


def idle_view(window: MainWindow) -> IdleView:
    view = window.views[IdleScreen]
    assert isinstance(view, IdleView)
    return view


def remembered(hq: HqServer) -> str | None:
    """The mode HQ gives back for the card (asked as any client would, not through the terminal's own)."""
    answer = requests.post(f"{hq.base_url}/api/v1/identify", json={"method": "card", "value": MAIN_HOUSE.card_id},
                           timeout=5)
    answer.raise_for_status()
    mode = answer.json().get("preferred_mode")
    return str(mode) if mode is not None else None


def on_page(window: MainWindow, kind: type, elderly: bool) -> bool:
    return (window.current_view is window.views[kind] and isinstance(window.journey.screen, kind)
            and window.current_theme.elderly is elderly)


def test_the_switch_shows_the_elderly_page_and_a_card_remembers_it(
    qtbot: Any, hq: HqServer, kiosk: tuple[Terminal, MainWindow]
) -> None:
    terminal, window = kiosk
    reader = terminal.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    standard_font = idle_view(window).welcome.font().pixelSize()
    assert not idle_view(window).mode_switch.on

    qtbot.mouseClick(idle_view(window).mode_switch, LEFT)
    qtbot.waitUntil(lambda: on_page(window, IdleScreen, elderly=True), timeout=5_000)
    switch = idle_view(window).mode_switch
    assert switch.on and switch.state.text() == "已开启"  # the state in words, not only the colour
    assert idle_view(window).welcome.font().pixelSize() > standard_font

    # The card identifies the house in the chosen mode, and HQ remembers it for the card.
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: on_page(window, OverviewScreen, elderly=True), timeout=10_000)
    qtbot.waitUntil(lambda: remembered(hq) == "elderly", timeout=10_000)
    qtbot.mouseClick(window.header.home, LEFT)
    reader.remove()
    qtbot.waitUntil(lambda: on_page(window, IdleScreen, elderly=False), timeout=5_000)
    assert terminal.journey.mode is Mode.STANDARD and not idle_view(window).mode_switch.on

    # Next visit: the card alone brings the elderly page back, with its fewer amounts.
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: on_page(window, OverviewScreen, elderly=True), timeout=10_000)
    terminal.journey.other_amount()
    qtbot.waitUntil(lambda: on_page(window, AmountScreen, elderly=True), timeout=5_000)
    screen = terminal.journey.screen
    assert isinstance(screen, AmountScreen) and 0 < len(screen.presets_fen) <= 3
    qtbot.mouseClick(window.header.home, LEFT)
    reader.remove()
    qtbot.waitUntil(lambda: on_page(window, IdleScreen, elderly=False), timeout=5_000)

    # The resident switches back to standard before the card: HQ forgets elderly for it.
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: on_page(window, OverviewScreen, elderly=True), timeout=10_000)
    qtbot.mouseClick(window.header.home, LEFT)
    reader.remove()
    qtbot.waitUntil(lambda: on_page(window, IdleScreen, elderly=False), timeout=5_000)
    qtbot.mouseClick(idle_view(window).mode_switch, LEFT)  # on
    qtbot.waitUntil(lambda: on_page(window, IdleScreen, elderly=True), timeout=5_000)
    qtbot.mouseClick(idle_view(window).mode_switch, LEFT)  # and off again: a choice made
    qtbot.waitUntil(lambda: on_page(window, IdleScreen, elderly=False), timeout=5_000)
    reader.insert(MAIN_HOUSE.card_id)
    qtbot.waitUntil(lambda: on_page(window, OverviewScreen, elderly=False), timeout=10_000)
    qtbot.waitUntil(lambda: remembered(hq) == "standard", timeout=10_000)
    reader.remove()
