"""What every screen view shares: the model it shows, orientation, and re-rendering texts on demand."""

from __future__ import annotations

from typing import Any

from ui.journey_api import JourneyApi
from ui.qt import QBoxLayout, QLabel, QLayout, Qt, QWidget
from ui.theme import Theme


def make_label(text: str = "", role: str | None = None, wrap: bool = True, centre: bool = False) -> QLabel:
    """A label with a stylesheet role (title, heading, huge, muted, small, warning...)."""
    label = QLabel(text)
    if role:
        label.setProperty("role", role)
    label.setWordWrap(wrap)
    if centre:
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def clear_layout(layout: QLayout) -> None:
    """Remove and delete everything in a layout (deleteLater: a removed button may be mid-signal)."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        child = item.layout()
        if widget is not None:
            widget.hide()
            widget.deleteLater()
        elif child is not None:
            clear_layout(child)
            child.deleteLater()


def box_direction(portrait: bool) -> QBoxLayout.Direction:
    return QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight


class ScreenView(QWidget):
    """A screen: `show_model` takes a new model; `retranslate` repaints its texts in the current language.

    Subclasses put model state into widgets in `load` (called once per model) and set every visible text in
    `show_texts` (called again after a language switch, so typed-in values survive it).
    """

    #: Whether the header's Home button makes sense here.
    home_visible = True

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.journey = journey
        self.theme = theme
        self.portrait = False
        self._model: Any = None

    @property
    def model(self) -> Any:
        return self._model

    def show_model(self, model: Any) -> None:
        # The journey re-sends the same model after a language switch: keep what the resident typed.
        if model != self._model:
            self._model = model
            self.load(model)
        self.show_texts()

    def retranslate(self) -> None:
        if self._model is not None:
            self.show_texts()

    def set_portrait(self, portrait: bool) -> None:
        if portrait != self.portrait:
            self.portrait = portrait
            self.relayout()

    def clear(self) -> None:
        """Forget the model and anything a resident typed (called when the kiosk returns to idle)."""
        self._model = None
        self.reset()

    def header_title(self) -> str:
        return ""

    def load(self, model: Any) -> None:
        """Take a new model's state into the widgets (override)."""

    def show_texts(self) -> None:
        """Set every visible text from the model and the current language (override)."""

    def relayout(self) -> None:
        """Arrange for `self.portrait` (override)."""

    def reset(self) -> None:
        """Drop resident data held by widgets (override)."""

    def margins(self) -> int:
        return self.theme.px(self.theme.margin)
