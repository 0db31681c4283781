"""The heartbeat at HQ: latest state and history, offline after three missed intervals, counters, and remote
commands handed out, handed out again until acknowledged, recorded with their outcome (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from fleet_helpers import SignedClient, beat_body, register_terminal
from hq_helpers import FakeClock
from sqlalchemy import event, select

from hq import commands
from hq.beat_batches import BeatBatches
from hq.context import hq_context
from hq.db import read_session, write_session
from hq.fleet import OFFLINE, ONLINE, OUT_OF_SERVICE, alerts, fleet_views, select_views, terminal_page
from hq.fleet_context import fleet_context
from hq.fleet_models import TerminalBeat, TerminalCounter, TerminalStatus
from hq.fleet_schemas import HeartbeatIn


@pytest.fixture
def client(make_client: Callable[..., TestClient], db_url: str) -> TestClient:
    return make_client(db_url)


@pytest.fixture
def t1(client: TestClient, clock: FakeClock) -> SignedClient:
    return SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)


def _views(client: TestClient, clock: FakeClock) -> dict[str, object]:
    app = client.app
    return {v.id: v for v in fleet_views(hq_context(app).sessions, fleet_context(app), clock())}  # type: ignore[arg-type]


def _issue(client: TestClient, clock: FakeClock, kind: str, terminal_id: str = "T-0001") -> int:
    command = commands.issue(hq_context(client.app).sessions, terminal_id, kind, "alice", clock(),  # type: ignore[arg-type]
                             timedelta(hours=1))
    return command.id


def test_a_heartbeat_needs_a_signature_even_when_others_do_not(client: TestClient, t1: SignedClient) -> None:
    answer = client.post("/api/v1/terminals/T-0001/heartbeat", json={})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "signature_missing"


def test_the_latest_state_and_the_history_are_kept(client: TestClient, t1: SignedClient, clock: FakeClock) -> None:
    answer = t1.beat()
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"server_time": "2026-11-22T03:00:00+00:00", "commands": []}
    clock.advance(seconds=30)
    printer = {"kind": "receipt_printer", "state": "offline", "paper": "out", "action": "maintenance"}
    t1.beat(devices=[printer], queue={"waiting": 2, "needs_attention": 1, "oldest_age_s": 95.0},
            health={"status": "degraded", "problems": ["paper_out"]}, cut_off_s=120.0)
    view = _views(client, clock)["T-0001"]
    assert view.state == ONLINE and view.paper == "out" and view.devices_in_error == 1  # type: ignore[attr-defined]
    assert view.reasons == ["paper_out", "device_error", "needs_attention"]  # type: ignore[attr-defined]
    page = terminal_page(hq_context(client.app).sessions, fleet_context(client.app), "T-0001", clock())  # type: ignore[arg-type]
    assert page is not None
    assert [b.paper for b in page.history] == ["out", "ok"]  # newest first
    assert page.view.last_cut_off_s == 120.0
    assert [a.reason for a in alerts(list(_views(client, clock).values()))] == [  # type: ignore[arg-type]
        "paper_out", "needs_attention", "device_error"]


def test_offline_after_three_missed_intervals(client: TestClient, t1: SignedClient, clock: FakeClock) -> None:
    register_terminal(client, "T-0002")
    t1.beat(interval_s=10.0)
    clock.advance(seconds=30)
    assert _views(client, clock)["T-0001"].state == ONLINE  # type: ignore[attr-defined]
    clock.advance(seconds=1)
    views = _views(client, clock)
    assert views["T-0001"].state == OFFLINE  # type: ignore[attr-defined]
    assert views["T-0002"].state == "never_seen"  # type: ignore[attr-defined]
    assert [v.id for v in select_views(list(views.values()), "offline")] == ["T-0001", "T-0002"]  # type: ignore[arg-type]
    t1.beat(out_of_service=True, interval_s=10.0)
    assert _views(client, clock)["T-0001"].state == OUT_OF_SERVICE  # type: ignore[attr-defined]


def test_counts_add_up_across_beats(client: TestClient, t1: SignedClient) -> None:
    counts = {"languages": {"zh_CN": 2}, "modes": {"elderly": 1, "standard": 1}, "results": {"paid": 2},
              "entries": {"card": {"journeys": 2, "paid": 2, "seconds": 30.5}}}
    t1.beat(counts=counts)
    t1.beat(counts={"entries": {"card": {"journeys": 1, "paid": 0, "seconds": 9.5}}, "languages": {"en": 1}})
    page = terminal_page(hq_context(client.app).sessions, fleet_context(client.app), "T-0001", t1.clock())  # type: ignore[arg-type]
    assert page is not None
    assert page.counters["entry_journeys"] == {"card": 3.0}
    assert page.counters["entry_seconds"] == {"card": 40.0}
    assert page.counters["language"] == {"zh_CN": 2.0, "en": 1.0}
    metrics = t1.client.get("/metrics").text
    assert 'kiosk_journey_average_seconds{entry="card"} 13.333' in metrics
    assert 'kiosk_journeys_by_mode_total{mode="elderly"} 1' in metrics


def test_commands_are_handed_out_until_acknowledged(client: TestClient, t1: SignedClient, clock: FakeClock) -> None:
    first = _issue(client, clock, "print_test_receipt")
    second = _issue(client, clock, "send_log")
    answer = t1.beat().json()
    assert [(c["id"], c["kind"]) for c in answer["commands"]] == [(first, "print_test_receipt"), (second, "send_log")]
    # The answer was lost: the next beat acknowledges nothing, so both come again.
    assert [c["id"] for c in t1.beat().json()["commands"]] == [first, second]
    acks = [{"id": first, "status": "done", "detail": "test receipt printed"},
            {"id": second, "status": "failed", "detail": "no log", "log": "line 1\nline 2"}]
    assert t1.beat(acks=acks).json()["commands"] == []
    recorded = {c.id: c for c in commands.recent(hq_context(client.app).sessions, "T-0001")}  # type: ignore[arg-type]
    assert (recorded[first].status, recorded[first].detail, recorded[first].deliveries) == (
        "done", "test receipt printed", 2)
    assert (recorded[second].status, recorded[second].attachment) == ("failed", "line 1\nline 2")
    # A repeated acknowledgement changes nothing.
    t1.beat(acks=[{"id": first, "status": "failed", "detail": "again"}])
    assert commands.get(hq_context(client.app).sessions, first).status == "done"  # type: ignore[arg-type, union-attr]


def test_a_terminal_cannot_acknowledge_another_terminals_command(
    client: TestClient, t1: SignedClient, clock: FakeClock
) -> None:
    t2 = SignedClient(client, "T-0002", register_terminal(client, "T-0002"), clock)
    theirs = _issue(client, clock, "out_of_service", "T-0002")
    t1.beat(acks=[{"id": theirs, "status": "done"}])
    assert commands.get(hq_context(client.app).sessions, theirs).status == "pending"  # type: ignore[arg-type, union-attr]
    assert [c["id"] for c in t2.beat().json()["commands"]] == [theirs]


def test_commands_not_handed_out_in_time_expire(client: TestClient, t1: SignedClient, clock: FakeClock) -> None:
    stale = _issue(client, clock, "reload_config")
    clock.advance(hours=2)
    assert t1.beat().json()["commands"] == []
    assert commands.get(hq_context(client.app).sessions, stale).status == "expired"  # type: ignore[arg-type, union-attr]


def test_a_malformed_beat_is_refused_with_a_clear_code(t1: SignedClient) -> None:
    answer = t1.beat(interval_s=0)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"
    answer = t1.beat(acks=[{"id": 1, "status": "maybe"}])
    assert answer.status_code == 422
    assert t1.beat(unknown_field_from_a_newer_terminal=1).status_code == 200


def test_unknown_commands_cannot_be_issued(client: TestClient, clock: FakeClock) -> None:
    register_terminal(client, "T-0001")
    with pytest.raises(commands.CommandError):
        _issue(client, clock, "format_disk")
    with pytest.raises(commands.CommandError):
        _issue(client, clock, "send_log", "T-NOPE")


def test_a_batch_with_two_beats_of_a_new_terminal_and_a_command(client: TestClient, clock: FakeClock) -> None:
    """BeatBatches as the writer calls it: the set-based statements agree with beats written one by one."""
    for terminal_id in ("T-0001", "T-0002"):
        register_terminal(client, terminal_id)
    command_id = _issue(client, clock, "print_test_receipt", "T-0002")
    ctx, fleet = hq_context(client.app), fleet_context(client.app)  # type: ignore[arg-type]
    batch = BeatBatches(ctx, fleet)
    first, second = HeartbeatIn.model_validate(beat_body()), HeartbeatIn.model_validate(beat_body(
        health={"status": "degraded", "problems": ["paper_out"]}, cut_off_s=45.0, counts={"languages": {"en": 2}}))
    with write_session(ctx.sessions) as session:
        answers = batch(session, [("T-0001", first), ("T-0002", first), ("T-0001", second)])
        session.commit()
    assert answers[0] == [] and answers[2] == []
    assert [c.id for c in answers[1]] == [command_id]
    with read_session(ctx.sessions) as session:
        status = session.get(TerminalStatus, "T-0001")
        assert status is not None and status.beats == 2 and status.health == "degraded"
        assert status.last_cut_off_s == 45.0
        history = session.scalars(select(TerminalBeat.terminal_id).order_by(TerminalBeat.id)).all()
        assert history == ["T-0001", "T-0002", "T-0001"]
        counter = session.scalars(select(TerminalCounter).where(TerminalCounter.terminal_id == "T-0001")).one()
        assert (counter.name, counter.label, counter.value) == ("language", "en", 2.0)


def test_a_batch_updates_terminals_rows_in_terminal_order(client: TestClient) -> None:
    """Whatever order the beats came in: two workers' batches holding the same terminals then lock their rows in
    one order, where on PostgreSQL opposite orders deadlock (and a deadlocked batch is written again beat by beat).
    The latest states go in one statement."""
    for terminal_id in ("T-0001", "T-0002", "T-0003"):
        register_terminal(client, terminal_id)
    ctx, fleet = hq_context(client.app), fleet_context(client.app)  # type: ignore[arg-type]
    beat = HeartbeatIn.model_validate(beat_body(counts={"languages": {"en": 1}}))
    touched: dict[str, list[str]] = {"terminal_status": [], "terminal_counter": []}
    status_statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, parameters: object, *_rest: object) -> None:
        table = next((t for t in touched if f"INTO {t.upper()}" in statement.upper()
                      or f"UPDATE {t.upper()}" in statement.upper()), None)
        if table == "terminal_status":
            status_statements.append("executemany" if isinstance(parameters, list) else "one statement")
        if table is not None:
            rows = parameters if isinstance(parameters, list) else [parameters]
            touched[table].extend(str(value) for row in rows for value in (
                row.values() if isinstance(row, dict) else row) if str(value).startswith("T-"))

    event.listen(ctx.engine, "before_cursor_execute", note)
    try:
        with write_session(ctx.sessions) as session:
            BeatBatches(ctx, fleet)(session, [("T-0003", beat), ("T-0001", beat), ("T-0002", beat)])
            session.commit()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", note)
    assert touched["terminal_status"] == ["T-0001", "T-0002", "T-0003"]
    assert touched["terminal_counter"] == ["T-0001", "T-0002", "T-0003"]
    # The latest states of the whole batch in one multi-row upsert, not sent to the driver as a list of rows
    # (which psycopg2 runs as one statement per row).
    assert status_statements == ["one statement"]


def test_history_past_its_retention_is_pruned_at_the_first_beat(
    client: TestClient, t1: SignedClient, clock: FakeClock
) -> None:
    assert t1.beat().status_code == 200
    clock.advance(days=8)
    client.app.state.beat_writer._write_all._pruned_at.clear()  # type: ignore[attr-defined]  # as after a restart
    assert t1.beat().status_code == 200
    page = terminal_page(hq_context(client.app).sessions, fleet_context(client.app), "T-0001", clock())  # type: ignore[arg-type]
    assert page is not None and len(page.history) == 1


def test_the_heartbeat_path_answers_other_methods_and_is_documented(client: TestClient) -> None:
    answer = client.get("/api/v1/terminals/T-0001/heartbeat")
    assert answer.status_code == 405 and answer.json()["error"]["code"] == "method_not_allowed"
    assert answer.headers["allow"] == "POST"
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/terminals/{terminal_id}/heartbeat"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HeartbeatIn"}
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"HeartbeatIn", "HeartbeatOut", "DeviceIn", "CommandOut", "ErrorOut"} <= set(schemas)
