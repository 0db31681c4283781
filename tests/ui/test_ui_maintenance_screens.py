"""Every PIN pad and menu variant, measured like the residents' screens (text size, targets, contrast, clipping,
overlap) in both orientations and languages; and the screenshot tool writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk import i18n
from kiosk.config import LANGUAGES, Config
from ui.accessibility import NORMAL, Panel, check_screen
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.maintenance.host import MaintenanceHost
from ui.maintenance.samples import sample_states
from ui.maintenance.screenshots import StillMenu, render_all
from ui.qt import QApplication, QSize
from ui.screenshots import StillJourney
from ui.theme import Theme

CONFIG = Config()


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_pad_and_menu_page_meets_the_normal_mode_rules(
    qtbot: Any, translator: i18n.Translator, orientation: str
) -> None:
    size = LANDSCAPE if orientation == "landscape" else PORTRAIT
    config = CONFIG.with_changes("ui", fullscreen=False, orientation=orientation)
    window = MainWindow(StillJourney(translator), config, translator, theme=Theme())  # type: ignore[arg-type]
    host = MaintenanceHost(window, StillMenu())  # type: ignore[arg-type]
    qtbot.addWidget(window)
    # Twice the panel's height: a page that scrolls is measured whole (a line cut by the scroll area's edge would
    # read as clipped, or as text without contrast). Millimetres still come from the real panel.
    window.resize(QSize(size.width(), size.height() * 2))
    window.show()
    qtbot.waitExposed(window)
    panel = Panel(CONFIG.ui.panel_diagonal_in, size.width(), size.height(), CONFIG.ui.viewing_distance_mm)
    found: list[str] = []
    for language in LANGUAGES:
        translator.set_language(language)
        for name, state in sample_states().items():
            host.show_state(state)
            for _ in range(3):
                QApplication.processEvents()
            found += [f"{language} {name}: {v}" for v in check_screen(host, panel, NORMAL)]
    assert found == []


def test_the_screenshot_tool_writes_both_orientations_and_languages(tmp_path: Path) -> None:
    files = render_all(tmp_path, only=("pin-locked",))
    assert sorted(f.name for f in files) == [
        "landscape-en-pin-locked.png", "landscape-zh_CN-pin-locked.png",
        "portrait-en-pin-locked.png", "portrait-zh_CN-pin-locked.png",
    ]
    assert all(f.stat().st_size > 10_000 for f in files)
