"""Hosting the maintenance menu in the kiosk window: the hidden gesture, and the pad or menu over everything.

`install(window, terminal)` is called once the core is built. The host covers the whole window (header included)
while the pad or menu is open and is hidden otherwise; it only renders what `MaintenanceMenu` emits. Every press on
it tells the menu staff are still there.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.maintenance import MaintenanceMenu, MenuScreen, MenuState, PinPad
from ui.maintenance.gesture import CornerTaps
from ui.maintenance.menu_view import MenuView
from ui.maintenance.pin_pad import PinPadView
from ui.qt import QApplication, QEvent, QObject, QStackedWidget, Qt, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from kiosk.app import Terminal
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

#: `kiosk run` exits with this to be started again: systemd restarts any exit; without systemd `ui.main` re-executes
#: itself (EX_TEMPFAIL).
RESTART_EXIT_CODE = 75
#: `kiosk run` exits with this when staff leave kiosk mode; deploy/kiosk.service lists it in RestartPreventExitStatus
#: so that systemd leaves the desktop to them instead of starting the terminal again.
LEAVE_EXIT_CODE = 76


class MaintenanceHost(QWidget):
    """The pad or the menu, covering the window; hidden while both are closed."""

    def __init__(self, window: MainWindow, menu: MaintenanceMenu) -> None:
        super().__init__(window)
        self.window_ = window
        self.menu = menu
        self.setObjectName("maintenance")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setProperty("screen", True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack)
        self.gesture: CornerTaps | None = None
        self.pad = PinPadView(menu, window.theme)
        self.menu_view = MenuView(menu, window.theme)
        self.stack.addWidget(self.pad)
        self.stack.addWidget(self.menu_view)
        self.menu_view.set_portrait(window.portrait)
        self.hide()
        menu.add_listener(self.show_state)
        window.translator.add_listener(lambda _language: self.retranslate())
        window.installEventFilter(self)  # follow its size and orientation
        self._presses = _PressWatch(self, menu.touched)
        self.show_state(menu.state)

    def show_state(self, state: MenuState) -> None:
        if state is None:
            self.hide()
            self.menu_view.reset()
            return
        if isinstance(state, PinPad):
            self.pad.show_model(state)
            self.stack.setCurrentWidget(self.pad)
        elif isinstance(state, MenuScreen):
            self.menu_view.show_model(state)
            self.stack.setCurrentWidget(self.menu_view)
        self.fit()
        self.show()
        self.raise_()

    def retranslate(self) -> None:
        if self.pad.model is not None:
            self.pad.show_texts()
        self.menu_view.retranslate()

    def fit(self) -> None:
        self.setGeometry(self.window_.rect())
        self.menu_view.set_portrait(self.window_.portrait)
        self.pad.set_portrait(self.window_.portrait)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window_ and event.type() == QEvent.Type.Resize:
            self.fit()
        return False


class _PressWatch(QObject):
    """Every press inside the host (any child) re-arms the menu's close-by-itself timer."""

    def __init__(self, host: QWidget, touched: Callable[[], None]) -> None:
        super().__init__(host)
        self._host = host
        self._touched = touched
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin) and isinstance(watched, QWidget)
                and (watched is self._host or self._host.isAncestorOf(watched))):
            self._touched()
        return False


def install_maintenance(
    window: MainWindow, terminal: Terminal, clock: Callable[[], float] | None = None
) -> MaintenanceHost:
    """Put the terminal's maintenance menu into the window: gesture, host, and what restart and leave do."""
    menu = terminal.maintenance
    host = MaintenanceHost(window, menu)
    options = {"clock": clock} if clock is not None else {}
    gesture = CornerTaps(window, terminal.config.maintenance, window.theme.scale, menu.gesture, **options)
    app = QApplication.instance()
    if app is not None:
        app.installEventFilter(gesture)
    host.gesture = gesture
    menu.set_app_hooks(
        restart=lambda: QApplication.exit(RESTART_EXIT_CODE), leave=lambda: window.leave_kiosk(LEAVE_EXIT_CODE)
    )
    window.maintenance = host
    return host


def restart_process() -> None:
    """Start the terminal again in this process's place (`kiosk run` asked for a restart, no systemd around)."""
    if os.environ.get("NOTIFY_SOCKET"):
        return  # systemd restarts the service when it exits
    if getattr(sys, "frozen", False):
        argv = [sys.executable, *sys.argv[1:]]  # the PyInstaller bundle
    elif os.access(sys.argv[0], os.X_OK) and not sys.argv[0].endswith(".py"):
        argv = list(sys.argv)  # the `kiosk` console script
    else:
        argv = [sys.executable, "-m", "ui.main", *sys.argv[1:]]
    log.info("restarting: %s", " ".join(argv))
    logging.shutdown()
    os.execv(argv[0], argv)
