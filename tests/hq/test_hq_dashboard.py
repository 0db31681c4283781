"""Operator login and the fleet dashboard's pages and forms; /metrics. Terminals cannot use the dashboard and
operators cannot pose as terminals."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from fleet_helpers import SignedClient, register_terminal, signed_headers
from hq_helpers import NOW, FakeClock
from sqlalchemy import select

from hq import commands
from hq.context import hq_context
from hq.db import read_session
from hq.fleet_context import fleet_context
from hq.fleet_models import OperatorLoginFailure
from hq.operators import COOKIE_NAME, add_operator, hash_password, set_disabled, set_password, verify_password

PASSWORD = "correct horse battery"


@pytest.fixture
def client(make_client: Callable[..., TestClient], sqlite_url: str, clock: FakeClock) -> TestClient:
    client = make_client(sqlite_url)
    add_operator(hq_context(client.app).sessions, "alice", PASSWORD, clock())  # type: ignore[arg-type]
    return client


def _login(client: TestClient, password: str = PASSWORD, next_: str = "/fleet") -> object:
    return client.post("/fleet/login", content=f"username=alice&password={password}&next={next_}",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)


def _form_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no form token on the page"
    return match.group(1)


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("s3cret-password"), hash_password("s3cret-password")
    assert first.startswith("scrypt$") and first != second and "s3cret" not in first
    assert verify_password("s3cret-password", first) and not verify_password("s3cret-passwore", first)
    assert not verify_password("x", "garbage")


def test_the_dashboard_asks_for_a_login(client: TestClient) -> None:
    answer = client.get("/fleet", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/fleet/login?next=%2Ffleet"
    assert "运营人员登录" in client.get("/fleet/login").text


def test_wrong_password_then_right_one(client: TestClient) -> None:
    wrong = _login(client, "wrong password!")
    assert wrong.status_code == 401 and "login-error" in wrong.text  # type: ignore[attr-defined]
    right = _login(client, next_="/fleet?show=attention")
    assert right.status_code == 303 and right.headers["location"] == "/fleet?show=attention"  # type: ignore[attr-defined]
    cookie = right.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/fleet").status_code == 200


def test_no_open_redirect_after_login(client: TestClient) -> None:
    assert _login(client, next_="https://evil.example/").headers["location"] == "/fleet"  # type: ignore[attr-defined]


@pytest.fixture
def throttled_apps(make_client: Callable[..., TestClient], db_url: str,
                   clock: FakeClock) -> tuple[TestClient, TestClient]:
    """Two apps on one database (SQLite and PostgreSQL), as two HQ processes: the login throttle is shared."""
    first, second = make_client(db_url), make_client(db_url)
    add_operator(hq_context(first.app).sessions, "alice", PASSWORD, clock())  # type: ignore[arg-type]
    return first, second


def _status(client: TestClient, password: str = PASSWORD) -> int:
    return _login(client, password).status_code  # type: ignore[attr-defined]


def _failure_rows(client: TestClient) -> list[tuple[str, datetime]]:
    with read_session(hq_context(client.app).sessions) as session:  # type: ignore[arg-type]
        rows = session.execute(select(OperatorLoginFailure.username, OperatorLoginFailure.failed_at))
        return sorted((name, at) for name, at in rows)


def test_guessing_is_slowed_down(throttled_apps: tuple[TestClient, TestClient]) -> None:
    client, _ = throttled_apps
    for _ in range(5):
        assert _status(client, "wrong password!") == 401
    blocked = _login(client)
    assert blocked.status_code == 429 and "login-error" in blocked.text  # type: ignore[attr-defined]  # even the right one
    assert fleet_context(client.app).counters.snapshot()["operator_login_failed"] == 5  # type: ignore[arg-type]


def test_the_throttle_is_shared_by_every_process_on_the_database(
    throttled_apps: tuple[TestClient, TestClient],
) -> None:
    first, second = throttled_apps
    for _ in range(5):
        assert _status(first, "wrong password!") == 401
    assert _status(second) == 429  # another process (or this one after a restart) refuses too
    assert _status(second, "wrong password!") == 429
    assert _login(second).status_code == 429  # type: ignore[attr-defined]
    assert len(_failure_rows(first)) == 5  # refused logins are not recorded: they never reached the password


def test_failures_age_out_after_the_window(throttled_apps: tuple[TestClient, TestClient], clock: FakeClock) -> None:
    first, second = throttled_apps
    for _ in range(4):
        assert _status(first, "wrong password!") == 401
    clock.advance(seconds=100)
    assert _status(second, "wrong password!") == 401  # the fifth, 100 s after the first four
    assert _status(first) == 429
    clock.advance(seconds=199)
    assert _status(second) == 429  # 299 s after the first four: still five within the window
    clock.advance(seconds=1)
    assert _status(first, "wrong password!") == 401  # the first four aged out: one failure left in the window
    # Recording that failure pruned the four that aged out.
    assert [at for _, at in _failure_rows(first)] == [NOW + timedelta(seconds=100), NOW + timedelta(seconds=300)]
    assert _status(second, "wrong password!") == 401
    assert _status(first) == 303


def test_a_success_clears_the_failures(throttled_apps: tuple[TestClient, TestClient]) -> None:
    first, second = throttled_apps
    for _ in range(4):
        assert _status(first, "wrong password!") == 401
    assert _status(second) == 303
    assert _failure_rows(first) == []
    for _ in range(5):  # five more tries, not one
        assert _status(first, "wrong password!") == 401
    assert _status(second) == 429


def test_the_throttle_is_per_name(throttled_apps: tuple[TestClient, TestClient], clock: FakeClock) -> None:
    first, second = throttled_apps
    add_operator(hq_context(first.app).sessions, "bob", PASSWORD, clock())  # type: ignore[arg-type]
    for _ in range(5):
        assert _status(first, "wrong password!") == 401
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bob = second.post("/fleet/login", content=f"username=bob&password={PASSWORD}", headers=form,
                      follow_redirects=False)
    assert bob.status_code == 303 and _status(second) == 429
    # A name no operator can have (too long for the table, or with a NUL PostgreSQL refuses) is just wrong.
    for name in ("x" * 200, "eve%00"):
        for _ in range(6):
            odd = second.post("/fleet/login", content=f"username={name}&password=guess", headers=form,
                              follow_redirects=False)
            assert odd.status_code == 401
    assert {name for name, _ in _failure_rows(first)} == {"alice"}


def test_a_forged_or_stale_cookie_is_worth_nothing(client: TestClient, clock: FakeClock) -> None:
    _login(client)
    good = client.cookies[COOKIE_NAME]
    body, mac = good.split(".")
    client.cookies.set(COOKIE_NAME, body + "x." + mac, path="/fleet")
    assert client.get("/fleet", follow_redirects=False).status_code == 303
    client.cookies.set(COOKIE_NAME, good, path="/fleet")
    assert client.get("/fleet", follow_redirects=False).status_code == 200
    set_password(hq_context(client.app).sessions, "alice", "another long password", clock())  # type: ignore[arg-type]
    assert client.get("/fleet", follow_redirects=False).status_code == 303  # a new password ends sessions


def test_sessions_expire_and_disabled_operators_are_out(client: TestClient, clock: FakeClock) -> None:
    _login(client)
    clock.advance(hours=13)
    assert client.get("/fleet", follow_redirects=False).status_code == 303
    clock.advance(hours=-13)
    assert client.get("/fleet", follow_redirects=False).status_code == 200
    set_disabled(hq_context(client.app).sessions, "alice", True)  # type: ignore[arg-type]
    assert client.get("/fleet", follow_redirects=False).status_code == 303
    assert _login(client).status_code == 401  # type: ignore[attr-defined]


def test_terminals_cannot_use_the_dashboard(client: TestClient, clock: FakeClock) -> None:
    secret = register_terminal(client, "T-0001")
    _login(client)  # even with an operator's cookie in the jar
    answer = client.get("/fleet", headers=signed_headers("T-0001", secret, "GET", "/fleet", at=clock()))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "operators_only"


def test_operators_cannot_pose_as_terminals(make_client: Callable[..., TestClient], sqlite_url: str,
                                            clock: FakeClock) -> None:
    strict = make_client(sqlite_url, require_signatures=True)
    add_operator(hq_context(strict.app).sessions, "alice", PASSWORD, clock())  # type: ignore[arg-type]
    register_terminal(strict, "T-0001")
    _login(strict)
    assert strict.get("/fleet").status_code == 200
    for answer in (strict.post("/api/v1/terminals/T-0001/heartbeat", json={}),
                   strict.post("/api/v1/identify", json={"method": "card", "value": "04A1B2C3D4"})):
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "signature_missing"


def test_commands_from_the_terminal_page(client: TestClient, clock: FakeClock) -> None:
    t1 = SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)
    t1.beat()
    _login(client)
    page = client.get("/fleet/terminals/T-0001")
    assert page.status_code == 200 and 'data-kind="out_of_service"' in page.text
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = client.post("/fleet/terminals/T-0001/commands", content="kind=out_of_service&token=forged",
                         headers=form, follow_redirects=False)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "bad_form_token"
    issued = client.post("/fleet/terminals/T-0001/commands",
                         content=f"kind=out_of_service&token={_form_token(page.text)}", headers=form,
                         follow_redirects=False)
    assert issued.status_code == 303
    command_id = int(issued.headers["location"].rsplit("=", 1)[1])
    assert [c["id"] for c in t1.beat().json()["commands"]] == [command_id]
    t1.beat(acks=[{"id": command_id, "status": "done", "detail": "out of service", "log": None}],
            out_of_service=True)
    page = client.get("/fleet/terminals/T-0001").text
    assert f'data-command="{command_id}" data-status="done"' in page and "alice" in page
    unknown = client.post("/fleet/terminals/T-0001/commands", content=f"kind=format&token={_form_token(page)}",
                          headers=form, follow_redirects=False)
    assert unknown.status_code == 422


def test_the_sent_log_can_be_read(client: TestClient, clock: FakeClock) -> None:
    t1 = SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)
    command = commands.issue(hq_context(client.app).sessions, "T-0001", "send_log", "alice", clock(),  # type: ignore[arg-type]
                             timedelta(hours=1))
    t1.beat()
    t1.beat(acks=[{"id": command.id, "status": "done", "detail": "2 log lines sent", "log": "one\ntwo"}])
    _login(client)
    answer = client.get(f"/fleet/commands/{command.id}/log")
    assert answer.status_code == 200 and answer.text == "one\ntwo"


def test_the_fleet_page_shows_state_and_filters(client: TestClient, clock: FakeClock) -> None:
    register_terminal(client, "T-0001")  # never seen
    t2 = SignedClient(client, "T-0002", register_terminal(client, "T-0002"), clock)
    t2.beat(devices=[{"kind": "receipt_printer", "state": "online", "paper": "out", "action": "none"}])
    _login(client)
    page = client.get("/fleet").text
    assert '<meta http-equiv="refresh"' in page
    assert 'data-terminal="T-0002" data-state="online" data-paper="out"' in page
    assert 'data-terminal="T-0001" data-state="never_seen"' in page
    assert 'class="alert" data-reason="paper_out" data-terminal="T-0002"' in page
    paper = client.get("/fleet?show=paper").text
    assert 'data-terminal="T-0002"' in paper and 'data-terminal="T-0001"' not in paper


def test_metrics_exposition(client: TestClient, clock: FakeClock) -> None:
    t1 = SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)
    t1.beat(queue={"waiting": 3, "needs_attention": 1, "oldest_age_s": 20.0})
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    assert 'kiosk_terminals{state="online"} 1' in text
    assert 'kiosk_terminal_queue_waiting{terminal="T-0001"} 3' in text
    assert 'kiosk_terminals_needing_someone{reason="needs_attention"} 1' in text
    assert re.search(r'kiosk_payments_total\{service="electricity",status="paid"\} \d+', text)
    assert 'kiosk_payment_success_ratio{service="electricity"}' in text
    assert "kiosk_hq_heartbeats_received_total 1" in text
    for line in text.splitlines():  # every sample line is name{labels} value
        assert line.startswith("#") or re.fullmatch(r'[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+', line), line


def test_metrics_token(make_client: Callable[..., TestClient], sqlite_url: str) -> None:
    client = make_client(sqlite_url, metrics_token="s3cret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
