"""The `kiosk` console script: builds the Qt application around the core for `run` and `demo`."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kiosk.cli import parse
from kiosk.config import Config, ConfigError, describe, load_config
from kiosk.i18n import Translator
from kiosk.screens import Mode
from ui.bridge import QtDispatcher, QtTimers
from ui.deferred_journey import DeferredJourney
from ui.keyboard_wedge import KeyboardWedgeFilter
from ui.keyboard_wedge import install as install_keyboard_wedge
from ui.main_window import MainWindow
from ui.maintenance.host import RESTART_EXIT_CODE, install_maintenance, restart_process
from ui.qt import QApplication, QEvent, QObject, QTimer
from ui.voice import install_voice
from ui.watchdog import GuiWatchdog

if TYPE_CHECKING:
    from kiosk.app import Terminal

log = logging.getLogger("kiosk")


def build_terminal_window(app: QApplication, config: Config) -> tuple[Terminal, MainWindow]:
    """Wire a terminal to its window, start it and show the window, all at once (the demo's start path)."""
    from kiosk.app import Terminal

    dispatcher = QtDispatcher()
    terminal = Terminal(config, dispatcher.dispatch, QtTimers())
    window = MainWindow(terminal.journey, config, terminal.translator)
    app.aboutToQuit.connect(terminal.stop)
    terminal.start()
    install_keyboard_wedge(app, terminal.keyboard)
    install_maintenance(window, terminal)
    install_voice(window, terminal.voice)
    window.present()
    return terminal, window


class _AfterFirstPaint(QObject):
    """Calls `then` once, right after `watched` has painted for the first time."""

    def __init__(self, watched: QObject, then: Callable[[], None]) -> None:
        super().__init__(watched)
        self._then: Callable[[], None] | None = then
        watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            then, self._then = self._then, None
            watched.removeEventFilter(self)
            QTimer.singleShot(0, then)  # after this paint has reached the screen
        return False


class StartingTerminal:
    """A terminal whose idle screen is painted before its core is built (the start path of `run`).

    The core's imports, opening the store and recovering interrupted payments take most of a cold start; the
    welcome screen shows meanwhile, and touches do nothing until `terminal` is set (`ready`).
    """

    def __init__(
        self, app: QApplication, config: Config, on_ready: Callable[[Terminal], None] | None = None,
        config_path: str | None = None,
    ) -> None:
        self.config = config
        self._config_path = config_path  # for HQ's "reload configuration" command
        self.terminal: Terminal | None = None
        self.keyboard_wedge: KeyboardWedgeFilter | None = None
        self._app = app
        self._on_ready = on_ready
        self.translator = Translator(config.ui.language, config.terminal.timezone)
        self.journey = DeferredJourney(config.ui.language, Mode(config.ui.mode))
        self.window = MainWindow(self.journey, config, self.translator)
        self._watch = _AfterFirstPaint(self.window, self._build_core)
        self.window.present()

    def _build_core(self) -> None:
        from kiosk.app import Terminal  # the heavy part of a start, deliberately after the first paint

        terminal = Terminal(self.config, QtDispatcher().dispatch, QtTimers(), translator=self.translator,
                            config_path=self._config_path)
        self._app.aboutToQuit.connect(terminal.stop)
        terminal.start()
        self.keyboard_wedge = install_keyboard_wedge(self._app, terminal.keyboard)  # keyboard devices' bursts
        self.journey.attach(terminal.journey)
        self.maintenance = install_maintenance(self.window, terminal)  # the hidden staff menu
        self.voice = install_voice(self.window, terminal.voice)  # touch silences, "Say it again" repeats
        self.terminal = terminal
        if self._on_ready is not None:
            self._on_ready(terminal)


def self_test(config_path: str | None, *, as_json: bool, settle_s: float) -> int:
    """Run every check headless and print the report; 0 when the terminal can serve residents."""
    from kiosk.self_test import CheckResult, Verdict, core_checks, exit_status, format_report
    from ui.self_test import screen_checks

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        results = [CheckResult("configuration", Verdict.FAIL, str(exc))]
        print(format_report(results, as_json=as_json))
        return exit_status(results)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QApplication.instance() or QApplication(sys.argv[:1])
    results = [CheckResult("configuration", Verdict.OK, config_path or "defaults")]
    results += core_checks(config, settle_s=settle_s)
    results += screen_checks(config)
    print(format_report(results, as_json=as_json))
    return exit_status(results)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    # force: python-escpos calls basicConfig() at import, which would silently keep INFO logs out.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    if args.command == "config-example":
        print(describe(), end="")
        return 0
    if args.command == "queue":
        from kiosk.queue_cli import run_queue  # no Qt: a report on the terminal's transactions

        logging.getLogger().setLevel(logging.WARNING)  # the listing is the output; problems still log
        return run_queue(args)
    if args.command == "staff":
        from kiosk.staff_cli import run_staff  # no Qt: PINs are set from a shell on the terminal

        logging.getLogger().setLevel(logging.WARNING)
        return run_staff(args)
    if args.command == "self-test":
        logging.getLogger().setLevel(logging.WARNING)  # the report is the output; problems still log
        return self_test(args.config, as_json=args.json, settle_s=args.settle)
    try:
        if args.command in ("run", "check-config"):
            config = load_config(args.config)
            if args.command == "check-config":
                print(f"{args.config}: ok")
                return 0
            if args.windowed:
                config = config.with_changes("ui", fullscreen=False)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2

    app = QApplication(sys.argv[:1])
    if args.command == "run":
        watchdog = GuiWatchdog(app)
        app.aboutToQuit.connect(watchdog.stopping)
        _starting = StartingTerminal(
            app, config, on_ready=lambda _terminal: watchdog.ready(), config_path=args.config
        )
        code = app.exec()
        if code == RESTART_EXIT_CODE:  # staff asked for a restart in the maintenance menu
            restart_process()
        return code

    from kiosk.demo import DEMO_OPERATOR, start_demo  # the demo brings HQ along; a terminal never loads it

    demo = start_demo(
        orientation=args.orientation, language=args.language, fullscreen=not args.windowed
    )
    app.aboutToQuit.connect(demo.stop)
    terminal, _window = build_terminal_window(app, demo.config)
    from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
    from kiosk.control_api import ControlApi

    devices = terminal.devices
    assert isinstance(devices.card_reader, SimulatedCardReader)
    assert isinstance(devices.qr_scanner, SimulatedQrScanner)
    assert isinstance(devices.printer, SimulatedPrinter)
    control = ControlApi(
        devices.card_reader, devices.qr_scanner, devices.printer,
        lambda: terminal.journey.screen, port=args.control_port,
    )
    control.start()
    app.aboutToQuit.connect(control.stop)
    print(f"Demo HQ: {demo.hq.base_url}  (sandbox checkout pages open from the payment QR)")
    print(f"Fleet dashboard: {demo.hq.base_url}/fleet  (operator {DEMO_OPERATOR}, password {demo.operator_password})")
    print(f"Control API: {control.url}  (docs/simulators.md)")
    panel = None
    if not args.no_panel:
        from ui.sim_panel import SimulatorPanel

        panel = SimulatorPanel(
            devices.card_reader, devices.qr_scanner, devices.printer, demo.cards, demo.qr_codes
        )
        panel.show()
    code = app.exec()
    del panel
    return code


if __name__ == "__main__":
    sys.exit(main())
