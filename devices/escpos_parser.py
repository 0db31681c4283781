"""Read an ESC/POS byte stream back into a structured receipt, as a printer would print it.

It understands the subset `escpos_receipt` emits (ESC @, ESC a, ESC E, ESC !, GS !, FS & / FS ., GB18030 text,
LF, ESC d, GS ( k QR, GS v 0 raster images, GS V) and knows the length of most other common commands so that
it can step over them.
Anything it cannot make sense of is skipped and noted in `warnings`; with ``strict=True`` it raises ValueError
instead. It never raises anything else, whatever the input.

Used by the simulated printer, the golden-byte tests, and to draw a receipt (`render_text`, `render_png`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageFont

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, FF, NUL, CAN = 0x0A, 0x0D, 0x09, 0x0C, 0x00, 0x18

# Fixed-length commands: second byte -> (name, number of parameter bytes).
_ESC_FIXED: dict[int, tuple[str, int]] = {
    ord("@"): ("init", 0),
    ord("a"): ("align", 1),
    ord("E"): ("bold", 1),
    ord("G"): ("double_strike", 1),
    ord("!"): ("print_mode", 1),
    ord("-"): ("underline", 1),
    ord("M"): ("font", 1),
    ord("t"): ("codepage", 1),
    ord("R"): ("international_charset", 1),
    ord("d"): ("feed_lines", 1),
    ord("e"): ("reverse_feed_lines", 1),
    ord("J"): ("feed_dots", 1),
    ord("K"): ("reverse_feed_dots", 1),
    ord("2"): ("line_spacing_default", 0),
    ord("3"): ("line_spacing", 1),
    ord("A"): ("line_spacing", 1),
    ord("+"): ("line_spacing", 1),
    ord("{"): ("upside_down", 1),
    ord("V"): ("rotate", 1),
    ord(" "): ("char_spacing", 1),
    ord("$"): ("absolute_position", 2),
    ord("\\"): ("relative_position", 2),
    ord("p"): ("drawer_pulse", 3),
    ord("="): ("select_peripheral", 1),
    ord("r"): ("color", 1),
    ord("B"): ("buzzer", 2),
    ord("c"): ("panel_or_sensor", 2),
    ord("i"): ("cut_partial_legacy", 0),
    ord("m"): ("cut_partial_legacy", 0),
    ord("U"): ("unidirectional", 1),
    ord("%"): ("user_charset", 1),
    ord("?"): ("cancel_user_char", 1),
    ord("L"): ("page_mode", 0),
    ord("S"): ("standard_mode", 0),
    ord("T"): ("page_direction", 1),
    ord("W"): ("page_area", 8),
    FF: ("print_page", 0),
}
_GS_FIXED: dict[int, tuple[str, int]] = {
    ord("!"): ("size", 1),
    ord("B"): ("invert", 1),
    ord("b"): ("smooth", 1),
    ord("H"): ("barcode_hri_position", 1),
    ord("f"): ("barcode_hri_font", 1),
    ord("h"): ("barcode_height", 1),
    ord("w"): ("barcode_width", 1),
    ord("L"): ("left_margin", 2),
    ord("W"): ("print_width", 2),
    ord("P"): ("motion_units", 2),
    ord("$"): ("page_absolute_position", 2),
    ord("\\"): ("page_relative_position", 2),
    ord("a"): ("auto_status_back", 1),
    ord("r"): ("transmit_status", 1),
    ord("I"): ("transmit_printer_id", 1),
    ord("|"): ("density", 1),
    ord("^"): ("execute_macro", 3),
    ord(":"): ("macro_definition", 0),
    ord("T"): ("line_start", 1),
    ord("/"): ("print_downloaded_image", 1),
}
_FS_FIXED: dict[int, tuple[str, int]] = {
    ord("&"): ("chinese_on", 0),
    ord("."): ("chinese_off", 0),
    ord("!"): ("chinese_print_mode", 1),
    ord("-"): ("chinese_underline", 1),
    ord("C"): ("chinese_code_system", 1),
    ord("S"): ("chinese_spacing", 2),
    ord("W"): ("chinese_quadruple", 1),
    ord("2"): ("define_chinese_char", 74),
    ord("p"): ("print_nv_image", 2),
}
_DLE_FIXED: dict[int, tuple[str, int]] = {
    0x04: ("realtime_status", 1),
    0x05: ("realtime_request", 1),
}
_ALIGN = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}
_QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}
_CUT_NO_ARG = {0, 1, 48, 49}
_CUT_WITH_ARG = {65, 66, 97, 98, 103, 104}
_REPLACEMENT = "\ufffd"
_PREFIX_NAMES = {ESC: "esc", GS: "gs", FS: "fs"}
_CONTROLS = {LF: "lf", CR: "cr", HT: "tab", FF: "form_feed", NUL: "nul", CAN: "cancel"}


@dataclass(frozen=True)
class Command:
    """One command or text run of the stream, with where it starts and its exact bytes."""

    offset: int
    raw: bytes
    name: str
    #: Parameter bytes after the command code (for GS ( k: cn, fn, m...).
    params: bytes = b""
    #: Decoded text for "text" runs; for qr_store the payload.
    text: str = ""

    def describe(self) -> str:
        """A short human-readable form, used to annotate golden files."""
        if self.name == "text":
            return f"text {self.text!r}"
        if self.name == "qr_store":
            return f"qr_store {self.text!r}"
        if self.params:
            return f"{self.name} {' '.join(str(b) for b in self.params[:8])}"
        return self.name


class _Truncated(Exception):
    """The stream ended inside a command."""


def _need(data: bytes, end: int) -> None:
    if end > len(data):
        raise _Truncated


def _decode_run(data: bytes, start: int, chinese: bool) -> tuple[str, int, bool]:
    """Decode printable bytes from `start` up to the next control byte.

    Returns the text, the end offset and whether an invalid sequence was met.
    """
    out: list[str] = []
    i = start
    invalid = False
    n = len(data)
    while i < n:
        b = data[i]
        if b < 0x20 or b == 0x7F:
            break
        if b < 0x80:
            out.append(chr(b))
            i += 1
        elif not chinese:
            # Code page 437 is ESC t 0, the power-on default.
            out.append(bytes([b]).decode("cp437"))
            i += 1
        elif 0x81 <= b <= 0xFE and i + 1 < n and (0x40 <= data[i + 1] <= 0x7E or 0x80 <= data[i + 1] <= 0xFE):
            out.append(data[i : i + 2].decode("gb18030", errors="replace"))
            i += 2
        elif (
            0x81 <= b <= 0xFE
            and i + 3 < n
            and 0x30 <= data[i + 1] <= 0x39
            and 0x81 <= data[i + 2] <= 0xFE
            and 0x30 <= data[i + 3] <= 0x39
        ):
            out.append(data[i : i + 4].decode("gb18030", errors="replace"))
            i += 4
        else:
            # A lone or malformed lead byte: the next byte is read afresh, as a printer would.
            out.append(_REPLACEMENT)
            invalid = True
            i += 1
    return "".join(out), i, invalid


def _length_prefixed(data: bytes, i: int, head: int) -> tuple[int, bytes]:
    """Commands of the form <head bytes> pL pH <pL + 256*pH bytes>; returns (end, body)."""
    _need(data, i + head + 2)
    size = data[i + head] + 256 * data[i + head + 1]
    start = i + head + 2
    _need(data, start + size)
    return start + size, data[start : start + size]


def _variable(data: bytes, i: int) -> tuple[str, int, bytes]:
    """Variable-length commands; returns (name, end, params). Raises KeyError when unknown."""
    prefix, code = data[i], data[i + 1]
    if code == ord("(") and prefix in (ESC, GS, FS):
        _need(data, i + 3)
        fn = data[i + 2]
        end, body = _length_prefixed(data, i, 3)
        if prefix == GS and fn == ord("k"):
            return "2d_code", end, body
        return f"{_PREFIX_NAMES[prefix]}({chr(fn)})", end, body
    if prefix == ESC and code == ord("D"):
        # Tab positions: up to 32 bytes, NUL-terminated.
        j = i + 2
        while j < len(data) and data[j] != NUL and j - (i + 2) < 32:
            j += 1
        _need(data, j + 1)
        return "tab_positions", j + 1, data[i + 2 : j]
    if prefix == ESC and code == ord("*"):
        _need(data, i + 5)
        m, count = data[i + 2], data[i + 3] + 256 * data[i + 4]
        if m in (0, 1):
            end = i + 5 + count
        elif m in (32, 33):
            end = i + 5 + 3 * count
        else:
            raise KeyError(code)
        _need(data, end)
        return "bit_image", end, data[i + 2 : i + 5]
    if prefix == ESC and code == ord("&"):
        _need(data, i + 5)
        y, c1, c2 = data[i + 2], data[i + 3], data[i + 4]
        j = i + 5
        for _ in range(max(0, c2 - c1 + 1)):
            _need(data, j + 1)
            j += 1 + y * data[j]
        _need(data, j)
        return "define_user_chars", j, data[i + 2 : i + 5]
    if prefix == GS and code == ord("V"):
        _need(data, i + 3)
        m = data[i + 2]
        if m in _CUT_NO_ARG:
            return "cut", i + 3, bytes([m])
        if m in _CUT_WITH_ARG:
            _need(data, i + 4)
            return "cut", i + 4, data[i + 2 : i + 4]
        raise KeyError(code)
    if prefix == GS and code == ord("v"):
        _need(data, i + 8)
        if data[i + 2] != ord("0"):
            raise KeyError(code)
        width = data[i + 4] + 256 * data[i + 5]
        height = data[i + 6] + 256 * data[i + 7]
        end = i + 8 + width * height
        _need(data, end)
        return "raster_image", end, data[i + 3 : i + 8]
    if prefix == GS and code == ord("8"):
        _need(data, i + 7)
        if data[i + 2] != ord("L"):
            raise KeyError(code)
        size = int.from_bytes(data[i + 3 : i + 7], "little")
        end = i + 7 + size
        _need(data, end)
        return "graphics", end, data[i + 7 : i + 9]
    if prefix == GS and code == ord("*"):
        _need(data, i + 4)
        end = i + 4 + data[i + 2] * data[i + 3] * 8
        _need(data, end)
        return "define_downloaded_image", end, data[i + 2 : i + 4]
    if prefix == GS and code == ord("k"):
        _need(data, i + 3)
        m = data[i + 2]
        if m <= 6:
            j = i + 3
            while j < len(data) and data[j] != NUL:
                j += 1
            _need(data, j + 1)
            return "barcode", j + 1, bytes([m])
        if 65 <= m <= 79:
            _need(data, i + 4)
            end = i + 4 + data[i + 3]
            _need(data, end)
            return "barcode", end, bytes([m])
        raise KeyError(code)
    if prefix == DLE and code == 0x14:
        _need(data, i + 3)
        extra = {1: 2, 2: 2, 7: 1, 8: 7}.get(data[i + 2], 0)
        _need(data, i + 3 + extra)
        return "realtime_command", i + 3 + extra, data[i + 2 : i + 3 + extra]
    raise KeyError(code)


def _qr_command(body: bytes) -> tuple[str, str]:
    """Name a GS ( k body (cn fn ...) and return the stored payload for function 80."""
    if len(body) < 2:
        return "2d_code", ""
    cn, fn = body[0], body[1]
    if cn != 49:
        return "2d_code", ""
    names = {
        65: "qr_model",
        67: "qr_module_size",
        69: "qr_error_correction",
        81: "qr_print",
        82: "qr_size_info",
    }
    if fn == 80:
        # python-escpos stores QR content as UTF-8 after m = 48.
        return "qr_store", body[3:].decode("utf-8", errors="replace")
    return names.get(fn, "2d_code"), ""


def iter_commands(data: bytes, strict: bool = False) -> Iterator[Command]:
    """Split `data` into commands and text runs, tracking Chinese mode (FS & / FS . / ESC @) to decode text.

    Unknown or truncated commands come out as "unknown" / "truncated" commands (or raise ValueError when
    `strict`).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    chinese = False
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b >= 0x20 and b != 0x7F:
            text, end, invalid = _decode_run(data, i, chinese)
            if invalid and strict:
                raise ValueError(f"invalid {'GB18030' if chinese else 'text'} byte sequence at offset {i}")
            yield Command(i, data[i:end], "text", text=text)
            i = end
            continue
        if b in (ESC, GS, FS, DLE):
            if i + 1 >= n:
                if strict:
                    raise ValueError(f"stream ends inside a command at offset {i}")
                yield Command(i, data[i:], "truncated")
                return
            code = data[i + 1]
            table = {ESC: _ESC_FIXED, GS: _GS_FIXED, FS: _FS_FIXED, DLE: _DLE_FIXED}[b]
            try:
                if code in table:
                    name, count = table[code]
                    end = i + 2 + count
                    _need(data, end)
                    params = data[i + 2 : end]
                    text = ""
                else:
                    name, end, params = _variable(data, i)
                    text = ""
                    if name == "2d_code":  # GS ( k: the QR functions get their own names
                        name, text = _qr_command(params)
            except _Truncated:
                if strict:
                    raise ValueError(f"stream ends inside a command at offset {i}") from None
                yield Command(i, data[i:], "truncated")
                return
            except KeyError:
                if strict:
                    raise ValueError(f"unknown command {data[i : i + 2].hex(' ')} at offset {i}") from None
                # Without knowing its length the safest step is over the two command bytes only.
                yield Command(i, data[i : i + 2], "unknown")
                i += 2
                continue
            if name == "chinese_on":
                chinese = True
            elif name in ("chinese_off", "init"):
                chinese = False
            yield Command(i, data[i:end], name, params, text)
            i = end
            continue
        if b not in _CONTROLS and strict:
            raise ValueError(f"unexpected control byte 0x{b:02x} at offset {i}")
        name = _CONTROLS.get(b, "control")
        yield Command(i, data[i : i + 1], name)
        i += 1


@dataclass(frozen=True)
class TextSpan:
    """A run of text printed in one style. `width`/`height` are character magnifications (1..8)."""

    text: str
    bold: bool = False
    width: int = 1
    height: int = 1
    underline: bool = False


@dataclass(frozen=True)
class TextLine:
    """One printed line (LF-terminated)."""

    spans: tuple[TextSpan, ...]
    align: str = "left"

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    @property
    def bold(self) -> bool:
        return bool(self.spans) and all(s.bold for s in self.spans if s.text.strip())

    @property
    def height(self) -> int:
        return max((s.height for s in self.spans), default=1)


@dataclass(frozen=True)
class QrCode:
    """A QR symbol printed with GS ( k."""

    data: str
    module_size: int = 3
    error_correction: str = "L"
    align: str = "left"


@dataclass(frozen=True)
class RasterImage:
    """A raster bit image printed with GS v 0: `rows` of `width_bytes` bytes, the top bit leftmost, 1 = black."""

    width_bytes: int
    height: int
    data: bytes
    align: str = "left"
    #: Horizontal and vertical magnification (the command's double-width / double-height modes).
    scale: tuple[int, int] = (1, 1)

    @property
    def width(self) -> int:
        return self.width_bytes * 8

    def pixel(self, x: int, y: int) -> bool:
        """True where the dot at (x, y) is black."""
        return bool(self.data[y * self.width_bytes + x // 8] & (0x80 >> (x % 8)))

    def to_image(self) -> PILImage.Image:
        """Black on white, at one pixel per dot (before magnification)."""
        from PIL import Image, ImageOps

        bits = Image.frombytes("1", (self.width, self.height), self.data)
        return ImageOps.invert(bits.convert("L"))


@dataclass(frozen=True)
class Cut:
    """A paper cut (GS V, or the legacy ESC i / ESC m)."""

    partial: bool = False


Item = TextLine | QrCode | RasterImage | Cut


@dataclass(frozen=True)
class ParsedReceipt:
    """What a printer would have printed, in order, plus notes on anything skipped."""

    items: tuple[Item, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def lines(self) -> tuple[TextLine, ...]:
        return tuple(i for i in self.items if isinstance(i, TextLine))

    @property
    def text_lines(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def qr_codes(self) -> tuple[QrCode, ...]:
        return tuple(i for i in self.items if isinstance(i, QrCode))

    @property
    def qr_payloads(self) -> list[str]:
        return [q.data for q in self.qr_codes]

    @property
    def images(self) -> tuple[RasterImage, ...]:
        return tuple(i for i in self.items if isinstance(i, RasterImage))

    @property
    def cuts(self) -> int:
        return sum(1 for i in self.items if isinstance(i, Cut))


@dataclass
class _Style:
    align: str = "left"
    bold: bool = False
    width: int = 1
    height: int = 1
    underline: bool = False


def parse(data: bytes, strict: bool = False) -> ParsedReceipt:
    """Interpret an ESC/POS stream; see the module docstring for what is understood."""
    items: list[Item] = []
    warnings: list[str] = []
    style = _Style()
    spans: list[TextSpan] = []
    line_align: str | None = None
    qr_size, qr_ec = 3, "L"
    qr_data: str | None = None

    def flush(force: bool) -> None:
        nonlocal spans, line_align
        if spans or force:
            items.append(TextLine(tuple(spans), line_align or style.align))
        spans = []
        line_align = None

    for cmd in iter_commands(data, strict):
        name, p = cmd.name, cmd.params
        if name == "text":
            if _REPLACEMENT in cmd.text:
                warnings.append(f"undecodable text bytes at offset {cmd.offset}")
            if line_align is None:
                # ESC a only takes effect at the start of a line.
                line_align = style.align
            spans.append(TextSpan(cmd.text, style.bold, style.width, style.height, style.underline))
        elif name == "tab":
            used = sum(len(s.text) for s in spans)
            spans.append(TextSpan(" " * (8 - used % 8), style.bold, style.width, style.height))
            line_align = line_align or style.align
        elif name in ("lf", "form_feed"):
            flush(True)
        elif name == "feed_lines":
            count = p[0]
            if spans:
                flush(True)
                count -= 1
            for _ in range(max(0, count)):
                flush(True)
        elif name == "feed_dots":
            flush(False)
        elif name == "init":
            # ESC @ discards the unprinted buffer and resets every mode.
            spans, line_align, style = [], None, _Style()
        elif name == "align":
            if p[0] in _ALIGN:
                style.align = _ALIGN[p[0]]
            elif strict:
                raise ValueError(f"invalid alignment {p[0]} at offset {cmd.offset}")
        elif name == "bold":
            style.bold = bool(p[0] & 1)
        elif name == "underline":
            style.underline = p[0] in (1, 2, 49, 50)
        elif name == "print_mode":
            style.bold = bool(p[0] & 0x08)
            style.height = 2 if p[0] & 0x10 else 1
            style.width = 2 if p[0] & 0x20 else 1
            style.underline = bool(p[0] & 0x80)
        elif name == "size":
            style.width = ((p[0] >> 4) & 0x07) + 1
            style.height = (p[0] & 0x07) + 1
        elif name == "qr_module_size" and len(p) >= 3:
            qr_size = p[2]
        elif name == "qr_error_correction" and len(p) >= 3:
            qr_ec = _QR_EC.get(p[2], "L")
        elif name == "qr_store":
            qr_data = cmd.text
        elif name == "qr_print":
            if qr_data is None:
                warnings.append(f"QR print without stored data at offset {cmd.offset}")
                if strict:
                    raise ValueError(warnings[-1])
            else:
                flush(False)
                items.append(QrCode(qr_data, qr_size, qr_ec, style.align))
        elif name == "raster_image":
            flush(False)
            mode, width = p[0], p[1] + 256 * p[2]
            height = p[3] + 256 * p[4]
            scale = (2 if mode in (1, 3, 49, 51) else 1, 2 if mode in (2, 3, 50, 51) else 1)
            items.append(RasterImage(width, height, cmd.raw[8:], style.align, scale))
        elif name in ("cut", "cut_partial_legacy"):
            flush(False)
            partial = name == "cut_partial_legacy" or (bool(p) and p[0] in (1, 49, 66, 98, 104))
            items.append(Cut(partial))
        elif name in ("unknown", "truncated", "control"):
            warnings.append(f"skipped {name} bytes {cmd.raw[:8].hex(' ')} at offset {cmd.offset}")
    if spans:
        warnings.append("stream ends with an unterminated line")
        flush(False)
    return ParsedReceipt(tuple(items), tuple(warnings))


# --- rendering ---


def _char_cols(char: str) -> int:
    return 1 if ord(char) < 0x80 else 2


def _rows(line: TextLine, columns: int) -> list[list[tuple[str, TextSpan]]]:
    """Break a line where the printer would wrap it: [(char, span)] per printed row."""
    rows: list[list[tuple[str, TextSpan]]] = [[]]
    used = 0
    for span in line.spans:
        for char in span.text:
            cols = _char_cols(char) * span.width
            if used + cols > columns and rows[-1]:
                rows.append([])
                used = 0
            rows[-1].append((char, span))
            used += cols
    return rows


def _aligned(text: str, width: int, align: str, columns: int) -> str:
    if align == "center":
        return " " * max(0, (columns - width) // 2) + text
    if align == "right":
        return " " * max(0, columns - width) + text
    return text


def render_text(parsed: ParsedReceipt, columns: int = 48) -> str:
    """Plain text of a parsed receipt, aligned in `columns`; enlarged characters are shown at normal size."""
    out: list[str] = []
    for item in parsed.items:
        if isinstance(item, TextLine):
            for row in _rows(item, columns):
                text = "".join(c for c, _ in row)
                natural = sum(_char_cols(c) for c, _ in row)
                out.append(_aligned(text, natural, item.align, columns).rstrip())
        elif isinstance(item, QrCode):
            label = f"[QR {item.data}]"
            out.append(_aligned(label, sum(_char_cols(c) for c in label), item.align, columns))
        elif isinstance(item, RasterImage):
            label = f"[image {item.width * item.scale[0]}x{item.height * item.scale[1]}]"
            out.append(_aligned(label, len(label), "center", columns))
        else:
            out.append("-- cut " + "-" * max(0, columns - 7))
    return "\n".join(out) + "\n"


# Where to look for a CJK font: an explicit override, Debian/Ubuntu, Fedora/Arch, then Windows.
_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-{weight}.otf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
# Noto Sans Mono CJK has half-width Latin exactly half an ideograph wide: the grid of a receipt printer.
_PREFERRED_FACES = ("Noto Sans Mono CJK SC", "Noto Sans CJK SC")
_MAX_HEIGHT = 40_000
_DOT_W, _DOT_H, _LINE_GAP = 12, 24, 6


@functools.lru_cache(maxsize=4)
def find_cjk_font(bold: bool = False) -> tuple[str, int] | None:
    """Path and face index of a CJK font (env KIOSK_CJK_FONT first), or None when none is installed."""
    from PIL import ImageFont

    weight = "Bold" if bold else "Regular"
    override = os.environ.get("KIOSK_CJK_FONT")
    paths = ([override] if override else []) + [c.format(weight=weight) for c in _FONT_CANDIDATES]
    for path in paths:
        if not os.path.exists(path):
            continue
        faces: dict[str, int] = {}
        for index in range(16):
            try:
                faces[ImageFont.truetype(path, 12, index=index).getname()[0] or ""] = index
            except OSError:
                break
        if not faces:
            continue
        for face in _PREFERRED_FACES:
            if face in faces:
                return path, faces[face]
        return path, min(faces.values())
    return None


@functools.lru_cache(maxsize=32)
def _font(size: int, bold: bool) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """The font at `size` and whether boldness must be faked with a stroke."""
    from PIL import ImageFont

    found = find_cjk_font(bold)
    if found is not None:
        return ImageFont.truetype(found[0], size, index=found[1]), False
    found = find_cjk_font(False)
    if found is not None:
        return ImageFont.truetype(found[0], size, index=found[1]), bold
    return ImageFont.load_default(size), bold


def _draw_glyph(image: PILImage.Image, x: int, y: int, char: str, span: TextSpan) -> None:
    from PIL import Image, ImageDraw

    cols = _char_cols(char)
    # The cell reaches into the gap below the line so that Latin descenders are not clipped.
    natural = (_DOT_W * cols * span.height, _DOT_H * span.height + _LINE_GAP)
    target = (_DOT_W * cols * span.width, natural[1])
    font, fake_bold = _font(_DOT_H * span.height, span.bold)
    cell = Image.new("L", natural, 255)
    # Ideographs sit between -0.12 and 0.88 em around the baseline in Noto CJK.
    baseline = round(_DOT_H * span.height * 0.88)
    stroke = 1 if fake_bold else 0
    ImageDraw.Draw(cell).text((0, baseline), char, font=font, fill=0, anchor="ls", stroke_width=stroke)
    if target != natural:
        cell = cell.resize(target)
    if span.underline:
        underline_y = _DOT_H * span.height - 1
        ImageDraw.Draw(cell).line((0, underline_y, target[0], underline_y), fill=0, width=2)
    image.paste(cell, (x, y))


def _qr_image(item: QrCode) -> PILImage.Image:
    import qrcode
    from PIL import Image, ImageDraw
    from qrcode.exceptions import DataOverflowError

    levels = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }
    size = min(max(item.module_size, 1), 16)
    level = levels.get(item.error_correction, levels["L"])
    code = qrcode.QRCode(error_correction=level, box_size=size, border=0)
    try:
        code.add_data(item.data)
        code.make(fit=True)
    except (DataOverflowError, ValueError):
        # A printer also refuses a symbol it cannot fit; show where it would have been.
        box = Image.new("L", (120, 120), 255)
        ImageDraw.Draw(box).rectangle((0, 0, 119, 119), outline=0, width=3)
        return box
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def render_png(parsed: ParsedReceipt, target: str | os.PathLike[str] | IO[bytes], columns: int = 48) -> None:
    """Draw the receipt as a PNG `columns * 12` dots wide (576 for 80 mm paper), like the printed paper.

    Raises ValueError for a receipt too long to draw (over 40,000 dots).
    """
    from PIL import Image, ImageDraw

    width = columns * _DOT_W
    margin = 16
    # Laid out first so that the image is created once, at its final height.
    rows: list[tuple[int, list[tuple[str, TextSpan]], str]] = []
    symbols: list[tuple[int, PILImage.Image, str]] = []
    cuts: list[int] = []
    y = margin
    for item in parsed.items:
        if isinstance(item, TextLine):
            for row in _rows(item, columns):
                line_h = max((s.height for _, s in row), default=item.height) * _DOT_H
                rows.append((y, row, item.align))
                y += line_h + _LINE_GAP
        elif isinstance(item, QrCode):
            image = _qr_image(item)
            symbols.append((y + _LINE_GAP, image, item.align))
            y += image.height + 2 * _LINE_GAP
        elif isinstance(item, RasterImage):
            image = item.to_image()
            if item.scale != (1, 1):
                image = image.resize((image.width * item.scale[0], image.height * item.scale[1]))
            # A printer drops what does not fit the paper.
            image = image.crop((0, 0, min(image.width, width), image.height))
            symbols.append((y, image, item.align))
            y += image.height
        else:
            cuts.append(y + 8)
            y += 24
        if y > _MAX_HEIGHT:
            raise ValueError(f"receipt too long to render (over {_MAX_HEIGHT} dots)")
    canvas = Image.new("L", (width, y + margin), 255)
    for top, row, align in rows:
        used = sum(_char_cols(c) * s.width * _DOT_W for c, s in row)
        x = {"center": (width - used) // 2, "right": width - used}.get(align, 0)
        for char, span in row:
            _draw_glyph(canvas, max(0, x), top, char, span)
            x += _char_cols(char) * span.width * _DOT_W
    for top, image, align in symbols:
        x = {"center": (width - image.width) // 2, "right": width - image.width}.get(align, 0)
        canvas.paste(image, (max(0, x), top))
    draw = ImageDraw.Draw(canvas)
    for top in cuts:
        for x in range(0, width, 16):
            draw.line((x, top, x + 8, top), fill=96, width=2)
    canvas.convert("RGB").save(target, format="PNG")
