"""The retention pass: at start and daily, on the archive lane, only what is finished and past retention."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.retention import DAY_S, LANE, RetentionKeeper
from kiosk.tasks import ManualLoop, Runner
from offline_queue.archive import ArchiveError, PassResult, TransactionArchive
from offline_queue.states import TxState
from offline_queue.store import TransactionStore

NOW = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
ORDER = {
    "terminal_id": "T-0001", "service": "electricity", "house_id": "h_1", "house_label": "1-1-101",
    "meter_id": "m_1", "meter_label": "lighting", "amount_fen": 5000,
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def runner() -> Iterator[tuple[ManualLoop, Runner]]:
    loop = ManualLoop()
    runner = Runner(loop.dispatch, lanes=(LANE,))
    yield loop, runner
    runner.shutdown()


def paid_on(store: TransactionStore, clock: Clock, day: datetime) -> str:
    clock.now = day
    record = store.create(**ORDER)  # type: ignore[arg-type]
    store.transition(record.id, TxState.AWAITING_PAYMENT, order_no=f"EO-{record.id[:8]}")
    store.transition(record.id, TxState.PAID, sent=[m.id for m in store.outbox_for(record.id)])
    return record.id


class SpyArchive(TransactionArchive):
    """The real archive, noting the thread each pass ran on and failing when told to."""

    def __init__(self, store: TransactionStore, clock: Clock) -> None:
        super().__init__(store, clock=clock)
        self.threads: list[str] = []
        self.cutoffs: list[datetime] = []
        self.fail = False

    def archive_finished(self, older_than: datetime, batch: int = 200) -> PassResult:
        self.threads.append(threading.current_thread().name)
        self.cutoffs.append(older_than)
        if self.fail:
            raise ArchiveError("archive /x: cannot write: disk full")
        return super().archive_finished(older_than, batch)


def test_a_pass_at_start_then_every_day_off_the_gui_thread(
    tmp_path: Path, runner: tuple[ManualLoop, Runner]
) -> None:
    loop, lanes = runner
    clock = Clock(NOW)
    store = TransactionStore.open(tmp_path / "t.db", clock=clock)
    old = paid_on(store, clock, NOW - timedelta(days=401))
    young = paid_on(store, clock, NOW - timedelta(days=399))
    clock.now = NOW
    archive = SpyArchive(store, clock)
    passes: list[PassResult] = []
    keeper = RetentionKeeper(archive, lanes, loop, retention_days=400, clock=clock, on_pass=passes.append)
    try:
        keeper.start()
        loop.run_until(lambda: len(passes) == 1)
        assert passes[0].archived == 1
        assert archive.cutoffs == [NOW - timedelta(days=400)]
        assert [a.record.id for a in archive.transactions()] == [old]
        assert [r.id for r in store.transactions()] == [young]
        assert archive.threads == [f"kiosk-{LANE}_0"]  # a lane thread, not the loop's

        clock.now = NOW + timedelta(days=2)  # the next pass a day later takes the younger one too
        loop.advance(DAY_S)
        loop.run_until(lambda: len(passes) == 2)
        assert passes[1].archived == 1
        assert store.transactions() == []
    finally:
        keeper.stop()
        store.close()


def test_a_failed_pass_is_logged_and_tried_again_the_next_day(
    tmp_path: Path, runner: tuple[ManualLoop, Runner], caplog: pytest.LogCaptureFixture
) -> None:
    loop, lanes = runner
    clock = Clock(NOW)
    store = TransactionStore.open(tmp_path / "t.db", clock=clock)
    tx_id = paid_on(store, clock, NOW - timedelta(days=500))
    clock.now = NOW
    archive = SpyArchive(store, clock)
    archive.fail = True
    passes: list[PassResult] = []
    keeper = RetentionKeeper(archive, lanes, loop, retention_days=400, clock=clock, on_pass=passes.append)
    try:
        keeper.start()
        loop.run_until(lambda: "archive pass failed" in caplog.text)
        assert "disk full" in caplog.text
        assert store.get(tx_id).state is TxState.PAID  # still live
        archive.fail = False
        loop.advance(DAY_S)
        loop.run_until(lambda: len(passes) == 1)
        assert passes[0].archived == 1
    finally:
        keeper.stop()
        store.close()


def test_retention_zero_keeps_everything_live(tmp_path: Path, runner: tuple[ManualLoop, Runner]) -> None:
    loop, lanes = runner
    clock = Clock(NOW)
    store = TransactionStore.open(tmp_path / "t.db", clock=clock)
    tx_id = paid_on(store, clock, NOW - timedelta(days=5000))
    archive = SpyArchive(store, clock)
    keeper = RetentionKeeper(archive, lanes, loop, retention_days=0, clock=clock)
    try:
        keeper.start()
        assert not keeper.enabled
        loop.advance(10 * DAY_S)
        lanes.shutdown(wait=True)  # and any pass it queued has run
        assert archive.threads == []
        assert store.get(tx_id).state is TxState.PAID
        assert archive.files() == []
    finally:
        keeper.stop()
        store.close()
