"""A terminal for the maintenance menu's core tests: the real Terminal on a ManualLoop, with small fake devices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devices.base import CardReader, DeviceState, PaperState, PrinterError, QrScanner, Receipt, ReceiptPrinter
from kiosk.app import Devices, Terminal
from kiosk.config import Config, config_from_mapping
from kiosk.maintenance import MaintenanceMenu, MenuState
from kiosk.staff import PinHasher
from kiosk.tasks import ManualLoop
from offline_queue.states import TxState
from offline_queue.store import TransactionRecord

STAFF_CARD = "5A5A000001"
# Cheap Argon2id parameters: the tests check behaviour, not the cost of guessing.
TEST_HASHER = PinHasher(time_cost=1, memory_cost=8, parallelism=1)


class FakeCardReader(CardReader):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE, card_present=False)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)

    def insert(self, card_id: str) -> None:
        self._card_read(card_id)


class FakeScanner(QrScanner):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)

    def scan(self, payload: str) -> None:
        self._scanned(payload)


class FakePrinter(ReceiptPrinter):
    def __init__(self) -> None:
        super().__init__()
        self.receipts: list[Receipt] = []
        self.fault: str | None = None

    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE, paper=PaperState.OK)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)

    def print_receipt(self, receipt: Receipt) -> None:
        if self.fault:
            raise PrinterError(self.fault)
        self.receipts.append(receipt)

    def paper_state(self) -> PaperState:
        return PaperState.OK


def fake_devices() -> Devices:
    return Devices(FakeCardReader(), FakeScanner(), FakePrinter())


def terminal_config(db: Path, hq_url: str, **sections: dict[str, Any]) -> Config:
    settings: dict[str, dict[str, Any]] = {
        "terminal": {"id": "T-MENU"},
        "hq": {"url": hq_url, "connect_timeout_s": 0.5, "read_timeout_s": 1.0, "health_interval_s": 3600},
        "storage": {"database": str(db)},
        "maintenance": {"staff_cards": [STAFF_CARD], "export_dir": str(db.parent / "exports")},
    }
    for name, values in sections.items():
        settings.setdefault(name, {}).update(values)
    return config_from_mapping(settings)


@dataclass
class MenuRig:
    terminal: Terminal
    loop: ManualLoop
    states: list[MenuState] = field(default_factory=list)
    restarts: list[bool] = field(default_factory=list)
    leaves: list[bool] = field(default_factory=list)

    @property
    def menu(self) -> MaintenanceMenu:
        return self.terminal.maintenance

    @property
    def state(self) -> MenuState:
        return self.menu.state

    @property
    def devices(self) -> Devices:
        return self.terminal.devices

    def wait(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        self.loop.run_until(predicate, timeout)

    def settle(self) -> None:
        """Let work queued on the staff lane finish and its callbacks run."""
        done: list[bool] = []
        self.terminal.runner.submit("staff", lambda: None, lambda _r: done.append(True), lambda _e: None)
        self.loop.run_until(lambda: done)

    def type_pin(self, pin: str) -> None:
        for digit in pin:
            self.menu.pin_digit(digit)
        self.menu.pin_submit()

    def actions(self) -> list[str]:
        return [entry.action for entry in self.terminal.staff.audit_log()]

    def needs_attention(self) -> TransactionRecord:
        store = self.terminal.store
        tx = store.create(terminal_id="T-MENU", service="electricity", house_id="h1", house_label="3-2-501",
                          meter_id="m1", meter_label="lighting:1", amount_fen=5000)
        sent = [m.id for m in store.outbox_for(tx.id)]  # the create_order went out; its answer did not come
        store.transition(tx.id, TxState.UNKNOWN, reason="create_no_answer", sent=sent)
        return store.transition(tx.id, TxState.NEEDS_ATTENTION, reason="attempts_used_up", last_error="no answer")

    def paid(self) -> TransactionRecord:
        store = self.terminal.store
        tx = store.create(terminal_id="T-MENU", service="electricity", house_id="h2", house_label="1-1-101",
                          meter_id="m2", meter_label="lighting:2", amount_fen=10000)
        sent = [m.id for m in store.outbox_for(tx.id)]
        store.transition(tx.id, TxState.AWAITING_PAYMENT, reason="order_created", order_no="EO7KQ2M4X9ZP3R8T",
                         sent=sent)
        return store.transition(tx.id, TxState.PAID, reason="hq_paid", new_balance_fen=20000)


class FakeClock:
    """A clock for the staff store (PIN lock times) that tests move forward."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
