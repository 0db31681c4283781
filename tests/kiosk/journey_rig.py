"""The journey test rig: a Journey on a ManualLoop with the real HQ client, store and simulated printer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from devices.simulators import SimulatedPrinter
from kiosk.config import Config, config_from_mapping
from kiosk.hq_client import HqClient
from kiosk.journey import Journey
from kiosk.outbox_worker import OutboxWorker
from kiosk.screens import Screen
from kiosk.tasks import ManualLoop, Runner
from offline_queue.store import TransactionStore


@dataclass
class Rig:
    """Everything a journey test drives and inspects."""

    journey: Journey
    loop: ManualLoop
    store: TransactionStore
    printer: SimulatedPrinter
    hq: HqClient
    config: Config
    runner: Runner
    worker: OutboxWorker
    worker_hq: HqClient
    screens: list[Screen] = field(default_factory=list)
    warnings: list[int | None] = field(default_factory=list)

    def wait_for(self, kind: type, timeout: float = 10.0) -> Any:
        """Run the loop until the journey shows a screen of `kind`; return it."""
        self.loop.run_until(lambda: isinstance(self.journey.screen, kind), timeout)
        return self.journey.screen

    def wait(self, predicate: Callable[[], object], timeout: float = 10.0) -> None:
        self.loop.run_until(predicate, timeout)

    def cut_hq(self, url: str) -> str:
        """Point the terminal (journey, long poll and worker) at another HQ URL; returns the old one."""
        old = self.hq.base_url
        self.hq.base_url = self.worker_hq.base_url = url  # each long poll's client is made from the journey's
        return old

    def drain(self) -> None:
        """Let the work queued on the hq lane finish and its callbacks (and due timers) run."""
        done: list[bool] = []
        self.runner.submit("hq", lambda: None, lambda _r: done.append(True), lambda _e: done.append(True))
        self.loop.run_until(lambda: done)


def make_config(hq_url: str, **sections: dict[str, object]) -> Config:
    settings: dict[str, dict[str, object]] = {
        "terminal": {"id": "T-TEST"},
        "hq": {"url": hq_url, "connect_timeout_s": 1.0, "read_timeout_s": 2.0},
        "payment": {"poll_interval_s": 0.05},
        "ui": {"language": "en"},  # the rigs' journeys speak English (make_rig's translator)
    }
    for name, values in sections.items():
        settings.setdefault(name, {}).update(values)
    return config_from_mapping(settings)


def pay_in_sandbox(pay_url: str, action: str = "pay") -> dict[str, Any]:
    """What the resident's phone does: open the checkout page, then press Pay (or Decline)."""
    page = requests.get(pay_url, timeout=5)
    assert page.status_code == 200
    answer = requests.post(f"{pay_url}/{action}", headers={"Accept": "application/json"}, timeout=5)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


