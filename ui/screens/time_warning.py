"""The "Need more time?" question, as a panel over the dimmed current screen (not an OS dialog)."""

from __future__ import annotations

from kiosk.i18n import _, current
from ui.journey_api import JourneyApi
from ui.qt import QBoxLayout, QColor, QFrame, QMouseEvent, QPainter, QPaintEvent, QSizePolicy, Qt, QVBoxLayout, QWidget
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
        self.paying = False  # over the payment screen: what ends is the payment, not the visit
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
        # Elderly mode's words are too long for two buttons side by side: one above the other, "yes" first.
        buttons = QBoxLayout(QBoxLayout.Direction.BottomToTop if theme.elderly else QBoxLayout.Direction.LeftToRight)
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

    def set_paying(self, paying: bool) -> None:
        """Whether the question is about the payment's time (elderly mode asks before the QR's time ends)."""
        self.paying = paying

    def fit(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
            self.panel.setFixedWidth(min(parent.width() - self.theme.px(80), self.theme.px(1000)))
        self._fit_height()

    def _fit_height(self) -> None:
        # The panel's width is fixed, so its wrapped words' height is known: ask for all of it (a centred panel
        # otherwise gets its plain size hint, one line per text).
        layout = self.panel.layout()
        if layout is not None and layout.hasHeightForWidth():
            self.panel.setMinimumHeight(layout.totalHeightForWidth(self.panel.width()))

    def retranslate(self) -> None:
        self.question.setText(_("Do you need more time?"))
        seconds = self.seconds or 0
        if self.paying:
            ending = current().ngettext(
                "Otherwise the payment is cancelled in {seconds} second.",
                "Otherwise the payment is cancelled in {seconds} seconds.",
                seconds,
            )
        else:
            ending = current().ngettext(
                "Otherwise the screen goes back to the start in {seconds} second.",
                "Otherwise the screen goes back to the start in {seconds} seconds.",
                seconds,
            )
        self.countdown.setText(ending.format(seconds=seconds))
        self.done.setText(_("No, I am finished"))
        self.more.setText(_("Yes, more time"))
        self._fit_height()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # A touch anywhere on the dimmed screen also says "I am still here".
        self.journey.more_time()
        event.accept()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(self.theme.palette.backdrop))
        painter.end()
