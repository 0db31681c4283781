"""Terminal credentials kept in memory (hq/credentials.py): read once, and never trusted after a change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from fleet_helpers import SignedClient, register_terminal
from hq_helpers import FakeClock
from sqlalchemy import update

from hq.context import hq_context
from hq.credentials import CredentialCache
from hq.db import write_session
from hq.fleet_context import fleet_context
from hq.fleet_models import REVOKED, TerminalRecord
from hq.terminals import revoke, rotate

CARD = {"method": "card", "value": "04A1B2C3D4"}


@pytest.fixture
def t1(make_client: Callable[..., TestClient], db_url: str, clock: FakeClock) -> SignedClient:
    client = make_client(db_url, require_signatures=True)
    return SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)


def _cache(t1: SignedClient) -> CredentialCache:
    return fleet_context(t1.client.app).credentials  # type: ignore[arg-type]


def _code(response: object) -> str:
    return response.json()["error"]["code"]  # type: ignore[attr-defined, no-any-return]


def _revoke_behind_its_back(t1: SignedClient) -> None:
    """Revoke as another process would: straight in the database, with no announcement to this one."""
    with write_session(hq_context(t1.client.app).sessions) as session:  # type: ignore[arg-type]
        session.execute(update(TerminalRecord).where(TerminalRecord.id == "T-0001")
                        .values(status=REVOKED, revoked_at=t1.clock()))
        session.commit()


def test_the_credential_is_read_once_for_many_requests(t1: SignedClient) -> None:
    for _ in range(5):
        assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    assert _cache(t1).reads == 1


def test_a_revocation_in_this_process_is_refused_at_the_next_request(t1: SignedClient) -> None:
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    revoke(hq_context(t1.client.app).sessions, "T-0001", t1.clock())  # type: ignore[arg-type]
    answer = t1.request("POST", "/api/v1/identify", CARD)
    assert answer.status_code == 403 and _code(answer) == "terminal_revoked"


def test_a_rotation_in_this_process_retires_the_old_secret_at_once(t1: SignedClient) -> None:
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    new = rotate(hq_context(t1.client.app).sessions, fleet_context(t1.client.app).box,  # type: ignore[arg-type]
                 "T-0001", t1.clock()).secret
    answer = t1.request("POST", "/api/v1/identify", CARD)
    assert answer.status_code == 401 and _code(answer) == "signature_invalid"
    assert SignedClient(t1.client, "T-0001", new, t1.clock).request("POST", "/api/v1/identify", CARD).status_code == 200


def test_the_previous_secret_ends_with_its_grace_though_the_entry_is_kept(t1: SignedClient, clock: FakeClock) -> None:
    new = rotate(hq_context(t1.client.app).sessions, fleet_context(t1.client.app).box,  # type: ignore[arg-type]
                 "T-0001", clock(), grace=timedelta(minutes=10)).secret
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200  # the old secret, in its grace
    clock.advance(minutes=11)
    answer = t1.request("POST", "/api/v1/identify", CARD)
    assert answer.status_code == 401 and _code(answer) == "signature_invalid"
    assert SignedClient(t1.client, "T-0001", new, clock).request("POST", "/api/v1/identify", CARD).status_code == 200
    assert _cache(t1).reads == 1


def test_a_change_by_another_process_is_seen_by_the_sweep(t1: SignedClient) -> None:
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    _revoke_behind_its_back(t1)
    cache = _cache(t1)
    cache._next_sweep = 0.0  # the next request is the first after a second has passed
    answer = t1.request("POST", "/api/v1/identify", CARD)
    assert answer.status_code == 403 and _code(answer) == "terminal_revoked"
    assert cache.reads == 2


def test_until_the_sweep_the_kept_credential_is_used(t1: SignedClient) -> None:
    """What the second of delay means: the sweep, not each request, looks for changes made elsewhere."""
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    cache = _cache(t1)
    cache._next_sweep = float("inf")
    _revoke_behind_its_back(t1)
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 200
    cache._next_sweep = 0.0
    assert t1.request("POST", "/api/v1/identify", CARD).status_code == 403
