"""The "Need more time?" question, as a panel over the dimmed current screen (not an OS dialog)."""

from __future__ import annotations

from kiosk.i18n import _, current
from ui.journey_api import JourneyApi
from ui.qt import QColor, QFrame, QHBoxLayout, QMouseEvent, QPainter, QPaintEvent, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import make_label
from ui.theme import Theme, set_style_property
from ui.widgets.buttons import BigButton
from ui.widgets.icons import IconView


class TimeWarningOverlay(QWidget):
    """Covers its parent; shows the seconds left, a big "Yes, more time" and a "No, I am finished".

    The window's activity filter leaves touches on this overlay alone: counting a press as activity would
    hide the question under the finger before its button could be released.
    """

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget) -> None:
        super().__init__(parent)
        self.journey = journey
        self.theme = theme
        self.seconds: int | None = None
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.panel = QFrame()
        set_style_property(self.panel, "frame", "panel")
        self.panel.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self.panel)
        pad = theme.px(48)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(theme.px(theme.gap))
        layout.addWidget(IconView("clock", theme.px(120), theme.palette.primary), 0, Qt.AlignmentFlag.AlignHCenter)
        self.question = make_label(role="title", centre=True)
        self.countdown = make_label(centre=True)
        layout.addWidget(self.question)
        layout.addWidget(self.countdown)
        buttons = QHBoxLayout()
        buttons.setSpacing(theme.px(theme.gap))
        self.done = BigButton(theme)
        # Not connected directly: clicked(bool) would hand finish() `False` as its notice.
        self.done.clicked.connect(lambda: self.journey.finish())
        self.more = BigButton(theme, icon="clock", variant="primary")
        self.more.clicked.connect(self.journey.more_time)
        buttons.addWidget(self.done, 2)
        buttons.addWidget(self.more, 3)
        layout.addLayout(buttons)
        outer.addWidget(self.panel)
        self.hide()

    def set_seconds(self, seconds: int | None) -> None:
        """Show with `seconds` left, or hide for None."""
        self.seconds = seconds
        if seconds is None:
            self.hide()
            return
        self.retranslate()
        self.fit()
        self.show()
        self.raise_()

    def fit(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
            self.panel.setFixedWidth(min(parent.width() - self.theme.px(80), self.theme.px(1000)))

    def retranslate(self) -> None:
        self.question.setText(_("Do you need more time?"))
        seconds = self.seconds or 0
        self.countdown.setText(
            current().ngettext(
                "Otherwise the screen goes back to the start in {seconds} second.",
                "Otherwise the screen goes back to the start in {seconds} seconds.",
                seconds,
            ).format(seconds=seconds)
        )
        self.done.setText(_("No, I am finished"))
        self.more.setText(_("Yes, more time"))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # A touch anywhere on the dimmed screen also says "I am still here".
        self.journey.more_time()
        event.accept()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(self.theme.palette.backdrop))
        painter.end()
