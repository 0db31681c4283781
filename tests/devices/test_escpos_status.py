"""DLE EOT n: each answer byte read as the printer's manual defines it, and the simulator's answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.escpos_status import (
    ErrorKind,
    OfflineCause,
    Paper,
    PrinterReport,
    StatusError,
    decode_error_cause,
    decode_offline_cause,
    decode_paper,
    decode_printer_status,
    encode_error_cause,
    encode_offline_cause,
    encode_paper,
    encode_printer_status,
    query,
)


def test_query_bytes() -> None:
    assert [query(n) for n in (1, 2, 3, 4)] == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03", b"\x10\x04\x04"]
    with pytest.raises(ValueError):
        query(5)


@pytest.mark.parametrize(
    ("byte", "online"),
    [(0x12, True), (0x16, True), (0x1A, False), (0x1E, False), (0x32, True), (0x5A, False)],  # bit 2: drawer pin
)
def test_printer_status_n1(byte: int, online: bool) -> None:
    assert decode_printer_status(byte) is online


@pytest.mark.parametrize(
    ("byte", "cause"),
    [
        (0x12, OfflineCause()),
        (0x16, OfflineCause(cover_open=True)),
        (0x1A, OfflineCause()),  # bit 3: paper fed with the FEED button, not a fault
        (0x32, OfflineCause(paper_end_stop=True)),
        (0x52, OfflineCause(error=True)),
        (0x76, OfflineCause(cover_open=True, paper_end_stop=True, error=True)),
    ],
)
def test_offline_cause_n2(byte: int, cause: OfflineCause) -> None:
    assert decode_offline_cause(byte) == cause


@pytest.mark.parametrize(
    ("byte", "kind"),
    [
        (0x12, ErrorKind.NONE),
        (0x1A, ErrorKind.CUTTER),
        (0x32, ErrorKind.UNRECOVERABLE),
        (0x52, ErrorKind.AUTO_RECOVERABLE),
        (0x7A, ErrorKind.UNRECOVERABLE),  # several at once: the most serious
        (0x5A, ErrorKind.CUTTER),
    ],
)
def test_error_cause_n3(byte: int, kind: ErrorKind) -> None:
    assert decode_error_cause(byte) is kind


@pytest.mark.parametrize(
    ("byte", "paper"),
    [
        (0x12, Paper.OK),
        (0x1E, Paper.LOW),  # bits 2-3: near-end sensor
        (0x16, Paper.LOW),  # models that set only one of the pair
        (0x72, Paper.OUT),  # bits 5-6: end sensor
        (0x7E, Paper.OUT),
        (0x32, Paper.OUT),
    ],
)
def test_roll_paper_sensor_n4(byte: int, paper: Paper) -> None:
    assert decode_paper(byte) is paper


@pytest.mark.parametrize("byte", [0x00, 0x10, 0x02, 0x13, 0x92, 0xFF, 0x80, 256, -1])
def test_bytes_that_are_not_status_answers(byte: int) -> None:
    for decode in (decode_printer_status, decode_offline_cause, decode_error_cause, decode_paper):
        with pytest.raises(StatusError):
            decode(byte)  # type: ignore[operator]


@given(st.integers(0, 255))
def test_any_byte_decodes_or_is_refused_cleanly(byte: int) -> None:
    for decode in (decode_printer_status, decode_offline_cause, decode_error_cause, decode_paper):
        try:
            decode(byte)  # type: ignore[operator]
        except StatusError:
            assert byte & 0x93 != 0x12


def test_encoding_round_trips() -> None:
    for online in (True, False):
        assert decode_printer_status(encode_printer_status(online)) is online
    for cover in (False, True):
        for end in (False, True):
            for error in (False, True):
                cause = OfflineCause(cover, end, error)
                assert decode_offline_cause(encode_offline_cause(cause)) == cause
    for kind in ErrorKind:
        assert decode_error_cause(encode_error_cause(kind)) is kind
    for paper in Paper:
        assert decode_paper(encode_paper(paper)) is paper
    assert encode_paper(Paper.OUT) == 0x7E  # past the near-end sensor too, as a real roll


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        (PrinterReport(True, Paper.OK), None),
        (PrinterReport(True, Paper.LOW), None),  # low paper still prints
        (PrinterReport(False, Paper.OUT, OfflineCause(paper_end_stop=True)), "paper_out"),
        (PrinterReport(True, Paper.OUT), "paper_out"),
        (PrinterReport(False, Paper.OUT, OfflineCause(cover_open=True, paper_end_stop=True)), "cover_open"),
        (PrinterReport(False, Paper.OK, OfflineCause(error=True), ErrorKind.CUTTER), "error"),
        (PrinterReport(False, Paper.OK), "offline"),
    ],
)
def test_what_stops_a_receipt(report: PrinterReport, reason: str | None) -> None:
    assert report.blocking_reason == reason
