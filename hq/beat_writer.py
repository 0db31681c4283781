"""Heartbeats written on one thread, many to a transaction (group commit), with set-based statements.

A beat is HQ's most frequent write and each is small; one commit each would spend most of HQ's time on
transaction overhead and, on SQLite, on the write lock and fsync. The route hands the beat to this writer and
awaits its answer. The writer takes every beat waiting (up to ``max_batch``) and writes them all with
``write_all(session, items)``, a few statements for the whole batch, then commits once. If that fails, it rolls
back and writes the batch again one item at a time, each in its own savepoint, so that the item at fault fails
alone and the others are stored. An item is answered only after its commit: the answers of a batch reach each
event loop waiting for them in one callback, not one wake-up per item.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from hq.context import HqContext
from hq.db import write_session

log = logging.getLogger(__name__)

MAX_BATCH = 200

Item = TypeVar("Item")
WriteAll = Callable[[Session, list[Any]], list[Any]]


@dataclass
class _Job(Generic[Item]):
    item: Item
    done: Future[Any] | asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop | None = None  # the loop of ``done`` when it is an asyncio future


class BeatWriter(Generic[Item]):
    """One daemon thread that writes queued items in shared transactions; started with the first item.

    ``write_all(session, items)`` writes a batch in ``session`` (the writer commits) and returns one result per
    item, in order.
    """

    def __init__(self, ctx: HqContext, write_all: WriteAll, max_batch: int = MAX_BATCH) -> None:
        self._ctx = ctx
        self._write_all = write_all
        self._max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Job[Item]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.written = 0
        self.retried = 0  # batches written again item by item after the whole batch failed

    def submit(self, item: Item) -> Future[Any]:
        """Queue ``item``; the future holds its result once committed (or its exception)."""
        done: Future[Any] = Future()
        self._put(_Job(item, done))
        return done

    async def write(self, item: Item) -> Any:
        """Queue ``item`` and wait, in the event loop, for its result once committed (or its exception)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        self._put(_Job(item, done, loop))
        return await done

    def _put(self, job: _Job[Item]) -> None:
        self._jobs.put(job)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hq-beat-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            if not self._together(batch):
                self.retried += 1
                self._one_by_one(batch)

    def _together(self, batch: list[_Job[Item]]) -> bool:
        """Write the batch in one go; False (rolled back) if anything failed."""
        try:
            with write_session(self._ctx.sessions) as session:
                results = self._write_all(session, [job.item for job in batch])
                session.commit()
        except Exception:
            log.debug("batch of %d beats failed as a whole; writing them one by one", len(batch), exc_info=True)
            return False
        self._count(batch)
        _settle([(job, True, result) for job, result in zip(batch, results, strict=True)])
        return True

    def _one_by_one(self, batch: list[_Job[Item]]) -> None:
        outcomes: list[tuple[_Job[Item], bool, Any]] = []
        try:
            with write_session(self._ctx.sessions) as session:
                for job in batch:
                    try:
                        with session.begin_nested():
                            outcomes.append((job, True, self._write_all(session, [job.item])[0]))
                    except Exception as exc:  # this item fails alone; its savepoint is rolled back
                        outcomes.append((job, False, exc))
                session.commit()
        except Exception as exc:  # the commit itself: no item of the batch was stored
            log.exception("heartbeat batch of %d not committed", len(batch))
            _settle([(job, False, exc) for job in batch])
            return
        self._count(batch)
        _settle(outcomes)

    def _count(self, batch: list[_Job[Item]]) -> None:
        self.batches += 1
        self.written += len(batch)


Outcome = tuple[_Job[Any], bool, Any]  # the job, whether it succeeded, its result or exception


def _settle(outcomes: list[Outcome]) -> None:
    """Answer the jobs: a thread's future at once, a loop's futures in one callback in that loop."""
    by_loop: defaultdict[asyncio.AbstractEventLoop, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        loop = outcome[0].loop
        if loop is None:
            _set(outcome)
        else:
            by_loop[loop].append(outcome)
    for loop, theirs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_set_all, theirs)


def _set_all(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        _set(outcome)


def _set(outcome: Outcome) -> None:
    job, ok, value = outcome
    if job.done.done():  # the request waiting for it was cancelled (its client went away)
        return
    if ok:
        job.done.set_result(value)
    else:
        job.done.set_exception(value)
