"""hq/beat_writer.py: beats share a transaction, each in its own savepoint; a failing one fails alone."""

from __future__ import annotations

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


def note(body: str) -> Any:
    def write(session: Session) -> str:
        session.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body})
        return body
    return write


def notes(ctx: HqContext) -> list[str]:
    with ctx.engine.connect() as conn:
        return sorted(row[0] for row in conn.execute(text("SELECT body FROM note")))


def test_writes_waiting_together_share_one_commit_and_a_bad_one_fails_alone(ctx: HqContext) -> None:
    writer = BeatWriter(ctx)
    started, gate = threading.Event(), threading.Event()

    def hold(session: Session) -> bool:
        started.set()
        return gate.wait(10)

    # Hold the writer on a first job so that the next ones queue up and go in one batch.
    first = writer.submit(hold)
    assert started.wait(10)
    futures = [writer.submit(note("a")), writer.submit(note("a")), writer.submit(note("b"))]
    gate.set()
    assert first.result(10) is True
    assert futures[0].result(10) == "a" and futures[2].result(10) == "b"
    with pytest.raises(Exception, match="UNIQUE"):
        futures[1].result(10)  # the duplicate, rolled back to its savepoint
    assert notes(ctx) == ["a", "b"]
    assert writer.written == 4 and writer.batches == 2


def test_a_failed_commit_fails_every_write_of_the_batch(ctx: HqContext, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = BeatWriter(ctx)

    def refuse(self: Session) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Session, "commit", refuse)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.submit(note("c")).result(10)
    monkeypatch.undo()
    assert notes(ctx) == []
    assert writer.submit(note("d")).result(10) == "d"  # the writer lives on
    assert notes(ctx) == ["d"]
