"""The card reader's framed serial protocol: a pure encoder and an incremental decoder that resynchronises.

Frame (docs/devices.md has the full table)::

    STX 0x02 | LEN | CMD | SEQ | DATA (0..64) | CRC16 hi | CRC16 lo | ETX 0x03

LEN is the length of the whole frame, STX to ETX (7..71), so it is never mistaken for a start byte. The CRC
is CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, as `binascii.crc_hqx`) over LEN, CMD, SEQ and
DATA, sent high byte first. Nothing here does I/O or keeps time: the caller feeds bytes as they arrive and calls
`expire()` when the line has been quiet for a while.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from enum import IntEnum

STX = 0x02
ETX = 0x03
MAX_DATA = 64
MIN_FRAME = 7  # STX, LEN, CMD, SEQ, CRC (2), ETX
MAX_FRAME = MIN_FRAME + MAX_DATA
MAX_CARD_ID = MAX_DATA


class Command(IntEnum):
    """What a frame says. R = reader, H = host (the terminal)."""

    ACK = 0x06  # H→R: the event with this SEQ was handled (answers CARD_REMOVED)
    NAK = 0x15  # either way: DATA = one Nak reason byte
    CARD_DETECTED = 0x10  # R→H, unsolicited: a card came; the host answers READ_ID with the same SEQ
    CARD_REMOVED = 0x11  # R→H, unsolicited: the card left; the host answers ACK with the same SEQ
    READ_ID = 0x20  # H→R: send the id of the card detected with this SEQ
    CARD_ID = 0x21  # R→H: DATA = the card id, 1..64 printable ASCII characters; SEQ echoes READ_ID
    STATUS = 0x30  # H→R: the health check
    STATUS_REPLY = 0x31  # R→H: DATA = one StatusFlags byte (later bytes are ignored); SEQ echoes STATUS


class Nak(IntEnum):
    """Why a frame was refused."""

    BAD_FRAME = 0x01  # bad checksum, end byte or length
    UNKNOWN_COMMAND = 0x02
    NO_CARD = 0x03  # READ_ID for a card that is no longer there (or another SEQ)
    BAD_DATA = 0x04


class StatusFlags(IntEnum):
    CARD_PRESENT = 0x01
    BUSY = 0x02  # initialising, or a firmware update: ask again later
    FAULT = 0x04  # the reader's self-test failed (antenna, card path): it needs maintenance


@dataclass(frozen=True)
class Frame:
    command: int
    seq: int
    data: bytes = b""

    def encode(self) -> bytes:
        return encode(self.command, self.seq, self.data)


@dataclass(frozen=True)
class FrameError:
    """Bytes the decoder threw away, and why: noise, bad_length, bad_end, bad_checksum or timeout."""

    reason: str
    raw: bytes


def checksum(body: bytes) -> int:
    """CRC-16/CCITT-FALSE of LEN..DATA."""
    return binascii.crc_hqx(body, 0xFFFF)


def encode(command: int, seq: int, data: bytes = b"") -> bytes:
    """One frame on the wire; raises ValueError for a command, sequence number or data that cannot be sent."""
    if not 0 <= command <= 0xFF or not 0 <= seq <= 0xFF:
        raise ValueError("command and sequence number are single bytes")
    if len(data) > MAX_DATA:
        raise ValueError(f"at most {MAX_DATA} data bytes in a frame, not {len(data)}")
    body = bytes((MIN_FRAME + len(data), command, seq)) + data
    return bytes((STX,)) + body + checksum(body).to_bytes(2, "big") + bytes((ETX,))


class FrameDecoder:
    """Cuts a byte stream into frames. Never raises on input; bad bytes come back as `FrameError`s.

    On a bad candidate frame only its start byte is dropped and the search goes on from the next byte, so a
    good frame that a stray STX swallowed is still found. A candidate left incomplete (a stray STX with a large
    length, or a frame cut short) waits until `expire()`, which the caller calls when the line has been quiet.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.frames = 0
        self.errors = 0

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        self._buffer += data
        return self._scan()

    def expire(self) -> list[Frame | FrameError]:
        """Give up on an incomplete frame: drop its start byte and decode again what followed it."""
        if not self._buffer:
            return []
        self.errors += 1
        dropped = FrameError("timeout", bytes(self._buffer[:1]))
        del self._buffer[:1]
        return [dropped, *self._scan()]

    def _scan(self) -> list[Frame | FrameError]:
        out: list[Frame | FrameError] = []
        buf = self._buffer
        while buf:
            start = buf.find(STX)
            if start != 0:
                # Bytes before a start byte belong to no frame.
                noise = len(buf) if start < 0 else start
                out.append(FrameError("noise", bytes(buf[:noise])))
                del buf[:noise]
                continue
            if len(buf) < 2:
                break
            total = buf[1]
            if not MIN_FRAME <= total <= MAX_FRAME:
                out.append(FrameError("bad_length", bytes(buf[:2])))
                del buf[:1]
                continue
            if len(buf) < total:
                break  # wait for the rest, or for expire()
            candidate = bytes(buf[:total])
            if candidate[-1] != ETX:
                out.append(FrameError("bad_end", candidate))
                del buf[:1]
                continue
            body = candidate[1:-3]
            if checksum(body) != int.from_bytes(candidate[-3:-1], "big"):
                out.append(FrameError("bad_checksum", candidate))
                del buf[:1]
                continue
            del buf[:total]
            out.append(Frame(body[1], body[2], bytes(body[3:])))
        self.frames += sum(1 for item in out if isinstance(item, Frame))
        self.errors += sum(1 for item in out if isinstance(item, FrameError))
        return out
