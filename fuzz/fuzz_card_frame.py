"""Long fuzzing run of the card reader's frame decoder with atheris (coverage-guided; not part of `make test`).

    pip install atheris
    python fuzz/fuzz_card_frame.py -max_total_time=600 -max_len=4096 fuzz/corpus/card_frame

The corpus holds a few real frames (the reader's and the host's), so mutations start next to valid ones.

The properties are those of tests/devices/test_card_protocol.py: any bytes, cut anywhere, never make the decoder
raise; it never holds more than one frame's worth of bytes; every frame it returns re-encodes to bytes that were
in the input; and a valid frame appended after the fuzzed bytes always comes out once the line goes quiet.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere: the project is importable

with atheris.instrument_imports():
    from devices.card_protocol import MAX_FRAME, Command, Frame, FrameDecoder, FrameError, encode

MARKER = Frame(Command.CARD_ID, 0xA5, b"FUZZ-MARKER-01")


def check(data: bytes) -> None:
    if not data:
        return
    cut = data[0] % (len(data) + 1)  # the first byte says where the stream is split between two reads
    stream = data[1:] + MARKER.encode()
    decoder = FrameDecoder()
    found: list[Frame] = []
    for chunk in (stream[:cut], stream[cut:]):
        for item in decoder.feed(chunk):
            assert isinstance(item, Frame | FrameError), item
            if isinstance(item, Frame):
                found.append(item)
        assert decoder.pending < MAX_FRAME, decoder.pending
    while decoder.pending:
        found += [item for item in decoder.expire() if isinstance(item, Frame)]
    for frame in found:
        assert frame.encode() in stream, frame
    assert MARKER in found, found


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    samples = {
        "status": encode(Command.STATUS, 1),
        "status_reply": encode(Command.STATUS_REPLY, 1, b"\x01"),
        "detected": encode(Command.CARD_DETECTED, 7),
        "card_id": encode(Command.CARD_ID, 7, b"04A1B2C3D4"),
        "removed_ack": encode(Command.CARD_REMOVED, 8) + encode(Command.ACK, 8),
        "nak": encode(Command.NAK, 0, b"\x01"),
    }
    for name, frame in samples.items():
        (folder / name).write_bytes(b"\x00" + frame)


def main() -> None:
    corpus = Path(__file__).resolve().parent / "corpus" / "card_frame"
    if not any(corpus.glob("*")):
        write_corpus(corpus)
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
