"""Colours, type and sizes of the kiosk UI, in one place.

Every size is given for a 21.5-inch 1920x1080 panel (1 mm ≈ 4 px) and multiplied by `scale`, so a larger-text
"elderly mode" or a scaled-down development window is a different Theme, not different widget code.
Colour pairs used for text are listed in `TEXT_PAIRS` and kept at 7:1 contrast or better (WCAG AAA).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from ui.qt import QFont, QFontDatabase, QWidget

PREFERRED_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC")


@dataclass(frozen=True)
class Palette:
    """Named colours (hex)."""

    page: str = "#F2F4F7"
    surface: str = "#FFFFFF"
    text: str = "#111827"
    muted: str = "#374151"
    border: str = "#6B7280"
    primary: str = "#0A4A8F"
    primary_pressed: str = "#06325F"
    on_primary: str = "#FFFFFF"
    header: str = "#0A2F5C"
    on_header: str = "#FFFFFF"
    warning_bg: str = "#FFF1C2"
    warning_text: str = "#4A2E00"
    warning_edge: str = "#B26A00"
    error_bg: str = "#FDE8E8"
    error_text: str = "#7F1414"
    error_edge: str = "#B42318"
    success: str = "#14532D"
    selected_bg: str = "#E3EEFB"
    backdrop: str = "#B3000000"  # ARGB: the dimmed screen behind a question


PALETTE = Palette()

#: Elderly mode (长辈版): darker secondary text and borders, so every line reads at 7:1 or better and every edge
#: stands out; the page stays light.
ELDERLY_PALETTE = Palette(text="#000000", muted="#1F2937", border="#374151", header="#072447")


def text_pairs(p: Palette) -> tuple[tuple[str, str], ...]:
    """(foreground, background) pairs of `p` that carry text; tests check each reaches 7:1."""
    return (
        (p.text, p.page),
        (p.text, p.surface),
        (p.muted, p.surface),
        (p.muted, p.page),
        (p.on_primary, p.primary),
        (p.primary, p.surface),
        (p.on_header, p.header),
        (p.warning_text, p.warning_bg),
        (p.error_text, p.error_bg),
        (p.on_primary, p.error_text),
        (p.success, p.surface),
        (p.text, p.selected_bg),
        (p.primary, p.selected_bg),
    )


#: Both palettes' pairs, and elderly mode's disabled primary button (its words on the border colour).
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    *text_pairs(PALETTE), *text_pairs(ELDERLY_PALETTE), (ELDERLY_PALETTE.surface, ELDERLY_PALETTE.border),
)


def _luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")[-6:]
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two opaque colours."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def bundled_fonts_dir() -> Path:
    """Where a PyInstaller bundle keeps the fonts it ships (kiosk.spec), for a PC with no Chinese font."""
    return Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent)) / "fonts"


@cache
def font_family() -> str:
    """The first installed CJK-capable sans-serif family, else the system's default sans-serif.

    Fonts shipped with the bundle are registered first; a system font of the same family takes precedence in Qt.
    Called once the QApplication exists; the answer does not change while the app runs.
    """
    folder = bundled_fonts_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.tt[cf]")) + sorted(folder.glob("*.otf")):
            QFontDatabase.addApplicationFont(str(path))
    installed = set(QFontDatabase.families())
    for family in PREFERRED_FAMILIES:
        if family in installed:
            return family
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).family()


@dataclass(frozen=True)
class Theme:
    """Sizes (px at scale 1 on a 1920x1080 21.5-inch panel) and colours of the UI."""

    scale: float = 1.0
    palette: Palette = PALETTE
    #: Elderly mode (长辈版): screens lay themselves out for it (fewer, larger things; see `elderly()`).
    elderly: bool = False

    # type sizes
    small_pt: int = 28
    body_pt: int = 32
    heading_pt: int = 42
    title_pt: int = 56
    huge_pt: int = 80
    button_pt: int = 36
    # targets and spacing
    button_h: int = 120  # ≈ 30 mm: far above the 10 mm minimum for a standing, possibly unsteady hand
    key_w: int = 150
    key_h: int = 112
    header_h: int = 112
    header_button_h: int = 80
    icon: int = 64
    radius: int = 16
    gap: int = 24
    margin: int = 40
    border: int = 3

    def px(self, value: float) -> int:
        """A size scaled for this theme."""
        return max(1, round(value * self.scale))

    def scaled(self, factor: float) -> Theme:
        """The same theme with every size multiplied by `factor` (e.g. elderly mode, a small window)."""
        return replace(self, scale=self.scale * factor)

    @property
    def standard(self) -> Theme:
        """This theme's standard-mode counterpart, at the same window scale."""
        return Theme(scale=self.scale / ELDERLY_SCALE) if self.elderly else self

    def font(self, size: int, bold: bool = False) -> QFont:
        font = QFont(font_family())
        font.setPixelSize(self.px(size))
        font.setBold(bold)
        return font

    def apply(self, widget: QWidget) -> None:
        """Set this theme's font and stylesheet on a top-level widget (its children inherit them)."""
        widget.setFont(self.font(self.body_pt))
        widget.setStyleSheet(self.stylesheet())

    def stylesheet(self) -> str:
        p, s = self.palette, self.px
        return f"""
QWidget {{ font-family: "{font_family()}"; }}
QWidget#kioskRoot, QStackedWidget, QWidget[screen="true"] {{ background: {p.page}; color: {p.text}; }}
QLabel {{ color: {p.text}; font-size: {s(self.body_pt)}px; background: transparent; }}
QLabel[role="title"] {{ font-size: {s(self.title_pt)}px; font-weight: bold; }}
QLabel[role="heading"] {{ font-size: {s(self.heading_pt)}px; font-weight: bold; }}
QLabel[role="huge"] {{ font-size: {s(self.huge_pt)}px; font-weight: bold; }}
QLabel[role="muted"] {{ color: {p.muted}; }}
QLabel[role="small"] {{ color: {p.muted}; font-size: {s(self.small_pt)}px; }}
QLabel[role="warning"] {{ color: {p.warning_text}; font-weight: bold; }}
QLabel[role="success"] {{ color: {p.success}; }}
QLabel[role="error"] {{ color: {p.error_text}; }}

QPushButton {{
    font-size: {s(self.button_pt)}px; font-weight: bold; min-height: {s(self.button_h)}px;
    padding: 0 {s(32)}px; border-radius: {s(self.radius)}px; outline: none;
    color: {p.primary}; background: {p.surface}; border: {s(self.border)}px solid {p.primary};
}}
QPushButton:pressed {{ background: {p.selected_bg}; }}
QPushButton:disabled {{ color: {p.muted}; border-color: {p.border}; background: {p.page}; }}
QPushButton[variant="primary"] {{ color: {p.on_primary}; background: {p.primary}; border-color: {p.primary}; }}
QPushButton[variant="primary"]:pressed {{ background: {p.primary_pressed}; }}
QPushButton[variant="primary"]:disabled {{ color: {p.surface}; background: {p.border}; border-color: {p.border}; }}
QPushButton[variant="key"] {{
    font-size: {s(self.heading_pt)}px; min-height: {s(self.key_h)}px; min-width: {s(self.key_w)}px; padding: 0;
    color: {p.text}; border-color: {p.border};
}}
QPushButton[variant="key"][large="true"] {{ min-height: {s(self.key_h * 1.15)}px; min-width: {s(self.key_w * 1.3)}px; }}
QPushButton[variant="key"][keyrole="edit"] {{ font-size: {s(self.button_pt)}px; color: {p.primary}; }}
QPushButton[variant="choice"] {{ color: {p.text}; border-color: {p.border}; }}
QPushButton[variant="choice"]:checked {{
    color: {p.on_primary}; background: {p.primary}; border-color: {p.primary};
}}
QPushButton[variant="primary"] QLabel {{ color: {p.on_primary}; }}
QPushButton[variant="field"] {{
    font-size: {s(self.huge_pt)}px; min-height: {s(self.button_h * 1.2)}px; padding: {s(5)}px {s(13)}px;
    color: {p.text}; border: {s(3)}px solid {p.border}; border-radius: {s(self.radius)}px;
}}
QPushButton[variant="field"]:checked {{
    background: {p.selected_bg}; border: {s(8)}px solid {p.primary}; padding: 0 {s(8)}px;
}}
QPushButton[variant="header"] {{
    min-height: {s(self.header_button_h)}px; font-size: {s(self.body_pt)}px; padding: 0 {s(24)}px;
    color: {p.on_header}; background: {p.header}; border: {s(2)}px solid {p.on_header};
}}
QPushButton[variant="header"]:checked {{ color: {p.header}; background: {p.on_header}; }}

QFrame#header {{ background: {p.header}; }}
QFrame#header QLabel {{ color: {p.on_header}; }}
QFrame[frame="card"] {{
    background: {p.surface}; border: {s(2)}px solid {p.border}; border-radius: {s(self.radius)}px;
}}
QFrame[frame="card"][selected="true"] {{
    background: {p.selected_bg}; border: {s(6)}px solid {p.primary};
}}
QFrame[frame="warning"] {{
    background: {p.warning_bg}; border: {s(3)}px solid {p.warning_edge}; border-radius: {s(self.radius)}px;
}}
QFrame[frame="warning"] QLabel {{ color: {p.warning_text}; }}
QFrame[frame="error"] {{
    background: {p.error_bg}; border: {s(3)}px solid {p.error_edge}; border-radius: {s(self.radius)}px;
}}
QFrame[frame="error"] QLabel {{ color: {p.error_text}; }}
QFrame[frame="badge"] {{ background: {p.error_text}; border-radius: {s(self.radius)}px; }}
QFrame[frame="badge"] QLabel {{ color: {p.on_primary}; font-weight: bold; }}
QFrame[frame="panel"] {{ background: {p.surface}; border-radius: {s(24)}px; border: {s(4)}px solid {p.primary}; }}
QFrame[frame="field"] {{ background: {p.surface}; }}
"""


#: How much larger spacing, icons and drawn sizes are in elderly mode; type and targets grow more (`elderly()`).
ELDERLY_SCALE = 1.15


def elderly(theme: Theme | None = None) -> Theme:
    """Elderly mode (长辈版) at `theme`'s window scale. Idempotent.

    At scale 1 (a 21.5-inch 1920x1080 panel, about 4 px a mm): every text at least 40 px (capital height
    7.3 mm, 0.83° at 500 mm; secondary text as large as body text), titles 62 px, amounts 87 px, buttons 120 px
    (30 mm) tall, keypad keys 172 x 99 px (25 mm); darker secondary colours. The screens lay out fewer, larger things.
    """
    base = theme or Theme()
    if base.elderly:
        return base
    return replace(
        base, scale=base.scale * ELDERLY_SCALE, palette=ELDERLY_PALETTE, elderly=True,
        small_pt=35, body_pt=35, heading_pt=44, title_pt=54, huge_pt=76, button_pt=39,
        button_h=104, key_w=150, key_h=86, header_h=100, header_button_h=80,
    )


def set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Change a property the stylesheet selects on, and restyle the widget so it shows."""
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
