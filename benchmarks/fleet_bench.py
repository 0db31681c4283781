"""The fleet against one HQ on loopback: heartbeats a second HQ takes, and the payment API's p99 under residents.

HQ runs in processes of its own (as in the field, where it is another machine), as `kiosk-hq serve --workers N`
runs it (hq.workers: a parent and N workers on one socket), signatures required, without access logs
(`--serve-hq`, a child of this script), on SQLite or on a throwaway PostgreSQL.

(a) **Heartbeats.** N real terminal cores (`kiosk.app.Terminal`: store, journey, outbox worker, heartbeat worker,
    fake devices) each registered at HQ with its own secret; their heartbeat workers are set to beat back to back
    (each as soon as HQ answers the previous one, from a driver thread per terminal calling the worker's own
    `run_once`), so HQ is saturated. Heartbeats a second = HQ's own counter
    (`kiosk_hq_heartbeats_received_total` on /metrics) over the measuring window. Also given: how many terminals
    that rate serves at the default 30 s interval.
(b) **Payment API under residents.** R simulated residents at once (asyncio on uvloop, one keep-alive connection
    each through benchmarks/light_http.py, since httpx cost more CPU per call than HQ; signed as the terminal they
    stand at), arriving one by one over 15 s, then counted for the step's duration. Each does what a person does
    at a terminal, with pauses: identify by card (pause 1-3 s before), the overview, choose an amount (pause
    2-5 s), create the order, then watch its status as the terminal does, with the long poll
    (``GET /api/v1/orders/{no}?wait_s=20&seen_status=...``, payment.long_poll_s): one call that HQ answers when
    the order is paid, while the resident pays on the phone after 2-6 s (the sandbox's pay, from a pool of "phone"
    connections, is not counted); read the result (pause 3-8 s), and the next resident steps up. Every terminal
    API call's latency, start to answer, counts in the p99, except the long poll's, which waits by design: its
    latency is from the phone's Pay to HQ's answer (how long the paid order takes to show on the terminal).
    ``--short-polls`` measures the terminal as it was before the long poll (payment.long_poll_s = 0): a status
    call every second while paying (2-6 of them), then one after the phone's pay. Stepped over several R; the
    largest R whose p99 stays under 2 s is reported.

The load generator shares this 2-core machine with HQ, so its own event-loop lag is in the latencies: the figures
are an upper bound of what HQ alone would show.

Run alone: .venv/bin/python benchmarks/fleet_bench.py [--terminals 40] [--window 10] [--residents 250,500,1000,2000]
           [--postgres] [--short-polls]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import pwd
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from bench_common import Row, dead_port, ms, now, pct, report
from light_http import LightConnection

from devices.base import CardReader, DeviceState, PaperState, QrScanner, Receipt, ReceiptPrinter
from hq.db import create_engine_for, make_session_factory
from hq.payment_codes import DEFAULT_CONFIRM_DELAY
from hq.secret_box import SecretBox, load_master_key
from hq.seed import DEMO_CARDS, seed_demo
from hq.signing import canonical_string, sign
from hq.terminals import register
from kiosk.config import config_from_mapping
from kiosk.tasks import ManualLoop

TARGET_BEATS_PER_S = 2000
# Keep-alive connections of the light heartbeat senders, each sending its next beat when the last is answered.
# With 64, HQ's workers used about 1.2 of the 2 cores: the senders waited on HQ's latency (a beat is answered once
# its batch commits) rather than on what HQ can take. 256 saturates it, as a fleet's independent beats would; the
# target is held against that figure, and 64's is kept for comparison with earlier runs.
BEAT_SENDERS = (64, 256)
TARGET_P99_S = 0.2
BRIEF_P99_S = 2.0
DEFAULT_RESIDENTS = "250,500,1000,2000"
RAMP_S = 15.0  # residents arrive over this long; calls are counted from its end
LONG_POLL_S = 20  # the terminal's payment.long_poll_s default
PHONES = 64  # keep-alive connections the residents' phones share to pay in the sandbox
FAILURES: list[str] = []  # what the failed calls answered, to say why


# ---- HQ in its own process ---------------------------------------------------------------------------------


def serve_hq(db_url: str, port: int, key_file: str, workers: int) -> None:
    """The child: HQ as `kiosk-hq serve --workers N` runs it (signatures required), quiet."""
    from hq.cli import EVENT_LOOP, KEEP_ALIVE_S
    from hq.workers import WorkerPlan, serve

    plan = WorkerPlan(db_url=db_url, public_url=f"http://127.0.0.1:{port}", confirm_delay=DEFAULT_CONFIRM_DELAY,
                      require_signatures=True, master_key=load_master_key(key_file), metrics_token=None,
                      server={"log_level": "warning", "access_log": False, "timeout_keep_alive": KEEP_ALIVE_S,
                              "loop": EVENT_LOOP})
    sys.exit(serve(plan, "127.0.0.1", port, workers))


@contextlib.contextmanager
def hq_process(db_url: str, key_file: Path, workers: int) -> Iterator[str]:
    port = dead_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-hq", db_url, str(port), str(key_file), str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/api/v1/health", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"HQ did not start: {child.stderr.read() if child.stderr else ''}") from None
                time.sleep(0.05)
        yield url
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


def prepare_db(db_url: str, key_file: Path, terminal_ids: list[str]) -> dict[str, str]:
    """Seed the demo community and register the terminals; their secrets."""
    engine = create_engine_for(db_url)
    seed_demo(engine, datetime.now(UTC))
    box = SecretBox(load_master_key(key_file, create=True))
    sessions = make_session_factory(engine)
    found = {t: register(sessions, box, t, datetime.now(UTC)).secret for t in terminal_ids}
    engine.dispose()
    return found


def heartbeats_taken(url: str) -> int:
    # /metrics is open: no token in the benchmark.
    text = requests.get(f"{url}/metrics", timeout=30).text
    match = re.search(r"^kiosk_hq_heartbeats_received_total (\d+)$", text, re.M)
    return int(match.group(1)) if match else 0


# ---- (a) heartbeats ---------------------------------------------------------------------------------------


class _Reader(CardReader):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE)

    def close(self) -> None:
        pass


class _Scanner(QrScanner):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE)

    def close(self) -> None:
        pass


class _Printer(ReceiptPrinter):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE, paper=PaperState.OK)

    def close(self) -> None:
        pass

    def print_receipt(self, receipt: Receipt) -> None:
        pass

    def paper_state(self) -> PaperState:
        return PaperState.OK


def bench_heartbeats(
    url: str, folder: Path, secrets_by_id: dict[str, str], window: float, bodies: dict[str, bytes]
) -> tuple[float, float]:
    """Beats a second HQ took, saturated by the terminals; and the p99 of a beat's round trip meanwhile. The
    last body each terminal sent is left in ``bodies``."""
    from kiosk.app import Devices, Terminal

    terminals = []
    latencies: list[float] = []
    for terminal_id, secret in secrets_by_id.items():
        secret_file = folder / f"{terminal_id}.secret"
        secret_file.write_text(secret)
        secret_file.chmod(0o600)
        config = config_from_mapping({
            "terminal": {"id": terminal_id, "secret_file": str(secret_file)},
            "hq": {"url": url, "connect_timeout_s": 3.0, "read_timeout_s": 30.0, "health_interval_s": 3600.0},
            "heartbeat": {"interval_s": 30.0},
            "storage": {"database": str(folder / f"{terminal_id}.db")},
        })
        loop = ManualLoop()  # the GUI loop stand-in; nothing of the heartbeat needs it
        terminal = Terminal(config, loop.dispatch, loop, devices=Devices(_Reader(), _Scanner(), _Printer()))
        worker = terminal.fleet_link.worker
        worker.add_listener(lambda ok, w=worker: latencies.append(w._latency_ms or 0.0) if ok else None)
        client = worker._client
        send = client.heartbeat

        def keep_body(tid: str, report: dict[str, Any], send: Any = send) -> dict[str, Any]:
            bodies[tid] = json.dumps(report).encode()  # what a real terminal sends, for the capacity run
            return send(tid, report)  # type: ignore[no-any-return]

        client.heartbeat = keep_body  # type: ignore[method-assign]
        terminals.append(terminal)
    for terminal in terminals:
        terminal.start()  # each worker beats at once, then every 30 s on its own thread
    stop = threading.Event()

    def back_to_back(worker: Any) -> None:
        # The worker's own beat, each as soon as HQ has answered the previous one.
        while not stop.is_set():
            worker.run_once()

    drivers = [threading.Thread(target=back_to_back, args=(t.fleet_link.worker,), daemon=True) for t in terminals]
    for driver in drivers:
        driver.start()
    time.sleep(2.0)  # warm-up: connections open, SQLite caches warm
    before, began, latencies[:] = heartbeats_taken(url), now(), []
    time.sleep(window)
    after, ended = heartbeats_taken(url), now()
    sample = list(latencies)
    stop.set()
    for driver in drivers:
        driver.join(30)
    for terminal in terminals:
        terminal.stop()
    return (after - before) / (ended - began), pct(sample, 99) / 1000 if sample else float("nan")


async def _blast_beats(url: str, secrets_by_id: dict[str, str], bodies: dict[str, bytes], until: float,
                       connections: int) -> int:
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    ids = [t for t in secrets_by_id if t in bodies]
    sent = 0

    async def one_connection(index: int) -> None:
        nonlocal sent
        connection = LightConnection(host, port)
        terminal_id = ids[index % len(ids)]
        path, body = f"/api/v1/terminals/{terminal_id}/heartbeat", bodies[terminal_id]
        while now() < until:
            timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
            signature = sign(secrets_by_id[terminal_id],
                             canonical_string(terminal_id, "POST", path, timestamp, nonce, body))
            status, answer = await connection.request("POST", path, body, {
                "Content-Type": "application/json", "X-Kiosk-Terminal": terminal_id, "X-Kiosk-Timestamp": timestamp,
                "X-Kiosk-Nonce": nonce, "X-Kiosk-Signature": signature,
            })
            if status != 200:
                FAILURES.append(f"heartbeat {status} {answer[:160]!r}")
            sent += 1
        await connection.close()

    await asyncio.gather(*(one_connection(i) for i in range(connections)))
    return sent


def bench_heartbeat_capacity(
    url: str, secrets_by_id: dict[str, str], bodies: dict[str, bytes], window: float, connections: int
) -> float:
    """Beats a second HQ takes when the senders cost little: the real terminals' last bodies, signed afresh for
    each request, from ``connections`` keep-alive connections (the terminals' own Python cost more per beat
    than HQ does, so with them the figure above measures both)."""
    run_async(_blast_beats(url, secrets_by_id, bodies, now() + 1.0, connections))  # warm-up
    before, began = heartbeats_taken(url), now()
    run_async(_blast_beats(url, secrets_by_id, bodies, began + window, connections))
    return (heartbeats_taken(url) - before) / (now() - began)


# ---- (b) residents ------------------------------------------------------------------------------------------


class _Resident:
    """One person at a terminal after another, for as long as the step runs."""

    def __init__(self, client: LightConnection, terminal_id: str, secret: str, latencies: list[tuple[str, float]],
                 rng: random.Random, phones: asyncio.Queue[LightConnection] | None = None):
        self.client, self.terminal_id, self.secret = client, terminal_id, secret
        self.latencies, self.rng = latencies, rng
        self.phones = phones  # None: the terminal polls every second (--short-polls)
        self.errors = 0
        self.measure_from = 0.0

    async def call(self, label: str, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None, since: list[float] | None = None) -> Any:
        """One signed call; a long poll's latency counts from the time in `since` once there is one (the phone's
        pay), else from its start."""
        raw = b"" if body is None else json.dumps(body).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
        signature = sign(self.secret, canonical_string(self.terminal_id, method, path, timestamp, nonce, raw))
        all_headers = {
            "Content-Type": "application/json", "X-Kiosk-Terminal": self.terminal_id,
            "X-Kiosk-Timestamp": timestamp, "X-Kiosk-Nonce": nonce, "X-Kiosk-Signature": signature,
            **(headers or {}),
        }
        started = now()
        status, answer = await self.client.request(method, path, raw, all_headers)
        if started >= self.measure_from:
            self.latencies.append((label, now() - max([started, *(since or ())])))
        if status >= 400:
            self.errors += 1
            FAILURES.append(f"{label} {status} {answer[:160]!r}")
        return json.loads(answer)

    async def pause(self, low: float, high: float) -> None:
        await asyncio.sleep(self.rng.uniform(low, high))

    async def live(self, until: float, ramp: float) -> None:
        # People arrive one by one, not all at the same instant: each first steps up somewhere in the ramp.
        await asyncio.sleep(self.rng.uniform(0, ramp))
        while now() < until:
            await self.pause(1, 3)
            card = self.rng.choice(DEMO_CARDS)[0]
            house = await self.call("identify", "POST", "/api/v1/identify", {"method": "card", "value": card})
            overview = await self.call("overview", "GET", f"/api/v1/houses/{house['house_id']}/overview")
            await self.pause(2, 5)
            order = await self.call("create", "POST", "/api/v1/orders", {
                "terminal_id": self.terminal_id, "house_id": house["house_id"],
                "meter_id": overview["meters"][0]["meter_id"], "service": "electricity",
                "amount_fen": self.rng.choice((2000, 5000, 10000)),
            }, headers={"Idempotency-Key": secrets.token_urlsafe(24)})
            order_no = order["order_no"]
            if self.phones is None:
                await self.poll_every_second(order_no)
            else:
                await self.long_poll(order_no, order["status"])
            await self.pause(3, 8)

    async def poll_every_second(self, order_no: str) -> None:
        """The terminal before the long poll: a status call a second while paying, one after the phone's pay."""
        for _ in range(self.rng.randint(2, 6)):
            await asyncio.sleep(1.0)
            await self.call("status", "GET", f"/api/v1/orders/{order_no}")
        await self.client.request("POST", f"/sandbox/checkout/{order_no}/pay", b"", {"Accept": "application/json"})
        await asyncio.sleep(1.0)
        await self.call("status", "GET", f"/api/v1/orders/{order_no}")

    async def long_poll(self, order_no: str, status: str) -> None:
        """The terminal with the long poll: one status call, answered when the phone has paid (after 2-6 s)."""
        paid_at: list[float] = []
        phone = asyncio.ensure_future(self.pay_on_the_phone(order_no, paid_at))
        try:
            while status in ("awaiting_payment", "confirming"):
                answer = await self.call(
                    "status", "GET", f"/api/v1/orders/{order_no}?wait_s={LONG_POLL_S}&seen_status={status}",
                    since=paid_at,
                )
                status = answer["status"]
        finally:
            await phone

    async def pay_on_the_phone(self, order_no: str, paid_at: list[float]) -> None:
        assert self.phones is not None
        await self.pause(2, 6)
        phone = await self.phones.get()
        try:
            paid_at.append(now())
            await phone.request("POST", f"/sandbox/checkout/{order_no}/pay", b"", {"Accept": "application/json"})
        finally:
            self.phones.put_nowait(phone)


async def _residents(
    url: str, secrets_by_id: dict[str, str], count: int, duration: float, long_poll: bool = True
) -> tuple[list[tuple[str, float]], int]:
    latencies: list[tuple[str, float]] = []
    rng = random.Random(count)
    ids = list(secrets_by_id)
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    ramp = RAMP_S
    until = now() + ramp + duration
    # One keep-alive connection per person, as each terminal keeps one open to HQ.
    phones: asyncio.Queue[LightConnection] | None = None
    if long_poll:
        phones = asyncio.Queue()
        for _ in range(PHONES):
            phones.put_nowait(LightConnection(host, port))
    people = [_Resident(LightConnection(host, port), ids[i % len(ids)], secrets_by_id[ids[i % len(ids)]], latencies,
                        random.Random(rng.random()), phones) for i in range(count)]
    for person in people:
        person.measure_from = until - duration  # only once everyone has arrived
    opened_before = LightConnection.opened
    results = await asyncio.gather(*(p.live(until, ramp) for p in people), return_exceptions=True)
    print(f"  ({LightConnection.opened - opened_before} connections opened for {count} residents)", flush=True)
    for person in people:
        await person.client.close()
    while phones is not None and not phones.empty():
        await phones.get_nowait().close()
    FAILURES.extend(f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException))
    failures = sum(1 for r in results if isinstance(r, BaseException)) + sum(p.errors for p in people)
    return latencies, failures


def bench_residents(
    url: str, secrets_by_id: dict[str, str], steps: list[int], duration: float, long_poll: bool = True
) -> list[tuple[int, int, float, float, int]]:
    """(residents, calls, p50, p99, failures) per step; past the first step over the brief's 2 s, only the
    target's 1,000 is still tried (more would only queue longer)."""
    out = []
    pending = list(steps)
    while pending:
        count = pending.pop(0)
        labelled, failures = run_async(_residents(url, secrets_by_id, count, duration, long_poll))
        latencies = [seconds for _label, seconds in labelled]
        p99 = pct(latencies, 99) if latencies else float("nan")
        out.append((count, len(latencies), pct(latencies, 50) if latencies else float("nan"), p99, failures))
        by_label = {label: pct([s for lb, s in labelled if lb == label], 99) for label, _s in labelled}
        print(f"  {count} residents: {len(latencies)} calls, p50 {ms(out[-1][2])} ms, p99 {ms(p99)} ms "
              f"({', '.join(f'{k} {ms(v)}' for k, v in sorted(by_label.items()))}), {failures} failures", flush=True)
        if p99 > BRIEF_P99_S:
            pending = [s for s in pending if s == 1000]
    return out


def run_async(coroutine: Any) -> Any:
    """Run on uvloop when it is there: a cheaper load generator (HQ runs on asyncio's loop: hq.cli.EVENT_LOOP)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


# ---- PostgreSQL, throwaway ------------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("initdb/pg_ctl not on PATH")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="kiosk-fleet-pg-"))  # its own, so the postgres user may enter it
    data = folder / "pg"
    if os.geteuid() == 0:  # initdb refuses root
        pwd.getpwnam("postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, user="postgres")
    port = dead_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(folder / "pg.log"), "-w", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200", "start"],
                   check=True, capture_output=True)
    try:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
        engine = create_engine_for(f"{url}/postgres")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CREATE DATABASE hq_bench")
        engine.dispose()
        yield f"{url}/hq_bench"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


# ---- the run ---------------------------------------------------------------------------------------------------


def run_on(db_label: str, db_url: str, folder: Path, terminals: int, window: float, steps: list[int],
           duration: float, long_poll: bool = True, workers: int = 2) -> tuple[list[Row], list[str]]:
    key_file = folder / "hq.key"
    ids = [f"T-{i:04d}" for i in range(terminals)]
    found = prepare_db(db_url, key_file, ids)
    rows: list[Row] = []
    db_label = f"{db_label}, {workers} worker{'s' if workers > 1 else ''}"
    with hq_process(db_url, key_file, workers) as url:
        print(f"[{db_label}] {terminals} terminals beating back to back for {window:.0f} s…", flush=True)
        bodies: dict[str, bytes] = {}
        rate, beat_p99 = bench_heartbeats(url, folder, found, window, bodies)
        rows.append(Row(f"fleet ({db_label})", f"heartbeats/s from {terminals} real terminal cores", f"{rate:.0f}"))
        rows.append(Row(f"fleet ({db_label})", "heartbeat round trip p99, saturated", f"{ms(beat_p99)} ms"))
        for senders in BEAT_SENDERS:
            capacity = bench_heartbeat_capacity(url, found, bodies, window, senders)
            judged = senders == max(BEAT_SENDERS)
            rows.append(Row(f"fleet ({db_label})", f"heartbeats/s HQ takes (light senders, {senders} connections)",
                            f"{capacity:.0f}", f">= {TARGET_BEATS_PER_S}" if judged else "",
                            capacity >= TARGET_BEATS_PER_S if judged else None))
        rows.append(Row(f"fleet ({db_label})", "terminals served at 30 s a beat", f"{capacity * 30:.0f}"))
        print(f"[{db_label}] residents, {duration:.0f} s a step…", flush=True)
        results = bench_residents(url, found, steps, duration, long_poll)
    within = [count for count, _calls, _p50, p99, _f in results if p99 <= BRIEF_P99_S]
    for count, calls, p50, p99, failures in results:
        target = f"< {ms(TARGET_P99_S)} ms" if count == 1000 else ""
        rows.append(Row(f"fleet ({db_label})", f"payment API p99, {count} residents ({calls} calls, {failures} failed)",
                        f"{ms(p99)} ms (p50 {ms(p50)})", target, p99 < TARGET_P99_S if count == 1000 else None))
    rows.append(Row(f"fleet ({db_label})", "most residents with p99 < 2 s (of those tried)",
                    str(max(within)) if within else "none"))
    return rows, []


def run(terminals: int = 40, window: float = 10.0, residents: str = DEFAULT_RESIDENTS, duration: float = 20.0,
        with_postgres: bool = False, long_poll: bool = True, workers: int = 2) -> tuple[list[Row], list[str]]:
    logging.getLogger().setLevel(logging.ERROR)  # the terminals' start-up lines would break up the output
    steps = [int(s) for s in residents.split(",") if s]
    rows: list[Row] = []
    notes = [
        f"HQ runs as kiosk-hq serve --workers {workers} (signatures required, no access log); the terminals and "
        "the residents' load generator share the machine with it, so client-side lag is in every latency.",
        "Residents pause as people do (1-8 s between steps); while paying, "
        + (f"one status long poll (wait_s={LONG_POLL_S}) answered when the phone pays, its latency counted from the "
           "phone's pay." if long_poll else "status polled every second (--short-polls: no long poll)."),
    ]
    folder = Path(tempfile.mkdtemp(prefix="kiosk-fleet-bench-"))
    try:
        more, _ = run_on("SQLite", f"sqlite:///{folder / 'hq.db'}", folder, terminals, window, steps, duration,
                         long_poll, workers)
        rows += more
        if with_postgres:
            pg_folder = folder / "postgres"
            pg_folder.mkdir()
            try:
                with postgres() as url:
                    more, _ = run_on("PostgreSQL", url, pg_folder, terminals, window, steps, duration, long_poll,
                                     workers)
                    rows += more
            except (RuntimeError, OSError, KeyError, subprocess.CalledProcessError) as exc:
                notes.append(f"PostgreSQL not measured: {exc}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if FAILURES:
        notes.append(f"{len(FAILURES)} failed calls, e.g.: " + " | ".join(sorted(set(FAILURES))[:3]))
    return rows, notes


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--serve-hq":
        serve_hq(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=40)
    parser.add_argument("--window", type=float, default=10.0, help="seconds the heartbeat rate is measured over")
    parser.add_argument("--residents", default=DEFAULT_RESIDENTS, help="residents at once, each step")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds each residents step runs")
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL (initdb, pg_ctl)")
    parser.add_argument("--workers", type=int, default=2, help="HQ worker processes (kiosk-hq serve --workers)")
    parser.add_argument("--short-polls", action="store_true",
                        help="residents poll the status every second, as terminals did before the long poll")
    args = parser.parse_args()
    rows, notes = run(args.terminals, args.window, args.residents, args.duration, args.postgres,
                      long_poll=not args.short_polls, workers=args.workers)
    report("Fleet: heartbeats and the payment API under residents", rows, notes)


if __name__ == "__main__":
    main()
