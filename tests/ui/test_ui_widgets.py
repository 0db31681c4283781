"""QR code rendering, icons and the keypad."""

from __future__ import annotations

import pytest

from ui.qt import QColor, Qt
from ui.theme import Theme
from ui.widgets.icons import PAINTERS, icon_pixmap
from ui.widgets.keypad import Keypad
from ui.widgets.qr_code import QUIET_ZONE, QrCodeView, qr_image


def test_qr_image_has_a_white_quiet_zone_and_dark_finders():
    image = qr_image("https://pay.example.cn/q/EO7KQ2M4X9ZP3R8T")
    size = image.width()
    assert image.height() == size
    for i in range(size):
        for x, y in ((i, 0), (0, i), (i, QUIET_ZONE - 1), (size - 1, i)):
            assert QColor(image.pixel(x, y)).lightness() == 255
    assert QColor(image.pixel(QUIET_ZONE, QUIET_ZONE)).lightness() == 0  # the finder pattern's corner


def test_qr_view_scales_by_whole_pixels(qtbot):
    view = QrCodeView()
    qtbot.addWidget(view)
    view.resize(600, 600)
    view.set_data("hello")
    side = qr_image("hello").width()
    assert view.module_px() == 600 // side
    view.set_data("")
    assert view.module_px() == 0


@pytest.mark.parametrize("name", sorted(PAINTERS))
def test_every_icon_draws_something(qtbot, name):
    image = icon_pixmap(name, 64, "#000000").toImage()
    assert any(QColor.fromRgba(image.pixel(x, y)).alpha() > 0 for x in range(64) for y in range(64))


def test_keypad_emits_digits_clear_and_backspace(qtbot, translator):
    keypad = Keypad(Theme())
    qtbot.addWidget(keypad)
    pressed: list[str] = []
    keypad.digit_pressed.connect(pressed.append)
    keypad.clear_pressed.connect(lambda: pressed.append("clear"))
    keypad.backspace_pressed.connect(lambda: pressed.append("back"))
    for key in ("1", "0", "clear", "backspace"):
        qtbot.mouseClick(keypad.keys[key], Qt.MouseButton.LeftButton)
    assert pressed == ["1", "0", "clear", "back"]
    assert keypad.keys["clear"].text() == "Clear"
