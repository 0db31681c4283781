"""The transaction store and the outbox worker: a durable write against its floor, recovery after an outage, backlog.

(a) **One durable state change** — `store.transition` (state, fields and an event row, one BEGIN IMMEDIATE
    transaction) and `store.create` (row, event and outbox message) — against the floor: a bare `sqlite3`
    connection on the same disk, WAL and synchronous=FULL, doing BEGIN IMMEDIATE; INSERT; COMMIT. Samples are
    interleaved (floor, transition, create, floor, ...) and the ratio of medians is reported. A second, unofficial
    floor does the same SQL as a transition by hand (SELECT + UPDATE + INSERT), to split SQL from library time.
(b) **HQ back → first settled delivery.** Transactions wait in `unknown` while nothing listens at HQ's address; the
    real worker thread and the real `ConnectivityMonitor` (probing every `hq.offline_probe_s`, 0.5 s, on its own
    lane; the app's wiring: its answer calls `worker.set_online`) run as in the terminal. Then HQ is started at
    that address (same database) and the time from `HqServer.start()` returning (HQ answering) to the worker's
    first `on_settled` is taken. Several rounds; the probe's phase makes it roughly uniform over 0..0.5 s plus the
    settle itself.
(c) **Backlog.** N orders created at a local HQ with N matching transactions in `unknown` with settle messages (half
    known by order number, half only by idempotency key, as after a lost create answer); then the worker thread is
    woken and timed until all N are settled (each: look the order up, cancel it, record the answer). Run twice:
    HQ in this process (`HqServer`, as the other benchmarks do, sharing the GIL with the worker), and HQ as
    `kiosk-hq serve` in a child process (as in the field, where HQ is another machine).

HQ is the real reference server on loopback.

Run alone: .venv/bin/python benchmarks/queue_bench.py [--samples 400] [--rounds 5] [--backlog 1000] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import logging
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_common import Row, dead_port, median, ms, now, report

from hq.seed import DEMO_HOUSES
from hq.server import HqServer
from kiosk.connectivity import ConnectivityMonitor
from kiosk.hq_client import HqClient
from kiosk.outbox_worker import Intent, OutboxWorker
from kiosk.signing import TerminalSigner, load_secret
from kiosk.tasks import ManualLoop, Runner
from offline_queue.models import OutboxKind
from offline_queue.states import TxState
from offline_queue.store import TransactionRecord, TransactionStore

TARGET_RATIO = 1.5
TARGET_RECOVERY_S = 1.0
TARGET_BACKLOG_S = 10.0
OFFLINE_PROBE_S = 0.5  # the configured hq.offline_probe_s (kiosk/config.py default)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def order_fields(n: int) -> dict[str, Any]:
    house = DEMO_HOUSES[n % len(DEMO_HOUSES)]
    return {
        "terminal_id": "T-BENCH",
        "service": "electricity",
        "house_id": house.house_id,
        "house_label": house.number,
        "meter_id": house.lighting_meter_id,
        "meter_label": "lighting",
        "amount_fen": 1000 + n % 5000,
    }


# ---- (a) one durable state change against the floor ------------------------------------------------------------


def bare_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    conn.execute(
        "CREATE TABLE IF NOT EXISTS ev (id INTEGER PRIMARY KEY, tx TEXT, at TEXT, from_state TEXT, to_state TEXT,"
        " reason TEXT, detail TEXT)"
    )
    conn.execute("CREATE TABLE IF NOT EXISTS tx (id TEXT PRIMARY KEY, state TEXT, updated_at TEXT)")
    conn.execute("INSERT OR REPLACE INTO tx VALUES ('t1', 'unknown', '')")
    return conn


def bare_insert(conn: sqlite3.Connection, n: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO ev (tx, at, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?)",
        ("t1", f"2026-11-05T08:00:00.{n:06d}+00:00", "unknown", "needs_attention", "bench"),
    )
    conn.execute("COMMIT")


def bare_transition(conn: sqlite3.Connection, n: int) -> None:
    """A transition's SQL by hand: read the row, update it, append the event, in one write transaction."""
    at = f"2026-11-05T08:00:00.{n:06d}+00:00"
    conn.execute("BEGIN IMMEDIATE")
    (state,) = conn.execute("SELECT state FROM tx WHERE id = 't1'").fetchone()
    target = "needs_attention" if state == "unknown" else "unknown"
    conn.execute("UPDATE tx SET state = ?, updated_at = ? WHERE id = 't1'", (target, at))
    conn.execute(
        "INSERT INTO ev (tx, at, from_state, to_state, reason) VALUES ('t1', ?, ?, ?, 'bench')", (at, state, target)
    )
    conn.execute("COMMIT")


def store_schema_connection(path: Path) -> sqlite3.Connection:
    """A bare connection to a database with the store's own schema (made by its migrations), WAL and FULL."""
    TransactionStore.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous = FULL")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    return conn


def bare_create(conn: sqlite3.Connection, n: int) -> None:
    """A create's SQL by hand on the store's schema: the order, its first event and its create_order message."""
    tx_id, at = str(uuid.uuid4()), f"2026-11-05T08:00:00.{n:06d}+00:00"
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO transactions (id, idempotency_key, terminal_id, service, house_id, house_label, meter_id,"
        " meter_label, amount_fen, state, receipt_status, attempts, created_at, updated_at)"
        " VALUES (?, ?, 'T-BENCH', 'electricity', 'h_1', '1-1-101', 'm_1', 'lighting', 1000, 'new', 'none', 0, ?, ?)",
        (tx_id, uuid.uuid4().hex, at, at),
    )
    conn.execute(
        "INSERT INTO transaction_events (transaction_id, at, to_state) VALUES (?, ?, 'new')", (tx_id, at)
    )
    conn.execute(
        "INSERT INTO outbox (transaction_id, kind, payload, created_at, attempts)"
        " VALUES (?, 'create_order', '{}', ?, 0)",
        (tx_id, at),
    )
    conn.execute("COMMIT")


def bench_durable_write(folder: Path, samples: int, profile: bool) -> tuple[list[Row], list[str]]:
    conn = bare_connection(folder / "bare.sqlite3")
    schema_conn = store_schema_connection(folder / "bare-schema.sqlite3")
    store = TransactionStore.open(folder / "store.sqlite3")
    tx = store.create(**order_fields(0))
    store.transition(tx.id, TxState.UNKNOWN, reason="bench", sent=[store.outbox_for(tx.id)[0].id])
    state = [TxState.UNKNOWN]

    def transition() -> None:
        # unknown <-> needs_attention: a legal change each time, with an event row, like any other
        target = TxState.NEEDS_ATTENTION if state[0] is TxState.UNKNOWN else TxState.UNKNOWN
        store.transition(tx.id, target, reason="bench")
        state[0] = target

    def create() -> None:
        store.create(**order_fields(1))

    n = 0

    def floor() -> None:
        bare_insert(conn, n)

    def floor_sql() -> None:
        bare_transition(conn, n)

    def create_sql() -> None:
        bare_create(schema_conn, n)

    kinds = {
        "floor": floor, "floor_sql": floor_sql, "transition": transition, "create_sql": create_sql, "create": create,
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(20):  # warm-up: pools, statement caches, page cache
        for work in kinds.values():
            work()
    for n in range(samples):  # noqa: B007 - `n` is read by floor() and floor_sql()
        for kind, work in kinds.items():
            start = now()
            work()
            times[kind].append(now() - start)
    notes: list[str] = []
    if profile:
        notes += profile_calls({"transition": transition, "create": create}, 300)
    store.close()
    conn.close()
    schema_conn.close()

    floor_med = median(times["floor"])
    rows = [
        Row("durable write", "floor: bare sqlite3 INSERT+COMMIT (median)", us(floor_med)),
        Row("durable write", "same SQL as a transition, by hand (median)", us(median(times["floor_sql"]))),
        Row("durable write", "same SQL as a create, by hand, store's schema (median)", us(median(times["create_sql"]))),
    ]
    for kind in ("transition", "create"):
        med = median(times[kind])
        rows.append(Row("durable write", f"store.{kind} (median)", us(med)))
        rows.append(
            Row("durable write", f"store.{kind} / floor", f"{med / floor_med:.2f}x", f"≤ {TARGET_RATIO}x",
                med / floor_med <= TARGET_RATIO)
        )
    notes.append(
        f"durable write: {samples} interleaved samples each, files in {folder} (WAL, synchronous=FULL); "
        f"transition ÷ by-hand SQL = {median(times['transition']) / median(times['floor_sql']):.2f}x; "
        f"create ÷ its SQL by hand = {median(times['create']) / median(times['create_sql']):.2f}x, and that SQL ÷ "
        f"floor = {median(times['create_sql']) / floor_med:.2f}x (three rows into eleven b-trees, one commit)"
    )
    return rows, notes


def profile_calls(calls: dict[str, Any], count: int) -> list[str]:
    """cProfile `count` calls of each; the top of each profile by own time, as notes."""
    notes = []
    for name, work in calls.items():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            work()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        total = stats.total_tt  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(12)
        notes.append(f"profile of {count} × store.{name} ({total / count * 1000:.2f} ms each under cProfile):")
        notes += ["    " + line for line in out.getvalue().splitlines() if line.strip()][4:]
    return notes


# ---- helpers shared by (b) and (c) -------------------------------------------------------------------------------


def queue_unknown(store: TransactionStore, client: HqClient, count: int, offset: int = 0) -> list[TransactionRecord]:
    """`count` orders created at HQ with matching transactions in `unknown` with settle messages.

    Even ones went to awaiting_payment (the terminal knows the order number) and were then cancelled; odd ones
    lost the create's answer (known only by key).
    """
    records = []
    for n in range(offset, offset + count):
        tx = store.create(**order_fields(n))
        order = client.create_order(
            idempotency_key=tx.idempotency_key, terminal_id=tx.terminal_id, house_id=tx.house_id,
            meter_id=tx.meter_id, amount_fen=tx.amount_fen,
        )
        creates = [m.id for m in store.outbox_for(tx.id) if m.kind is OutboxKind.CREATE_ORDER]
        if n % 2 == 0:
            store.transition(tx.id, TxState.AWAITING_PAYMENT, order_no=order.order_no, sent=creates)
            record = store.transition(tx.id, TxState.UNKNOWN, outbox=(OutboxKind.SETTLE, {"intent": Intent.CANCEL}))
        else:
            record = store.transition(
                tx.id, TxState.UNKNOWN, sent=creates, outbox=(OutboxKind.SETTLE, {"intent": Intent.CREATE_UNKNOWN})
            )
        records.append(record)
    return records


class LoopThread:
    """Runs a ManualLoop (the GUI thread's stand-in: dispatched callbacks and timers) on its own thread."""

    def __init__(self) -> None:
        self.loop = ManualLoop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-gui", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.loop.run_until(self._stop.is_set, timeout=3600)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.loop.dispatch(lambda: None)  # wakes run_until to see the flag
        self._thread.join(5)


# ---- (b) HQ reachable again → first settled delivery ------------------------------------------------------------


def one_recovery(folder: Path, hq_db_url: str, round_no: int) -> float:
    port = dead_port()
    url = f"http://127.0.0.1:{port}"
    store = TransactionStore.open(folder / f"recovery-{round_no}.sqlite3")
    with HqServer(hq_db_url, seed=False) as setup_hq:  # the orders exist at HQ before it goes away
        setup_client = HqClient(setup_hq.base_url, 1.0, 5.0)
        queue_unknown(store, setup_client, 3, offset=10_000 * (round_no + 1))
        setup_client.close()

    settled_at: list[float] = []
    worker_client = HqClient(url, 1.0, 5.0)
    health_client = HqClient(url, 1.0, 5.0)
    gui = LoopThread()
    runner = Runner(gui.loop.dispatch, lanes=("health",))
    worker = OutboxWorker(store, worker_client, on_settled=lambda _r: settled_at.append(now()))
    monitor = ConnectivityMonitor(
        health_client, runner, gui.loop, interval_s=15.0, on_result=worker.set_online,
        offline_interval_s=OFFLINE_PROBE_S,
    )
    hq = HqServer(hq_db_url, seed=False, port=port)
    try:
        gui.start()
        worker.start()
        monitor.start()
        time.sleep(1.0 + (round_no % 4) * 0.13)  # HQ away for a while (the probe's phase differs per round)
        assert not worker.online and not settled_at, "HQ should be unreachable"
        hq.start()
        reachable = now()
        deadline = reachable + 10
        while not settled_at and now() < deadline:
            time.sleep(0.001)
        if not settled_at:
            raise RuntimeError("nothing settled within 10 s of HQ coming back")
        return settled_at[0] - reachable
    finally:
        monitor.stop()
        worker.stop()
        runner.shutdown(wait=True)
        gui.stop()
        hq.stop()
        worker_client.close()
        health_client.close()
        store.close()


def bench_recovery(folder: Path, rounds: int) -> tuple[list[Row], list[str]]:
    hq_db_url = f"sqlite:///{folder / 'hq-recovery.db'}"
    with HqServer(hq_db_url, seed=True):
        pass  # seed once
    delays = [one_recovery(folder, hq_db_url, r) for r in range(rounds)]
    worst = max(delays)
    rows = [
        Row("HQ back", "reachable → first settled (median)", f"{ms(median(delays))} ms"),
        Row("HQ back", f"reachable → first settled (max of {rounds})", f"{ms(worst)} ms",
            f"< {TARGET_RECOVERY_S * 1000:.0f} ms", worst < TARGET_RECOVERY_S),
    ]
    notes = [
        f"HQ back: ConnectivityMonitor probing every {OFFLINE_PROBE_S} s while offline; per round (ms): "
        + ", ".join(ms(d) for d in delays)
    ]
    return rows, notes


# ---- (c) a backlog of settle messages -----------------------------------------------------------------------------


@contextlib.contextmanager
def hq_in_process(db_url: str) -> Iterator[tuple[str, TerminalSigner | None]]:
    with HqServer(db_url, seed=True) as hq:
        yield hq.base_url, None


@contextlib.contextmanager
def hq_in_a_child_process(db_url: str) -> Iterator[tuple[str, TerminalSigner | None]]:
    """`kiosk-hq serve` in its own process, as HQ really is: no GIL shared with the terminal, signed requests."""
    script = Path(sys.executable).parent / "kiosk-hq"
    folder = Path(db_url.removeprefix("sqlite:///")).parent
    key_file, secret_file = folder / "hq-bench.key", folder / "T-BENCH.secret"
    subprocess.run([str(script), "seed-demo", "--db", db_url], check=True, capture_output=True)
    subprocess.run([str(script), "terminals", "register", "T-BENCH", "--db", db_url, "--key-file", str(key_file),
                    "--secret-file", str(secret_file)], check=True, capture_output=True)
    signer = TerminalSigner("T-BENCH", load_secret(secret_file))
    port = dead_port()
    url = f"http://127.0.0.1:{port}"
    child = subprocess.Popen(
        [str(script), "serve", "--db", db_url, "--port", str(port), "--key-file", str(key_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        probe = HqClient(url, 0.5, 2.0)
        deadline = now() + 20
        while True:
            try:
                probe.health()
                break
            except Exception:
                if now() > deadline or child.poll() is not None:
                    raise RuntimeError("kiosk-hq serve did not come up") from None
                time.sleep(0.05)
        probe.close()
        yield url, signer
    finally:
        child.terminate()
        child.wait(10)


def bench_backlog(folder: Path, count: int, profile: bool, separate: bool) -> tuple[list[Row], list[str]]:
    where = "HQ in its own process" if separate else "HQ in this process"
    tag = "child" if separate else "inproc"
    store = TransactionStore.open(folder / f"backlog-{tag}.sqlite3")
    serve = hq_in_a_child_process if separate else hq_in_process
    with serve(f"sqlite:///{folder / f'hq-backlog-{tag}.db'}") as (hq_url, signer):
        setup_client = HqClient(hq_url, 1.0, 5.0, signer=signer)
        began_setup = now()
        queue_unknown(store, setup_client, count)
        setup_s = now() - began_setup
        setup_client.close()

        done = threading.Event()
        settled: list[float] = []

        def on_settled(_record: TransactionRecord) -> None:
            settled.append(now())
            if len(settled) == count:
                done.set()

        client = HqClient(hq_url, 1.0, 5.0, signer=signer)
        worker = OutboxWorker(store, client, on_settled=on_settled)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()  # profiles this thread only; the worker runs run_once() here when profiling
        began = now()
        if profiler:
            while len(settled) < count and worker.run_once():
                pass
        else:
            worker.start()
            worker.wake()
            done.wait(120)
        elapsed = now() - began
        if profiler:
            profiler.disable()
        worker.stop()
        client.close()
        states = store.count_by_state()
    store.close()
    ok = len(settled) == count and states[TxState.CANCELLED] == count
    rows = [
        Row("backlog", f"settle {count} queued ({where})", f"{elapsed:.2f} s", f"< {TARGET_BACKLOG_S:.0f} s",
            ok and elapsed < TARGET_BACKLOG_S),
        Row("backlog", f"per transaction, mean ({where})", f"{ms(elapsed / max(len(settled), 1))} ms"),
    ]
    notes = [f"backlog ({where}): setup (create {count} orders at HQ + store rows) took {setup_s:.1f} s, not timed"]
    if not ok:
        notes.append(f"backlog: only {len(settled)} settled; states {dict(states)}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        notes.append(f"backlog profile, {where} (the worker's pass on the main thread):")
        notes += ["    " + line for line in out.getvalue().splitlines() if line.strip()][4:]
    return rows, notes


# ---- all of it -------------------------------------------------------------------------------------------------


def run(
    samples: int = 400, rounds: int = 5, backlog: int = 1000, profile: bool = False, folder: Path | None = None
) -> tuple[list[Row], list[str]]:
    logging.getLogger("kiosk").setLevel(logging.ERROR)  # the worker logs every settle and outage
    own = folder is None
    where = Path(tempfile.mkdtemp(prefix="kiosk-queue-bench-")) if folder is None else folder
    where.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    notes: list[str] = []
    try:
        for part in (
            lambda: bench_durable_write(where, samples, profile),
            lambda: bench_recovery(where, rounds),
            lambda: bench_backlog(where, backlog, profile, separate=False),
            lambda: bench_backlog(where, backlog, profile, separate=True),
        ):
            more_rows, more_notes = part()
            rows += more_rows
            notes += more_notes
    finally:
        if own:
            shutil.rmtree(where, ignore_errors=True)
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400, help="durable-write samples of each kind")
    parser.add_argument("--rounds", type=int, default=5, help="HQ-back rounds")
    parser.add_argument("--backlog", type=int, default=1000, help="queued transactions to settle")
    parser.add_argument("--profile", action="store_true", help="cProfile the store calls and the backlog")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the databases (default: a temp dir)")
    args = parser.parse_args()
    rows, notes = run(args.samples, args.rounds, args.backlog, args.profile, args.dir)
    report("Transaction store and outbox worker", rows, notes)


if __name__ == "__main__":
    main()
