"""The shared /metrics counters: adding, names, a full table, sharing between processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from hq.shared_counters import CAPACITY, NAME_BYTES, SLOT, SharedCounters


def test_add_and_snapshot() -> None:
    counters = SharedCounters()
    assert counters.snapshot() == {}
    counters.add("heartbeats")
    counters.add("heartbeats")
    counters.add("refused:nonce_reused", 5)
    counters.add("operator_login_failed", 0)
    assert counters.snapshot() == {"heartbeats": 2, "refused:nonce_reused": 5, "operator_login_failed": 0}
    counters.close()


def test_names_checked_and_counters_never_go_down() -> None:
    counters = SharedCounters()
    counters.add("n" * NAME_BYTES)
    counters.add("é" * (NAME_BYTES // 2))  # 56 bytes of UTF-8
    with pytest.raises(ValueError, match="1 to 56 bytes"):
        counters.add("n" * (NAME_BYTES + 1))
    with pytest.raises(ValueError, match="1 to 56 bytes"):
        counters.add("é" * (NAME_BYTES // 2) + "x")
    with pytest.raises(ValueError, match="1 to 56 bytes"):
        counters.add("")
    with pytest.raises(ValueError, match="can not go down"):
        counters.add("heartbeats", -1)
    assert counters.snapshot() == {"n" * NAME_BYTES: 1, "é" * (NAME_BYTES // 2): 1}
    counters.close()


def test_full_table_is_an_error() -> None:
    counters = SharedCounters()
    for n in range(CAPACITY):
        counters.add(f"name-{n}")
    counters.add("name-0")  # a known name still counts
    with pytest.raises(RuntimeError, match="counter table is full"):
        counters.add("one-more")
    assert len(counters.snapshot()) == CAPACITY
    assert counters.snapshot()["name-0"] == 2
    counters.close()


def test_file_is_shared_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "counters"
    one = SharedCounters(path)
    two = SharedCounters(path)
    one.add("heartbeats", 3)
    two.add("heartbeats")
    two.add("refused:signature_invalid")  # a name new to `one`, whose slot cache does not know it
    one.add("refused:signature_invalid")
    assert one.snapshot() == two.snapshot() == {"heartbeats": 4, "refused:signature_invalid": 2}
    one.close()
    two.close()
    again = SharedCounters(path)
    assert again.snapshot() == {"heartbeats": 4, "refused:signature_invalid": 2}
    again.close()


def test_file_of_another_size_refused(tmp_path: Path) -> None:
    path = tmp_path / "counters"
    path.write_bytes(b"\0" * 100)
    with pytest.raises(ValueError, match=f"holds 100 bytes; a counter table of 128 slots needs {CAPACITY * SLOT.size}"):
        SharedCounters(path)


def _add(path: Path, start: Any, done: Any) -> None:
    counters = SharedCounters(path)
    start.wait(timeout=30)
    for _ in range(5000):
        counters.add("x")
    counters.close()
    done.put(True)


def test_processes_sharing_the_file_lose_no_add(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    done = ctx.Queue()
    path = tmp_path / "counters"
    procs = [ctx.Process(target=_add, args=(path, start, done)) for _ in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        assert done.get(timeout=30)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    counters = SharedCounters(path)
    assert counters.snapshot() == {"x": 10_000}  # one slot for "x", though both created it at once
    counters.close()
