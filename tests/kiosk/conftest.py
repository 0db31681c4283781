"""Fixtures for the core's tests: the real HQ on loopback, journey rigs, and HQs that fail."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from journey_rig import Rig, make_config

from devices.simulators import SimulatedPrinter
from hq.server import HqServer
from kiosk.hq_client import HqClient
from kiosk.i18n import Translator
from kiosk.journey import Journey
from kiosk.outbox_worker import OutboxWorker
from kiosk.tasks import ManualLoop, Runner
from offline_queue.store import TransactionStore


@pytest.fixture(scope="session")
def hq_server() -> Iterator[HqServer]:
    with HqServer(seed=True) as server:
        yield server


@pytest.fixture
def make_rig(tmp_path: Path, hq_server: HqServer) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def build(hq_url: str | None = None, **sections: dict[str, object]) -> Rig:
        config = make_config(hq_url or hq_server.base_url, **sections)
        loop = ManualLoop()
        runner = Runner(loop.dispatch)
        store = TransactionStore.open(tmp_path / f"terminal-{len(rigs)}.db")
        printer = SimulatedPrinter()
        printer.open()
        hq = HqClient(config.hq.url, config.hq.connect_timeout_s, config.hq.read_timeout_s)
        worker_hq = HqClient(config.hq.url, config.hq.connect_timeout_s, config.hq.read_timeout_s)

        def watch_client() -> HqClient:  # where the journey's own client points now (`Rig.cut_hq`)
            return HqClient(hq.base_url, config.hq.connect_timeout_s, config.hq.read_timeout_s)

        worker = OutboxWorker(
            store, worker_hq, on_status=lambda status: loop.dispatch(lambda: journey.set_queue(status))
        )
        journey = Journey(
            config=config, hq=hq, store=store, printer=printer, runner=runner, worker=worker, timers=loop,
            translator=Translator("en"), receipt_translator=Translator("zh_CN"), watch_client=watch_client,
        )
        rig = Rig(journey, loop, store, printer, hq, config, runner, worker, worker_hq)
        worker.start()
        journey.add_screen_listener(rig.screens.append)
        journey.add_time_warning_listener(rig.warnings.append)
        journey.start()
        rigs.append(rig)
        return rig

    yield build
    for rig in rigs:
        rig.worker.stop()
        rig.runner.shutdown()
        rig.printer.close()
        rig.hq.close()
        rig.worker_hq.close()
        rig.store.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback URL that accepts connections and never answers (a hung HQ)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
