"""Each remote command end to end: issued at HQ, delivered in a heartbeat's answer to a real Terminal (ManualLoop,
fake devices), carried out, acknowledged by the next beat and recorded at HQ with its outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from journey_rig import make_config

from devices.base import (
    CardReader,
    DeviceState,
    PaperState,
    PrinterError,
    QrScanner,
    Receipt,
    ReceiptPrinter,
)
from hq import commands
from hq.context import hq_context
from hq.fleet import terminal_page
from hq.fleet_context import fleet_context
from hq.fleet_models import TerminalCommand
from hq.server import HqServer
from kiosk.app import Devices, Terminal
from kiosk.remote_commands import RemoteCommands
from kiosk.screens import IdleScreen, OutOfServiceScreen
from kiosk.tasks import ManualLoop


class _Reader(CardReader):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)


class _Scanner(QrScanner):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)


class _Printer(ReceiptPrinter):
    def __init__(self) -> None:
        super().__init__()
        self.printed: list[Receipt] = []
        self.fail: str | None = None

    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE, paper=PaperState.OK)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)

    def print_receipt(self, receipt: Receipt) -> None:
        if self.fail:
            raise PrinterError(self.fail)
        self.printed.append(receipt)

    def paper_state(self) -> PaperState:
        return PaperState.OK


class Rig:
    def __init__(self, terminal: Terminal, loop: ManualLoop, hq: HqServer, printer: _Printer) -> None:
        self.terminal, self.loop, self.hq, self.printer = terminal, loop, hq, printer
        # Every beat wakes the loop, so waiting on HQ's records needs no sleeping.
        terminal.fleet_link.worker.add_listener(lambda _ok: loop.dispatch(lambda: None))

    @property
    def terminal_id(self) -> str:
        return self.terminal.config.terminal.id

    def issue(self, kind: str) -> int:
        assert self.hq.app is not None
        return commands.issue(hq_context(self.hq.app).sessions, self.terminal_id, kind, "alice",
                              datetime.now(UTC), timedelta(hours=1)).id

    def command(self, command_id: int) -> TerminalCommand:
        assert self.hq.app is not None
        found = commands.get(hq_context(self.hq.app).sessions, command_id)
        assert found is not None
        return found

    def run_command(self, kind: str) -> TerminalCommand:
        """Issue a command, beat, and wait until HQ has its outcome."""
        command_id = self.issue(kind)
        self.terminal.fleet_link.worker.beat_now()
        self.loop.run_until(lambda: self.command(command_id).status in ("done", "failed"), timeout=10)
        return self.command(command_id)

    def page(self) -> Any:
        assert self.hq.app is not None
        return terminal_page(hq_context(self.hq.app).sessions, fleet_context(self.hq.app), self.terminal_id,
                             datetime.now(UTC))


@pytest.fixture(scope="module")
def strict_hq() -> Iterator[HqServer]:
    with HqServer(require_signatures=True) as server:
        yield server


@pytest.fixture
def make_rig(tmp_path: Path, strict_hq: HqServer) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def build(config_file: Path | None = None, **sections: dict[str, object]) -> Rig:
        terminal_id = f"T-CMD-{len(rigs)}-{tmp_path.name[-6:]}"
        secret_file = tmp_path / f"{terminal_id}.secret"
        secret_file.write_text(strict_hq.register_terminal(terminal_id) + "\n")
        secret_file.chmod(0o600)
        sections.setdefault("terminal", {}).update({"id": terminal_id, "secret_file": str(secret_file)})
        sections.setdefault("storage", {"database": str(tmp_path / f"{terminal_id}.db")})
        sections.setdefault("heartbeat", {"interval_s": 3600.0})  # beats only at start and when asked
        config = make_config(strict_hq.base_url, **sections)
        loop = ManualLoop()
        printer = _Printer()
        terminal = Terminal(config, loop.dispatch, loop, devices=Devices(_Reader(), _Scanner(), printer),
                            config_path=config_file)
        rig = Rig(terminal, loop, strict_hq, printer)
        terminal.start()
        rigs.append(rig)
        loop.run_until(lambda: rig.page().view.last_beat_at is not None, timeout=10)  # the beat at start
        return rig

    yield build
    for rig in rigs:
        rig.terminal.stop()


def test_the_first_beat_reports_the_terminal(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    view = rig.page().view
    assert view.state == "online" and view.version == "0.1.0"
    assert {d["kind"] for d in view.devices} == {"card_reader", "qr_scanner", "receipt_printer"}
    assert view.paper == "ok" and view.queue_waiting == 0 and view.disk_free_bytes


def test_out_of_service_and_back(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    command = rig.run_command("out_of_service")
    assert (command.status, command.detail) == ("done", "out of service")
    rig.loop.run_until(lambda: isinstance(rig.terminal.journey.screen, OutOfServiceScreen))
    rig.loop.run_until(lambda: rig.page().view.state == "out_of_service", timeout=10)
    command = rig.run_command("in_service")
    assert command.status == "done"
    rig.loop.run_until(lambda: isinstance(rig.terminal.journey.screen, IdleScreen))
    rig.loop.run_until(lambda: rig.page().view.state == "online", timeout=10)


def test_print_a_test_receipt(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    command = rig.run_command("print_test_receipt")
    assert (command.status, command.detail) == ("done", "test receipt printed")
    assert len(rig.printer.printed) == 1 and rig.terminal_id in str(rig.printer.printed[0].lines)
    rig.printer.fail = "paper_out"
    command = rig.run_command("print_test_receipt")
    assert (command.status, command.detail) == ("failed", "printer: paper_out")


def test_reload_configuration(make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text("[payment]\nmin_fen = 1000\n")
    rig = make_rig(config_file)
    config_file.write_text(
        f'[terminal]\nid = "{rig.terminal_id}"\nsecret_file = "{rig.terminal.config.terminal.secret_file}"\n'
        f'[hq]\nurl = "{rig.hq.base_url}"\nread_timeout_s = 2.0\n'
        f'[storage]\ndatabase = "{rig.terminal.config.storage.database}"\n'
        '[heartbeat]\ninterval_s = 3600.0\n[payment]\nmin_fen = 2000\n'
    )
    command = rig.run_command("reload_config")
    assert command.status == "done", command.detail
    assert command.detail is not None and command.detail.startswith("applied: ")
    assert "payment.min_fen" in command.detail and "restart needed for: hq.connect_timeout_s" in command.detail
    assert rig.terminal.config.payment.min_fen == 2000
    config_file.write_text("[payment]\nmin_fen = 'lots'\n")
    command = rig.run_command("reload_config")
    assert command.status == "failed" and "payment.min_fen" in (command.detail or "")
    assert rig.terminal.config.payment.min_fen == 2000  # a bad file changes nothing


def test_reload_without_a_file_fails_clearly(make_rig: Callable[..., Rig]) -> None:
    command = make_rig().run_command("reload_config")
    assert command.status == "failed" and "without a configuration file" in (command.detail or "")


def test_send_the_recent_log(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    logging.getLogger("kiosk.test").warning("card 04A1B2C3D4 could not be read")
    command = rig.run_command("send_log")
    assert command.status == "done" and command.attachment is not None
    assert "could not be read" in command.attachment
    assert "04A1B2C3D4" not in command.attachment  # the log ring masks card ids


def test_a_command_is_carried_out_once_however_often_it_comes() -> None:
    runs: list[int] = []
    executor = RemoteCommands({"send_log": lambda done: (runs.append(1), done("done", "sent", None))})
    executor.received([{"id": 7, "kind": "send_log"}])
    acks = executor.pending_acks()
    executor.received([{"id": 7, "kind": "send_log"}])  # handed out again: the ack was not yet sent
    assert runs == [1] and [a.id for a in executor.pending_acks()] == [7]
    executor.acknowledged(acks)
    assert executor.pending_acks() == []
    executor.received([{"id": 7, "kind": "send_log"}])  # HQ missed the ack: it is said again, not redone
    assert runs == [1] and [a.id for a in executor.pending_acks()] == [7]
    executor.received([{"id": 8, "kind": "self_destruct"}, "garbage"])
    assert [(a.id, a.status) for a in executor.pending_acks()] == [(7, "done"), (8, "failed")]
