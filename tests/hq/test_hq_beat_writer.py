"""hq/beat_writer.py: beats share a transaction; if the batch fails, each is written alone and a bad one fails alone."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from hq.beat_writer import BeatWriter
from hq.clock import utc_now
from hq.context import HqContext
from hq.db import create_engine_for, make_session_factory


@pytest.fixture
def ctx(sqlite_url: str) -> HqContext:
    engine = create_engine_for(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"))
    return HqContext(engine=engine, sessions=make_session_factory(engine), clock=utc_now, public_url=None,
                     order_ttl=timedelta(minutes=15))


class Notes:
    """A write_all that inserts one note per item, in one statement for the batch; "hold" waits on a gate."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.started, self.gate = threading.Event(), threading.Event()

    def __call__(self, session: Session, bodies: list[str]) -> list[Any]:
        self.calls.append(list(bodies))
        if bodies == ["hold"]:
            self.started.set()
            return [self.gate.wait(10)]
        session.execute(text("INSERT INTO note (body) VALUES (:b)"), [{"b": b} for b in bodies])
        return list(bodies)


def notes(ctx: HqContext) -> list[str]:
    with ctx.engine.connect() as conn:
        return sorted(row[0] for row in conn.execute(text("SELECT body FROM note")))


def _queued_behind_a_held_job(writer: BeatWriter[str], write: Notes, bodies: list[str]) -> list[Any]:
    """Hold the writer on a first job so that ``bodies`` queue up and go in one batch; their futures."""
    first = writer.submit("hold")
    assert write.started.wait(10)
    futures = [writer.submit(body) for body in bodies]
    write.gate.set()
    assert first.result(10) is True
    return futures


def test_writes_waiting_together_go_in_one_statement_and_one_commit(ctx: HqContext) -> None:
    write = Notes()
    writer: BeatWriter[str] = BeatWriter(ctx, write)
    futures = _queued_behind_a_held_job(writer, write, ["a", "b", "c"])
    assert [f.result(10) for f in futures] == ["a", "b", "c"]
    assert write.calls == [["hold"], ["a", "b", "c"]]
    assert notes(ctx) == ["a", "b", "c"]
    assert writer.written == 4 and writer.batches == 2 and writer.retried == 0


def test_when_the_batch_fails_each_is_written_alone_and_the_bad_one_fails_alone(ctx: HqContext) -> None:
    write = Notes()
    writer: BeatWriter[str] = BeatWriter(ctx, write)
    futures = _queued_behind_a_held_job(writer, write, ["a", "a", "b"])
    assert futures[0].result(10) == "a" and futures[2].result(10) == "b"
    with pytest.raises(Exception, match="UNIQUE"):
        futures[1].result(10)  # the duplicate, rolled back to its savepoint
    assert write.calls[1:] == [["a", "a", "b"], ["a"], ["a"], ["b"]]
    assert notes(ctx) == ["a", "b"]
    assert writer.retried == 1


def test_a_failed_commit_fails_every_write_of_the_batch(ctx: HqContext, monkeypatch: pytest.MonkeyPatch) -> None:
    writer: BeatWriter[str] = BeatWriter(ctx, Notes())

    def refuse(self: Session) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Session, "commit", refuse)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.submit("c").result(10)
    monkeypatch.undo()
    assert notes(ctx) == []
    assert writer.submit("d").result(10) == "d"  # the writer lives on
    assert notes(ctx) == ["d"]


def test_writes_awaited_in_an_event_loop_are_answered_with_one_wake_up_a_batch(ctx: HqContext) -> None:
    write = Notes()
    writer: BeatWriter[str] = BeatWriter(ctx, write)
    wake_ups = 0

    class CountingLoop(asyncio.SelectorEventLoop):
        def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:
            nonlocal wake_ups
            wake_ups += 1
            return super().call_soon_threadsafe(*args, **kwargs)

    async def main() -> list[Any]:
        first = asyncio.ensure_future(writer.write("hold"))
        await asyncio.get_running_loop().run_in_executor(None, write.started.wait, 10)
        rest = [asyncio.ensure_future(writer.write(body)) for body in ("x", "y", "z")]
        await asyncio.sleep(0)  # let the three reach the writer's queue before it is released
        write.gate.set()
        return [await first, *await asyncio.gather(*rest)]

    loop = CountingLoop()
    try:
        assert loop.run_until_complete(main()) == [True, "x", "y", "z"]
    finally:
        loop.close()
    assert write.calls == [["hold"], ["x", "y", "z"]]
    assert wake_ups == 3  # the executor's answer, then one for "hold" and one for x, y and z together
