"""A calm "please wait" with a turning indicator; never blocks the GUI thread."""

from __future__ import annotations

from kiosk.messages import loading_text
from kiosk.screens import LoadingScreen
from ui.journey_api import JourneyApi
from ui.qt import Qt, QVBoxLayout, QWidget
from ui.screens.base import ScreenView, make_label
from ui.theme import Theme
from ui.widgets.spinner import Spinner


class LoadingView(ScreenView):
    """What the kiosk is doing, e.g. "Finding your home…"."""

    home_visible = False

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(journey, theme, parent)
        root = QVBoxLayout(self)
        root.setSpacing(theme.px(theme.gap * 2))
        root.addStretch(1)
        self.spinner = Spinner(theme.px(180), theme.palette.primary)
        root.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignHCenter)
        self.message = make_label(role="title", centre=True)
        root.addWidget(self.message)
        root.addStretch(1)

    def show_texts(self) -> None:
        model: LoadingScreen = self.model
        self.message.setText(loading_text(model.what))
