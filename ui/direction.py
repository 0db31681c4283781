"""Right to left: which way the screen's language is written, and the two things Qt does not mirror by itself.

Qt mirrors every layout of a right-to-left window, but
- a QLabel aligns plain text by the text's own direction, so a label holding only data (an amount, the house in
  the header) or Latin text would stay on the left of a right-to-left screen;
- a layout keeps its left and right margins where they are (the header's narrower margin by Home would end up on
  the title's side, a scroll area's room for its bar on the wrong side).
While the window is right to left, `MirrorLabelsAndMargins` mirrors both for every widget shown, and puts them
back when the window is left to right again. What the code set stays the design: a label's alignment or a
layout's margins set anew while mirrored are taken as the new left-to-right design and mirrored again.
"""

from __future__ import annotations

from typing import Any

from kiosk.i18n import Translator
from ui.qt import QApplication, QEvent, QLabel, QLayout, QObject, Qt, QWidget

Align = Qt.AlignmentFlag
_SIDES = Align.AlignLeft | Align.AlignRight
_EVENTS = {QEvent.Type.Polish, QEvent.Type.LayoutDirectionChange}
# Dynamic properties on the label or layout: its left-to-right design, and what this module last set.
_DESIGN, _SHOWN = "ltrDesign", "ltrShown"


def layout_direction(translator: Translator) -> Qt.LayoutDirection:
    """Right to left for a language written so (Babel's locale data, e.g. Uyghur): Qt then mirrors every layout,
    so a translator adding such a catalog needs no code change."""
    if translator.locale.character_order == "right-to-left":
        return Qt.LayoutDirection.RightToLeft
    return Qt.LayoutDirection.LeftToRight


def _design(thing: QObject, current: Any) -> Any:
    """The left-to-right design of `thing`: what the code last set, unless this module set what it has now."""
    shown = thing.property(_SHOWN)
    if shown is None or shown != current:
        return current
    return thing.property(_DESIGN)


def _remember(thing: QObject, design: Any, shown: Any) -> None:
    thing.setProperty(_DESIGN, design)
    thing.setProperty(_SHOWN, shown)


def mirror_label(label: QLabel, right_to_left: bool) -> None:
    """Align `label` to the side its layout direction reads from, rather than its text's direction."""
    current = label.alignment().value
    if label.property(_SHOWN) is None and not right_to_left:
        return  # never mirrored: nothing to put back
    design = Align(_design(label, current))
    side = design & _SIDES
    wanted = design
    if right_to_left and not design & Align.AlignAbsolute and side in (Align.AlignLeft, Align.AlignRight):
        wanted = (design & ~_SIDES) | (Align.AlignRight if side == Align.AlignLeft else Align.AlignLeft)
        wanted |= Align.AlignAbsolute
    if wanted.value != current:
        label.setAlignment(wanted)
    _remember(label, design.value, wanted.value)


def mirror_margins(layout: QLayout, right_to_left: bool) -> None:
    """Swap the left and right margins of `layout` and the layouts inside it for a right-to-left screen."""
    margins = layout.contentsMargins()
    current = [margins.left(), margins.right()]
    if current[0] != current[1] and (right_to_left or layout.property(_SHOWN) is not None):
        design = list(_design(layout, current))
        wanted = design[::-1] if right_to_left else design
        if wanted != current:
            layout.setContentsMargins(wanted[0], margins.top(), wanted[1], margins.bottom())
        _remember(layout, design, wanted)
    for i in range(layout.count()):
        item = layout.itemAt(i)
        inner = item.layout() if item is not None else None
        if inner is not None:
            mirror_margins(inner, right_to_left)


def mirror(widget: QWidget) -> None:
    right_to_left = widget.layoutDirection() is Qt.LayoutDirection.RightToLeft
    if isinstance(widget, QLabel):
        mirror_label(widget, right_to_left)
    layout = widget.layout()
    if layout is not None:
        mirror_margins(layout, right_to_left)


class MirrorLabelsAndMargins(QObject):
    """Application-wide while a right-to-left language is on screen: every widget newly shown (polished) or whose
    direction changes gets its labels' alignment and layouts' margins mirrored (`mirror`)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _EVENTS and isinstance(watched, QWidget):
            mirror(watched)
        return False


def set_direction(window: QWidget, direction: Qt.LayoutDirection, watcher: MirrorLabelsAndMargins) -> None:
    """Lay `window` out in `direction`; `watcher` watches the application only while it is right to left."""
    app = QApplication.instance()
    right_to_left = direction is Qt.LayoutDirection.RightToLeft
    if right_to_left and app is not None:
        app.installEventFilter(watcher)  # first, so it sees each widget's direction change below
    window.setLayoutDirection(direction)
    for widget in [window, *window.findChildren(QWidget)]:
        mirror(widget)  # those whose direction did not change, e.g. the window built right to left
    if not right_to_left and app is not None:
        app.removeEventFilter(watcher)  # once everything is put back; no cost while left to right
