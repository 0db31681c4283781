"""The voice in the window: a touch anywhere silences the prompt, and a large "Say it again" button repeats it.

`install_voice(window, guide)` is called once the core is built (`kiosk.voice.VoiceGuide`). The button sits in
the window's header, beside the language switch, so no screen's layout has to make room for it; it shows on every
resident screen in elderly mode, and in standard mode when residents may ask for speech
(`speech.standard_mode`), and only while the speaker works. In landscape it carries the loudspeaker and the words;
in portrait the header has no width left for the words without cutting off the house's number in the title, so
it is the loudspeaker alone (as large, its words as its accessible name), and the spoken idle prompt names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.i18n import _
from kiosk.voice import VoiceGuide
from ui.qt import (
    QApplication,
    QColor,
    QEvent,
    QIcon,
    QInputEvent,
    QObject,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPushButton,
    QSize,
    QSizePolicy,
    Qt,
    QTimer,
    QWidget,
)
from ui.theme import Theme, set_style_property

if TYPE_CHECKING:
    from collections.abc import Callable

    from ui.main_window import MainWindow

_PRESSES = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin}
HEADER_BUTTON_H = 80  # the header buttons' height in the theme's stylesheet (`variant="header"`), at scale 1


class TouchFilter(QObject):
    """Application-wide: the first delivery of every press or touch calls `on_touch` (the guide's `touched`, which
    only sets the speaker's cancel event), and lets the event go on unchanged."""

    def __init__(self, on_touch: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_touch = on_touch
        self._last: tuple[QEvent.Type, int] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _PRESSES:
            # One press reaches the filter once for its window and again for each widget it propagates to.
            key = (event.type(), event.timestamp()) if isinstance(event, QInputEvent) else None
            if key is None or key != self._last:
                self._last = key
                self._on_touch()
        return False


def speaker_pixmap(size: int, colour: str) -> QPixmap:
    """A loudspeaker with two sound waves, drawn (no emoji font needed)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 100, size / 100)
    body = QPainterPath()
    for i, (x, y) in enumerate(((8, 36), (30, 36), (54, 14), (54, 86), (30, 64), (8, 64))):
        if i == 0:
            body.moveTo(x, y)
        else:
            body.lineTo(x, y)
    body.closeSubpath()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(colour))
    p.drawPath(body)
    pen = QPen(QColor(colour), 7)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for radius in (16, 30):
        p.drawArc(round(54 - radius), round(50 - radius), 2 * radius, 2 * radius, -50 * 16, 100 * 16)
    p.end()
    return pixmap


class RepeatButton(QPushButton):
    """🔊 "Say it again" (再听一遍), styled like the header's other buttons; `compact`: the loudspeaker alone, in a
    square as tall as the header's buttons."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.compact = False
        self.setObjectName("repeat")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        set_style_property(self, "variant", "header")
        self.retranslate()

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact or self.icon().isNull():
            self.compact = compact
            t = self._theme
            side = t.px(t.icon * (0.9 if compact else 0.75))
            self.setIcon(QIcon(speaker_pixmap(side, t.palette.on_header)))
            self.setIconSize(QSize(side, side))
            if compact:
                self.setStyleSheet("padding: 0;")  # the icon centred in a square, none of the label's padding
                self.setFixedWidth(t.px(HEADER_BUTTON_H))
            else:
                self.setStyleSheet("")
                self.setMinimumWidth(0)
                self.setMaximumWidth(16777215)
            self.retranslate()

    def retranslate(self) -> None:
        words = _("Say it again")
        self.setText("" if self.compact else words)
        self.setAccessibleName(words)
        self.setToolTip(words)


class VoiceControls(QObject):
    """Wires a guide to a window: the touch filter, and the repeat button shown as the guide says."""

    def __init__(self, window: MainWindow, guide: VoiceGuide) -> None:
        super().__init__(window)
        self.window = window
        self.guide = guide
        self.button = RepeatButton(window.theme)
        self.button.clicked.connect(guide.repeat)
        window.add_chrome_control(self.button)
        self.touch_filter = TouchFilter(guide.touched, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.touch_filter)
        guide.add_listener(self.refresh)  # mode, language, screen kind, the speaker's status: GUI thread
        window.installEventFilter(self)  # follow the orientation
        self.refresh()

    def refresh(self) -> None:
        self.button.set_compact(self.window.portrait)
        self.button.retranslate()
        self.button.setVisible(self.guide.offers_repeat)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Resize:
            # After MainWindow.resizeEvent, which decides the orientation (a filter sees the event first).
            QTimer.singleShot(0, lambda: self.button.set_compact(self.window.portrait))
        return False


def install_voice(window: MainWindow, guide: VoiceGuide) -> VoiceControls:
    """Add the voice to a window whose core is built (ui/main.py)."""
    return VoiceControls(window, guide)
