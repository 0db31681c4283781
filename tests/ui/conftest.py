"""Fixtures for the UI tests: a fake journey that records calls, a translator, a kiosk window, a seeded HQ, and a
real terminal core with its window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hq.server import HqServer
from kiosk import i18n
from kiosk.app import Terminal
from kiosk.config import Config, config_from_mapping
from kiosk.screens import IdleScreen, Screen
from ui.bridge import QtDispatcher, QtTimers
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.theme import Theme


class FakeJourney:
    """Records every call; `emit` and `warn` play the journey's side of the listeners."""

    def __init__(self, translator: i18n.Translator) -> None:
        self.translator = translator
        self.screen: Screen = IdleScreen(language=translator.language)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._screen_listeners: list[Callable[[Screen], None]] = []
        self._warning_listeners: list[Callable[[int | None], None]] = []

    def add_screen_listener(self, cb: Callable[[Screen], None]) -> None:
        self._screen_listeners.append(cb)

    def add_time_warning_listener(self, cb: Callable[[int | None], None]) -> None:
        self._warning_listeners.append(cb)

    def emit(self, screen: Screen) -> None:
        self.screen = screen
        for cb in self._screen_listeners:
            cb(screen)

    def warn(self, seconds: int | None) -> None:
        for cb in self._warning_listeners:
            cb(seconds)

    def set_language(self, language: str) -> None:
        self.calls.append(("set_language", (language,)))
        self.translator.set_language(language)
        self.emit(self.screen)  # as the real journey does

    def names(self) -> list[str]:
        return [name for name, _ in self.calls if name != "user_activity"]

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record


@pytest.fixture
def translator() -> Iterator[i18n.Translator]:
    with i18n.using(i18n.Translator("en")) as translator:
        yield translator


@pytest.fixture
def journey(translator: i18n.Translator) -> FakeJourney:
    return FakeJourney(translator)


@pytest.fixture
def make_window(qtbot: Any, journey: FakeJourney, translator: i18n.Translator) -> Callable[..., MainWindow]:
    def build(orientation: str = "landscape") -> MainWindow:
        config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
        window = MainWindow(journey, config, translator, theme=Theme())  # type: ignore[arg-type]
        qtbot.addWidget(window)
        window.resize(LANDSCAPE if orientation == "landscape" else PORTRAIT)
        window.show()
        qtbot.waitExposed(window)
        return window

    return build


@pytest.fixture
def window(make_window: Callable[..., MainWindow]) -> MainWindow:
    return make_window()


@pytest.fixture(scope="module")
def hq() -> Iterator[HqServer]:
    """A seeded HQ on loopback, one for each module of whole journeys."""
    with HqServer(seed=True) as server:
        yield server


Kiosk = tuple[Terminal, MainWindow]


@pytest.fixture
def start_kiosk(qtbot: Any, tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Kiosk]]:
    """Starts the real terminal core and its window on ``settings`` (with a store of the test's own), as the app
    does; each is stopped at the end of the test."""
    started: list[Terminal] = []

    def start(settings: dict[str, Any]) -> Kiosk:
        config = config_from_mapping({**settings, "storage": {"database": str(tmp_path / "terminal.db")}})
        terminal = Terminal(config, QtDispatcher().dispatch, QtTimers())
        window = MainWindow(terminal.journey, config, terminal.translator)
        qtbot.addWidget(window)
        terminal.start()
        started.append(terminal)
        window.present()
        return terminal, window

    yield start
    for terminal in started:
        terminal.stop()
