"""Receipt layout and the exact bytes sent to the printer.

The golden files hold the expected stream as annotated hex (one command per line, `# what it is`). To
regenerate after an intended change: `KIOSK_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/devices`, then
review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import Receipt, ReceiptLine
from devices.escpos_parser import RasterImage, TextLine, iter_commands, parse
from devices.escpos_receipt import (
    CHINESE_MODE_ON,
    QR_QUIET_ZONE,
    ReceiptLayout,
    clean_text,
    display_width,
    label_value_lines,
    qr_module_size,
    receipt_bytes,
    wrap,
)

GOLDEN = Path(__file__).parent / "golden"


def annotated_hex(data: bytes) -> str:
    return "".join(f"{cmd.raw.hex()}  # {cmd.describe()}\n" for cmd in iter_commands(data, strict=True))


def read_golden(name: str) -> bytes:
    text = (GOLDEN / name).read_text(encoding="utf-8")
    return bytes.fromhex("".join(line.split("#", 1)[0].strip() for line in text.splitlines()))


GOLDEN_LAYOUTS = {
    "receipt_zh_80mm.hex": ReceiptLayout(columns=48),
    "receipt_zh_58mm.hex": ReceiptLayout(columns=32),
    "receipt_zh_80mm_qr_image.hex": ReceiptLayout(columns=48, qr_mode="image"),
}


@pytest.mark.parametrize("name", list(GOLDEN_LAYOUTS))
def test_golden_bytes(receipt: Receipt, name: str) -> None:
    data = receipt_bytes(receipt, GOLDEN_LAYOUTS[name])
    if os.environ.get("KIOSK_UPDATE_GOLDEN"):
        (GOLDEN / name).write_text(annotated_hex(data), encoding="utf-8")
        pytest.skip(f"rewrote {name}; review the diff")
    assert data == read_golden(name)


def test_golden_content_is_what_the_receipt_says(receipt: Receipt, receipt_url: str) -> None:
    data = read_golden("receipt_zh_80mm.hex")
    parsed = parse(data, strict=True)
    # Chinese is sent as GB18030, after ESC @ and FS &.
    assert data.startswith(b"\x1b@" + CHINESE_MODE_ON)
    assert receipt.title.encode("gb18030") in data
    for line in receipt.lines:
        assert line.label.encode("gb18030") in data
        assert clean_text(line.value).encode("gb18030") in data
    title = parsed.lines[0]
    assert (title.text, title.align, title.bold, title.spans[0].width, title.height) == (
        receipt.title,
        "center",
        True,
        2,
        2,
    )
    # The QR is the printer's own symbol (GS ( k, function 180 "store" then 181 "print"), carrying the URL.
    store = b"\x1d(k" + (len(receipt_url) + 3).to_bytes(2, "little") + b"1P0" + receipt_url.encode()
    assert store in data
    assert data.index(store) < data.index(b"\x1d(k\x03\x001Q0")
    assert parsed.qr_payloads == [receipt_url]
    assert (parsed.qr_codes[0].module_size, parsed.qr_codes[0].error_correction) == (6, "M")
    assert parsed.qr_codes[0].align == "center"
    assert parsed.cuts == 1
    assert data.endswith(b"\x1bd\x06\x1dV\x00")
    assert parsed.warnings == ()


def test_golden_qr_as_an_image_is_the_symbol_of_the_url(receipt: Receipt, receipt_url: str) -> None:
    """The raster image (GS v 0) is the QR of the URL, module for module, centred on the paper."""
    native = parse(read_golden("receipt_zh_80mm.hex"), strict=True)
    parsed = parse(read_golden("receipt_zh_80mm_qr_image.hex"), strict=True)
    assert parsed.qr_codes == () and parsed.warnings == ()
    (image,) = parsed.images
    assert isinstance(image, RasterImage) and image.width == 576 and image.scale == (1, 1)
    # Everything but the symbol is the same receipt, caption included.
    printed = [line for line in parsed.text_lines if line]
    assert printed == [line for line in native.text_lines if line] and parsed.cuts == 1
    assert "扫码查看电子凭证" in printed
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_QUIET_ZONE)
    code.add_data(receipt_url.encode())
    code.make(fit=True)
    matrix = code.get_matrix()
    module = image.height // len(matrix)
    assert module == 6 and image.height == module * len(matrix)
    left = (image.width - module * len(matrix)) // 2
    sampled = [
        [image.pixel(left + x * module + module // 2, y * module + module // 2) for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    assert sampled == matrix
    assert not any(image.pixel(x, 0) for x in range(image.width))  # the quiet zone is white


def test_qr_image_shrinks_to_fit_narrow_paper(receipt_url: str) -> None:
    narrow = parse(receipt_bytes(Receipt("x", (), qr_data=receipt_url * 4), ReceiptLayout(columns=32, qr_mode="image")))
    (image,) = narrow.images
    assert image.width == 384 and image.height <= 384


@pytest.mark.parametrize("columns", [48, 42, 32])
def test_every_line_fits_the_paper(receipt: Receipt, columns: int) -> None:
    parsed = parse(receipt_bytes(receipt, ReceiptLayout(columns=columns)), strict=True)
    for line in parsed.lines:
        assert sum(display_width(s.text) * s.width for s in line.spans) <= columns, line


def test_label_and_value_fill_the_line_with_chinese_counted_double() -> None:
    (line,) = label_value_lines("充值金额", "¥100.00", 48)
    assert line.startswith("充值金额 ") and line.endswith(" ￥100.00")  # GBK-safe yen sign
    assert display_width(line) == 48
    assert len(line) == 48 - 4 - 1  # four ideographs and ¥ take two columns each


def test_too_long_a_pair_puts_the_value_right_aligned_below() -> None:
    lines = label_value_lines("终端", "T-0001 阳光花园3栋大堂 东侧入口自助缴费机", 32)
    assert lines[0] == "终端"
    assert all(display_width(line) <= 32 for line in lines)
    assert display_width(lines[-1]) == 32
    assert "".join(line.strip() for line in lines[1:]).replace(" ", "") == "T-0001阳光花园3栋大堂东侧入口自助缴费机"


def test_wrap_breaks_chinese_anywhere_and_latin_at_spaces() -> None:
    assert wrap("一二三四五六", 4) == ["一二", "三四", "五六"]
    assert wrap("please keep this receipt", 12) == ["please keep", "this receipt"]
    assert wrap("", 10) == [""]
    with pytest.raises(ValueError):
        wrap("abc", 1)


def test_display_width() -> None:
    assert display_width("电费A1") == 6
    assert display_width("") == 0


def test_control_characters_never_reach_the_printer() -> None:
    hostile = Receipt(title="a\x1dV\x00b", lines=(ReceiptLine("x\ny", "1\x1b@2"),), footer=("ok\nsecond line",))
    parsed = parse(receipt_bytes(hostile), strict=True)
    assert parsed.cuts == 1
    assert parsed.text_lines[0] == "a V b"
    assert "second line" in parsed.text_lines
    assert clean_text("a\tb\x7f") == "a b "


def test_bytes_are_deterministic(receipt: Receipt) -> None:
    assert receipt_bytes(receipt) == receipt_bytes(receipt)


def test_receipt_without_qr_or_footer() -> None:
    parsed = parse(receipt_bytes(Receipt(title="余额", lines=())), strict=True)
    assert parsed.qr_codes == ()
    assert parsed.cuts == 1
    assert parsed.text_lines[0] == "余额"


@pytest.mark.parametrize("bad", [{"columns": 8}, {"qr_module_size": 0}, {"qr_error_correction": "X"}])
def test_layout_rejects_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ReceiptLayout(**bad)  # type: ignore[arg-type]


_texts = st.text(max_size=60)  # never lone surrogates: those are not text


@settings(max_examples=150, deadline=None)
@given(
    title=_texts,
    pairs=st.lists(st.tuples(_texts, _texts), max_size=5),
    qr=st.one_of(st.none(), st.text(min_size=1, max_size=200)),
    footer=st.lists(_texts, max_size=3),
    columns=st.sampled_from([48, 42, 32]),
)
def test_any_receipt_makes_a_clean_stream(
    title: str, pairs: list[tuple[str, str]], qr: str | None, footer: list[str], columns: int
) -> None:
    receipt = Receipt(
        title=title,
        lines=tuple(ReceiptLine(label, value) for label, value in pairs),
        qr_data=qr,
        footer=tuple(footer),
    )
    parsed = parse(receipt_bytes(receipt, ReceiptLayout(columns=columns)), strict=True)
    assert parsed.cuts == 1
    assert parsed.qr_payloads == ([qr] if qr else [])
    for line in parsed.items:
        if isinstance(line, TextLine):
            assert sum(display_width(s.text) * s.width for s in line.spans) <= columns


def test_qr_module_size_shrinks_to_fit_the_paper() -> None:
    layout = ReceiptLayout(columns=32)  # 384 dots
    assert qr_module_size("http://example.com/r/1", layout) == 6
    assert qr_module_size("x" * 1000, layout) == 3  # version 26 at M: 121 modules, 363 dots
    assert qr_module_size("x" * 2331, ReceiptLayout(columns=16)) == 1  # the largest symbol
    with pytest.raises(ValueError, match="too long"):
        qr_module_size("x" * 2332, layout)


def test_yen_sign_is_sent_in_two_bytes_for_gbk_fonts() -> None:
    assert clean_text("¥100.00").encode("gb18030") == b"\xa3\xa4100.00"
