"""The nonce replay table shared by HQ's worker processes: a fixed-size hash table in a memory map.

Every signed request records ``(terminal, nonce)`` until its timestamp leaves the signature window; a second
request with the same pair inside the window is a replay. Worker processes that map the same file share the
table, so a request captured by one worker can not be replayed against another.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from hq.mapped_file import MappedFile
from hq.signing import WINDOW_S

DEFAULT_SLOTS = 1 << 20
PROBES = 32
SLOT = struct.Struct("=Qd")  # key (keyed blake2b-64 of terminal + nonce, 0 = empty), expiry (Unix time)
_SCAN_CHUNK = 1 << 14  # slots converted at a time by remembered()


class NonceTableFull(Exception):
    """Every slot a nonce could take is held by a live nonce; the request should be answered 503."""


class NonceTable:
    """Open-addressing table of ``(terminal, nonce)`` keys and their expiry; see :meth:`first_use`.

    ``path``: a file shared by every process that opens it with the same ``slots`` and ``key``; None: this
    process only. ``key`` keys the hash (up to 64 bytes; HQ derives it from its master key), so that a terminal
    can not choose nonces that crowd one window and refuse other terminals' requests.
    """

    def __init__(
        self, path: Path | None = None, slots: int = DEFAULT_SLOTS, probes: int = PROBES, key: bytes = b""
    ) -> None:
        if slots < 1 or probes < 1:
            raise ValueError("slots and probes must be positive")
        self.slots = slots
        self.probes = probes
        self._key = key
        # slots + probes slots so that a probe window, home .. home + probes - 1, never wraps.
        self._file = MappedFile(path, (slots + probes) * SLOT.size, f"nonce table of {slots} slots")
        self._map = self._file.map
        self._window = struct.Struct("=" + "Qd" * probes)

    def first_use(self, terminal_id: str, nonce: str, timestamp: float, now: float) -> bool:
        """Record the nonce; False when it was already used in a request that is still within the window.

        Raises :class:`NonceTableFull` when every slot of the key's window holds another live nonce.
        """
        digest = hashlib.blake2b(f"{terminal_id}\n{nonce}".encode(), digest_size=8, key=self._key).digest()
        key = int.from_bytes(digest, "little")
        key = key or 1  # 0 marks an empty slot
        # A replay is only accepted while |now - timestamp| <= window, so the nonce need be kept no longer.
        expiry = timestamp + WINDOW_S
        home = key % self.slots
        offset = home * SLOT.size
        # Why this is exact without tombstones: a key is only ever written within `probes` slots of its home, and
        # every insert reads all of them first and reuses the key's own slot if it is there. So a key has at most
        # one slot, a live copy is always found, and an expired slot can be taken by any key.
        with self._file:
            window = self._window.unpack_from(self._map, offset)
            keys = window[0::2]
            if key in keys:
                i = keys.index(key)
                if window[2 * i + 1] >= now:
                    return False
            else:
                expiries = window[1::2]
                for i in range(self.probes):
                    if keys[i] == 0 or expiries[i] < now:
                        break
                else:
                    raise NonceTableFull(
                        f"all {self.probes} slots for this nonce hold live nonces ({self.slots} slots in the table)"
                    )
            SLOT.pack_into(self._map, offset + i * SLOT.size, key, expiry)
            return True

    def remembered(self, now: float) -> int:
        """Live entries (expiry >= now), by a scan of the whole table: a gauge, so read without the lock."""
        doubles = memoryview(self._map).cast("d")  # slot i is doubles[2i] (key bits), doubles[2i + 1] (expiry)
        live = 0
        try:
            # In chunks, to convert no more than _SCAN_CHUNK floats at a time; filter(None) drops the empty
            # slots' 0.0 before the comparison, which is the costly part.
            for start in range(0, len(doubles), 2 * _SCAN_CHUNK):
                expiries = doubles[start + 1 : start + 2 * _SCAN_CHUNK : 2].tolist()
                live += sum(map(now.__le__, filter(None, expiries)))
        finally:
            doubles.release()
        return live

    def close(self) -> None:
        self._file.close()
