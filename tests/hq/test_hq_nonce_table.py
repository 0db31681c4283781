"""The shared nonce table: replays refused within the window, expiry, a full window, sharing between processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from hq_helpers import NOW

from hq.nonce_table import SLOT, NonceTable, NonceTableFull
from hq.signing import WINDOW_S

T = NOW.timestamp()
NONCE = "abcdefghijklmnop"


@pytest.fixture
def table() -> Any:
    t = NonceTable(slots=1024)
    yield t
    t.close()


def test_first_use_then_replay_refused(table: NonceTable) -> None:
    assert table.first_use("T-0001", NONCE, T, T)
    assert not table.first_use("T-0001", NONCE, T, T + 1)
    assert table.first_use("T-0002", NONCE, T, T + 1)  # another terminal may use the same nonce
    assert table.first_use("T-0001", NONCE + "q", T, T + 1)


def test_live_until_expiry_inclusive_then_reusable(table: NonceTable) -> None:
    assert table.first_use("T-0001", NONCE, T, T)
    assert not table.first_use("T-0001", NONCE, T, T + WINDOW_S)  # expiry == now: still within the window
    assert table.first_use("T-0001", NONCE, T + WINDOW_S, T + WINDOW_S + 0.5)
    assert not table.first_use("T-0001", NONCE, T + WINDOW_S, T + WINDOW_S + 1)  # the new use is recorded


def test_full_window_raises_and_expired_slots_are_reused() -> None:
    table = NonceTable(slots=1, probes=3)  # one home slot: every key shares the window of 3 slots
    for n in range(3):
        assert table.first_use("T-0001", f"{NONCE}{n}", T, T)
    with pytest.raises(NonceTableFull):
        table.first_use("T-0001", NONCE + "x", T, T)
    # Still a refusal, not an error, for a nonce that is in the full window.
    assert not table.first_use("T-0001", f"{NONCE}1", T, T + 1)
    assert table.first_use("T-0001", NONCE + "x", T + 10, T + WINDOW_S + 1)  # the others have expired
    assert table.first_use("T-0001", NONCE + "y", T + 10, T + WINDOW_S + 1)
    assert table.first_use("T-0001", f"{NONCE}0", T + 10, T + WINDOW_S + 1)  # its own slot, expired, reused
    with pytest.raises(NonceTableFull):
        table.first_use("T-0001", NONCE + "z", T + 10, T + WINDOW_S + 1)
    assert table.remembered(T + WINDOW_S + 1) == 3
    table.close()


def test_remembered_counts_live_entries_only(table: NonceTable) -> None:
    assert table.remembered(T) == 0
    for n in range(10):
        table.first_use("T-0001", f"{NONCE}{n}", T + n, T + n)
    assert table.remembered(T + 9) == 10
    assert table.remembered(T + WINDOW_S + 4) == 6  # timestamps T+4 .. T+9 still live (expiry >= now)
    assert table.remembered(T + WINDOW_S + 10) == 0


def test_file_is_shared_between_tables_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "nonces"
    one = NonceTable(path, slots=64)
    two = NonceTable(path, slots=64)
    assert path.stat().st_size == (64 + 32) * SLOT.size
    assert one.first_use("T-0001", NONCE, T, T)
    assert not two.first_use("T-0001", NONCE, T, T)
    one.close()  # closing one map does not break the other, nor its lock
    assert two.first_use("T-0001", NONCE + "q", T, T)
    two.close()
    again = NonceTable(path, slots=64)
    assert not again.first_use("T-0001", NONCE + "q", T, T + 1)
    assert again.remembered(T) == 2
    again.close()


def test_file_of_another_size_refused(tmp_path: Path) -> None:
    path = tmp_path / "nonces"
    NonceTable(path, slots=64).close()
    with pytest.raises(ValueError, match=r"holds 1536 bytes; a nonce table of 128 slots needs 2560"):
        NonceTable(path, slots=128)
    path.write_bytes(b"not a table")
    with pytest.raises(ValueError, match="holds 11 bytes"):
        NonceTable(path, slots=64)


def _use_nonces(path: Path, start: Any, results: Any, worker: int) -> None:
    table = NonceTable(path, slots=4096)
    start.wait(timeout=30)  # both processes race on the same nonces in the same order
    results.put((worker, [table.first_use("T-0001", f"{NONCE}{n}", T, T) for n in range(2000)]))
    table.close()


def test_processes_sharing_the_file_accept_each_nonce_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    results = ctx.Queue()
    path = tmp_path / "nonces"
    procs = [ctx.Process(target=_use_nonces, args=(path, start, results, w)) for w in range(2)]
    for p in procs:
        p.start()
    got = dict(results.get(timeout=30) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert [a + b for a, b in zip(got[0], got[1], strict=True)] == [1] * 2000


def test_the_hash_is_keyed(tmp_path: Path) -> None:
    """Where a nonce lands depends on HQ's key, so a terminal cannot aim its nonces at one window."""
    path = tmp_path / "nonces"
    first, same_key, other_key = (NonceTable(path, slots=1024, key=k) for k in (b"k1", b"k1", b"k2"))
    try:
        assert first.first_use("T1", "n" * 16, 1000.0, 1000.0)
        assert not same_key.first_use("T1", "n" * 16, 1000.0, 1000.0)
        assert other_key.first_use("T1", "n" * 16, 1000.0, 1000.0)  # another key, another slot
    finally:
        for table in (first, same_key, other_key):
            table.close()
