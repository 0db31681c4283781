"""Crash safety proven by killing: the victim (a terminal core taking real payments) and the harness that kills it.

**The child** (`child_main`, or this file run as a script) is one life of a terminal on a database that survived
the previous one. Like `Terminal.start`, it first recovers: `recover(store)`, then the `OutboxWorker` settles
with HQ until nothing is in flight. It reports "recovered" and waits for the parent's "go" (the parent checks the
invariants meanwhile). Then it builds a `Journey` on a `ManualLoop` with a `Runner` and the worker's thread, and
loops payments on a few demo houses: identify by card, quick pay or choose an amount, then the phone pays, the
phone declines, the resident cancels, the countdown expires (`ManualLoop.advance`), or the phone pays and the
resident cancels before the terminal has seen it (the worker's cancel loses the race; the payment wins).

Kill points, without product hooks: the child wraps its store's writes (`create`, `transition`,
`mark_outbox_sent`, `outbox_failed`, `set_receipt_status`) and SIGKILLs itself just *before* or just *after* the
Nth one; and HQ requests (`HqClient._request`, and the phone's): *sent* (the request is on the wire, its answer
not read: `http.client.HTTPConnection.getresponse`) or *answered* (the answer is read, the caller has not
processed it). Every point has a label, `role:operation`, the role being `recovery`, `journey` (the hq lane),
`worker`, `printer` or `phone`; `KillPlan(kind, n, phase, label)` names the Nth point of a kind (only those with
`label`, if given). The child reports each point, each committed write and each payment on a pipe.

**The parent** (`CrashMatrix`) runs one `HqServer` with a file SQLite database for the whole run and forks the
children from multiprocessing's fork server (imports done once; no thread of the parent is ever forked). It
kills at every boundary (a first run without kills finds the labels of a payment's life; boundaries met only
while recovering are reached by a kill that leaves the right state behind) and at random instants (SIGKILL from
the parent after a random part of the child's run). After each kill it waits until HQ has finished every request
the dead child had sent, then checks `PRAGMA integrity_check` and that every idempotency key and every state the
store had acknowledged is still there; when the next child has recovered, it checks the rest: nothing left in
flight (`needs_attention` is a violation: HQ is healthy), at most one HQ order and one payment per key, every HQ
order's key known to the terminal, meter balances equal their starting value plus the paid orders, terminal
and HQ agreeing on every outcome, and each transaction's history and outbox consistent with its state.

    .venv/bin/python tests/kiosk/crash_child.py --hq URL --db PATH --kill write:after:5   # one life, by hand
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import signal
import sqlite3
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from devices.simulators import SimulatedPrinter
from hq.seed import DEMO_HOUSES, LOW_BALANCE_HOUSE, MAIN_HOUSE, NEW_HOUSE
from kiosk.clock import utc_now
from kiosk.config import Config, config_from_mapping
from kiosk.hq_client import HqClient, HqError
from kiosk.i18n import Translator
from kiosk.journey import Journey
from kiosk.outbox_worker import OutboxWorker, RetryPolicy
from kiosk.recovery import recover
from kiosk.screens import (
    AmountScreen,
    IdleScreen,
    Outcome,
    OverviewScreen,
    PaymentScreen,
    ReceiptState,
    ResultScreen,
)
from kiosk.tasks import ManualLoop, Runner
from offline_queue.models import OutboxKind
from offline_queue.states import ALLOWED, TERMINAL_STATES, TxState
from offline_queue.store import TransactionRecord, TransactionStore

TERMINAL_ID = "T-CRASH"
HOUSES = (MAIN_HOUSE, NEW_HOUSE, LOW_BALANCE_HOUSE, DEMO_HOUSES[5], DEMO_HOUSES[40])
# What the resident and the phone do once the QR is on screen, and the outcome the terminal must then show.
EXPECTED = {
    "pay": Outcome.PAID,
    "decline": Outcome.DECLINED,
    "cancel": Outcome.CANCELLED,
    "expire": Outcome.EXPIRED,
    "pay_then_cancel": Outcome.PAID,
}
ACTIONS = tuple(EXPECTED)
PHASES = {"write": ("before", "after"), "http": ("sent", "answered")}
WAIT_S = 15.0

# Boundaries met only while a restarted terminal recovers, each with the kill (label, phase) that leaves a
# transaction in the state that leads there.
_CREATED = ("journey:create", "after")
_AWAITING = ("journey:new->awaiting_payment(order_created)", "after")
RECOVERY_SETUPS: dict[str, tuple[str, str]] = {
    "recovery:new->unknown(recovered_at_start)": _CREATED,
    "recovery:GET /api/v1/orders?idempotency_key": _CREATED,
    "recovery:unknown->abandoned(not_at_hq)": _CREATED,
    "recovery:awaiting_payment->unknown(recovered_at_start)": _AWAITING,
    "recovery:GET /api/v1/orders/{no}": _AWAITING,
    "recovery:POST /api/v1/orders/{no}/cancel": _AWAITING,
    "recovery:unknown->cancelled(hq_cancelled)": _AWAITING,
    "recovery:unknown->paid(hq_paid)": ("phone:POST pay", "answered"),
    "recovery:unknown->declined(hq_declined)": ("phone:POST decline", "answered"),
    "recovery:unknown->expired(hq_cancelled)": ("journey:awaiting_payment->unknown(expire_requested)", "after"),
}
# What the fork server imports once, so that each child starts in milliseconds (installed packages only: in
# Python 3.11 the fork server does not see the parent's sys.path, so this module itself cannot be preloaded).
PRELOAD = [
    "requests",
    "sqlalchemy",
    "devices.simulators",
    "hq.seed",
    "kiosk.journey",
    "kiosk.recovery",
    "kiosk.config",
    "offline_queue.store",
]


@dataclass(frozen=True)
class KillPlan:
    """Kill at the `n`th point of `kind` ("write", "http" or "none") in `phase`, counting only `label` if given."""

    kind: str = "none"
    n: int = 0
    phase: str = ""
    label: str | None = None

    @classmethod
    def parse(cls, text: str) -> KillPlan:
        """`kind:phase:n[:label]`, e.g. `write:after:5` or `http:sent:1:journey:POST /api/v1/orders`."""
        if text == "none":
            return cls()
        kind, phase, n, *label = text.split(":", 3)
        if phase not in PHASES.get(kind, ()):
            raise ValueError(f"no phase {phase!r} for kind {kind!r}")
        return cls(kind, int(n), phase, label[0] if label else None)


@dataclass(frozen=True)
class ChildArgs:
    hq_url: str
    db_path: str
    plan: KillPlan = KillPlan()
    seed: int = 0
    actions: tuple[str, ...] = ()  # cycled in order; empty: each chosen at random
    max_payments: int = 40


# ---- the child ----------------------------------------------------------------------------------------------------


class Channel(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...

    def wait_go(self, timeout: float) -> bool: ...


class PipeChannel:
    """Messages to the parent on one pipe, from any thread; its "go" on another (no reset when either dies)."""

    def __init__(self, up: multiprocessing.connection.Connection, down: multiprocessing.connection.Connection):
        self._up = up
        self._down = down
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._up.send(message)

    def wait_go(self, timeout: float) -> bool:
        try:
            return bool(self._down.poll(timeout)) and self._down.recv() == "go"
        except (EOFError, OSError):
            return False


class StdoutChannel:
    """Messages as JSON lines on stdout (the script); no parent to wait for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            print(json.dumps(message, default=str), flush=True)

    def wait_go(self, timeout: float) -> bool:
        return True


class Victim:
    """Counts the kill points as the child passes them, and dies at the planned one."""

    def __init__(self, plan: KillPlan, channel: Channel) -> None:
        self.plan = plan
        self.channel = channel
        self.stage = "start"  # then "recovery", then "payments"
        self.action: str | None = None
        self.local = threading.local()  # the label of the HQ request this thread is making
        self._count = 0
        self._lock = threading.Lock()

    def role(self) -> str:
        if self.stage == "recovery":
            return "recovery"
        thread = threading.current_thread()
        for prefix, role in (("kiosk-hq", "journey"), ("kiosk-outbox", "worker"), ("kiosk-printer", "printer")):
            if thread.name.startswith(prefix):
                return role
        return "phone" if thread is threading.main_thread() else thread.name

    def point(self, kind: str, label: str, phase: str) -> None:
        if phase == PHASES[kind][0]:
            self.channel.send({"ev": "point", "kind": kind, "label": label, "action": self.action})
        plan = self.plan
        if plan.kind != kind or plan.phase != phase or (plan.label is not None and plan.label != label):
            return
        with self._lock:
            self._count += 1
            hit = self._count == plan.n
        if hit:
            self.channel.send({"ev": "kill", "kind": kind, "label": label, "phase": phase, "action": self.action})
            os.kill(os.getpid(), signal.SIGKILL)
            while True:  # pragma: no cover - SIGKILL is delivered before kill() returns
                signal.pause()

    def committed(self, record: TransactionRecord, from_state: str | None) -> None:
        self.channel.send(
            {
                "ev": "committed", "tx": record.id, "key": record.idempotency_key, "from": from_state,
                "to": record.state.value, "role": self.role(),
            }
        )


def _http_label(method: str, path: str, kwargs: dict[str, Any]) -> str:
    path = re.sub(r"/houses/[^/]+", "/houses/{id}", path)
    path = re.sub(r"/orders/[^/]+", "/orders/{no}", path)
    if kwargs.get("params"):
        path += "?" + "&".join(sorted(kwargs["params"]))
    return f"{method} {path}"


def instrument_http(victim: Victim) -> None:
    """Kill points around every HQ request of this process: sent (answer not read) and answered."""
    original_request = HqClient._request
    original_getresponse = http.client.HTTPConnection.getresponse

    def request(self: HqClient, method: str, path: str, **kwargs: Any) -> Any:
        label = f"{victim.role()}:{_http_label(method, path, kwargs)}"
        victim.local.label = label
        try:
            result = original_request(self, method, path, **kwargs)
        except HqError:  # an answer came: an error status
            victim.local.label = None
            victim.point("http", label, "answered")
            raise
        finally:
            victim.local.label = None
        victim.point("http", label, "answered")
        return result

    def getresponse(self: http.client.HTTPConnection) -> http.client.HTTPResponse:
        label = getattr(victim.local, "label", None)
        if label is not None:
            victim.point("http", label, "sent")
        return original_getresponse(self)

    HqClient._request = request  # type: ignore[method-assign]
    http.client.HTTPConnection.getresponse = getresponse  # type: ignore[method-assign]


def instrument_store(store: TransactionStore, victim: Victim) -> None:
    """Kill points just before and just after each write of this store (wrapping the instance's methods)."""

    def wrap(name: str, describe: Callable[..., tuple[str, str | None]]) -> None:
        original = getattr(store, name)

        def write(*args: Any, **kwargs: Any) -> Any:
            operation, from_state = describe(*args, **kwargs)
            label = f"{victim.role()}:{operation}"
            victim.point("write", label, "before")
            result = original(*args, **kwargs)
            if name in ("create", "transition"):
                victim.committed(result, from_state)
            victim.point("write", label, "after")
            return result

        setattr(store, name, write)

    def transition(tx_id: str, to_state: TxState, *, reason: str | None = None, **_: Any) -> tuple[str, str]:
        current = store.get(tx_id).state.value
        return f"{current}->{TxState(to_state).value}({reason})", current

    wrap("create", lambda **_: ("create", None))
    wrap("transition", transition)
    wrap("mark_outbox_sent", lambda *_a, **_k: ("mark_outbox_sent", None))
    wrap("outbox_failed", lambda *_a, **_k: ("outbox_failed", None))
    wrap("set_receipt_status", lambda _tx, status: (f"receipt({status})", None))


class _Forward(logging.Handler):
    """The terminal's warnings and errors, to the parent."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(logging.WARNING)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self._channel.send({"ev": "log", "level": record.levelname, "template": str(record.msg),
                                "message": record.getMessage()[:300]})


def child_config(hq_url: str) -> Config:
    return config_from_mapping(
        {
            "terminal": {"id": TERMINAL_ID},
            "hq": {"url": hq_url, "connect_timeout_s": 1.0, "read_timeout_s": 5.0},
            "payment": {"poll_interval_s": 0.02},
        }
    )


def settle(store: TransactionStore, worker: OutboxWorker, timeout: float = 30.0) -> None:
    """What the worker's thread does at start: settle until nothing is in flight but what needs staff."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        worker.run_once()
        if all(tx.state is TxState.NEEDS_ATTENTION for tx in store.in_flight()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"still in flight after {timeout} s: {store.in_flight()}")
        if not worker.online:  # what the connectivity monitor does when HQ answers again
            pause.wait(0.05)
            worker.set_online(True)
            continue
        due = [m.next_attempt_at for m in store.pending_outbox() if m.next_attempt_at is not None]
        if due:  # a retry's backoff
            pause.wait(min(max((min(due) - utc_now()).total_seconds(), 0.0), 1.0))


class Resident:
    """Drives the journey through one payment, then lets the phone and the resident do what `action` says."""

    def __init__(self, journey: Journey, loop: ManualLoop, config: Config, victim: Victim, rng: random.Random):
        self.journey, self.loop, self.config, self.victim, self.rng = journey, loop, config, victim, rng

    def wait(self, *kinds: type) -> Any:
        self.loop.run_until(lambda: isinstance(self.journey.screen, kinds), WAIT_S)
        return self.journey.screen

    def phone(self, pay_url: str, action: str) -> None:
        """What the resident's phone does: open the checkout page, then press Pay or Decline."""
        steps = (("GET", pay_url, "GET checkout"), ("POST", f"{pay_url}/{action}", f"POST {action}"))
        for method, url, operation in steps:
            label = f"{self.victim.role()}:{operation}"
            self.victim.local.label = label
            try:
                answer = requests.request(method, url, headers={"Accept": "application/json"}, timeout=5)
            finally:
                self.victim.local.label = None
            self.victim.point("http", label, "answered")
            if answer.status_code != 200:
                raise AssertionError(f"{operation}: HTTP {answer.status_code} {answer.text[:200]}")

    def pay(self, action: str) -> Outcome:
        journey, rng = self.journey, self.rng
        house = rng.choice(HOUSES)
        journey.card_inserted(house.card_id)
        overview = self.wait(OverviewScreen, IdleScreen)
        if not isinstance(overview, OverviewScreen):
            raise AssertionError(f"card {house.card_id} not identified: {overview}")
        if rng.random() < 0.3:
            journey.select_meter(rng.choice(overview.overview.meters).meter_id)
        if journey.screen.quick_amount_fen is not None and rng.random() < 0.5:  # type: ignore[union-attr]
            journey.quick_pay()
        else:
            journey.other_amount()
            amount = self.wait(AmountScreen)
            if rng.random() < 0.7:
                journey.choose_amount(rng.choice(amount.presets_fen))
            else:
                journey.choose_amount(rng.randrange(amount.min_fen, 50_000, 100))
        payment = self.wait(PaymentScreen, ResultScreen)
        if not isinstance(payment, PaymentScreen):
            raise AssertionError(f"no order: {payment}")
        if action in ("pay", "decline", "pay_then_cancel"):
            self.phone(payment.pay_url, "decline" if action == "decline" else "pay")
        if action in ("cancel", "pay_then_cancel"):
            journey.cancel_payment()
        elif action == "expire":
            self.loop.advance(self.config.payment.countdown_s + 1)
        result: ResultScreen = self.wait(ResultScreen)
        if result.outcome is Outcome.PAID:
            self.loop.run_until(
                lambda: getattr(journey.screen, "receipt", None) not in (ReceiptState.PRINTING, None), WAIT_S
            )
        journey.finish()
        return result.outcome


def run_child(args: ChildArgs, channel: Channel) -> int:
    victim = Victim(args.plan, channel)
    instrument_http(victim)
    logging.getLogger().handlers[:] = [_Forward(channel)]  # to the parent, not to the fork server's stderr
    victim.stage = "recovery"
    marks = {"entered": time.perf_counter()}
    store = TransactionStore.open(args.db_path)
    marks["opened"] = time.perf_counter()
    instrument_store(store, victim)
    config = child_config(args.hq_url)
    worker_hq = HqClient(config.hq.url, config.hq.connect_timeout_s, config.hq.read_timeout_s)
    worker = OutboxWorker(store, worker_hq, policy=RetryPolicy(config.queue.max_attempts, 0.05, 0.2))
    found = recover(store)
    settle(store, worker)
    left = [(tx.id, tx.state.value) for tx in store.in_flight()]
    marks["recovered"] = time.perf_counter()
    channel.send({"ev": "recovered", "found": found, "in_flight": left, "marks": marks})
    if not channel.wait_go(120.0):
        return 0

    victim.stage = "payments"
    loop = ManualLoop()
    runner = Runner(loop.dispatch)
    printer = SimulatedPrinter()
    printer.open()
    hq = HqClient(config.hq.url, config.hq.connect_timeout_s, config.hq.read_timeout_s)
    journey = Journey(
        config=config, hq=hq, store=store, printer=printer, runner=runner, worker=worker, timers=loop,
        translator=Translator("en"), receipt_translator=Translator("zh_CN"),
    )
    worker.start()
    journey.start()
    rng = random.Random(args.seed)
    resident = Resident(journey, loop, config, victim, rng)
    for i in range(args.max_payments):
        action = args.actions[i % len(args.actions)] if args.actions else rng.choice(ACTIONS)
        victim.action = action
        channel.send({"ev": "payment", "action": action})
        outcome = resident.pay(action)
        channel.send({"ev": "outcome", "action": action, "outcome": outcome.value,
                      "expected": EXPECTED[action].value})
    victim.action = None
    worker.stop()
    runner.shutdown()
    for closable in (printer, hq, worker_hq, store):
        closable.close()
    channel.send({"ev": "done"})
    return 0


def child_main(
    args: ChildArgs, up: multiprocessing.connection.Connection, down: multiprocessing.connection.Connection
) -> None:
    """The multiprocessing entry point: one life of the terminal; never returns into the fork server's code."""
    channel = PipeChannel(up, down)
    code = 2
    try:
        code = run_child(args, channel)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            channel.send({"ev": "error", "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
    finally:
        os._exit(code)


# ---- the parent ---------------------------------------------------------------------------------------------------


class InFlight:
    """Counts HQ requests being handled, so the parent can wait until a dead child's last request is done."""

    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()

    def wait_idle(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count == 0, timeout)


class TrackInFlight:
    """ASGI middleware feeding `InFlight`."""

    def __init__(self, app: Any, tracker: InFlight) -> None:
        self.app = app
        self.tracker = tracker

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self.tracker.cond:
            self.tracker.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            with self.tracker.cond:
                self.tracker.count -= 1
                self.tracker.cond.notify_all()


@dataclass
class Report:
    """What a crash matrix run did and found."""

    kills: Counter[str] = field(default_factory=Counter)  # boundary-write, boundary-http, random
    required: set[str] = field(default_factory=set)  # "label @ phase"
    covered: Counter[str] = field(default_factory=Counter)
    random_near: Counter[str] = field(default_factory=Counter)  # the last point a random kill's child reported
    rounds: int = 0
    rounds_without_kill: int = 0
    recoveries: int = 0  # children that recovered and reported (then the invariants were checked)
    recoveries_with_work: int = 0
    payments: Counter[str] = field(default_factory=Counter)  # finished in a child, by action
    final_states: Counter[str] = field(default_factory=Counter)
    created: int = 0
    settled_by_worker: int = 0  # went through `unknown` and were settled with HQ
    settled_after_restart: int = 0  # settled by a restarted terminal
    hq_orders: int = 0
    hq_paid: int = 0
    integrity_checks: int = 0
    integrity_ok: int = 0
    full_checks: int = 0
    violations: list[str] = field(default_factory=list)
    child_logs: Counter[str] = field(default_factory=Counter)
    kill_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_kills(self) -> int:
        return sum(self.kills.values())

    @property
    def uncovered(self) -> list[str]:
        return sorted(b for b in self.required if not self.covered[b])

    def summary(self) -> str:
        per_kill = self.kill_seconds or [0.0]
        p95 = sorted(per_kill)[int(0.95 * (len(per_kill) - 1))]
        lines = [
            f"kills: {self.total_kills} ({', '.join(f'{k} {v}' for k, v in sorted(self.kills.items()))}) "
            f"in {self.rounds} lives ({self.rounds_without_kill} ended without a kill)",
            f"boundaries covered: {len(self.required) - len(self.uncovered)}/{len(self.required)} required, "
            f"{len(self.covered)} distinct in all" + (f"; UNCOVERED: {self.uncovered}" if self.uncovered else ""),
            f"transactions created: {self.created}; final states: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.final_states.items())),
            f"settled with HQ by the worker: {self.settled_by_worker}; by a restarted terminal: "
            f"{self.settled_after_restart}; recoveries {self.recoveries} ({self.recoveries_with_work} with work)",
            f"payments finished by children: {sum(self.payments.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.payments.items()))})",
            f"HQ orders: {self.hq_orders}, paid {self.hq_paid}",
            f"integrity_check ok: {self.integrity_ok}/{self.integrity_checks}; full invariant checks: "
            f"{self.full_checks}; invariant violations: {len(self.violations)}",
            f"time: {self.seconds:.1f} s; per kill mean {statistics.fmean(per_kill) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {max(per_kill) * 1000:.0f} ms",
        ]
        if self.child_logs:
            lines.append("child warnings: " + "; ".join(f"{k} x{v}" for k, v in self.child_logs.most_common(8)))
        lines += [f"VIOLATION: {v}" for v in self.violations[:30]]
        return "\n".join(lines)


@dataclass
class _Life:
    """One child's run as the parent saw it."""

    killed: bool = False
    kill: dict[str, Any] | None = None
    last_point: str | None = None
    exitcode: int | None = None
    error: str | None = None


def _event_pairs(events: Sequence[tuple[int, str | None, str, str | None]]) -> list[tuple[str | None, str]]:
    return [(e[1], e[2]) for e in events]


def _is_subsequence(needle: Sequence[object], haystack: Sequence[object]) -> bool:
    it = iter(haystack)
    return all(any(x == y for y in it) for x in needle)


class CrashMatrix:
    """Kills terminal children at every boundary and at random, and checks the invariants after each kill."""

    def __init__(self, workdir: Path, *, seed: int = 1, progress: Callable[[str], None] | None = None) -> None:
        self.workdir = workdir
        self.db_path = workdir / "terminal.db"
        self.hq_db_path = workdir / "hq.db"
        self.rng = random.Random(seed)
        self.progress = progress or (lambda _line: None)
        self.report = Report()
        self.ctx = multiprocessing.get_context("forkserver")
        # Under the `pytest` script, each child imports it as its __main__: the fork server imports it once.
        self.ctx.set_forkserver_preload(PRELOAD + [name for name in ("pytest",) if name in sys.modules])
        self.tracker = InFlight()
        self.hq: Any = None
        self.start_balances: dict[str, int] = {}
        # The ledger: everything the store acknowledged, and what the parent has read back from the file.
        self.keys: dict[str, str] = {}  # tx id -> idempotency key
        self.acknowledged: dict[str, list[tuple[str | None, str]]] = {}  # tx id -> (from, to) committed
        self.fresh_acks: set[str] = set()
        self.events: dict[str, list[tuple[int, str | None, str, str | None]]] = {}
        self.last_event_id = 0
        self.to_check: set[str] = set()  # transactions whose outcome is not yet checked against HQ
        self.checked_final: dict[str, str] = {}
        self.labels: dict[str, set[str]] = {}  # label -> actions it was seen with
        self.kinds: dict[str, str] = {}  # label -> kind

    # -- set-up ------------------------------------------------------------------------------------------------

    def __enter__(self) -> CrashMatrix:
        from hq.server import HqServer  # the parent only: the children never import uvicorn

        self.hq = HqServer(f"sqlite:///{self.hq_db_path}", seed=True).start()
        self.hq.app.add_middleware(TrackInFlight, tracker=self.tracker)  # before its first request
        with self._hq_db() as db:
            self.start_balances = dict(db.execute("SELECT id, balance_fen FROM meter"))
            if db.execute("SELECT count(*) FROM orders WHERE terminal_id = ?", (TERMINAL_ID,)).fetchone()[0]:
                raise RuntimeError("HQ database already has this terminal's orders")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.hq is not None:
            self.hq.stop()

    @contextlib.contextmanager
    def _hq_db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.hq_db_path, timeout=10)
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _terminal_db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=10)
        try:
            yield db
        finally:
            db.close()

    def violation(self, text: str) -> None:
        self.report.violations.append(text)
        self.progress(f"VIOLATION: {text}")

    # -- running ---------------------------------------------------------------------------------------------

    def run(self, boundary_kills: int, random_kills: int) -> Report:
        """A first life without kills (it finds the boundaries), then boundary and random kills, interleaved.

        Boundary kills aim first at each boundary not yet covered (a boundary met only while recovering takes
        two kills: one that leaves the right state behind, then the one at the boundary), then at the Nth write
        or request of a life, N random. Ends with one more restart and a check of everything.
        """
        report = self.report
        started = time.monotonic()
        self.life(KillPlan(), actions=ACTIONS, max_payments=len(ACTIONS))
        for label in self.labels:
            report.required |= {f"{label} @ {phase}" for phase in PHASES[self.kinds[label]]}
        report.required |= {f"{label} @ {phase}" for label in RECOVERY_SETUPS for phase in PHASES[self._kind(label)]}
        targets = sorted(report.required)
        self.rng.shuffle(targets)
        tries: Counter[str] = Counter()
        shown = 0
        lives_left = 3 * (boundary_kills + random_kills) + 10  # a life may end without a kill; never loop forever
        while lives_left > 0:
            boundary_left = boundary_kills - report.kills["boundary-write"] - report.kills["boundary-http"]
            random_left = random_kills - report.kills["random"]
            if boundary_left <= 0 and random_left <= 0:
                break
            lives_left -= 1
            if random_left > 0 and self.rng.random() < random_left / (random_left + max(boundary_left, 0)):
                self._random_kill()
            else:
                target = next((b for b in targets if not report.covered[b] and tries[b] < 4), None)
                if target is None:
                    self._untargeted_kill()
                else:
                    tries[target] += 1
                    self._targeted_kill(target)
            if report.total_kills // 50 > shown:
                shown = report.total_kills // 50
                self.progress(
                    f"{report.total_kills} kills, {len(report.violations)} violations, "
                    f"{time.monotonic() - started:.0f} s"
                )
        self.life(KillPlan(), max_payments=0)  # a last restart: recover, settle, check
        self.final_check()
        report.seconds = time.monotonic() - started
        return report

    def _kind(self, label: str) -> str:
        operation = label.split(":", 1)[1]
        return "http" if re.match(r"(GET|POST) ", operation) else "write"

    def _targeted_kill(self, boundary: str) -> None:
        label, phase = boundary.split(" @ ")
        kind = self._kind(label)
        if label in RECOVERY_SETUPS:
            setup_label, setup_phase = RECOVERY_SETUPS[label]
            setup = KillPlan(self._kind(setup_label), 1, setup_phase, setup_label)
            self.life(setup, actions=self._actions_for(setup_label), max_payments=3)
            self.life(KillPlan(kind, 1, phase, label), max_payments=1)
            return
        plan = KillPlan(kind, self.rng.randint(1, 2), phase, label)
        self.life(plan, actions=self._actions_for(label), max_payments=4)

    def _actions_for(self, label: str) -> tuple[str, ...]:
        seen = sorted(self.labels.get(label, ()))
        return (self.rng.choice(seen),) if seen else ()

    def _untargeted_kill(self) -> None:
        kind = self.rng.choice(("write", "http"))
        self.life(KillPlan(kind, self.rng.randint(1, 25), self.rng.choice(PHASES[kind])))

    def _random_kill(self) -> None:
        # Mostly somewhere in the first few payments, timed from "go"; sometimes from the start, so that the
        # instant falls while the terminal starts, opens its store and recovers.
        if self.rng.random() < 0.2:
            self.life(KillPlan(), random_kill=("start", self.rng.uniform(0.0, 0.12)))
        else:
            self.life(KillPlan(), random_kill=("go", self.rng.uniform(0.0, 0.35)))

    def life(
        self, plan: KillPlan, *, actions: tuple[str, ...] = (), max_payments: int = 40,
        random_kill: tuple[str, float] | None = None,
    ) -> _Life:
        """Fork one child and follow it until it dies or ends; after a kill, the quick checks.

        `random_kill=(anchor, delay)`: the parent kills the child `delay` seconds after it started ("start") or
        after it was told to go on once recovered ("go").
        """
        report = self.report
        report.rounds += 1
        args = ChildArgs(
            self.hq.base_url, str(self.db_path), plan, self.rng.randrange(2**32), actions, max_payments
        )
        parent_conn, up = self.ctx.Pipe(duplex=False)
        down, go = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=child_main, args=(args, up, down), daemon=True)
        life = _Life()
        began = time.monotonic()
        proc.start()
        up.close()
        down.close()
        kill_at = began + random_kill[1] if random_kill and random_kill[0] == "start" else None
        deadline = began + 120.0
        try:
            while True:
                now = time.monotonic()
                if kill_at is not None and now >= kill_at:
                    proc.kill()
                    life.killed, kill_at = True, None
                if now >= deadline:
                    proc.kill()
                    self.violation(f"child hung: {plan}, last point {life.last_point}")
                    deadline = now + 30.0
                timeout = min(deadline, kill_at if kill_at is not None else deadline) - now
                ready = multiprocessing.connection.wait([parent_conn, proc.sentinel], max(timeout, 0.0))
                if parent_conn in ready:
                    try:
                        message = parent_conn.recv()
                    except (EOFError, OSError):
                        proc.join(30)
                        break
                    pause = time.monotonic()
                    self._on_message(message, life, go)
                    if kill_at is not None:  # the parent's checks are not part of the child's run
                        kill_at += time.monotonic() - pause
                    elif random_kill and random_kill[0] == "go" and message["ev"] == "recovered" and not life.killed:
                        kill_at = time.monotonic() + random_kill[1]
                elif proc.sentinel in ready:
                    while parent_conn.poll(0):
                        self._on_message(parent_conn.recv(), life, go)
                    break
        except (EOFError, OSError):
            pass
        finally:
            parent_conn.close()
            go.close()
        proc.join(30)
        life.exitcode = proc.exitcode
        life.killed = life.kill is not None or life.exitcode == -signal.SIGKILL
        if life.error or (not life.killed and life.exitcode != 0):
            self.violation(f"child failed (exit {life.exitcode}, {plan}): {life.error}")
        if life.killed:
            if life.kill is not None:
                report.kills[f"boundary-{life.kill['kind']}"] += 1
                report.covered[f"{life.kill['label']} @ {life.kill['phase']}"] += 1
            else:
                report.kills["random"] += 1
                report.random_near[life.last_point or "start"] += 1
            self._quiesce()
            self._quick_check()
            report.kill_seconds.append(time.monotonic() - began)
        else:
            report.rounds_without_kill += 1
        return life

    def _on_message(self, message: dict[str, Any], life: _Life, conn: multiprocessing.connection.Connection) -> None:
        report = self.report
        ev = message["ev"]
        if ev == "point":
            life.last_point = message["label"]
            self.kinds[message["label"]] = message["kind"]
            actions = self.labels.setdefault(message["label"], set())
            if message["action"] and not message["label"].startswith("recovery:"):
                actions.add(message["action"])
        elif ev == "committed":
            tx = message["tx"]
            self.keys[tx] = message["key"]
            self.acknowledged.setdefault(tx, []).append((message["from"], message["to"]))
            self.fresh_acks.add(tx)
            self.to_check.add(tx)
        elif ev == "kill":
            life.kill = message
        elif ev == "recovered":
            report.recoveries += 1
            report.recoveries_with_work += bool(message["found"])
            if message["in_flight"]:
                self.violation(f"left in flight after recovery (HQ is healthy): {message['in_flight']}")
            report.full_checks += 1
            self._full_check()
            with contextlib.suppress(OSError):  # killed at random while waiting for it
                conn.send("go")
        elif ev == "outcome":
            report.payments[message["action"]] += 1
            if message["outcome"] != message["expected"]:
                self.violation(f"{message['action']}: the terminal showed {message['outcome']}, "
                               f"not {message['expected']}")
        elif ev == "log":
            report.child_logs[f"{message['level']}: {message['template']}"] += 1
            if message["level"] in ("ERROR", "CRITICAL"):
                self.violation(f"child logged {message['level']}: {message['message']}")
        elif ev == "error":
            life.error = f"{message['error']}\n{message['trace']}"

    def _quiesce(self) -> None:
        """Wait until HQ has handled everything the dead child sent (a reboot takes longer than that)."""
        # A request of ours, on a new connection, goes through HQ's event loop after the dead child's bytes.
        requests.get(f"{self.hq.base_url}/api/v1/health", timeout=10)
        if not self.tracker.wait_idle(30.0):
            self.violation("HQ still busy 30 s after a kill")

    # -- checks ---------------------------------------------------------------------------------------------------

    def _read_terminal(self, db: sqlite3.Connection) -> dict[str, tuple[Any, ...]]:
        """Integrity, then every transaction; reads the events written since the last read into the cache."""
        report = self.report
        report.integrity_checks += 1
        result = db.execute("PRAGMA integrity_check").fetchall()
        if result == [("ok",)]:
            report.integrity_ok += 1
        else:
            self.violation(f"integrity_check: {result[:5]}")
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'transactions'").fetchall():
            return {}  # killed before its first migration finished
        rows = db.execute(
            "SELECT id, idempotency_key, state, order_no, amount_fen, meter_id, new_balance_fen, receipt_status "
            "FROM transactions"
        ).fetchall()
        for event in db.execute(
            "SELECT id, transaction_id, from_state, to_state, reason FROM transaction_events WHERE id > ? "
            "ORDER BY id",
            (self.last_event_id,),
        ):
            self.events.setdefault(event[1], []).append((event[0], event[2], event[3], event[4]))
            self.last_event_id = event[0]
            self.to_check.add(event[1])
        return {row[0]: row for row in rows}

    def _check_ledger(self, txs: dict[str, tuple[Any, ...]]) -> None:
        """Nothing the store acknowledged is lost: every key, and every state change, in order."""
        for tx, key in self.keys.items():
            if tx not in txs:
                self.violation(f"transaction {tx} (key {key}) lost")
            elif txs[tx][1] != key:
                self.violation(f"transaction {tx} changed key: {key} -> {txs[tx][1]}")
        for tx in self.fresh_acks:
            history = _event_pairs(self.events.get(tx, []))
            if not _is_subsequence(self.acknowledged[tx], history):
                self.violation(f"transaction {tx}: acknowledged {self.acknowledged[tx]} not in history {history}")
        self.fresh_acks.clear()
        for tx, row in txs.items():
            self.keys.setdefault(tx, row[1])

    def _quick_check(self) -> None:
        with self._terminal_db() as db:
            txs = self._read_terminal(db)
        self._check_ledger(txs)

    def _full_check(self) -> None:
        """After a recovery: the ledger, then every transaction touched since the last check against HQ."""
        with self._terminal_db() as db:
            txs = self._read_terminal(db)
            self._check_ledger(txs)
            touched = sorted(self.to_check)
            outbox: dict[str, list[tuple[str, bool]]] = {}
            for start in range(0, len(touched), 500):
                chunk = touched[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for tx, kind, sent_at in db.execute(
                    f"SELECT transaction_id, kind, sent_at FROM outbox WHERE transaction_id IN ({marks}) "
                    "ORDER BY id",
                    chunk,
                ):
                    outbox.setdefault(tx, []).append((kind, sent_at is not None))
        with self._hq_db() as hq:
            orders = hq.execute(
                "SELECT order_no, idempotency_key, status, amount_fen, meter_id, new_balance_fen FROM orders "
                "WHERE terminal_id = ?",
                (TERMINAL_ID,),
            ).fetchall()
            balances = dict(hq.execute("SELECT id, balance_fen FROM meter"))
        self._check_hq(txs, orders, balances)
        by_key: dict[str, tuple[Any, ...]] = {o[1]: o for o in orders}
        for tx in touched:
            if tx in txs:
                self._check_transaction(txs[tx], by_key.get(txs[tx][1]), outbox.get(tx, []))
        self.to_check = {tx for tx in touched if tx in txs and TxState(txs[tx][2]) not in TERMINAL_STATES}

    def _check_hq(
        self, txs: dict[str, tuple[Any, ...]], orders: list[tuple[Any, ...]], balances: dict[str, int]
    ) -> None:
        """At most one order and one payment per key, every order's key known here, balances add up."""
        keys = {row[1] for row in txs.values()}
        per_key = Counter(o[1] for o in orders)
        for key, count in per_key.items():
            if count > 1:
                self.violation(f"key {key} has {count} orders at HQ")
        for order_no, key, status, *_ in orders:
            if key not in keys:
                self.violation(f"HQ order {order_no} ({status}) has key {key}, unknown to the terminal")
        paid: Counter[str] = Counter()
        for _no, _key, status, amount, meter, _balance in orders:
            if status == "paid":
                paid[meter] += amount
        for meter, start in self.start_balances.items():
            if balances.get(meter) != start + paid[meter]:
                self.violation(
                    f"meter {meter}: balance {balances.get(meter)} != start {start} + paid orders {paid[meter]}"
                )
        self.report.hq_orders = len(orders)
        self.report.hq_paid = sum(1 for o in orders if o[2] == "paid")

    def _check_transaction(
        self, tx: tuple[Any, ...], order: tuple[Any, ...] | None, outbox: list[tuple[str, bool]]
    ) -> None:
        tx_id, _key, state_value, order_no, amount, meter, new_balance, receipt = tx
        state = TxState(state_value)
        name = f"transaction {tx_id} ({state.value})"
        if state not in TERMINAL_STATES:
            self.violation(f"{name} still in flight after recovery")
            return
        # Terminal and HQ agree.
        hq_state = {"paid": {TxState.PAID}, "declined": {TxState.DECLINED},
                    "cancelled": {TxState.CANCELLED, TxState.EXPIRED}, "expired": {TxState.CANCELLED, TxState.EXPIRED}}
        if order is None:
            if state is not TxState.ABANDONED:
                self.violation(f"{name}: no order at HQ")
        else:
            hq_no, _key, hq_status, hq_amount, hq_meter, hq_balance = order
            if state not in hq_state.get(hq_status, set()):
                self.violation(f"{name}: HQ says {hq_status} (order {hq_no})")
            if order_no != hq_no or amount != hq_amount or meter != hq_meter:
                self.violation(f"{name}: order {order_no} {amount} {meter} vs HQ {hq_no} {hq_amount} {hq_meter}")
            if state is TxState.PAID and new_balance != hq_balance:
                self.violation(f"{name}: new balance {new_balance} vs HQ {hq_balance}")
        if state is TxState.PAID and (order_no is None or new_balance is None):
            self.violation(f"{name}: paid without an order number or a balance")
        if receipt == "printed" and state is not TxState.PAID:
            self.violation(f"{name}: a receipt printed for an unpaid transaction")
        # The history is a legal path ending in the state.
        events = self.events.get(tx_id, [])
        path = _event_pairs(events)
        if not path or path[0] != (None, TxState.NEW.value):
            self.violation(f"{name}: history does not start with its creation: {path}")
            return
        for (_f1, to1), (from2, to2) in itertools.pairwise(path):
            if from2 != to1 or TxState(to2) not in ALLOWED[TxState(to1)]:
                self.violation(f"{name}: illegal step {from2}->{to2} after {to1} in {path}")
        if path[-1][1] != state.value:
            self.violation(f"{name}: history ends in {path[-1][1]}")
        # The outbox: one create, first; one settle message per move to unknown; nothing left to send.
        kinds = [kind for kind, _sent in outbox]
        settles = sum(1 for _f, to in path if to == TxState.UNKNOWN.value)
        if kinds[:1] != [OutboxKind.CREATE_ORDER.value] or kinds.count(OutboxKind.CREATE_ORDER.value) != 1:
            self.violation(f"{name}: outbox {kinds}")
        if kinds.count(OutboxKind.SETTLE.value) != settles:
            self.violation(f"{name}: {kinds.count('settle')} settle messages for {settles} moves to unknown")
        if not all(sent for _kind, sent in outbox):
            self.violation(f"{name}: settled with messages still unsent: {outbox}")
        if tx_id not in self.checked_final:
            self.checked_final[tx_id] = state.value
            if settles:
                self.report.settled_by_worker += 1
            if any(e[3] == "recovered_at_start" for e in events):
                self.report.settled_after_restart += 1
        elif self.checked_final[tx_id] != state.value:
            self.violation(f"{name}: was {self.checked_final[tx_id]} when checked before")

    def final_check(self) -> None:
        """Everything once more, read afresh from both files."""
        cached = {tx: list(events) for tx, events in self.events.items()}
        self.events, self.last_event_id = {}, 0
        self.fresh_acks = set(self.acknowledged)
        with self._terminal_db() as db:
            self.to_check = {tx for (tx,) in db.execute("SELECT id FROM transactions")}
        self._full_check()
        if self.events != cached:
            self.violation("the events read afresh differ from those read during the run")
        with self._terminal_db() as db:
            self.report.final_states = Counter(s for (s,) in db.execute("SELECT state FROM transactions"))
            self.report.created = sum(self.report.final_states.values())
        with self._hq_db() as hq:
            result = hq.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                self.violation(f"HQ integrity_check: {result[:5]}")


# ---- as a script ----------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One life of a terminal that may be killed (JSON lines out).")
    parser.add_argument("--hq", required=True, help="HQ base URL")
    parser.add_argument("--db", required=True, help="the terminal's database file")
    parser.add_argument("--kill", default="none", help="kind:phase:n[:label], e.g. write:after:5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--payments", type=int, default=5)
    parser.add_argument("--actions", default="", help="comma-separated, cycled: " + ",".join(ACTIONS))
    options = parser.parse_args(argv)
    actions = tuple(a for a in options.actions.split(",") if a)
    args = ChildArgs(options.hq, options.db, KillPlan.parse(options.kill), options.seed, actions, options.payments)
    return run_child(args, StdoutChannel())


if __name__ == "__main__":
    sys.exit(main())
