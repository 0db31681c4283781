"""``kiosk-hq serve --workers N``: N HQ processes on one listening socket and one database.

One Python process serves HQ on about one core, its event loop and database threads taking turns at the GIL. Each
worker here is a whole HQ app in a spawned process, accepting from the socket this parent binds. What the
workers share they share through a run directory this parent makes (in ``/dev/shm`` where there is one) and
removes at the end:

- ``nonces``: the replay table of signed requests (hq.nonce_table), so a nonce used at one worker is refused at
  every other;
- ``counters``: the counters /metrics shows (hq.shared_counters), summed over the workers;
- ``wake/``: each worker's socket for the word that an order changed (hq.peer_wake), so a long poll waiting in
  one worker answers as soon as another takes the payment.

The rest they share through the database (SQLite writers of all processes queue on one file lock, hq.db). A
worker that dies is replaced, after a wait that doubles while replacements die soon after they start; one that
cannot start stops them all.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from hq.app import close_app, create_app
from hq.secret_box import SecretBox
from hq.server import ServerAnsweringLongPolls

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
STARTUP_FAILURE = 3  # uvicorn's exit status for a server that could not start (uvicorn.config.STARTUP_FAILURE)
CHECK_S = 0.5  # how often the parent looks for a worker that has stopped
RESTART_FIRST_S = 1.0  # the wait before replacing a worker that died soon after it started, doubling each time
RESTART_MAX_S = 60.0
STABLE_S = 60.0  # a worker that served this long is replaced at once, and the wait starts afresh


@dataclass(frozen=True)
class WorkerPlan:
    """What each worker builds its app and server from: plain values, as it travels to a spawned process."""

    db_url: str
    public_url: str | None
    confirm_delay: timedelta
    require_signatures: bool
    master_key: bytes = field(repr=False)
    metrics_token: str | None = field(repr=False)
    server: dict[str, Any]  # uvicorn.Config keyword arguments: log level, keep-alive, event loop, TLS
    run_dir: Path | None = None

    def app(self) -> FastAPI:
        """This worker's HQ app; the tables exist already (the parent made them)."""
        return create_app(
            self.db_url, self.public_url, confirm_delay=self.confirm_delay, create_tables=False,
            require_signatures=self.require_signatures, secret_box=SecretBox(self.master_key),
            metrics_token=self.metrics_token, run_dir=self.run_dir,
        )


def serve(plan: WorkerPlan, host: str, port: int, workers: int) -> int:
    """Bind ``host:port``, run ``workers`` workers until SIGINT or SIGTERM; the exit status for the command."""
    shm = Path("/dev/shm")
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-hq-", dir=shm if os.access(shm, os.W_OK) else None))
    try:
        plan = replace(plan, run_dir=run_dir)
        listening = uvicorn.Config(plan.app, factory=True, host=host, port=port, **plan.server).bind_socket()
        return _supervise(plan, listening, workers)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@dataclass
class _Slot:
    """One of the N workers: its current process, and when to start the next one after it died."""

    process: BaseProcess
    started: float
    delay_s: float = 0.0  # the wait before the last restart; doubles while workers die soon after they start
    restart_at: float | None = None  # set once its process is found dead

    def schedule_restart(self, now: float) -> float:
        """Note the process's death at ``now``; the wait before its replacement: none for a worker that had served
        ``STABLE_S``, else doubling from ``RESTART_FIRST_S`` up to ``RESTART_MAX_S``, so a worker that crashes
        whenever it starts is not respawned (a second of CPU each) every ``CHECK_S``."""
        lived_s = now - self.started
        self.delay_s = 0.0 if lived_s >= STABLE_S else min(max(2 * self.delay_s, RESTART_FIRST_S), RESTART_MAX_S)
        self.restart_at = now + self.delay_s
        return self.delay_s


def _supervise(plan: WorkerPlan, listening: socket.socket, workers: int) -> int:
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> BaseProcess:
        process = spawn.Process(target=_run_worker, args=(plan, os.getpid(), [listening]), name="kiosk-hq-worker")
        process.start()
        return process

    status = 0
    slots = [_Slot(start(), time.monotonic()) for _ in range(workers)]
    try:
        while not stop.wait(CHECK_S):
            now = time.monotonic()
            for slot in slots:
                process = slot.process
                if process.exitcode is None:
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    print(f"kiosk-hq: error: worker {process.pid} could not start; stopping", file=sys.stderr)
                    status = 1
                    stop.set()
                    break
                if slot.restart_at is None:
                    delay_s = slot.schedule_restart(now)
                    print(f"kiosk-hq: worker {process.pid} stopped (exit status {process.exitcode}); starting another"
                          + (f" in {delay_s:g} s" if delay_s else ""), file=sys.stderr)
                if now >= (slot.restart_at or 0.0):
                    slot.process, slot.started, slot.restart_at = start(), time.monotonic(), None
    finally:
        for slot in slots:
            if slot.process.exitcode is None:
                slot.process.terminate()  # SIGTERM: the worker answers its long polls and finishes its requests
        for slot in slots:
            slot.process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        listening.close()
    return status


def _run_worker(plan: WorkerPlan, parent: int, sockets: list[socket.socket]) -> None:
    _stop_with(parent)
    try:
        app = plan.app()
    except Exception as exc:
        print(f"kiosk-hq: error: worker {os.getpid()} cannot build HQ: {exc.__class__.__name__}: {exc}",
              file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    _serve_app(app, plan, sockets=sockets)


def serve_alone(plan: WorkerPlan, host: str, port: int) -> int:
    """Serve ``host:port`` from this process only (``--workers 1``): no run directory, nothing shared."""
    _serve_app(plan.app(), plan, host=host, port=port)
    return 0


def _serve_app(app: FastAPI, plan: WorkerPlan, sockets: list[socket.socket] | None = None, **where: Any) -> None:
    try:
        ServerAnsweringLongPolls(uvicorn.Config(app, **where, **plan.server)).run(sockets=sockets)
    finally:
        close_app(app)


def _stop_with(parent: int) -> None:
    """Have the kernel send this worker SIGTERM when the parent dies, however it dies (Linux): a parent killed
    outright must not leave workers serving on its port with nobody to stop them."""
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request took hold
        os.kill(os.getpid(), signal.SIGTERM)
