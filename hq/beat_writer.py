"""Heartbeats written on one thread, many to a transaction (group commit).

A beat is HQ's most frequent write and each is small; one commit each would spend most of HQ's time on
transaction overhead and, on SQLite, on the write lock and fsync. The route hands the beat to this writer and
awaits its answer; the writer takes every beat waiting (up to ``max_batch``), writes each in its own savepoint,
so one that fails fails alone, and commits them together. A beat is answered only after its commit.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hq.context import HqContext
from hq.db import write_session

log = logging.getLogger(__name__)

MAX_BATCH = 200

Write = Callable[[Session], Any]


@dataclass
class _Job:
    write: Write
    done: Future[Any]


class BeatWriter:
    """One daemon thread that runs queued writes in shared transactions; started with the first write."""

    def __init__(self, ctx: HqContext, max_batch: int = MAX_BATCH) -> None:
        self._ctx = ctx
        self._max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.written = 0

    def submit(self, write: Write) -> Future[Any]:
        """Queue ``write(session)``; the future holds its result once committed (or its exception)."""
        job = _Job(write, Future())
        self._jobs.put(job)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hq-beat-writer", daemon=True)
                self._thread.start()
        return job.done

    def _run(self) -> None:
        while True:
            batch = [self._jobs.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, bool, Any]] = []
        try:
            with write_session(self._ctx.sessions) as session:
                for job in batch:
                    try:
                        with session.begin_nested():
                            outcomes.append((job, True, job.write(session)))
                    except Exception as exc:  # this beat fails alone; its savepoint is rolled back
                        outcomes.append((job, False, exc))
                session.commit()
        except Exception as exc:  # the commit itself: no beat of the batch was stored
            log.exception("heartbeat batch of %d not committed", len(batch))
            for job in batch:
                job.done.set_exception(exc)
            return
        self.batches += 1
        self.written += len(batch)
        for job, ok, value in outcomes:
            if ok:
                job.done.set_result(value)
            else:
                job.done.set_exception(value)
