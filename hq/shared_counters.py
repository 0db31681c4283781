"""Process counters for /metrics shared by HQ's worker processes: a small table of named values in a memory map.

Counters only go up (they are Prometheus counters); nothing resets them but deleting the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

from hq.mapped_file import MappedFile

CAPACITY = 128
NAME_BYTES = 56
SLOT = struct.Struct(f"={NAME_BYTES}sq")  # name (UTF-8, NUL-padded; all NUL = free), value
VALUE_OFFSET = NAME_BYTES
_VALUE = struct.Struct("=q")


class SharedCounters:
    """Named counters; ``path``: a file shared by every process that opens it; None: this process only."""

    def __init__(self, path: Path | None = None) -> None:
        self._file = MappedFile(path, CAPACITY * SLOT.size, f"counter table of {CAPACITY} slots")
        self._map = self._file.map
        # Slots are never freed, so a name's slot, once found, stays its slot.
        self._slots: dict[str, int] = {}

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` (not negative) to the counter ``name``, creating it at 0 the first time."""
        if amount < 0:
            raise ValueError(f"counter {name!r} can not go down (amount {amount})")
        slot = self._slots.get(name)
        if slot is None:
            slot = self._slot_of(name)
        offset = slot * SLOT.size + VALUE_OFFSET
        with self._file:
            (value,) = _VALUE.unpack_from(self._map, offset)
            _VALUE.pack_into(self._map, offset, value + amount)

    def snapshot(self) -> dict[str, int]:
        """Every counter of every process sharing the table, by name."""
        with self._file:
            rows = list(SLOT.iter_unpack(self._map))
        return {raw.rstrip(b"\0").decode(): value for raw, value in rows if raw[0]}

    def close(self) -> None:
        self._file.close()

    def _slot_of(self, name: str) -> int:
        """The slot holding ``name``, taking the first free one if no process has used the name yet."""
        raw = name.encode()
        if not raw or len(raw) > NAME_BYTES or b"\0" in raw:
            raise ValueError(f"a counter name is 1 to {NAME_BYTES} bytes of UTF-8 without NUL: {name!r}")
        padded = raw.ljust(NAME_BYTES, b"\0")
        with self._file:
            # Names take the first free slot and are never removed, so the used slots are a prefix of the table.
            for slot in range(CAPACITY):
                start = slot * SLOT.size
                held = self._map[start : start + NAME_BYTES]
                if held == padded:
                    break
                if not held[0]:
                    self._map[start : start + NAME_BYTES] = padded
                    break
            else:
                raise RuntimeError(
                    f"the counter table is full ({CAPACITY} names); {name!r} can not be added. HQ uses far "
                    "fewer names: is a name being made from request data?"
                )
            self._slots[name] = slot
        return slot
