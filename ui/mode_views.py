"""One mode's look: every screen view and the "more time?" overlay, built in that mode's theme.

The window holds one `ModeViews` per mode it has shown (standard, elderly) in a stack, so switching mode is
showing the other page, not re-laying out or re-styling anything: the elderly page carries its own style sheet,
which Qt prefers over the window's for everything on it.
"""

from __future__ import annotations

from kiosk.screens import (
    AmountScreen,
    HouseNumberScreen,
    IdleScreen,
    LoadingScreen,
    Mode,
    OutOfServiceScreen,
    OverviewScreen,
    PaymentScreen,
    ResultScreen,
)
from ui.journey_api import JourneyApi
from ui.qt import QStackedWidget, QWidget
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


def journey_mode(journey: object) -> Mode | None:
    """The journey's mode, or None for a stand-in journey that has none (screenshots, test fakes)."""
    mode = getattr(journey, "mode", None)
    return mode if isinstance(mode, Mode) else None


class ModeViews:
    """The screen views of one mode in a stack of their own, and that mode's time-out overlay over `window`."""

    def __init__(self, journey: JourneyApi, theme: Theme, window: QWidget, portrait: bool) -> None:
        self.theme = theme
        self.stack = QStackedWidget()
        if theme.elderly:
            # The window's style sheet is the standard one; this page's own wins for everything on it.
            theme.apply(self.stack)
        self.views: dict[type, ScreenView] = {
            IdleScreen: IdleView(journey, theme),
            HouseNumberScreen: HouseNumberView(journey, theme),
            LoadingScreen: LoadingView(journey, theme),
            OverviewScreen: OverviewView(journey, theme),
            AmountScreen: AmountView(journey, theme),
            PaymentScreen: PaymentView(journey, theme),
            ResultScreen: ResultView(journey, theme),
            OutOfServiceScreen: OutOfServiceView(journey, theme),
        }
        for view in self.views.values():
            view.set_portrait(portrait)
            self.stack.addWidget(view)
        self.overlay = TimeWarningOverlay(journey, theme, window)
        if theme.elderly:
            theme.apply(self.overlay)

    def set_portrait(self, portrait: bool) -> None:
        for view in self.views.values():
            view.set_portrait(portrait)

    def clear(self) -> None:
        """Forget every model and anything typed (the other mode is on screen now)."""
        for view in self.views.values():
            view.clear()
        self.overlay.set_seconds(None)

    def retranslate(self) -> None:
        for view in self.views.values():
            view.retranslate()
        if self.overlay.isVisible():
            self.overlay.retranslate()
