"""Measured accessibility of a rendered screen: text size, touch targets, contrast, clipping and overlap.

The figures are physical: pixels become millimetres through the panel's size (`[ui] panel_diagonal_in`, its
resolution being the window's) and text height becomes degrees of view through `[ui] viewing_distance_mm`.
Contrast is measured on the rendered pixels of each text, not on the stylesheet's colours, so a label drawn on an
unexpected background is caught. Used by the tests on every screen, mode, orientation and language.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from ui.qt import QAbstractButton, QFontMetricsF, QImage, QLabel, QPoint, QRect, QWidget
from ui.theme import contrast_ratio


@dataclass(frozen=True)
class Panel:
    """A touch panel: its diagonal and resolution, and how far the resident stands from it."""

    diagonal_in: float = 21.5
    width_px: int = 1920
    height_px: int = 1080
    distance_mm: float = 500.0

    @property
    def mm_per_px(self) -> float:
        return self.diagonal_in * 25.4 / math.hypot(self.width_px, self.height_px)

    def mm(self, px: float) -> float:
        return px * self.mm_per_px

    def degrees(self, px: float) -> float:
        """The visual angle of `px` pixels seen from the viewing distance."""
        return math.degrees(2 * math.atan(self.mm(px) / 2 / self.distance_mm))


@dataclass(frozen=True)
class Requirements:
    min_text_mm: float  # capital-letter height
    min_target_mm: float  # both sides of a touch target
    min_contrast: float
    min_line_spacing: float = 1.3


NORMAL = Requirements(min_text_mm=4.8, min_target_mm=10.0, min_contrast=4.5)
# 0.7 degrees of view at 500 mm is 6.1 mm.
ELDERLY = Requirements(min_text_mm=6.1, min_target_mm=15.0, min_contrast=7.0)


@dataclass(frozen=True)
class Violation:
    rule: str  # text_size, target_size, contrast, clipped, overlap, line_spacing
    widget: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.widget}: {self.detail}"


def _describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QLabel | QAbstractButton) else ""
    name = type(widget).__name__
    return f"{name} {text[:40]!r}" if text else name


def _visible_leaves(root: QWidget) -> list[QWidget]:
    """Visible labels with text and visible buttons: what a resident reads and touches."""
    found: list[QWidget] = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or widget.width() <= 0 or widget.height() <= 0:
            continue
        if (isinstance(widget, QLabel) and widget.text().strip()) or isinstance(widget, QAbstractButton):
            found.append(widget)
    return found


def _rect_in(root: QWidget, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(root, QPoint(0, 0)), widget.size())


def measured_contrast(image: QImage, rect: QRect) -> float | None:
    """Contrast between the background (the commonest colour in `rect`) and the text (the colour furthest from it).

    Anti-aliased edge pixels fall in between; the text's own colour is taken as the most contrasting colour that
    covers at least 2 % of the non-background pixels, so a stray pixel does not decide it.
    """
    rect = rect.intersected(image.rect())
    if rect.isEmpty():
        return None
    step = 1 if rect.width() * rect.height() < 40_000 else 2
    counts: Counter[int] = Counter(
        image.pixel(x, y) & 0xFFFFFF
        for y in range(rect.top(), rect.bottom() + 1, step)
        for x in range(rect.left(), rect.right() + 1, step)
    )
    background, _ = counts.most_common(1)[0]
    others = sum(n for colour, n in counts.items() if colour != background)
    if not others:
        return None
    bg = f"#{background:06x}"
    candidates = [colour for colour, n in counts.items() if colour != background and n >= max(2, others * 0.02)]
    if not candidates:
        return None
    return max(contrast_ratio(f"#{colour:06x}", bg) for colour in candidates)


def check_screen(root: QWidget, panel: Panel, needs: Requirements) -> list[Violation]:
    """Every rule on every visible text and button of `root` (a shown, laid-out window)."""
    image = root.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    violations: list[Violation] = []
    leaves = _visible_leaves(root)
    for widget in leaves:
        name = _describe(widget)
        if isinstance(widget, QAbstractButton):
            w_mm, h_mm = panel.mm(widget.width()), panel.mm(widget.height())
            if min(w_mm, h_mm) < needs.min_target_mm:
                violations.append(Violation("target_size", name, f"{w_mm:.1f} x {h_mm:.1f} mm"))
            # A button's own words (not a child label's) are cut when it is narrower than its size hint.
            hint = widget.sizeHint().width()
            if widget.text() and hint > widget.width() + 1:
                violations.append(Violation("clipped", name, f"needs {hint} px of width, has {widget.width()}"))
        if isinstance(widget, QLabel):
            violations += _check_label(root, image, widget, panel, needs)
    violations += _overlaps(root, leaves)
    return violations


def _check_label(root: QWidget, image: QImage, label: QLabel, panel: Panel, needs: Requirements) -> list[Violation]:
    found = []
    name = _describe(label)
    metrics = QFontMetricsF(label.font())
    cap_mm = panel.mm(metrics.capHeight())
    if cap_mm < needs.min_text_mm:
        angle = panel.degrees(metrics.capHeight())
        found.append(Violation("text_size", name, f"capital height {cap_mm:.1f} mm ({angle:.2f}°)"))
    if label.wordWrap():
        spacing = metrics.lineSpacing() / label.font().pixelSize() if label.font().pixelSize() > 0 else 0
        if spacing < needs.min_line_spacing:
            found.append(Violation("line_spacing", name, f"{spacing:.2f}"))
        needed = label.heightForWidth(label.width())
        if needed > label.height() + 1:
            found.append(Violation("clipped", name, f"needs {needed} px of height, has {label.height()}"))
    elif label.sizeHint().width() > label.width() + 1 and not label.pixmap():
        found.append(Violation("clipped", name, f"needs {label.sizeHint().width()} px of width, has {label.width()}"))
    ratio = measured_contrast(image, _rect_in(root, label))
    if ratio is not None and ratio < needs.min_contrast:
        found.append(Violation("contrast", name, f"{ratio:.1f}:1"))
    return found


def _overlaps(root: QWidget, leaves: list[QWidget]) -> list[Violation]:
    found = []
    rects = [(widget, _rect_in(root, widget)) for widget in leaves]
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1:]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue  # a button's own label sits inside it by design
            overlap = ra.intersected(rb)
            if overlap.width() > 1 and overlap.height() > 1:
                found.append(Violation("overlap", f"{_describe(a)} / {_describe(b)}",
                                       f"{overlap.width()} x {overlap.height()} px"))
    return found
