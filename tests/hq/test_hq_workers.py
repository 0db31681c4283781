"""`kiosk-hq serve --workers 2` as a real process: two workers on one port and one database that refuse a nonce
replayed at either, add up their counters, answer a long poll from a payment taken by either, replace a worker
that dies, and stop cleanly."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
import requests
from fleet_helpers import beat_body, signed_headers
from hq_helpers import ORDER_BODY, new_key, until

from hq.db import create_engine_for, make_session_factory
from hq.models import Base
from hq.secret_box import SecretBox, load_master_key
from hq.seed import seed_demo
from hq.terminals import register
from hq.workers import STABLE_S, WorkerPlan, _Slot, serve

ROOT = Path(__file__).parents[2]
TERMINAL = "T-0001"
CARD = {"method": "card", "value": "04A1B2C3D4"}


def children(pid: int) -> set[int]:
    """The live worker processes of ``pid``, from /proc (not multiprocessing's resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
            if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in cmdline:
                found.add(int(entry.name))
    return found


def run_dirs() -> set[Path]:
    shm = Path("/dev/shm")
    return set(shm.glob("kiosk-hq-*")) if shm.is_dir() else set()


class Hq:
    def __init__(self, url: str, process: subprocess.Popen[str], secret: str) -> None:
        self.url = url
        self.process = process
        self.secret = secret
        self.run_dir: Path | None = None  # the one its workers share, in /dev/shm

    def signed(self, method: str, path: str, body: object = None, nonce: str | None = None,
               headers: dict[str, str] | None = None) -> requests.Response:
        """One signed request on a connection of its own, so successive requests may reach either worker."""
        raw = b"" if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {}),
                **signed_headers(TERMINAL, self.secret, method, path, raw, at=datetime.now(UTC), nonce=nonce)}
        return requests.request(method, self.url + path, data=raw, headers=sent, timeout=30)

    def signed_on(self, conn: http.client.HTTPConnection, method: str, path: str, body: object = None,
                  nonce: str | None = None) -> http.client.HTTPResponse:
        """One signed request on connection ``conn``."""
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json",
                   **signed_headers(TERMINAL, self.secret, method, path, raw, at=datetime.now(UTC), nonce=nonce)}
        conn.request(method, path, body=raw, headers=headers)
        return conn.getresponse()

    def connection_to_each_worker(self) -> dict[int, http.client.HTTPConnection]:
        """An open connection accepted by each worker: which worker accepted one is read from /proc."""
        workers = children(self.process.pid)
        found: dict[int, http.client.HTTPConnection] = {}
        for _ in range(20):  # bursts of connections, until both workers have accepted one
            burst = [http.client.HTTPConnection(self.url.removeprefix("http://"), timeout=30) for _ in range(8)]
            for conn in burst:
                conn.connect()
            for conn in burst:
                worker = _accepted_by(conn, workers)
                if worker in found:
                    conn.close()
                else:
                    found[worker] = conn
            if len(found) == len(workers):
                return found
        raise AssertionError(f"20 bursts of connections all went to workers {sorted(found)} of {sorted(workers)}")

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/v1/health", timeout=2).ok
        except requests.RequestException:
            return False


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[Hq]:
    db = f"sqlite:///{tmp_path / 'hq.db'}"
    key_file = tmp_path / "hq.key"
    engine = create_engine_for(db)
    Base.metadata.create_all(engine)
    seed_demo(engine, datetime.now(UTC))
    secret = register(make_session_factory(engine), SecretBox(load_master_key(key_file, create=True)), TERMINAL,
                      datetime.now(UTC)).secret
    engine.dispose()
    dirs_before = run_dirs()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "hq.cli", "serve", "--db", db, "--port", str(port), "--key-file", str(key_file),
         "--workers", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    server = Hq(f"http://127.0.0.1:{port}", process, secret)
    try:
        until(lambda: process.poll() is not None or (server.healthy() and len(children(process.pid)) == 2),
              timeout=30, what="two workers serving")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        server.run_dir = next(iter(run_dirs() - dirs_before), None)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def test_a_nonce_used_at_one_worker_is_refused_at_the_other(hq: Hq) -> None:
    first, other = hq.connection_to_each_worker().values()
    assert hq.signed_on(first, "POST", "/api/v1/identify", CARD, nonce="replayed-nonce-00001").status == 200
    again = hq.signed_on(other, "POST", "/api/v1/identify", CARD, nonce="replayed-nonce-00001")
    assert again.status == 401 and json.loads(again.read())["error"]["code"] == "nonce_reused"


def test_metrics_add_up_the_workers_counters(hq: Hq) -> None:
    connections = list(hq.connection_to_each_worker().values())
    for conn in connections:
        for _ in range(5):
            answer = hq.signed_on(conn, "POST", f"/api/v1/terminals/{TERMINAL}/heartbeat", beat_body())
            assert answer.status == 200, answer.read()
            answer.read()
    for conn in connections:
        conn.request("GET", "/metrics")
        assert "kiosk_hq_heartbeats_received_total 10\n" in conn.getresponse().read().decode()


def test_a_long_poll_answers_a_payment_taken_by_either_worker(hq: Hq) -> None:
    created = hq.signed("POST", "/api/v1/orders", ORDER_BODY, headers={"Idempotency-Key": new_key()})
    assert created.status_code == 201, created.text
    order_no = created.json()["order_no"]
    answers: list[requests.Response] = []
    poll = threading.Thread(target=lambda: answers.append(
        hq.signed("GET", f"/api/v1/orders/{order_no}?wait_s=20&seen_status=awaiting_payment")))
    poll.start()
    paid = requests.post(f"{hq.url}/sandbox/checkout/{order_no}/pay", headers={"Accept": "application/json"},
                         timeout=10)
    assert paid.ok, paid.text
    poll.join(25)
    assert answers and answers[0].json()["status"] == "paid"


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(hq: Hq) -> None:
    """Killed soon after they started, a worker and then its replacement are replaced after 1 s and then 2 s."""
    def replaced(before: set[int]) -> bool:
        return len(children(hq.process.pid) - before) == 1 and hq.healthy()

    victim = min(children(hq.process.pid))
    for _ in range(2):
        before = children(hq.process.pid)
        os.kill(victim, signal.SIGKILL)
        until(partial(replaced, before), timeout=30, what="a replacement worker")
        (victim,) = children(hq.process.pid) - before  # the replacement is the next to die
    assert hq.signed("POST", "/api/v1/identify", CARD).status_code == 200
    assert hq.run_dir is not None and hq.run_dir.is_dir()
    hq.process.send_signal(signal.SIGTERM)
    assert hq.process.wait(30) == 0
    assert children(hq.process.pid) == set()
    assert not hq.run_dir.exists()
    assert hq.process.stderr is not None
    said = [line for line in hq.process.stderr.read().splitlines() if "starting another" in line]
    assert [line.rsplit("starting another", 1)[1] for line in said] == [" in 1 s", " in 2 s"], said


def test_the_wait_before_a_replacement_doubles_while_workers_die_young() -> None:
    slot = _Slot(process=None, started=0.0)  # type: ignore[arg-type]  # the process plays no part here
    waits = []
    for _ in range(8):
        waits.append(slot.schedule_restart(slot.started + 5.0))  # died 5 s after it started
        slot.started = slot.restart_at or 0.0
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert slot.schedule_restart(slot.started + STABLE_S) == 0.0  # had served a while: at once, and afresh
    slot.started = 1000.0
    assert slot.schedule_restart(1001.0) == 1.0


def _accepted_by(conn: http.client.HTTPConnection, workers: set[int], timeout: float = 10.0) -> int:
    """The worker holding the server side of ``conn``, once one has accepted it."""
    deadline = time.monotonic() + timeout
    while (holder := _holder(conn, workers)) is None:
        assert time.monotonic() < deadline, "no worker accepted the connection"
        time.sleep(0.01)
    return holder


def _holder(conn: http.client.HTTPConnection, workers: set[int]) -> int | None:
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    server_port = conn.sock.getpeername()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            inode = fields[9]
    if inode is None or inode == "0":
        return None
    for pid in workers:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_workers_stop_when_the_parent_is_killed_outright(hq: Hq) -> None:
    workers = children(hq.process.pid)
    hq.process.kill()  # SIGKILL: the parent cannot stop them itself
    hq.process.wait(10)
    until(lambda: not any(_alive(pid) for pid in workers), timeout=30, what="orphaned workers gone")
    assert not hq.healthy()


def test_a_worker_that_cannot_start_stops_the_command(tmp_path: Path) -> None:
    plan = WorkerPlan(db_url="nosuchdriver://x", public_url=None, confirm_delay=timedelta(seconds=20),
                      require_signatures=True, master_key=b"k" * 32, metrics_token=None,
                      server={"log_level": "warning"})
    assert serve(plan, "127.0.0.1", 0, 2) == 1
