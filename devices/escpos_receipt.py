"""Lay out a Receipt as ESC/POS commands for a thermal printer with a Chinese (GB18030) font.

python-escpos writes text through single-byte code pages, which cannot express Chinese, so text goes
out as GB18030 bytes through the printer object's ``_raw`` after FS & ("select Kanji/Chinese character
mode"). In that mode the printer reads bytes below 0x80 as ASCII and anything else as a multi-byte
character drawn from the Chinese font, whose cell is twice as wide as an ASCII cell (24 dots against 12
dots for font A). Column maths therefore counts every non-ASCII character as two columns, whatever
Unicode's East Asian width says.

Everything else (init, style, QR, feed and cut) uses python-escpos's own commands, so the byte stream is
deterministic for a given Receipt and ReceiptLayout. The QR is either the printer's own symbol (GS ( k) or,
for printers without it, a raster image (GS v 0) drawn here and padded to the paper's width so that it is
centred whatever the printer does with ESC a.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from escpos.constants import FS, QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.escpos import Escpos
from escpos.image import EscposImage
from escpos.printer import Dummy
from PIL import Image
from qrcode import QRCode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError
from qrcode.util import MODE_8BIT_BYTE, QRData

from devices.base import Receipt

#: FS & : select Kanji (here: Chinese, GB18030) character mode.
CHINESE_MODE_ON = FS + b"&"
#: FS . : cancel Kanji character mode.
CHINESE_MODE_OFF = FS + b"."

#: Columns of font A (12 x 24 dots) by paper: 80 mm printers print 576 dots (48 columns), some 80 mm models
#: 512 dots (42 columns), 58 mm printers 384 dots (32 columns).
COLUMNS_80MM = 48
COLUMNS_80MM_NARROW = 42
COLUMNS_58MM = 32

#: How the receipt's QR is printed: the printer's own QR command, or a raster image.
QR_MODES = ("native", "image")
#: Modules of white around a QR printed as an image (the symbol's standard quiet zone).
QR_QUIET_ZONE = 4

_QR_EC = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}
_QRCODE_EC = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
# Control characters in translated or server-provided text would be read by the printer as commands (a stray
# GS V cuts the paper), so they never reach the printer.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ReceiptLayout:
    """Paper and symbol settings for one printer model."""

    columns: int = COLUMNS_80MM
    #: QR module size in dots (GS ( k function 167), 1..16.
    qr_module_size: int = 6
    #: QR error correction level: L, M, Q or H.
    qr_error_correction: str = "M"
    #: "native" (GS ( k, the printer draws the symbol) or "image" (GS v 0 raster, for printers without it).
    qr_mode: str = "native"
    #: The python-escpos printer profile the commands are written for (its cut support, for one).
    profile: str = "default"

    def __post_init__(self) -> None:
        if not 16 <= self.columns <= 96:
            raise ValueError(f"columns must be between 16 and 96, not {self.columns}")
        if not 1 <= self.qr_module_size <= 16:
            raise ValueError(f"qr_module_size must be between 1 and 16, not {self.qr_module_size}")
        if self.qr_error_correction not in _QR_EC:
            raise ValueError(f"qr_error_correction must be L, M, Q or H, not {self.qr_error_correction!r}")
        if self.qr_mode not in QR_MODES:
            raise ValueError(f"qr_mode must be one of {', '.join(QR_MODES)}, not {self.qr_mode!r}")

    @property
    def dots(self) -> int:
        """Printable width in dots (12 dots per column)."""
        return self.columns * 12


def char_width(char: str) -> int:
    """Columns one character takes on a printer in Chinese mode: 1 for ASCII, 2 for anything else."""
    return 1 if ord(char) < 0x80 else 2


def display_width(text: str) -> int:
    """Columns `text` takes on a printer in Chinese mode."""
    return sum(char_width(c) for c in text)


# Characters that GB18030 encodes in four bytes, which printers with only a GBK font print as rubbish,
# mapped to the two-byte full-width forms those fonts have.
_GBK_SAFE = str.maketrans({"\u00a5": "\uffe5"})  # ¥ -> ￥


def clean_text(text: str) -> str:
    """Replace control characters (which a printer would execute) with spaces, and ¥ with the GBK-safe ￥."""
    return _CONTROL.sub(" ", text).translate(_GBK_SAFE)


def wrap(text: str, width: int) -> list[str]:
    """Split `text` into lines of at most `width` columns, breaking at a space when a line has one.

    Chinese has no spaces, so a line without one breaks at the last character that fits.
    """
    if width < 2:
        raise ValueError("width must be at least 2 (one Chinese character)")
    lines: list[str] = []
    rest = text.strip()
    while display_width(rest) > width:
        used = 0
        cut = 0
        for i, char in enumerate(rest):
            used += char_width(char)
            if used > width:
                break
            cut = i + 1
        space = rest.rfind(" ", 0, cut + 1)
        # A space early in the line would waste most of it (Chinese text has few spaces).
        if space > 0 and space >= cut // 2:
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    lines.append(rest)
    return lines


def label_value_lines(label: str, value: str, columns: int) -> list[str]:
    """Lay out one labelled line: label left, value right, at least one space between them.

    When both do not fit on one line, the label takes its own line(s) and the value follows right-aligned.
    """
    label, value = clean_text(label).strip(), clean_text(value).strip()
    gap = columns - display_width(label) - display_width(value)
    if gap >= 1:
        return [label + " " * gap + value]
    lines = wrap(label, columns) if label else []
    for chunk in wrap(value, columns):
        lines.append(" " * (columns - display_width(chunk)) + chunk)
    return lines


def _qr_code(data: str, layout: ReceiptLayout, border: int, *, draw: bool) -> QRCode:
    """The symbol for `data`: its version only, or (`draw`) its modules too, which costs a mask search."""
    # The printer stores the payload as UTF-8 bytes, so size the symbol for byte mode as it would.
    code: QRCode = QRCode(error_correction=_QRCODE_EC[layout.qr_error_correction], border=border)
    try:
        code.add_data(QRData(data.encode("utf-8"), mode=MODE_8BIT_BYTE))
        if draw:
            code.make(fit=True)
        else:
            code.version = code.best_fit()
    except (DataOverflowError, ValueError):
        raise ValueError(f"QR payload of {len(data.encode())} bytes is too long for a QR symbol") from None
    return code


def qr_module_size(data: str, layout: ReceiptLayout, quiet_zone: int = 0) -> int:
    """The QR module size to print `data` with: the layout's, or smaller so the symbol fits the paper.

    Raises ValueError when the payload is too long for any QR symbol.
    """
    version = _qr_code(data, layout, 0, draw=False).version
    assert version is not None
    modules = 17 + 4 * version + 2 * quiet_zone
    # At least 16 columns (192 dots) always hold the largest symbol (177 modules) at one dot per module.
    return max(1, min(layout.qr_module_size, layout.dots // modules))


def qr_image(data: str, layout: ReceiptLayout) -> Image.Image:
    """The QR symbol as a black-on-white image the paper's width, the symbol centred with its quiet zone."""
    size = qr_module_size(data, layout, QR_QUIET_ZONE)
    code = _qr_code(data, layout, QR_QUIET_ZONE, draw=True)
    matrix = code.get_matrix()  # includes the quiet zone
    side = len(matrix) * size
    symbol = Image.new("1", (len(matrix), len(matrix)), 1)
    symbol.putdata([0 if dark else 1 for row in matrix for dark in row])
    symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
    image = Image.new("1", (layout.dots, side), 1)
    image.paste(symbol, ((layout.dots - side) // 2, 0))
    return image


def raster_image(image: Image.Image) -> bytes:
    """GS v 0 (normal density) for `image`, through python-escpos's image conversion."""
    picture = EscposImage(image)
    width, height = picture.width_bytes, picture.height
    if height > 0xFFFF or width > 0xFFFF:
        raise ValueError(f"image of {picture.width}x{height} dots is too large for GS v 0")
    return b"\x1dv0\x00" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + picture.to_raster_format()


def _text_line(printer: Escpos, text: str) -> None:
    # errors="replace": GB18030 covers all of Unicode, only lone surrogates could fail.
    printer._raw(text.encode("gb18030", errors="replace") + b"\n")


def write_receipt(printer: Escpos, receipt: Receipt, layout: ReceiptLayout | None = None) -> None:
    """Send `receipt` to a python-escpos printer object, from init to cut."""
    layout = layout or ReceiptLayout()
    columns = layout.columns
    printer.hw("INIT")
    # ESC @ may leave the printer in its power-on character mode (a memory switch), so select Chinese mode
    # explicitly every time.
    printer._raw(CHINESE_MODE_ON)

    # GS ! (custom_size) rather than ESC !: only GS ! enlarges Chinese characters as well as ASCII.
    printer.set(align="center", bold=True, custom_size=True, width=2, height=2)
    for chunk in wrap(clean_text(receipt.title), columns // 2):
        _text_line(printer, chunk)
    printer.set(align="left", bold=False, custom_size=True, width=1, height=1)

    rule = "-" * columns
    _text_line(printer, rule)
    for line in receipt.lines:
        for text in label_value_lines(line.label, line.value, columns):
            _text_line(printer, text)
    _text_line(printer, rule)

    if receipt.qr_data or receipt.footer:
        printer.set(align="center")
    if receipt.qr_data and layout.qr_mode == "image":
        printer._raw(raster_image(qr_image(receipt.qr_data, layout)))
    elif receipt.qr_data:
        # python-escpos cannot centre a native QR itself, but ESC a applies to the symbol.
        printer.qr(
            receipt.qr_data,
            ec=_QR_EC[layout.qr_error_correction],
            size=qr_module_size(receipt.qr_data, layout),
            native=True,
        )
        # Some printers only print the symbol once the line is terminated.
        printer._raw(b"\n")
    if receipt.qr_data and receipt.qr_caption:
        for chunk in wrap(clean_text(receipt.qr_caption), columns):
            _text_line(printer, chunk)
    for entry in receipt.footer:
        for part in entry.splitlines() or [""]:
            for chunk in wrap(clean_text(part), columns):
                _text_line(printer, chunk)
    if receipt.qr_data or receipt.footer:
        printer.set(align="left")

    # ESC d 6 (so the last line clears the cutter) then GS V 0, a full cut.
    printer.cut()


def receipt_bytes(receipt: Receipt, layout: ReceiptLayout | None = None) -> bytes:
    """The complete ESC/POS byte stream for `receipt`."""
    layout = layout or ReceiptLayout()
    sink = Dummy(profile=layout.profile)
    write_receipt(sink, receipt, layout)
    return sink.output
