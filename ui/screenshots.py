"""Render every screen variant to PNG, offscreen: `python -m ui.screenshots --out build/screenshots`.

Files are named `{orientation}-{language}-{screen}.png` in standard mode and `{orientation}-{language}-elderly-
{screen}.png` in elderly mode (长辈版), for both orientations, both languages and both modes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kiosk import i18n
from kiosk.config import LANGUAGES, Config
from kiosk.screens import IdleScreen, Mode, Screen
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow
from ui.qt import QApplication, QSize, qInstallMessageHandler
from ui.samples import sample_screens
from ui.theme import Theme

ORIENTATIONS: dict[str, QSize] = {"landscape": LANDSCAPE, "portrait": PORTRAIT}
TIME_WARNING_SECONDS = 17


class StillJourney:
    """A journey that only holds a screen and switches language: enough to render a window."""

    def __init__(self, translator: i18n.Translator, mode: Mode = Mode.STANDARD) -> None:
        self.translator = translator
        self.screen: Screen = IdleScreen()
        self.mode = mode  # the window follows it when it changes (`set_mode`)

    def add_screen_listener(self, cb: Callable[[Screen], None]) -> None: ...
    def add_time_warning_listener(self, cb: Callable[[int | None], None]) -> None: ...

    def set_language(self, language: str) -> None:
        self.translator.set_language(language)

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def _quiet(mode: object, context: object, message: str) -> None:
    # The offscreen platform warns on every window resize; that is noise here, anything else is not.
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def render_all(
    out: Path, languages: tuple[str, ...] = LANGUAGES, only: tuple[str, ...] = (), modes: tuple[Mode, ...] = tuple(Mode)
) -> list[Path]:
    """Write every screen variant in every orientation, language and mode; returns the files written.

    `only` keeps the variants whose name contains one of its words (all of them when empty).
    """
    qInstallMessageHandler(_quiet)
    if QApplication.instance() is None:
        QApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)
    translator = i18n.Translator(languages[0])
    i18n.use(translator)
    written: list[Path] = []
    for orientation, size in ORIENTATIONS.items():
        config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
        journey = StillJourney(translator)
        window = MainWindow(journey, config, translator, theme=Theme())
        window.resize(size)
        window.show()
        for mode in modes:
            journey.set_mode(mode)
            prefix = "elderly-" if mode is Mode.ELDERLY else ""
            for language in languages:
                translator.set_language(language)
                shots: dict[str, Screen] = sample_screens(mode=mode)
                for name, model in shots.items():
                    if only and not any(word in name for word in only):
                        continue
                    window.show_time_warning(None)
                    window.show_screen(model)
                    written.append(_grab(window, out / f"{orientation}-{language}-{prefix}{name}.png"))
                if not only or any(word in "time-warning" for word in only):
                    window.show_screen(shots["overview-two-meters"])
                    window.show_time_warning(TIME_WARNING_SECONDS)
                    written.append(_grab(window, out / f"{orientation}-{language}-{prefix}time-warning.png"))
                    window.show_time_warning(None)
                if mode is Mode.ELDERLY and (not only or any(word in "payment-time-warning" for word in only)):
                    # Elderly mode asks before the payment QR's time ends too.
                    window.show_screen(shots["payment"])
                    window.show_time_warning(TIME_WARNING_SECONDS)
                    written.append(_grab(window, out / f"{orientation}-{language}-{prefix}payment-time-warning.png"))
                    window.show_time_warning(None)
        window.close()
        window.deleteLater()
    return written


def _grab(window: MainWindow, path: Path) -> Path:
    for _ in range(3):  # let layouts and deferred deletions settle
        QApplication.processEvents()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    parser.add_argument("--language", choices=LANGUAGES, action="append", help="only these languages")
    parser.add_argument("--only", action="append", default=[], metavar="WORD",
                        help="only the variants whose name contains WORD (repeatable)")
    parser.add_argument("--mode", choices=[m.value for m in Mode], action="append", help="only these modes")
    args = parser.parse_args(argv)
    modes = tuple(Mode(m) for m in args.mode) if args.mode else tuple(Mode)
    files = render_all(args.out, tuple(args.language) if args.language else LANGUAGES, tuple(args.only), modes)
    print(f"wrote {len(files)} screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
