"""Type the house number: building, unit and room boxes filled from a large keypad."""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.messages import notice_text
from kiosk.screens import HouseNumberScreen
from ui.journey_api import JourneyApi
from ui.qt import QBoxLayout, QButtonGroup, QHBoxLayout, QLabel, QPushButton, QSizePolicy, Qt, QVBoxLayout, QWidget
from ui.screens.base import ScreenView, box_direction, make_label
from ui.theme import Theme, set_style_property
from ui.widgets.banner import Banner
from ui.widgets.buttons import BigButton
from ui.widgets.keypad import Keypad

FIELDS = ("building", "unit", "room")
MAX_DIGITS = 4


class HouseNumberView(ScreenView):
    """Three boxes (tap one to fill it), a keypad, "Find my home" and Back."""

    def __init__(self, journey: JourneyApi, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(journey, theme, parent)
        self.values = dict.fromkeys(FIELDS, "")
        self.active = FIELDS[0]
        root = QVBoxLayout(self)
        m = self.margins()
        root.setContentsMargins(m, m, m, m)
        root.setSpacing(theme.px(theme.gap))
        self.title = make_label(role="title")
        self.hint = make_label(role="muted")
        root.addWidget(self.title)
        root.addWidget(self.hint)

        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(theme.px(theme.gap * 2))
        left = QVBoxLayout()
        left.setSpacing(theme.px(theme.gap))
        fields_row = QHBoxLayout()
        fields_row.setSpacing(theme.px(16))
        self.captions: dict[str, QLabel] = {}
        self.boxes: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for name in FIELDS:
            column = QVBoxLayout()
            column.setSpacing(theme.px(8))
            caption = make_label(role="heading", wrap=False, centre=True)
            box = QPushButton()
            box.setCheckable(True)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            set_style_property(box, "variant", "field")
            box.clicked.connect(lambda _checked=False, n=name: self.select_field(n))
            group.addButton(box)
            column.addWidget(caption)
            column.addWidget(box)
            fields_row.addLayout(column, 1)
            self.captions[name] = caption
            self.boxes[name] = box
        left.addLayout(fields_row)
        self.notice = Banner(theme, "error")
        left.addWidget(self.notice)
        left.addStretch(1)
        self.keypad = Keypad(theme)
        self.keypad.digit_pressed.connect(self.type_digit)
        self.keypad.clear_pressed.connect(self.clear_field)
        self.keypad.backspace_pressed.connect(self.delete_digit)
        self.body.addLayout(left, 1)
        self.body.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.body.addStretch(0)
        root.addLayout(self.body, 1)

        actions = QHBoxLayout()
        actions.setSpacing(theme.px(theme.gap))
        self.back = BigButton(theme, icon="back")
        self.back.clicked.connect(self.journey.back)
        self.find_home = BigButton(theme, icon="property", variant="primary")
        self.find_home.clicked.connect(self.submit)
        actions.addWidget(self.back, 1)
        actions.addWidget(self.find_home, 2)
        root.addLayout(actions)

    # resident input ----------------------------------------------------------------------------------------
    def select_field(self, name: str) -> None:
        self.active = name
        self.boxes[name].setChecked(True)

    def type_digit(self, digit: str) -> None:
        value = self.values[self.active]
        if len(value) < MAX_DIGITS:
            self.values[self.active] = value + digit
            self._show_values()

    def delete_digit(self) -> None:
        self.values[self.active] = self.values[self.active][:-1]
        self._show_values()

    def clear_field(self) -> None:
        self.values[self.active] = ""
        self._show_values()

    def submit(self) -> None:
        self.journey.submit_house_number(self.values["building"], self.values["unit"], self.values["room"])

    def _show_values(self) -> None:
        for name, box in self.boxes.items():
            box.setText(self.values[name])

    # model -------------------------------------------------------------------------------------------------
    def load(self, model: HouseNumberScreen) -> None:
        self.values = {"building": model.building, "unit": model.unit, "room": model.room}
        empty = [name for name in FIELDS if not self.values[name]]
        self.select_field(empty[0] if empty else FIELDS[0])
        self._show_values()

    def show_texts(self) -> None:
        model: HouseNumberScreen = self.model
        self.title.setText(_("Type your house number"))
        self.hint.setText(_("Tap a box, then type its number on the keypad."))
        captions = {"building": _("Building"), "unit": _("Unit"), "room": _("Room")}
        for name, caption in self.captions.items():
            caption.setText(captions[name])
            self.boxes[name].setAccessibleName(captions[name])
        self.notice.set_text(notice_text(model.notice) if model.notice else None)
        self.keypad.retranslate()
        self.back.setText(_("Back"))
        self.find_home.setText(_("Find my home"))

    def relayout(self) -> None:
        self.body.setDirection(box_direction(self.portrait))
        # Portrait: the keypad sits right under the boxes; the spare height goes below it.
        for index, stretch in enumerate((0, 0, 1) if self.portrait else (1, 0, 0)):
            self.body.setStretch(index, stretch)
        self.keypad.set_large(self.portrait)

    def reset(self) -> None:
        self.values = dict.fromkeys(FIELDS, "")
        self._show_values()
        self.notice.set_text(None)
