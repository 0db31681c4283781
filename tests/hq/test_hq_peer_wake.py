"""Word between HQ worker processes that an order changed (hq.peer_wake), and two apps sharing a run directory:
a long poll waiting in one is answered when the other takes the payment, without waiting for its sweep."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hq_helpers import ORDER_BODY, new_key, until

from hq.app import close_app, create_app
from hq.context import hq_context
from hq.peer_wake import PeerWake


class Heard:
    """What one PeerWake handed on, with an event per arrival."""

    def __init__(self) -> None:
        self.orders: list[str] = []
        self.arrived = threading.Event()

    def __call__(self, order_no: str) -> None:
        self.orders.append(order_no)
        self.arrived.set()


@pytest.fixture
def wake_dir(tmp_path: Path) -> Path:
    return tmp_path / "wake"


def test_an_announcement_reaches_every_other_worker_and_not_the_sender(wake_dir: Path) -> None:
    heard = [Heard(), Heard(), Heard()]
    ends = [PeerWake(wake_dir, h) for h in heard]
    try:
        ends[0].announce("HQ20261207000001")
        assert heard[1].arrived.wait(5) and heard[2].arrived.wait(5)
        assert heard[1].orders == heard[2].orders == ["HQ20261207000001"]
        assert heard[0].orders == []
        assert ends[0].sent == 2
    finally:
        for end in ends:
            end.close()
    assert list(wake_dir.iterdir()) == []  # each removed its socket


def test_a_worker_gone_without_a_word_is_forgotten(wake_dir: Path) -> None:
    heard = Heard()
    alive = PeerWake(wake_dir, heard)
    gone = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    gone_path = wake_dir / "999999-dead.sock"
    gone.bind(str(gone_path))
    gone.close()  # as a killed worker leaves it: the file stays, nothing reads it
    sender = PeerWake(wake_dir, Heard())
    try:
        sender.announce("HQ1")
        assert heard.arrived.wait(5)
        assert not gone_path.exists()
    finally:
        alive.close()
        sender.close()


def test_a_failing_listener_does_not_stop_the_next_word(wake_dir: Path) -> None:
    heard = Heard()

    def listener(order_no: str) -> None:
        if order_no == "bad":
            raise RuntimeError("boom")
        heard(order_no)

    receiver = PeerWake(wake_dir, listener)
    sender = PeerWake(wake_dir, Heard())
    try:
        sender.announce("bad")
        sender.announce("HQ2")
        assert heard.arrived.wait(5)
        assert heard.orders == ["HQ2"]
    finally:
        receiver.close()
        sender.close()


@pytest.fixture
def two_workers(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one SQLite database and one run directory, as two workers of `kiosk-hq serve --workers 2`."""
    apps = [create_app(sqlite_url, "http://hq.test", run_dir=tmp_path / "run") for _ in range(2)]
    try:
        yield TestClient(apps[0]), TestClient(apps[1])
    finally:
        for app in apps:
            close_app(app)


def test_a_long_poll_in_one_worker_answers_when_another_takes_the_payment(
    two_workers: tuple[TestClient, TestClient],
) -> None:
    paying, polling = two_workers
    hq_context(polling.app).watch._recheck_s = 600  # type: ignore[arg-type]  # only the word can wake it in time
    resp = paying.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()})
    assert resp.status_code == 201, resp.text
    order_no = resp.json()["order_no"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        poll = pool.submit(polling.get, f"/api/v1/orders/{order_no}", params={"wait_s": 20})
        until(lambda: hq_context(polling.app).watch.waiting(order_no) == 1)  # type: ignore[arg-type]
        assert paying.post(f"/sandbox/checkout/{order_no}/pay", headers={"Accept": "application/json"}).is_success
        answer = poll.result(timeout=15)
    assert answer.status_code == 200
    assert answer.json()["status"] == "paid"  # unwoken, it would have answered "awaiting_payment" after 20 s
