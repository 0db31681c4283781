"""The kiosk window: a header over a stack of screen views, rendering every model the journey emits."""

from __future__ import annotations

from kiosk.config import Config
from kiosk.i18n import Translator
from kiosk.screens import (
    AmountScreen,
    HouseNumberScreen,
    IdleScreen,
    LoadingScreen,
    OutOfServiceScreen,
    OverviewScreen,
    PaymentScreen,
    ResultScreen,
    Screen,
)
from ui.bridge import QtDispatcher
from ui.journey_api import JourneyApi
from ui.lockdown import LockdownFilter
from ui.qt import (
    QApplication,
    QCloseEvent,
    QEvent,
    QGuiApplication,
    QInputEvent,
    QObject,
    QResizeEvent,
    QSize,
    QStackedWidget,
    Qt,
    QThread,
    QVBoxLayout,
    QWidget,
)
from ui.screens.amount import AmountView
from ui.screens.base import ScreenView
from ui.screens.house_number import HouseNumberView
from ui.screens.idle import IdleView
from ui.screens.loading import LoadingView
from ui.screens.out_of_service import OutOfServiceView
from ui.screens.overview import OverviewView
from ui.screens.payment import PaymentView
from ui.screens.result import ResultView
from ui.screens.time_warning import TimeWarningOverlay
from ui.theme import Theme
from ui.widgets.header import HeaderBar

LANDSCAPE = QSize(1920, 1080)
PORTRAIT = QSize(1080, 1920)
_ACTIVITY_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress}


class ActivityFilter(QObject):
    """Application-wide: every press, touch or key anywhere tells the journey the resident is still there."""

    def __init__(self, journey: JourneyApi, exempt: QWidget | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._journey = journey
        self._exempt = exempt  # touches here are answered by the widget itself (the "more time?" overlay)
        self._last: tuple[QEvent.Type, int] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY_EVENTS and isinstance(watched, QWidget) and isinstance(event, QInputEvent):
            exempt = self._exempt
            if exempt is not None and (watched is exempt or exempt.isAncestorOf(watched)):
                return False
            # One press reaches the filter again for each parent it propagates to; count it once.
            key = (event.type(), event.timestamp())
            if key != self._last:
                self._last = key
                self._journey.user_activity()
        return False


def layout_direction(translator: Translator) -> Qt.LayoutDirection:
    """Right to left for a language written so (Babel's locale data, e.g. Uyghur): Qt then mirrors every layout,
    so a translator adding such a catalog needs no code change."""
    if translator.locale.character_order == "right-to-left":
        return Qt.LayoutDirection.RightToLeft
    return Qt.LayoutDirection.LeftToRight


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
        self.setWindowTitle("Community kiosk")
        self.portrait = self._wanted_portrait(self._screen_size())
        self.window_size = self._initial_size()
        self.theme = theme or Theme().scaled(min(1.0, fit_scale(self.window_size, self.portrait)))
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
        self.header = HeaderBar(self.theme)
        self.header.language_chosen.connect(self.journey.set_language)
        self.header.home_clicked.connect(self.journey.finish)
        layout.addWidget(self.header)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        t = self.theme
        self.views: dict[type, ScreenView] = {
            IdleScreen: IdleView(journey, t),
            HouseNumberScreen: HouseNumberView(journey, t),
            LoadingScreen: LoadingView(journey, t),
            OverviewScreen: OverviewView(journey, t),
            AmountScreen: AmountView(journey, t),
            PaymentScreen: PaymentView(journey, t),
            ResultScreen: ResultView(journey, t),
            OutOfServiceScreen: OutOfServiceView(journey, t),
        }
        for view in self.views.values():
            view.set_portrait(self.portrait)
            self.stack.addWidget(view)
        self.overlay = TimeWarningOverlay(journey, t, self)
        self.maintenance: QWidget | None = None  # the staff menu, over everything (ui/maintenance/host.py)

        self.activity_filter = ActivityFilter(journey, self.overlay, self)
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
        self.setLayoutDirection(layout_direction(translator))
        self.resize(self.window_size)
        self.show_screen(journey.screen)

    # showing -----------------------------------------------------------------------------------------------
    def present(self) -> None:
        """Show fullscreen and frameless, or as a window, as the configuration says."""
        if self.config.ui.fullscreen:
            self.showFullScreen()
        else:
            self.show()

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
        """Render a screen model (the journey's screen listener)."""
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
        self.overlay.set_seconds(seconds)

    def retranslate(self) -> None:
        """Repaint every text in the translator's current language, laid out in its direction."""
        self.setLayoutDirection(layout_direction(self.translator))
        self.header.retranslate()
        self.header.set_language(self.translator.language)
        for view in self.views.values():
            view.retranslate()
        if self.overlay.isVisible():
            self.overlay.retranslate()
        self._update_header()

    def _update_header(self) -> None:
        view = self.current_view
        self.header.set_title(view.header_title() if view.model is not None else "")
        self.header.set_home_visible(view.home_visible)

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
            for view in self.views.values():
                view.set_portrait(portrait)
        self.overlay.fit()
