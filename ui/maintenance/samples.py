"""Fabricated PIN pad and menu models covering every page and its notable variants (screenshots and tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from devices.base import DeviceState, DeviceStatus, ErrorAction, PaperState
from kiosk.maintenance import (
    DeviceRow,
    Entry,
    MenuNotice,
    MenuScreen,
    MenuState,
    PinNotice,
    PinPad,
    QueueRow,
    Section,
    SelfTestResult,
    SelfTestState,
    SettingRow,
)
from kiosk.maintenance_work import NetworkInfo
from kiosk.runtime_settings import EDITABLE
from offline_queue.staff_store import AuditEntry
from offline_queue.states import TxState

AT = datetime(2026, 12, 1, 2, 15, tzinfo=UTC)
DEVICES = (
    DeviceRow("card_reader", DeviceStatus(DeviceState.ONLINE, card_present=False),
              SelfTestResult(SelfTestState.PASSED, "card", "****C3D4", AT)),
    DeviceRow("qr_scanner", DeviceStatus(DeviceState.HARDWARE_ERROR, last_error="no answer to the health check",
                                         action=ErrorAction.RESET), SelfTestResult(SelfTestState.WAITING)),
    DeviceRow("receipt_printer", DeviceStatus(DeviceState.ONLINE, paper=PaperState.LOW),
              SelfTestResult(SelfTestState.FAILED, "paper_out", at=AT)),
)
ATTENTION = (
    QueueRow("3f2a9c1b-1c2d-4e5f-8a9b-0c1d2e3f4a5b", AT - timedelta(hours=5), TxState.NEEDS_ATTENTION, "3-2-501",
             10000, "EO7KQ2M4X9ZP3R8T", 3, "HqNoAnswer: read timed out"),
    QueueRow("7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", AT - timedelta(hours=2), TxState.NEEDS_ATTENTION, "1-1-101",
             5000, None, 1, "HqError: 409 order_conflict"),
)
WAITING = (
    QueueRow("9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", AT - timedelta(minutes=3), TxState.UNKNOWN, "2-1-302", 2000,
             "HQ4ZT8RM2KXW6NPA", 0, None),
)
PAID = tuple(
    QueueRow(f"00000000-0000-4000-8000-00000000000{i}", AT - timedelta(hours=i * 7), TxState.PAID, house, amount,
             f"EO7KQ2M4X9ZP3R{i}T", 0, None)
    for i, (house, amount) in enumerate((("3-2-501", 10000), ("1-1-101", 5000), ("2-1-302", 20000)), start=1)
)
LOG = tuple(
    f"2026-12-01 10:{m:02d}:{s:02d},120 INFO kiosk.journey: {text}"
    for m, s, text in (
        (1, 5, "card ****C3D4 read"), (1, 6, "transaction 3f2a9c1b-1c2d-4e5f-8a9b-0c1d2e3f4a5b: order created"),
        (2, 40, "transaction 3f2a9c1b-1c2d-4e5f-8a9b-0c1d2e3f4a5b settled: paid"),
        (3, 1, "receipt for 3f2a9c1b-1c2d-4e5f-8a9b-0c1d2e3f4a5b not printed: paper_out"),
    )
)
AUDIT = (
    AuditEntry(5, AT, "S001", "device.test", '{"device": "receipt_printer", "result": "failed"}'),
    AuditEntry(4, AT - timedelta(minutes=1), "S001", "settings.changed",
               '{"from": 60, "key": "ui.inactivity_s", "to": 90}'),
    AuditEntry(3, AT - timedelta(minutes=2), "S001", "menu.opened", '{"via": "gesture"}'),
    AuditEntry(2, AT - timedelta(minutes=3), None, "pin.wrong", '{"failures": 1, "via": "gesture"}'),
    AuditEntry(1, AT - timedelta(days=2), "S001", "staff.pin_set", '{"by": "command line", "new": true}'),
)
SETTINGS = tuple(SettingRow(item, value, item.key == "ui.inactivity_s") for item, value in zip(
    EDITABLE, (100, 90, "zh_CN", "standard", 90, 20, 20, 180), strict=True))
BASE = MenuScreen(
    staff_id="S001", devices=DEVICES, waiting=WAITING, attention=ATTENTION, online=True,
    hq_url="https://hq.example.cn", terminal_id="T-0001", settings=SETTINGS, receipts=PAID, log_lines=LOG,
    audit=AUDIT,
    network=NetworkInfo("https://hq.example.cn", True, 38, "", "lobby-3", "192.168.10.23"),
)


def sample_states() -> dict[str, MenuState]:
    """Name → model for every pad and menu variant worth looking at."""
    until = AT + timedelta(minutes=30)
    return {
        "pin": PinPad(Entry.GESTURE),
        "pin-card-typing": PinPad(Entry.CARD, digits=4),
        "pin-wrong": PinPad(Entry.GESTURE, notice=PinNotice.WRONG, tries_left=3),
        "pin-locked": PinPad(Entry.GESTURE, notice=PinNotice.LOCKED, tries_left=0, locked_until=until),
        "pin-no-staff": PinPad(Entry.GESTURE, digits=6, notice=PinNotice.NO_STAFF),
        "menu-devices": BASE,
        "menu-queue": replace(BASE, section=Section.QUEUE, notice=MenuNotice.RETRY_QUEUED),
        "menu-queue-empty": replace(BASE, section=Section.QUEUE, attention=(), waiting=()),
        "menu-network": replace(BASE, section=Section.NETWORK),
        "menu-network-down": replace(BASE, section=Section.NETWORK, online=False, network=NetworkInfo(
            "https://hq.example.cn", False, None, "HqUnreachable: connection refused", "lobby-3", "")),
        "menu-settings": replace(BASE, section=Section.SETTINGS, notice=MenuNotice.SETTING_SAVED),
        "menu-settings-invalid": replace(BASE, section=Section.SETTINGS, notice=MenuNotice.SETTING_INVALID,
                                         notice_detail="ui.warning_s"),
        "menu-receipts": replace(BASE, section=Section.RECEIPTS),
        "menu-log": replace(BASE, section=Section.LOG),
        "menu-audit": replace(BASE, section=Section.AUDIT),
        "menu-terminal": replace(BASE, section=Section.TERMINAL),
        "menu-terminal-out": replace(BASE, section=Section.TERMINAL, out_of_service=True,
                                     notice=MenuNotice.OUT_OF_SERVICE),
    }
