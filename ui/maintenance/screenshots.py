"""Render the PIN pad and every menu page to PNG, offscreen: `python -m ui.maintenance.screenshots --out DIR`.

Files are named `{orientation}-{language}-{variant}.png`, for both orientations and both languages.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kiosk import i18n
from kiosk.config import LANGUAGES, Config
from kiosk.maintenance import MenuState
from ui.main_window import MainWindow
from ui.maintenance.host import MaintenanceHost
from ui.maintenance.samples import sample_states
from ui.qt import QApplication
from ui.screenshots import ORIENTATIONS, StillJourney
from ui.theme import Theme


class StillMenu:
    """A maintenance menu that only holds a state: enough to render the pad and the menu."""

    state: MenuState = None

    def add_listener(self, listener: Callable[[MenuState], None]) -> None: ...

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return lambda *args, **kwargs: None


def render_all(out: Path, languages: tuple[str, ...] = LANGUAGES, only: tuple[str, ...] = ()) -> list[Path]:
    if QApplication.instance() is None:
        QApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)
    translator = i18n.Translator(languages[0])
    previous = i18n.current()
    i18n.use(translator)
    written: list[Path] = []
    try:
        for orientation, size in ORIENTATIONS.items():
            config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
            window = MainWindow(StillJourney(translator), config, translator, theme=Theme())
            host = MaintenanceHost(window, StillMenu())  # type: ignore[arg-type]
            window.resize(size)
            window.show()
            for language in languages:
                translator.set_language(language)
                for name, state in sample_states().items():
                    if only and not any(word in name for word in only):
                        continue
                    host.show_state(state)
                    written.append(grab(window, out / f"{orientation}-{language}-{name}.png"))
            window.close()
            window.deleteLater()
    finally:
        i18n.use(previous)
    return written


def grab(window: MainWindow, path: Path) -> Path:
    for _ in range(3):  # let layouts and deferred deletions settle
        QApplication.processEvents()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("build/screenshots/maintenance"))
    parser.add_argument("--language", choices=LANGUAGES, action="append", help="only these languages")
    parser.add_argument("--only", action="append", default=[], metavar="WORD")
    args = parser.parse_args(argv)
    files = render_all(args.out, tuple(args.language) if args.language else LANGUAGES, tuple(args.only))
    print(f"wrote {len(files)} screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
