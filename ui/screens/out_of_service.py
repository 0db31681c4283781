"""The terminal is out of service: say so plainly, and where else to pay (the place comes from the configuration)."""

from __future__ import annotations

from kiosk.i18n import _, current
from kiosk.screens import OutOfServiceScreen
from ui.journey_api import JourneyApi
from ui.qt import QFrame, QHBoxLayout, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import ScreenView, make_label
from ui.theme import Theme, set_style_property
from ui.widgets.icons import IconView


class OutOfServiceView(ScreenView):
    """A warning sign, "This terminal is out of service", and a card saying where to pay instead."""

    home_visible = False

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(journey, theme, parent)
        root = QVBoxLayout(self)
        m = self.margins()
        root.setContentsMargins(m, m, m, m)
        root.setSpacing(theme.px(theme.gap * 1.5))
        root.addStretch(1)
        root.addWidget(IconView("warning", theme.px(theme.icon * 2.5), theme.palette.warning_edge), 0,
                       Qt.AlignmentFlag.AlignHCenter)
        self.title = make_label(role="title", centre=True)
        root.addWidget(self.title)
        self.sorry = make_label(role="muted", centre=True)
        root.addWidget(self.sorry)
        self.card = QFrame()
        set_style_property(self.card, "frame", "card")
        # Preferred, not Maximum: the place may wrap, and its height follows the width.
        self.card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.card.setMaximumWidth(theme.px(1200))
        card = QVBoxLayout(self.card)
        pad = theme.px(40)
        card.setContentsMargins(pad, pad, pad, pad)
        card.setSpacing(theme.px(16))
        self.pay_at = make_label(role="heading", centre=True)
        self.where = make_label(role="title", centre=True)
        self.where.setObjectName("where")
        card.addWidget(self.pay_at)
        card.addWidget(self.where)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.card, 20)
        row.addStretch(1)
        root.addLayout(row)
        self.safe = make_label(role="muted", centre=True)
        root.addWidget(self.safe)
        root.addStretch(2)

    def show_texts(self) -> None:
        model: OutOfServiceScreen = self.model
        self.title.setText(_("This terminal is out of service"))
        self.sorry.setText(_("We are sorry. Staff are working on it."))
        self.pay_at.setText(_("Please pay at:"))
        self.where.setText(model.where_in(current().language))
        self.safe.setText(_("Payments made here before are safe."))
