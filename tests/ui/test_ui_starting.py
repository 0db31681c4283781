"""The `run` start path: the idle screen paints before the core is built, then the real journey takes over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devices.simulators import SimulatedCardReader
from hq.seed import MAIN_HOUSE
from hq.server import HqServer
from kiosk.config import config_from_mapping
from kiosk.screens import IdleScreen, OverviewScreen
from ui.main import StartingTerminal
from ui.qt import QApplication


def test_idle_first_then_the_core(qtbot: Any, tmp_path: Path) -> None:
    with HqServer(seed=True) as hq:
        config = config_from_mapping(
            {
                "hq": {"url": hq.base_url},
                "ui": {"fullscreen": False, "orientation": "landscape"},
                "storage": {"database": str(tmp_path / "terminal.db")},
            }
        )
        ready: list[object] = []
        starting = StartingTerminal(QApplication.instance(), config, on_ready=ready.append)  # type: ignore[arg-type]
        qtbot.addWidget(starting.window)
        assert not starting.journey.ready and isinstance(starting.journey.screen, IdleScreen)
        starting.journey.enter_house_number()  # a touch before the core is there does nothing
        assert isinstance(starting.journey.screen, IdleScreen)

        qtbot.waitUntil(lambda: bool(ready), timeout=15_000)
        terminal = starting.terminal
        assert terminal is not None and starting.journey.ready
        assert starting.window.current_view is starting.window.views[IdleScreen]
        reader = terminal.devices.card_reader
        assert isinstance(reader, SimulatedCardReader)
        reader.insert(MAIN_HOUSE.card_id)
        qtbot.waitUntil(lambda: starting.window.current_view is starting.window.views[OverviewScreen], timeout=10_000)
        terminal.stop()
