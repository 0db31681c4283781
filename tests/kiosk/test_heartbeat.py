"""The terminal's side of trust and the heartbeat, against the real HQ on loopback: signed requests, refusals
logged and kept for staff, and a heartbeat through an outage and back (tests/kiosk/fault_proxy.py)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import DROP, FaultProxy

from hq.context import hq_context
from hq.fleet import terminal_page
from hq.fleet_context import fleet_context
from hq.server import HqServer
from hq.terminals import revoke
from kiosk.heartbeat import HeartbeatWorker
from kiosk.hq_client import HqClient, HqError
from kiosk.remote_commands import RemoteCommands
from kiosk.signing import SecretFileError, TerminalSigner, TrustStatus, load_secret, signer_for
from kiosk.usage import UsageCounter

TERMINAL = "T-BEAT"


@pytest.fixture(scope="module")
def strict_hq() -> Iterator[HqServer]:
    with HqServer(require_signatures=True) as server:
        yield server


@pytest.fixture(scope="module")
def secret(strict_hq: HqServer) -> str:
    return strict_hq.register_terminal(TERMINAL)


def _report() -> dict[str, Any]:
    return {
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"), "software_version": "0.1.0",
        "out_of_service": False, "health": {"status": "ok", "problems": []},
        "devices": [{"kind": "receipt_printer", "state": "online", "paper": "ok", "action": "none"}],
        "queue": {"waiting": 0, "needs_attention": 0, "oldest_age_s": None}, "disk_free_bytes": 10**9,
    }


def _page(hq: HqServer, terminal_id: str = TERMINAL) -> Any:
    assert hq.app is not None
    return terminal_page(hq_context(hq.app).sessions, fleet_context(hq.app), terminal_id, datetime.now(UTC))


def test_signed_client_is_served_and_unsigned_refused(strict_hq: HqServer, secret: str) -> None:
    trust = TrustStatus()
    signed = HqClient(strict_hq.base_url, 1.0, 2.0, signer=TerminalSigner(TERMINAL, secret), trust=trust)
    assert signed.identify("card", "04A1B2C3D4").house_id == "h_3_2_501"
    unsigned = HqClient(strict_hq.base_url, 1.0, 2.0, trust=trust)
    with pytest.raises(HqError) as refused:
        unsigned.identify("card", "04A1B2C3D4")
    assert refused.value.status == 401 and refused.value.code == "signature_missing"
    assert trust.last_refusal is not None and trust.last_refusal.code == "signature_missing"
    signed.health()
    assert trust.last_refusal is None  # accepted again
    signed.close()
    unsigned.close()


def test_refusals_are_logged_once_with_advice(
    strict_hq: HqServer, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    trust = TrustStatus()
    slow_clock = HqClient(strict_hq.base_url, 1.0, 2.0, trust=trust,
                          signer=TerminalSigner(TERMINAL, secret, clock=lambda: datetime.now(UTC).timestamp() - 600))
    with caplog.at_level(logging.ERROR, logger="kiosk.signing"):
        for _ in range(3):
            with pytest.raises(HqError):
                slow_clock.identify("card", "04A1B2C3D4")
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(lines) == 1 and "timestamp_out_of_window" in lines[0] and "check NTP" in lines[0]
    refusal = trust.last_refusal
    assert refusal is not None and refusal.path == "POST /api/v1/identify"
    slow_clock.close()


def test_a_revoked_terminal_is_told_so(tmp_path: Path) -> None:
    with HqServer(require_signatures=True) as hq:
        trust = TrustStatus()
        client = HqClient(hq.base_url, 1.0, 2.0, signer=TerminalSigner("T-GONE", hq.register_terminal("T-GONE")),
                          trust=trust)
        client.health()
        assert hq.app is not None
        revoke(hq_context(hq.app).sessions, "T-GONE", datetime.now(UTC))
        with pytest.raises(HqError):
            client.identify("card", "04A1B2C3D4")
        assert trust.last_refusal is not None and trust.last_refusal.code == "terminal_revoked"
        assert "new registration" in trust.last_refusal.advice
        client.close()


def test_secret_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "secret"
    with pytest.raises(SecretFileError, match="not found"):
        load_secret(path)
    path.write_text("short\n")
    with pytest.raises(SecretFileError, match="does not hold a secret"):
        load_secret(path)
    path.write_text("A" * 43 + "\n")
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="kiosk.signing"):
        assert load_secret(path) == "A" * 43
    assert "chmod 600" in caplog.text
    trust = TrustStatus()
    assert signer_for("T-1", str(tmp_path / "missing"), trust) is None
    assert trust.secret_problem is not None and "not found" in trust.secret_problem
    assert signer_for("T-1", "", trust) is None


def test_heartbeat_through_an_outage_and_back(strict_hq: HqServer, secret: str) -> None:
    usage = UsageCounter()
    with FaultProxy(strict_hq.base_url) as proxy:
        client = HqClient(proxy.url, 0.5, 1.0, signer=TerminalSigner(TERMINAL, secret))
        worker = HeartbeatWorker(client, TERMINAL, 30.0, _report, RemoteCommands({}), usage)
        assert worker.run_once()
        usage.journey_started("card", "zh_CN", "standard")
        usage.journey_ended("paid")
        proxy.set_mode(DROP)
        assert not worker.run_once()
        usage.journey_started("house_code", "en", "elderly")
        usage.journey_ended("cancelled")
        assert not worker.run_once()  # missed beats cost nothing: no backlog, no retry
        status = worker.status
        assert status.beats_failed == 2 and status.cut_off_since == status.last_ok_at
        beats_before = len(_page(strict_hq).history)
        proxy.heal()
        assert worker.run_once()
        assert worker.status.cut_off_since is None
        client.close()
    page = _page(strict_hq)
    assert len(page.history) == beats_before + 1
    latest = page.history[0]
    assert latest.cut_off_s is not None and latest.cut_off_s >= 0
    assert page.view.last_cut_off_s == latest.cut_off_s
    # Both journeys reached HQ, once each, in the beat after the outage.
    assert page.counters["entry_journeys"] == {"card": 1.0, "house_code": 1.0}
    assert page.counters["mode"] == {"standard": 1.0, "elderly": 1.0}
    assert page.view.latency_ms is not None


class _Switch:
    """A client that goes to a dead address or to HQ, and keeps what each beat said."""

    def __init__(self, dead: HqClient, good: HqClient) -> None:
        self.dead, self.good, self.up = dead, good, False
        self.sent: list[dict[str, Any]] = []

    def heartbeat(self, terminal_id: str, report: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(report)
        return (self.good if self.up else self.dead).heartbeat(terminal_id, report)


def test_cut_off_reports_how_long(strict_hq: HqServer, secret: str) -> None:
    now = [datetime(2026, 11, 22, 3, 0, tzinfo=UTC)]
    signer = TerminalSigner(TERMINAL, secret)
    switch = _Switch(HqClient("http://127.0.0.1:9", 0.2, 0.2, signer=signer),
                     HqClient(strict_hq.base_url, 1.0, 2.0, signer=signer))
    worker = HeartbeatWorker(switch, TERMINAL, 30.0, _report, RemoteCommands({}), UsageCounter(),  # type: ignore[arg-type]
                             clock=lambda: now[0])
    assert not worker.run_once()  # never reached HQ since start: cut off from the first failure on
    now[0] += timedelta(seconds=95)
    switch.up = True
    assert worker.run_once()
    assert switch.sent[-1]["cut_off_s"] == 95.0
    now[0] += timedelta(seconds=30)
    assert worker.run_once()
    assert switch.sent[-1]["cut_off_s"] is None
    switch.dead.close()
    switch.good.close()


def test_the_worker_thread_beats_at_start_and_when_asked(strict_hq: HqServer, secret: str) -> None:
    import threading

    client = HqClient(strict_hq.base_url, 1.0, 2.0, signer=TerminalSigner(TERMINAL, secret))
    worker = HeartbeatWorker(client, TERMINAL, 3600.0, _report, RemoteCommands({}), UsageCounter())
    beats = threading.Semaphore(0)
    worker.add_listener(lambda delivered: beats.release())
    worker.start()
    try:
        assert beats.acquire(timeout=5)  # at once on start, not after an hour
        worker.beat_now()
        assert beats.acquire(timeout=5)
        assert worker.status.beats_ok == 2
    finally:
        worker.stop()
        client.close()
