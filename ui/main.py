"""The `kiosk` console script: builds the Qt application around the core for `run` and `demo`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from kiosk.app import Terminal
from kiosk.cli import parse
from kiosk.config import Config, ConfigError, describe, load_config
from ui.bridge import QtDispatcher, QtTimers
from ui.main_window import MainWindow
from ui.qt import QApplication

log = logging.getLogger("kiosk")


def build_terminal_window(app: QApplication, config: Config) -> tuple[Terminal, MainWindow]:
    """Wire a terminal to its window, start it and show the window: the start path of `run` and `demo`."""
    dispatcher = QtDispatcher()
    terminal = Terminal(config, dispatcher.dispatch, QtTimers())
    window = MainWindow(terminal.journey, config, terminal.translator)
    app.aboutToQuit.connect(terminal.stop)
    terminal.start()
    window.present()
    return terminal, window


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    # force: python-escpos calls basicConfig() at import, which would silently keep INFO logs out.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    if args.command == "config-example":
        print(describe(), end="")
        return 0
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
        _terminal, _window = build_terminal_window(app, config)
        return app.exec()

    from kiosk.demo import start_demo  # the demo brings HQ along; a terminal never loads it

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
