"""The maintenance menu's core on a real Terminal (ManualLoop, fake devices): entry, PIN, closing, every action
with its audit entry, settings and out of service kept across a restart."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from maintenance_rig import STAFF_CARD, TEST_HASHER, FakeCardReader, FakePrinter, FakeScanner, MenuRig, fake_devices
from maintenance_rig import terminal_config as make_config

from kiosk.app import Terminal
from kiosk.maintenance import (
    CloseReason,
    Entry,
    MenuNotice,
    MenuScreen,
    PinNotice,
    PinPad,
    Section,
    SelfTestState,
)
from kiosk.maintenance_work import SettleOutcome, SettleReason
from kiosk.screens import IdleScreen, LoadingScreen, OutOfServiceScreen
from kiosk.staff import Action
from kiosk.tasks import ManualLoop
from offline_queue.states import TxState

PIN = "480215"


@pytest.fixture
def make_terminal(tmp_path: Path, dead_url: str) -> Iterator[Callable[..., MenuRig]]:
    rigs: list[MenuRig] = []

    def build(**sections: dict[str, object]) -> MenuRig:
        sections.setdefault("heartbeat", {"enabled": False})
        config = make_config(tmp_path / "terminal.db", dead_url, **sections)
        loop = ManualLoop()
        terminal = Terminal(config, loop.dispatch, loop, devices=fake_devices())
        terminal.staff.hasher = TEST_HASHER
        rig = MenuRig(terminal, loop)
        terminal.maintenance.add_listener(rig.states.append)
        terminal.maintenance.set_app_hooks(restart=lambda: rig.restarts.append(True),
                                           leave=lambda: rig.leaves.append(True))
        terminal.start()
        rigs.append(rig)
        return rig

    yield build
    for rig in rigs:
        rig.terminal.stop()


@pytest.fixture
def rig(make_terminal: Callable[..., MenuRig]) -> MenuRig:
    rig = make_terminal()
    rig.terminal.staff.set_pin("S001", PIN)
    return rig


def restart(rig: MenuRig, make_terminal: Callable[..., MenuRig]) -> MenuRig:
    rig.terminal.stop()
    return make_terminal()


def open_menu(rig: MenuRig) -> MenuScreen:
    rig.menu.gesture()
    rig.type_pin(PIN)
    rig.wait(lambda: isinstance(rig.state, MenuScreen))
    assert isinstance(rig.state, MenuScreen)
    return rig.state


def menu(rig: MenuRig) -> MenuScreen:
    assert isinstance(rig.state, MenuScreen)
    return rig.state


# ---- entry and PIN --------------------------------------------------------------------------------------------


def test_the_gesture_opens_the_pad_only_while_no_resident_is_served(rig: MenuRig) -> None:
    rig.terminal.journey.enter_house_number()  # a resident is typing
    rig.menu.gesture()
    assert rig.state is None
    rig.terminal.journey.finish()
    rig.menu.gesture()
    assert rig.state == PinPad(Entry.GESTURE)


def test_a_staff_card_opens_the_pad_instead_of_a_journey(rig: MenuRig) -> None:
    reader = rig.devices.card_reader
    assert isinstance(reader, FakeCardReader)
    rig.terminal.journey.card_inserted(STAFF_CARD)
    assert rig.state == PinPad(Entry.CARD)
    assert isinstance(rig.terminal.journey.screen, IdleScreen)


def test_a_residents_card_closes_the_pad_and_starts_the_journey(rig: MenuRig) -> None:
    rig.menu.gesture()
    rig.terminal.journey.card_inserted("04A1B2C3D4")
    assert rig.state is None
    assert isinstance(rig.terminal.journey.screen, LoadingScreen)  # finding the resident's home


def test_digits_are_counted_never_shown_and_a_short_pin_is_refused(rig: MenuRig) -> None:
    rig.menu.gesture()
    for digit in "4802":
        rig.menu.pin_digit(digit)
    rig.menu.pin_backspace()
    assert rig.state == PinPad(Entry.GESTURE, digits=3)
    assert "480" not in repr(rig.states)
    rig.menu.pin_submit()
    assert isinstance(rig.state, PinPad) and rig.state.notice is PinNotice.TOO_SHORT


def test_a_wrong_pin_says_how_many_tries_are_left(rig: MenuRig) -> None:
    rig.menu.gesture()
    rig.type_pin("000111")
    rig.wait(lambda: isinstance(rig.state, PinPad) and rig.state.notice is not None)
    assert rig.state == PinPad(Entry.GESTURE, notice=PinNotice.WRONG, tries_left=4)
    rig.type_pin(PIN)
    rig.wait(lambda: isinstance(rig.state, MenuScreen))
    assert menu(rig).staff_id == "S001"
    assert rig.actions()[:2] == [Action.MENU_OPENED, Action.PIN_WRONG]


def test_five_wrong_pins_lock_the_menu_and_the_lock_survives_a_restart(
    rig: MenuRig, make_terminal: Callable[..., MenuRig]
) -> None:
    rig.menu.gesture()
    for _ in range(5):
        rig.type_pin("000111")
        rig.wait(lambda: isinstance(rig.state, PinPad) and not rig.state.checking)
    pad = rig.state
    assert isinstance(pad, PinPad) and pad.notice is PinNotice.LOCKED and pad.locked_until is not None
    rig.type_pin(PIN)  # the pad takes no digits while locked
    assert rig.state is pad
    rig = restart(rig, make_terminal)
    rig.terminal.staff.hasher = TEST_HASHER
    rig.menu.gesture()
    rig.wait(lambda: isinstance(rig.state, PinPad) and rig.state.notice is PinNotice.LOCKED)
    rig.type_pin(PIN)
    rig.settle()
    assert isinstance(rig.state, PinPad) and rig.state.notice is PinNotice.LOCKED


def test_no_pin_set_yet_is_said_plainly(make_terminal: Callable[..., MenuRig]) -> None:
    rig = make_terminal()
    rig.menu.gesture()
    rig.type_pin(PIN)
    rig.wait(lambda: isinstance(rig.state, PinPad) and rig.state.notice is PinNotice.NO_STAFF)


def test_the_menu_closes_itself_after_two_minutes_without_a_touch(rig: MenuRig) -> None:
    open_menu(rig)
    rig.loop.advance(100)
    rig.menu.touched()  # a touch restarts the two minutes
    rig.loop.advance(110)
    rig.loop.run_until(lambda: True)
    assert isinstance(rig.state, MenuScreen)
    rig.loop.advance(11)
    rig.wait(lambda: rig.state is None)
    rig.settle()
    closed = rig.terminal.staff.audit_log()[0]
    assert (closed.action, closed.staff_id, closed.detail) == (Action.MENU_CLOSED, "S001", {"reason": "timeout"})


def test_the_pad_left_alone_closes_too(rig: MenuRig) -> None:
    rig.menu.gesture()
    rig.loop.advance(121)
    rig.wait(lambda: rig.state is None)


def test_a_resident_needing_the_screen_closes_the_menu(rig: MenuRig) -> None:
    open_menu(rig)
    rig.terminal.journey.qr_scanned("CPK:H:HC3K2P501X")
    assert rig.state is None
    assert isinstance(rig.terminal.journey.screen, LoadingScreen)
    rig.settle()
    assert rig.terminal.staff.audit_log()[0].detail == {"reason": CloseReason.RESIDENT.value}


# ---- actions, each with its audit entry ------------------------------------------------------------------------


def test_printer_self_test_prints_chinese_and_a_qr(rig: MenuRig) -> None:
    open_menu(rig)
    printer = rig.devices.printer
    assert isinstance(printer, FakePrinter)
    rig.menu.test_device("receipt_printer")
    rig.wait(lambda: menu(rig).devices[2].test is not None and menu(rig).devices[2].test.state is SelfTestState.PASSED)
    (receipt,) = printer.receipts
    assert receipt.qr_data and any("\u4e00" <= ch <= "\u9fff" for line in receipt.lines for ch in line.value)
    printer.fault = "paper_out"
    rig.menu.test_device("receipt_printer")
    rig.wait(lambda: menu(rig).devices[2].test.state is SelfTestState.FAILED)  # type: ignore[union-attr]
    assert menu(rig).devices[2].test.kind == "paper_out"  # type: ignore[union-attr]
    rig.settle()
    tests = [e.detail for e in rig.terminal.staff.audit_log() if e.action == Action.DEVICE_TEST]
    assert [(d["device"], d["result"]) for d in tests] == [("receipt_printer", "failed"), ("receipt_printer", "passed")]


def test_card_and_scanner_self_tests_take_the_next_card_and_code_masked(rig: MenuRig) -> None:
    open_menu(rig)
    reader, scanner = rig.devices.card_reader, rig.devices.qr_scanner
    assert isinstance(reader, FakeCardReader) and isinstance(scanner, FakeScanner)
    rig.menu.test_device("card_reader")
    rig.menu.test_device("qr_scanner")
    assert [row.test.state for row in menu(rig).devices[:2]] == [SelfTestState.WAITING] * 2  # type: ignore[union-attr]
    rig.terminal.journey.card_inserted("04A1B2C3D4")  # the test's, not a journey's
    rig.terminal.journey.qr_scanned("134567890123456789")
    card, scan = (row.test for row in menu(rig).devices[:2])
    assert card is not None and (card.state, card.kind, card.value) == (SelfTestState.PASSED, "card", "****C3D4")
    assert scan is not None
    assert (scan.state, scan.kind, scan.value) == (SelfTestState.PASSED, "payment_code", "****6789")
    assert isinstance(rig.state, MenuScreen) and isinstance(rig.terminal.journey.screen, IdleScreen)
    rig.menu.test_device("card_reader")
    rig.loop.advance(31)
    rig.wait(lambda: menu(rig).devices[0].test.state is SelfTestState.TIMED_OUT)  # type: ignore[union-attr]
    rig.settle()
    details = [e.detail_json or "" for e in rig.terminal.staff.audit_log()]
    assert sum(e.action == Action.DEVICE_TEST for e in rig.terminal.staff.audit_log()) == 3
    assert not any("04A1B2C3D4" in d or "134567890123456789" in d for d in details)


def test_retry_and_mark_settled_from_the_queue(rig: MenuRig) -> None:
    first, second = rig.needs_attention(), rig.needs_attention()
    open_menu(rig)
    rig.menu.show_section(Section.QUEUE)
    rig.wait(lambda: len(menu(rig).attention) == 2)
    rig.menu.retry(first.id)
    rig.wait(lambda: menu(rig).notice is MenuNotice.RETRY_QUEUED)
    assert rig.terminal.store.get(first.id).state is TxState.UNKNOWN  # HQ is away: the worker holds it
    pending = [m for m in rig.terminal.store.outbox_for(first.id) if m.sent_at is None]
    assert [(m.kind, m.payload, m.idempotency_key) for m in pending] == [
        ("settle", {"intent": "staff_retry"}, first.idempotency_key)]
    rig.menu.mark_settled(second.id, SettleOutcome.NOT_PAID, SettleReason.CHECKED_WITH_HQ)
    rig.wait(lambda: menu(rig).notice is MenuNotice.SETTLED)
    settled = rig.terminal.store.get(second.id)
    assert settled.state is TxState.ABANDONED  # HQ never made an order for it
    event = rig.terminal.store.history(second.id)[-1]
    assert event.reason == "staff_settled" and event.detail == {
        "staff_id": "S001", "outcome": "not_paid", "reason": "checked_with_hq"}
    assert not [m for m in rig.terminal.store.outbox_for(second.id) if m.sent_at is None]
    log = {e.action: e for e in rig.terminal.staff.audit_log()}
    assert log[Action.QUEUE_RETRY].detail == {"tx_id": first.id}
    assert log[Action.QUEUE_SETTLED].detail == {"tx_id": second.id, "state": "abandoned", "reason": "checked_with_hq"}


def test_only_a_transaction_needing_attention_can_be_settled_by_hand(rig: MenuRig) -> None:
    paid = rig.paid()
    open_menu(rig)
    rig.menu.mark_settled(paid.id, SettleOutcome.NOT_PAID, SettleReason.HANDLED_AT_OFFICE)
    rig.wait(lambda: menu(rig).notice is MenuNotice.FAILED)
    assert rig.terminal.store.get(paid.id).state is TxState.PAID


def test_export_writes_a_csv_of_the_journal(rig: MenuRig, tmp_path: Path) -> None:
    tx = rig.needs_attention()
    open_menu(rig)
    rig.menu.export_csv()
    rig.wait(lambda: menu(rig).notice is MenuNotice.EXPORTED)
    path = Path(menu(rig).notice_detail)
    assert path.parent == tmp_path / "exports"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["state"]) for r in rows] == [(tx.id, "needs_attention")]
    assert rig.terminal.staff.audit_log()[0].detail == {"path": str(path), "rows": 1}


def test_network_page_checks_hq_and_says_it_is_unreachable(rig: MenuRig) -> None:
    open_menu(rig)
    rig.menu.show_section(Section.NETWORK)
    rig.wait(lambda: menu(rig).network is not None)
    network = menu(rig).network
    assert network is not None and not network.reachable and network.error
    rig.menu.check_network()
    rig.wait(lambda: Action.NETWORK_CHECK in rig.actions())


def test_a_setting_applies_at_once_and_outlives_a_restart(
    rig: MenuRig, make_terminal: Callable[..., MenuRig]
) -> None:
    open_menu(rig)
    rig.menu.show_section(Section.SETTINGS)
    rig.menu.change_setting("ui.inactivity_s", 90)
    assert rig.terminal.config.ui.inactivity_s == 90
    assert rig.terminal.journey._config.ui.inactivity_s == 90  # the journey's next time-out uses it
    rig.menu.change_setting("ui.warning_s", 5)  # below the 20 s a resident must get
    assert menu(rig).notice is MenuNotice.SETTING_INVALID and rig.terminal.config.ui.warning_s == 20
    rig.menu.change_setting("ui.language", "en")
    assert rig.terminal.translator.language == "en"
    rig.settle()
    changed = [e.detail for e in rig.terminal.staff.audit_log() if e.action == Action.SETTING_CHANGED]
    assert changed == [{"key": "ui.language", "from": "zh_CN", "to": "en"},
                       {"key": "ui.inactivity_s", "from": 60, "to": 90}]
    rig = restart(rig, make_terminal)
    assert rig.terminal.config.ui.inactivity_s == 90 and rig.terminal.config.ui.language == "en"
    assert rig.terminal.file_config.ui.inactivity_s == 60
    rig.terminal.staff.hasher = TEST_HASHER
    open_menu(rig)
    rig.menu.reset_settings()
    assert rig.terminal.config.ui.inactivity_s == 60
    rig.settle()
    assert rig.actions()[0] == Action.SETTINGS_RESET
    assert rig.terminal.staff_store.overrides() == {}


def test_reprint_a_paid_receipt(rig: MenuRig) -> None:
    paid = rig.paid()
    open_menu(rig)
    rig.menu.show_section(Section.RECEIPTS)
    rig.wait(lambda: len(menu(rig).receipts) == 1)
    rig.menu.reprint(paid.id)
    rig.wait(lambda: menu(rig).notice is MenuNotice.REPRINTED)
    printer = rig.devices.printer
    assert isinstance(printer, FakePrinter) and len(printer.receipts) == 1
    rig.settle()
    assert rig.terminal.staff.audit_log()[0].detail == {"tx_id": paid.id, "result": "printed"}


def test_out_of_service_shows_where_else_to_pay_and_survives_a_restart(
    rig: MenuRig, make_terminal: Callable[..., MenuRig]
) -> None:
    open_menu(rig)
    rig.menu.set_out_of_service(True)
    rig.wait(lambda: menu(rig).notice is MenuNotice.OUT_OF_SERVICE)
    screen = rig.terminal.journey.screen
    assert isinstance(screen, OutOfServiceScreen) and screen.where_in("en") == "the property office"
    rig.menu.close()
    rig.terminal.journey.card_inserted("04A1B2C3D4")  # residents cannot start
    assert isinstance(rig.terminal.journey.screen, OutOfServiceScreen)
    rig = restart(rig, make_terminal)
    assert rig.terminal.out_of_service
    assert isinstance(rig.terminal.journey.screen, OutOfServiceScreen)
    rig.terminal.staff.hasher = TEST_HASHER
    open_menu(rig)  # the gesture works on the out-of-service screen
    rig.menu.set_out_of_service(False)
    rig.wait(lambda: menu(rig).notice is MenuNotice.BACK_IN_SERVICE)
    assert isinstance(rig.terminal.journey.screen, IdleScreen)
    actions = rig.actions()
    assert actions.index(Action.BACK_IN_SERVICE) < actions.index(Action.OUT_OF_SERVICE)


def test_hq_can_take_the_terminal_out_of_service_from_any_thread(rig: MenuRig) -> None:
    import threading

    thread = threading.Thread(target=lambda: rig.terminal.set_out_of_service(True, "paper jam", by="hq"))
    thread.start()
    thread.join()
    rig.wait(lambda: isinstance(rig.terminal.journey.screen, OutOfServiceScreen))
    rig.settle()
    entry = rig.terminal.staff.audit_log()[0]
    assert (entry.action, entry.staff_id, entry.detail) == (Action.OUT_OF_SERVICE, "hq", {"reason": "paper jam"})


@pytest.mark.parametrize(
    ("action", "audited"), [("restart_app", Action.APP_RESTART), ("leave_kiosk", Action.KIOSK_LEFT)]
)
def test_restart_and_leave_are_audited_before_they_happen(rig: MenuRig, action: str, audited: str) -> None:
    open_menu(rig)
    getattr(rig.menu, action)()
    rig.wait(lambda: rig.state is None)
    assert (rig.restarts if action == "restart_app" else rig.leaves) == [True]
    assert audited in rig.actions()
