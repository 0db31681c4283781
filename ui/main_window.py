"""The kiosk window: a header over a stack of screen views, rendering every model the journey emits."""

from __future__ import annotations

from kiosk.config import Config
from kiosk.i18n import Translator, _
from kiosk.screens import IdleScreen, Mode, OutOfServiceScreen, PaymentScreen, Screen
from ui.bridge import QtDispatcher
from ui.direction import MirrorLabelsAndMargins, layout_direction, set_direction
from ui.journey_api import JourneyApi
from ui.lockdown import LockdownFilter
from ui.mode_views import ModeViews, journey_mode
from ui.qt import (
    QApplication,
    QBoxLayout,
    QCloseEvent,
    QEvent,
    QGuiApplication,
    QInputEvent,
    QLayout,
    QObject,
    QResizeEvent,
    QSize,
    QStackedWidget,
    Qt,
    QThread,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from ui.screens.base import ScreenView
from ui.screens.time_warning import TimeWarningOverlay
from ui.theme import Theme, elderly
from ui.widgets.header import HeaderBar

LANDSCAPE = QSize(1920, 1080)
PORTRAIT = QSize(1080, 1920)
PREPARE_MODES_MS = 500
_ACTIVITY_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress}


class ActivityFilter(QObject):
    """Application-wide: every press, touch or key anywhere tells the journey the resident is still there."""

    def __init__(self, journey: JourneyApi, exempt: QWidget | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._journey = journey
        # Touches here are answered by the widget itself (each mode's "more time?" overlay).
        self._exempt: list[QWidget] = [exempt] if exempt is not None else []
        self._last: tuple[QEvent.Type, int] | None = None

    def exempt(self, widget: QWidget) -> None:
        """Leave touches on `widget` (and its children) to it."""
        self._exempt.append(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY_EVENTS and isinstance(watched, QWidget) and isinstance(event, QInputEvent):
            if any(watched is exempt or exempt.isAncestorOf(watched) for exempt in self._exempt):
                return False
            # One press reaches the filter again for each parent it propagates to; count it once.
            key = (event.type(), event.timestamp())
            if key != self._last:
                self._last = key
                self._journey.user_activity()
        return False


def reference_size(portrait: bool) -> QSize:
    return PORTRAIT if portrait else LANDSCAPE


def fit_scale(available: QSize, portrait: bool) -> float:
    """How much of the 1920x1080 (or 1080x1920) design fits into `available`."""
    ref = reference_size(portrait)
    return min(available.width() / ref.width(), available.height() / ref.height())


class MainWindow(QWidget):
    """Header, screen views and the "Need more time?" overlay. Call `present()` to show it as configured."""

    def __init__(
        self, journey: JourneyApi, config: Config, translator: Translator, theme: Theme | None = None
    ) -> None:
        super().__init__()
        self.journey = journey
        self.config = config
        self.translator = translator
        self._dispatcher = QtDispatcher(self)
        self.setObjectName("kioskRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setWindowTitle(_("Community kiosk"))  # seen in windowed mode and by window managers
        self.portrait = self._wanted_portrait(self._screen_size())
        self.window_size = self._initial_size()
        base = theme or Theme().scaled(min(1.0, fit_scale(self.window_size, self.portrait)))
        # The window's own theme is standard mode's (the staff menu uses it); each mode's page has its own.
        self.theme = base.standard
        self.themes = {Mode.STANDARD: self.theme, Mode.ELDERLY: elderly(self.theme)}
        # A window built with the elderly theme starts in elderly mode (screenshots, tests); after that the
        # journey's mode decides, whenever it changes.
        self._journey_mode = journey_mode(journey)
        self.mode = Mode.ELDERLY if base.elderly else self._journey_mode or Mode.STANDARD
        # Kiosk mode (fullscreen): locked down; windowed is for development and closes as windows do.
        self.locked_down = config.ui.fullscreen
        self._leaving = False
        if self.locked_down:
            self.setWindowFlag(Qt.WindowType.FramelessWindowHint)
            self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
            self.setCursor(Qt.CursorShape.BlankCursor)  # a touchscreen: a mouse pointer would only distract
        self.theme.apply(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # The panel sets the window's size, never its contents: a screen between two states for a moment (one
        # banner shown before the other is hidden) must not grow the window past the glass for good.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.header = HeaderBar(self.theme)
        self.header.set_theme(self.themes[self.mode])
        self.header.language_chosen.connect(self.journey.set_language)
        self.header.home_clicked.connect(self.journey.finish)
        layout.addWidget(self.header)
        # One page per mode shown so far (ui/mode_views.py): a mode switch shows the other page at once.
        self.pages = QStackedWidget()
        layout.addWidget(self.pages, 1)
        self._modes: dict[Mode, ModeViews] = {}
        self.maintenance: QWidget | None = None  # the staff menu, over everything (ui/maintenance/host.py)
        self.activity_filter = ActivityFilter(journey, None, self)
        self.pages.setCurrentWidget(self._mode_views(self.mode).stack)

        self.lockdown_filter = LockdownFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.activity_filter)
            if self.locked_down:
                app.installEventFilter(self.lockdown_filter)
        translator.add_listener(self._on_language)
        journey.add_screen_listener(self._on_screen)
        journey.add_time_warning_listener(self._on_time_warning)
        self.header.set_language(translator.language)
        self._mirroring = MirrorLabelsAndMargins(self)
        set_direction(self, layout_direction(translator), self._mirroring)
        self.resize(self.window_size)
        self.show_screen(journey.screen)

    # showing -----------------------------------------------------------------------------------------------
    def present(self) -> None:
        """Show fullscreen and frameless, or as a window, as the configuration says."""
        if self.config.ui.fullscreen:
            self.showFullScreen()
        else:
            self.show()
        # Soon after the first screen is painted: build the other mode's page, so the first 长辈版 tap shows at once.
        QTimer.singleShot(PREPARE_MODES_MS, self, self.prepare_modes)

    def prepare_modes(self) -> None:
        """Build every mode's page now rather than on the first switch."""
        for mode in Mode:
            self._mode_views(mode)

    # modes -------------------------------------------------------------------------------------------------
    @property
    def views(self) -> dict[type, ScreenView]:
        """The screen views of the mode on screen."""
        return self._modes[self.mode].views

    @property
    def stack(self) -> QStackedWidget:
        return self._modes[self.mode].stack

    @property
    def overlay(self) -> TimeWarningOverlay:
        """The "more time?" question of the mode on screen."""
        return self._modes[self.mode].overlay

    @property
    def current_theme(self) -> Theme:
        return self.themes[self.mode]

    def _mode_views(self, mode: Mode) -> ModeViews:
        views = self._modes.get(mode)
        if views is None:
            views = ModeViews(self.journey, self.themes[mode], self, self.portrait)
            self._modes[mode] = views
            self.pages.addWidget(views.stack)
            self.activity_filter.exempt(views.overlay)
        return views

    def set_mode(self, mode: Mode) -> None:
        """Show `mode`'s page and header; the caller shows the current model on it (`show_screen` does)."""
        if mode is self.mode:
            return
        old = self._modes[self.mode]
        seconds = old.overlay.seconds
        self.mode = mode
        page = self._mode_views(mode)
        self.header.set_theme(self.themes[mode])
        self.pages.setCurrentWidget(page.stack)
        old.clear()  # nothing of a resident stays on the page no longer shown
        if seconds is not None:
            self.show_time_warning(seconds)

    def _follow_journey_mode(self) -> None:
        mode = journey_mode(self.journey)
        if mode is not None and mode is not self._journey_mode:
            self._journey_mode = mode
            self.set_mode(mode)

    def leave_kiosk(self, exit_code: int = 0) -> None:
        """The only way out of a locked-down terminal (the maintenance menu calls it): close and quit with
        ``exit_code``, which tells a service manager not to start the terminal again."""
        self._leaving = True
        self.close()
        QApplication.exit(exit_code)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed from outside (a window manager, xdotool, a stray shortcut): back to idle, never out of the app."""
        if self.locked_down and not self._leaving:
            event.ignore()
            self.journey.finish()
            return
        super().closeEvent(event)

    @property
    def current_view(self) -> ScreenView:
        widget = self.stack.currentWidget()
        assert isinstance(widget, ScreenView)
        return widget

    def show_screen(self, model: Screen) -> None:
        """Render a screen model (the journey's screen listener), in the journey's mode."""
        self._follow_journey_mode()
        view = self.views[type(model)]
        if isinstance(model, IdleScreen | OutOfServiceScreen):
            # Back at the start: nothing a resident typed or saw may linger in hidden views.
            for other in self.views.values():
                if other is not view:
                    other.clear()
        view.show_model(model)
        self.stack.setCurrentWidget(view)
        self._update_header()

    def show_time_warning(self, seconds: int | None) -> None:
        """Show "Need more time?" with `seconds` left, or hide it for None (the time-warning listener)."""
        self.overlay.set_paying(isinstance(self.current_view.model, PaymentScreen))
        self.overlay.set_seconds(seconds)

    def retranslate(self) -> None:
        """Repaint every text in the translator's current language, laid out in its direction."""
        set_direction(self, layout_direction(self.translator), self._mirroring)
        self.setWindowTitle(_("Community kiosk"))
        self.header.retranslate()
        self.header.set_language(self.translator.language)
        for page in self._modes.values():
            page.retranslate()
        self._update_header()

    def add_chrome_control(self, widget: QWidget) -> None:
        """Put a control that belongs to no one screen (the voice's "Say it again", ui/voice.py) in the header,
        after the title, so no screen's layout has to make room for it."""
        layout = self.header.layout()
        assert isinstance(layout, QBoxLayout)
        layout.insertWidget(1, widget)

    def _update_header(self) -> None:
        view = self.current_view
        self.header.set_title(view.header_title() if view.model is not None else "")
        self.header.set_home_visible(view.home_visible)
        at_rest = isinstance(view.model, IdleScreen | OutOfServiceScreen) or view.model is None
        self.header.set_languages_visible(at_rest or not self.current_theme.elderly)

    # listeners (marshalled onto the GUI thread in case a caller is not on it) -------------------------------
    def _on_gui_thread(self) -> bool:
        return QThread.currentThread() is self.thread()

    def _on_screen(self, model: Screen) -> None:
        if self._on_gui_thread():
            self.show_screen(model)
        else:
            self._dispatcher.dispatch(lambda: self.show_screen(model))

    def _on_time_warning(self, seconds: int | None) -> None:
        if self._on_gui_thread():
            self.show_time_warning(seconds)
        else:
            self._dispatcher.dispatch(lambda: self.show_time_warning(seconds))

    def _on_language(self, _language: str) -> None:
        if self._on_gui_thread():
            self.retranslate()
        else:
            self._dispatcher.dispatch(self.retranslate)

    # orientation -------------------------------------------------------------------------------------------
    def _screen_size(self) -> QSize:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return LANDSCAPE
        return screen.geometry().size() if self.config.ui.fullscreen else screen.availableGeometry().size()

    def _wanted_portrait(self, size: QSize) -> bool:
        orientation = self.config.ui.orientation
        if orientation == "auto":
            return size.height() > size.width()
        return orientation == "portrait"

    def _initial_size(self) -> QSize:
        available = self._screen_size()
        if self.config.ui.fullscreen:
            return available
        ref = reference_size(self.portrait)
        scale = min(1.0, 0.95 * fit_scale(available, self.portrait))
        return QSize(round(ref.width() * scale), round(ref.height() * scale))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        size = event.size()
        portrait = self._wanted_portrait(size)
        if portrait != self.portrait:
            self.portrait = portrait
            for page in self._modes.values():
                page.set_portrait(portrait)
        for page in self._modes.values():
            page.overlay.fit()
