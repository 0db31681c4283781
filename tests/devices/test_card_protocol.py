"""The card reader's frame format (devices/card_protocol.py): round trips, resynchronisation, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card_protocol import (
    ETX,
    MAX_DATA,
    MAX_FRAME,
    STX,
    Command,
    Frame,
    FrameDecoder,
    FrameError,
    checksum,
    encode,
)

frames = st.builds(
    Frame, st.integers(0, 255), st.integers(0, 255), st.binary(max_size=MAX_DATA)
)


def decode_all(decoder: FrameDecoder, chunks: list[bytes]) -> list[Frame | FrameError]:
    """Feed the chunks, then let every incomplete candidate time out, as a quiet line would."""
    out: list[Frame | FrameError] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    while decoder.pending:
        out += decoder.expire()
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def test_frame_bytes_as_documented() -> None:
    # docs/devices.md: CARD_ID, seq 5, "04A1": STX LEN=11 CMD SEQ DATA CRC(hi, lo) ETX.
    data = encode(Command.CARD_ID, 5, b"04A1")
    body = bytes((11, 0x21, 5)) + b"04A1"
    assert data == bytes((STX,)) + body + checksum(body).to_bytes(2, "big") + bytes((ETX,))
    assert checksum(b"123456789") == 0x29B1  # the CRC-16/CCITT-FALSE check value
    assert encode(Command.STATUS, 1).hex() == "02073001" + f"{checksum(bytes((7, 0x30, 1))):04x}" + "03"
    assert len(data) == data[1] == 11


@given(frames)
def test_round_trip(frame: Frame) -> None:
    decoder = FrameDecoder()
    assert decoder.feed(frame.encode()) == [frame]
    assert decoder.pending == 0


def test_data_may_hold_start_and_end_bytes() -> None:
    frame = Frame(Command.CARD_ID, 0x02, bytes((STX, ETX, STX, STX, ETX)))
    assert FrameDecoder().feed(frame.encode()) == [frame]


def test_what_cannot_be_sent_is_refused() -> None:
    with pytest.raises(ValueError):
        encode(Command.CARD_ID, 1, b"x" * (MAX_DATA + 1))
    with pytest.raises(ValueError):
        encode(256, 1)
    with pytest.raises(ValueError):
        encode(Command.ACK, -1)


@settings(max_examples=300)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=8))
def test_arbitrary_bytes_never_raise_and_the_buffer_stays_small(data: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder()
    for chunk in split(data, cuts):
        for item in decoder.feed(chunk):
            assert isinstance(item, Frame | FrameError)
        assert decoder.pending < MAX_FRAME
    decode_all(decoder, [])
    assert decoder.pending == 0


@settings(max_examples=300)
@given(st.binary(max_size=200), st.lists(frames, min_size=1, max_size=4), st.binary(max_size=200),
       st.lists(st.integers(0, 2000), max_size=6))
def test_frames_in_garbage_are_recovered(before: bytes, sent: list[Frame], after: bytes, cuts: list[int]) -> None:
    stream = before + b"".join(f.encode() for f in sent) + after
    decoded = [item for item in decode_all(FrameDecoder(), split(stream, cuts)) if isinstance(item, Frame)]
    # Every frame sent comes out, in order (garbage cannot forge a CRC by chance in these sizes).
    it = iter(decoded)
    assert all(any(got == want for got in it) for want in sent), (decoded, sent)


@settings(max_examples=300)
@given(frames, st.data())
def test_a_corrupted_frame_is_rejected(frame: Frame, data: st.DataObject) -> None:
    wire = bytearray(frame.encode())
    position = data.draw(st.integers(1, len(wire) - 2))  # LEN .. CRC: anything the checksum covers or is
    wire[position] ^= 1 << data.draw(st.integers(0, 7))
    decoder = FrameDecoder()
    decoded = decode_all(decoder, [bytes(wire)])
    assert not [item for item in decoded if isinstance(item, Frame)]
    assert decoder.errors >= 1


def test_a_bad_checksum_is_reported_and_the_next_frame_still_read() -> None:
    bad = bytearray(encode(Command.CARD_REMOVED, 7))
    bad[-2] ^= 0xFF
    good = encode(Command.CARD_DETECTED, 8)
    out = FrameDecoder().feed(bytes(bad) + good)
    assert next(i.reason for i in out if isinstance(i, FrameError)) == "bad_checksum"
    assert out[-1] == Frame(Command.CARD_DETECTED, 8)


def test_a_stray_start_byte_waits_until_the_line_is_quiet() -> None:
    good = encode(Command.CARD_DETECTED, 9)
    decoder = FrameDecoder()
    # STX and a large length swallow the good frame: nothing can be said until more bytes or a time-out.
    assert decoder.feed(bytes((STX, 60)) + good) == []
    out = decoder.expire()
    assert out[0] == FrameError("timeout", bytes((STX,)))
    assert out[-1] == Frame(Command.CARD_DETECTED, 9)
    assert decoder.pending == 0


def test_noise_and_bad_lengths_are_skipped() -> None:
    good = encode(Command.STATUS_REPLY, 3, b"\x01")
    out = FrameDecoder().feed(b"hello" + bytes((STX, 0)) + bytes((STX, 200)) + good)
    reasons = [i.reason for i in out if isinstance(i, FrameError)]
    assert reasons[0] == "noise" and "bad_length" in reasons
    assert out[-1] == Frame(Command.STATUS_REPLY, 3, b"\x01")
