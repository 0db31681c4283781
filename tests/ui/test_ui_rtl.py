"""Right to left: a language Babel says is written right to left mirrors every screen, with no code of its own.

Shown with a pseudo right-to-left language: Uyghur's locale data (as a translator adding `ug` would bring) and a
pseudo-catalog whose texts start with a right-to-left mark, so Qt takes each for right-to-left text as it would
Uyghur's, since no Uyghur catalog ships yet. Every screen sample is rendered left to right and then right to left
in both orientations: every text and button must sit at the mirrored place, texts against the right edge, the
keypad in phone order, and nothing clipped or overlapping.
"""

from __future__ import annotations

import gettext
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from babel import Locale

from kiosk import i18n
from kiosk.config import Config
from ui.accessibility import NORMAL, Panel, check_screen
from ui.direction import MirrorLabelsAndMargins, mirror, set_direction
from ui.main_window import LANDSCAPE, PORTRAIT, MainWindow, layout_direction
from ui.maintenance.host import MaintenanceHost
from ui.maintenance.samples import sample_states
from ui.maintenance.screenshots import StillMenu
from ui.qt import QAbstractButton, QApplication, QHBoxLayout, QImage, QLabel, QPoint, QRect, Qt, QWidget
from ui.samples import sample_screens
from ui.screenshots import StillJourney
from ui.theme import Theme
from ui.widgets.keypad import Keypad

RLM = "\u200f"  # a strong right-to-left character: Qt then lays each text out as right-to-left text
Align = Qt.AlignmentFlag


class PseudoRtlCatalog(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return f"{RLM}{message}"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def right_to_left(translator: i18n.Translator) -> None:
    """The pseudo right-to-left language: what set_language would load for a Uyghur catalog."""
    translator._catalog = PseudoRtlCatalog()
    translator._locale = Locale.parse("ug")


@pytest.fixture
def rtl(translator: i18n.Translator) -> Iterator[i18n.Translator]:
    right_to_left(translator)
    yield translator
    translator.set_language("zh_CN")
    translator.set_language("en")


@pytest.fixture
def reference(rtl: i18n.Translator, monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """Switches between the pseudo language as it is (right to left) and the same texts and formats laid out left
    to right, the reference each right-to-left render is compared with."""
    import ui.main_window

    left_to_right = {"on": False}
    real = ui.main_window.layout_direction

    def direction(translator: i18n.Translator) -> Qt.LayoutDirection:
        return Qt.LayoutDirection.LeftToRight if left_to_right["on"] else real(translator)

    monkeypatch.setattr(ui.main_window, "layout_direction", direction)

    def switch(on: bool) -> None:
        left_to_right["on"] = on
        rtl._catalog = gettext.NullTranslations() if on else PseudoRtlCatalog()

    return switch


def build(qtbot: Any, translator: i18n.Translator, orientation: str) -> MainWindow:
    config = Config().with_changes("ui", fullscreen=False, orientation=orientation)
    window = MainWindow(StillJourney(translator), config, translator, theme=Theme())  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.resize(LANDSCAPE if orientation == "landscape" else PORTRAIT)
    window.show()
    qtbot.waitExposed(window)
    return window


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def home_x(window: MainWindow) -> int:
    window.show_screen(sample_screens()["overview-two-meters"])
    QApplication.processEvents()
    assert window.header.home.isVisible()
    return window.header.home.mapTo(window, QPoint(0, 0)).x()


Placed = list[tuple[QWidget, tuple[str, str], QRect]]


def placed(window: MainWindow) -> Placed:
    """Each visible text and button, with its kind and text (marks taken out) and where it is. A widget that
    keeps its own direction (the keypad) stands for everything inside it."""
    found: Placed = []
    fixed = [w for w in window.findChildren(Keypad) if w.isVisibleTo(window)]
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or any(box.isAncestorOf(widget) for box in fixed):
            continue
        if isinstance(widget, Keypad | QAbstractButton) or (isinstance(widget, QLabel) and widget.text().strip()):
            text = widget.text().replace(RLM, "") if isinstance(widget, QLabel | QAbstractButton) else ""
            found.append((widget, (type(widget).__name__, text), QRect(widget.mapTo(window, QPoint(0, 0)),
                                                                       widget.size())))
    return found


def not_mirrored(before: Placed, after: Placed, width: int) -> list[str]:
    """Every widget of the left-to-right render must be at the mirrored place in the right-to-left one: the
    same widget, or one of the same kind and text where a view built its widgets anew."""
    pairs = []
    same = {id(w): rect for w, _key, rect in after}
    for widget, key, rect in before:
        if id(widget) in same:
            pairs.append((key, rect, same.pop(id(widget))))
    rest_before: dict[tuple[str, str], list[QRect]] = defaultdict(list)
    rest_after: dict[tuple[str, str], list[QRect]] = defaultdict(list)
    for _widget, key, rect in before:
        if not any(p[1] is rect for p in pairs):
            rest_before[key].append(rect)
    for widget, key, rect in after:
        if id(widget) in same:
            rest_after[key].append(rect)
    found = []
    for key in sorted(set(rest_before) | set(rest_after)):
        ltr = sorted(rest_before.get(key, []), key=lambda r: (r.y(), r.x()))
        rtl = sorted(rest_after.get(key, []), key=lambda r: (r.y(), width - r.x() - r.width()))
        if len(ltr) != len(rtl):
            found.append(f"{key}: {len(ltr)} left to right, {len(rtl)} right to left")
        pairs += [(key, a, b) for a, b in zip(ltr, rtl, strict=False)]
    for key, a, b in pairs:
        mirrored_x = width - a.x() - a.width()
        if abs(b.x() - mirrored_x) > 2 or abs(b.y() - a.y()) > 2 or abs(b.width() - a.width()) > 2:
            found.append(f"{key}: at x={b.x()}, mirrored x={mirrored_x} (y {a.y()}->{b.y()})")
    return found


def ink(image: QImage, rect: QRect) -> tuple[int, int] | None:
    """First and last column of `rect` with anything drawn in it (each column averaged by scaling to one row)."""
    row = image.copy(rect).scaled(rect.width(), 1, Qt.AspectRatioMode.IgnoreAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
    colours = [row.pixelColor(x, 0) for x in range(row.width())]
    background = max(set(c.rgb() for c in colours), key=[c.rgb() for c in colours].count)
    bg = colours[[c.rgb() for c in colours].index(background)]
    drawn = [x for x, c in enumerate(colours)
             if max(abs(c.red() - bg.red()), abs(c.green() - bg.green()), abs(c.blue() - bg.blue())) > 6]
    return (drawn[0], drawn[-1]) if drawn else None


def aligned_left(window: MainWindow, within: QWidget | None = None) -> list[str]:
    """Labels right to left whose text is drawn against their left edge, not their right one; only those of
    `within` when given (what covers the rest, e.g. the maintenance menu over the idle screen)."""
    image = window.grab().toImage()
    ratio = image.devicePixelRatio()
    found = []
    for label in (within or window).findChildren(QLabel):
        if not label.isVisibleTo(window) or not label.text().strip() or label.alignment() & Align.AlignHCenter:
            continue
        top_left = label.mapTo(window, QPoint(0, 0))
        rect = QRect(round(top_left.x() * ratio), round(top_left.y() * ratio),
                     round(label.width() * ratio), round(label.height() * ratio))
        span = ink(image, rect)
        if span is None:
            continue
        left, right = span[0], rect.width() - 1 - span[1]
        if right > left + 12 * ratio:  # more room on the right than on the left: aligned left
            found.append(f"{label.text()[:40]!r}: {left} px free on the left, {right} on the right")
    return found


def test_the_direction_follows_the_locale(translator: i18n.Translator) -> None:
    assert layout_direction(translator) is Qt.LayoutDirection.LeftToRight
    translator._locale = Locale.parse("ug")
    assert layout_direction(translator) is Qt.LayoutDirection.RightToLeft
    translator.set_language("en")


def test_a_right_to_left_language_mirrors_the_header(qtbot: Any, translator: i18n.Translator) -> None:
    window = build(qtbot, translator, "landscape")
    left_to_right = home_x(window)
    assert left_to_right > window.width() // 2  # Home sits on the right...
    right_to_left(translator)
    window.retranslate()
    assert window.layoutDirection() is Qt.LayoutDirection.RightToLeft
    assert home_x(window) < window.width() // 2  # ...and on the left when the language reads right to left
    title = window.header.title
    assert title.alignment() & Align.AlignRight  # the house, data only, still starts on the reading side
    translator.set_language("zh_CN")
    window.retranslate()
    assert window.layoutDirection() is Qt.LayoutDirection.LeftToRight
    assert title.alignment() & Align.AlignLeft and not title.alignment() & Align.AlignAbsolute  # put back


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_mirrors_right_to_left_with_nothing_clipped_or_overlapping(
    qtbot: Any, rtl: i18n.Translator, reference: Callable[[bool], None], orientation: str
) -> None:
    window = build(qtbot, rtl, orientation)
    size = window.size()
    panel = Panel(Panel().diagonal_in, size.width(), size.height(), Panel().distance_mm)
    found: list[str] = []
    backs = 0
    for name, model in sample_screens().items():
        reference(True)
        window.retranslate()
        window.show_screen(model)
        settle()
        assert window.layoutDirection() is Qt.LayoutDirection.LeftToRight
        before = placed(window)
        reference(False)
        window.retranslate()
        settle()
        assert window.layoutDirection() is Qt.LayoutDirection.RightToLeft
        after = placed(window)
        found += [f"{name}: not mirrored: {v}" for v in not_mirrored(before, after, size.width())]
        found += [f"{name}: against the left: {v}" for v in aligned_left(window)]
        found += [f"{name}: {v}" for v in check_screen(window, panel, NORMAL) if v.rule in ("clipped", "overlap")]
        for rect in [rect for _w, key, rect in after if key == ("BigButton", "Back")]:
            backs += 1
            assert rect.center().x() > size.width() / 2, name  # Back leads, on the right
        for keypad in window.findChildren(Keypad):
            if keypad.isVisibleTo(window):
                x = [keypad.keys[d].mapTo(window, QPoint(0, 0)).x() for d in "123"]
                assert x == sorted(x), name  # phone order: number pads are not mirrored
    window.show_screen(sample_screens()["overview-two-meters"])
    window.show_time_warning(17)
    for left_to_right in (True, False):
        reference(left_to_right)
        window.retranslate()
        settle()
        if left_to_right:
            before = placed(window)
    found += [f"time warning: not mirrored: {v}" for v in not_mirrored(before, placed(window), size.width())]
    assert found == []
    assert backs >= 4  # the screens with Back were among them


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_maintenance_page_mirrors_right_to_left(
    qtbot: Any, rtl: i18n.Translator, reference: Callable[[bool], None], orientation: str
) -> None:
    window = build(qtbot, rtl, orientation)
    host = MaintenanceHost(window, StillMenu())  # type: ignore[arg-type]
    width = window.width()
    found: list[str] = []
    for name, state in sample_states().items():
        reference(True)
        window.retranslate()
        host.show_state(state)
        settle()
        before = placed(window)
        reference(False)
        window.retranslate()
        settle()
        found += [f"{name}: not mirrored: {v}" for v in not_mirrored(before, placed(window), width)]
        found += [f"{name}: against the left: {v}" for v in aligned_left(window, host)]
    assert found == []


def test_what_the_code_sets_while_mirrored_is_the_new_design(qtbot: Any) -> None:
    box = QWidget()
    qtbot.addWidget(box)
    layout = QHBoxLayout(box)
    layout.setContentsMargins(40, 0, 10, 0)
    label = QLabel("¥8.30")
    layout.addWidget(label)
    box.show()
    watcher = MirrorLabelsAndMargins(box)
    set_direction(box, Qt.LayoutDirection.RightToLeft, watcher)
    assert label.alignment() & Align.AlignRight and layout.contentsMargins().left() == 10
    label.setAlignment(Align.AlignRight | Align.AlignVCenter)  # a view aligns it anew while mirrored
    layout.setContentsMargins(30, 0, 0, 0)
    late = QLabel("3-2-501")  # built while right to left: mirrored when first shown
    layout.addWidget(late)
    settle()
    assert late.alignment() & Align.AlignRight and late.alignment() & Align.AlignAbsolute
    mirror(label)
    assert label.alignment() & Align.AlignLeft and layout.contentsMargins().left() == 30  # label: new design
    mirror(box)
    assert layout.contentsMargins().left() == 0  # margins: the new design, mirrored
    set_direction(box, Qt.LayoutDirection.LeftToRight, watcher)
    assert label.alignment() & Align.AlignRight and not label.alignment() & Align.AlignAbsolute
    assert late.alignment() & Align.AlignLeft and layout.contentsMargins().left() == 30

