"""The ESC/POS parser: round trips, robustness against any bytes, and drawing."""

from __future__ import annotations

import contextlib
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from devices.base import Receipt
from devices.escpos_parser import (
    Cut,
    ParsedReceipt,
    QrCode,
    TextLine,
    TextSpan,
    iter_commands,
    parse,
    render_png,
    render_text,
)
from devices.escpos_receipt import ReceiptLayout, clean_text, receipt_bytes


def test_round_trip_keeps_every_label_and_value(receipt: Receipt) -> None:
    parsed = parse(receipt_bytes(receipt))
    text = render_text(parsed)
    assert receipt.title in text
    for line in receipt.lines:
        assert line.label in text
        assert clean_text(line.value) in text
    assert receipt.qr_caption and receipt.qr_caption in text
    for footer in receipt.footer:
        assert footer in text
    assert parsed.warnings == ()


def test_round_trip_on_narrow_paper_keeps_everything(receipt: Receipt) -> None:
    parsed = parse(receipt_bytes(receipt, ReceiptLayout(columns=32)))
    joined = "".join(parsed.text_lines).replace(" ", "")
    for line in receipt.lines:
        assert clean_text(line.value).replace(" ", "") in joined


def test_render_text_aligns_in_columns(receipt: Receipt, receipt_url: str) -> None:
    lines = render_text(parse(receipt_bytes(receipt))).splitlines()
    assert lines[0] == " " * 18 + "电费充值凭证"  # centred at normal width: (48 - 12) // 2
    assert lines[1] == "-" * 48
    assert lines[2].startswith("小区") and lines[2].endswith("阳光花园")
    assert any(receipt_url in line for line in lines)
    assert lines[-1].startswith("-- cut --")


def test_styles_and_chinese_mode() -> None:
    data = (
        b"\x1b@\x1c&"
        + b"\x1b!\x38"
        + "大".encode("gb18030")
        + b"\x1b!\x00\x1bE\x01B\x1bE\x00\n"
        + b"\x1c."
        + b"\x82\n"  # outside Chinese mode a high byte is code page 437
        + b"\x1c&"
        + "¥".encode("gb18030")  # four-byte GB18030
        + b"\n"
    )
    parsed = parse(data, strict=True)
    assert parsed.lines[0].spans == (TextSpan("大", bold=True, width=2, height=2), TextSpan("B", bold=True))
    assert parsed.text_lines[1:] == ["é", "¥"]


def test_init_discards_unprinted_text_and_resets_style() -> None:
    parsed = parse(b"\x1bE\x01\x1ba\x01lost\x1b@kept\n")
    assert parsed.lines == (TextLine((TextSpan("kept"),), "left"),)


def test_alignment_is_taken_at_the_start_of_a_line() -> None:
    parsed = parse(b"\x1ba\x01ab\x1ba\x02cd\nef\n")
    assert [line.align for line in parsed.lines] == ["center", "right"]


def test_feed_and_two_receipts_in_one_stream(receipt: Receipt) -> None:
    parsed = parse(receipt_bytes(receipt) * 2)
    assert parsed.cuts == 2
    assert len(parsed.qr_codes) == 2
    assert parsed.text_lines.count("") >= 2 * 6  # ESC d 6 before each cut


def test_legacy_and_partial_cuts() -> None:
    parsed = parse(b"a\n\x1bi\x1dV\x01\x1dVA\x03")
    assert [c for c in parsed.items if isinstance(c, Cut)] == [Cut(True), Cut(True), Cut(False)]


def test_unknown_commands_are_skipped_with_a_warning() -> None:
    data = b"\x1bz\x01ok\n\x1d(Z\x02\x00xyhello\n\x07"
    parsed = parse(data)
    assert parsed.text_lines == ["ok", "hello"]
    assert any("unknown" in w for w in parsed.warnings)
    with pytest.raises(ValueError, match="unknown command"):
        parse(data, strict=True)


def test_known_variable_length_commands_are_stepped_over() -> None:
    raster = b"\x1dv0\x00\x02\x00\x02\x00" + b"\x0a\x1b\x1d\x1c"  # image data that looks like commands
    bit_image = b"\x1b*\x00\x03\x00\x1b@\x0a"
    barcode = b"\x1dkA\x04\x1b@\n\n"
    parsed = parse(b"\x1b@" + raster + bit_image + barcode + b"after\n", strict=True)
    assert parsed.text_lines == ["after"]


def test_truncated_stream() -> None:
    parsed = parse(b"text\n\x1d(k\x10\x001P0abc")
    assert parsed.text_lines == ["text"]
    assert any("truncated" in w for w in parsed.warnings)
    with pytest.raises(ValueError, match="ends inside"):
        parse(b"\x1b", strict=True)


def test_invalid_gb18030_is_replaced_or_rejected() -> None:
    parsed = parse(b"\x1c&\x81\x20x\n")
    assert parsed.text_lines == ["\ufffd x"]
    with pytest.raises(ValueError, match="GB18030"):
        parse(b"\x1c&\x81\x20x\n", strict=True)


def test_qr_print_without_data() -> None:
    assert parse(b"\x1d(k\x03\x001Q0").qr_codes == ()
    with pytest.raises(ValueError):
        parse(b"\x1d(k\x03\x001Q0", strict=True)


def test_only_bytes_are_accepted() -> None:
    with pytest.raises(ValueError):
        parse("text")  # type: ignore[arg-type]


def test_command_offsets_cover_the_stream(receipt: Receipt) -> None:
    data = receipt_bytes(receipt)
    commands = list(iter_commands(data, strict=True))
    assert b"".join(c.raw for c in commands) == data
    assert all(a.offset + len(a.raw) == b.offset for a, b in itertools.pairwise(commands))


def _check_any_outcome(data: bytes, strict: bool) -> None:
    try:
        parsed = parse(data, strict=strict)
    except ValueError:
        return
    assert isinstance(parsed, ParsedReceipt)
    render_text(parsed)


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=400), strict=st.booleans())
def test_random_bytes_raise_nothing_but_value_error(data: bytes, strict: bool) -> None:
    _check_any_outcome(data, strict)


# Fragments of real commands glued with random bytes reach the deeper branches that pure noise rarely does.
_FRAGMENTS = [
    b"\x1b",
    b"\x1d",
    b"\x1c",
    b"\x10",
    b"\x1b@",
    b"\x1c&",
    b"\x1c.",
    b"\x1d(k",
    b"\x1d(k\x03\x001Q0",
    b"\x1d(k\x05\x001P0ab",
    b"\x1dV",
    b"\x1dv0",
    b"\x1d8L",
    b"\x1dk",
    b"\x1b*",
    b"\x1b&",
    b"\x1bD",
    b"\x10\x14",
    b"\n",
    "汉字¥".encode("gb18030"),
    b"\x81",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=6)), max_size=40),
    strict=st.booleans(),
)
def test_command_soup_raises_nothing_but_value_error(parts: list[bytes], strict: bool) -> None:
    _check_any_outcome(b"".join(parts), strict)


def _dark_pixels(image: Image.Image) -> int:
    histogram = image.convert("L").histogram()
    return sum(histogram[:128])


@pytest.mark.parametrize(("columns", "width"), [(48, 576), (32, 384)])
def test_png_looks_like_a_receipt(receipt: Receipt, columns: int, width: int) -> None:
    parsed = parse(receipt_bytes(receipt, ReceiptLayout(columns=columns)))
    buffer = io.BytesIO()
    render_png(parsed, buffer, columns=columns)
    image = Image.open(io.BytesIO(buffer.getvalue()))
    assert image.format == "PNG"
    assert image.width == width
    assert image.height > 400
    assert _dark_pixels(image) > 5_000
    # The QR is drawn: its top-left finder pattern is a solid dark square in the middle of the paper.
    assert _dark_pixels(image.crop((width // 3, 0, 2 * width // 3, image.height))) > 2_000


def test_png_to_a_path(tmp_path: Path, receipt: Receipt) -> None:
    path = tmp_path / "receipt.png"
    render_png(parse(receipt_bytes(receipt)), path)
    with Image.open(path) as image:
        assert image.size[0] == 576


def test_png_of_nonsense_is_still_drawn() -> None:
    parsed = ParsedReceipt((QrCode("x" * 5000, module_size=40), TextLine(()), Cut()))
    buffer = io.BytesIO()
    render_png(parsed, buffer)
    assert Image.open(buffer).width == 576


def test_png_refuses_an_endless_receipt() -> None:
    with pytest.raises(ValueError, match="too long"):
        render_png(parse(b"\x1bd\xff" * 200), io.BytesIO())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=6)), max_size=30))
def test_png_of_any_stream_is_drawn_or_refused_with_value_error(parts: list[bytes]) -> None:
    parsed = parse(b"".join(parts))
    with contextlib.suppress(ValueError):
        render_png(parsed, io.BytesIO())
