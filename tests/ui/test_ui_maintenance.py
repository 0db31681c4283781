"""The maintenance menu through the real widgets, on a real Terminal: the hidden gesture, the PIN pad and every
failure path, closing by itself, and every action with its audit entry."""

from __future__ import annotations

import heapq
import itertools
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from devices.base import CardReader, DeviceState, PaperState, PrinterError, QrScanner, Receipt, ReceiptPrinter
from kiosk import i18n
from kiosk.app import Devices, Terminal
from kiosk.config import config_from_mapping
from kiosk.maintenance import MenuScreen, PinPad, Section
from kiosk.screens import IdleScreen, LoadingScreen, OutOfServiceScreen
from kiosk.staff import Action, PinHasher
from offline_queue.states import TxState
from ui.bridge import QtDispatcher
from ui.main_window import LANDSCAPE, MainWindow
from ui.maintenance.host import MaintenanceHost, install_maintenance
from ui.maintenance.pin_pad import DOT
from ui.qt import QApplication, QLabel, QPoint, QPushButton, Qt, QWidget
from ui.theme import Theme

LEFT = Qt.MouseButton.LeftButton
PIN = "480215"
STAFF_CARD = "5A5A000001"
W = TypeVar("W", bound=QWidget)


class _Handle:
    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTimers:
    """`kiosk.tasks.Timers` whose clock only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self._due: list[tuple[float, int, _Handle, Callable[[], None]]] = []
        self._seq = itertools.count()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> _Handle:
        handle = _Handle()
        heapq.heappush(self._due, (self.now + seconds, next(self._seq), handle, callback))
        return handle

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while self._due and self._due[0][0] <= self.now:
            _, _, handle, callback = heapq.heappop(self._due)
            if not handle.cancelled:
                callback()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeReader(CardReader):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE, card_present=False)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)


class FakeScanner(QrScanner):
    def open(self) -> None:
        self._set_status(state=DeviceState.ONLINE)

    def close(self) -> None:
        self._set_status(state=DeviceState.OFFLINE)


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


@dataclass
class Kiosk:
    terminal: Terminal
    window: MainWindow
    host: MaintenanceHost
    timers: FakeTimers
    clock: Clock
    exits: list[str]

    @property
    def state(self) -> Any:
        return self.terminal.maintenance.state

    def audit(self) -> list[str]:
        return [e.action for e in self.terminal.staff.audit_log()]


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens: HQ is unreachable, at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def make_kiosk(qtbot: Any, tmp_path: Path, dead_url: str) -> Iterator[Callable[[], Kiosk]]:
    built: list[Kiosk] = []

    def build() -> Kiosk:
        config = config_from_mapping({
            "terminal": {"id": "T-UI-MENU"},
            "hq": {"url": dead_url, "connect_timeout_s": 0.5, "read_timeout_s": 1.0, "health_interval_s": 3600},
            # English, so that the assertions below read as the texts do; the catalogs are checked elsewhere.
            "ui": {"fullscreen": False, "orientation": "landscape", "language": "en"},
            "storage": {"database": str(tmp_path / "terminal.db")},
            "heartbeat": {"enabled": False},
            "maintenance": {"staff_cards": [STAFF_CARD], "export_dir": str(tmp_path / "exports")},
        })
        timers, clock = FakeTimers(), Clock()
        devices = Devices(FakeReader(), FakeScanner(), FakePrinter())
        terminal = Terminal(config, QtDispatcher().dispatch, timers, devices=devices)
        terminal.staff.hasher = PinHasher(time_cost=1, memory_cost=8, parallelism=1)
        window = MainWindow(terminal.journey, config, terminal.translator, theme=Theme())
        qtbot.addWidget(window)
        terminal.start()
        host = install_maintenance(window, terminal, clock=clock)
        exits: list[str] = []
        terminal.maintenance.set_app_hooks(restart=lambda: exits.append("restart"), leave=lambda: exits.append("leave"))
        window.resize(LANDSCAPE)
        window.show()
        qtbot.waitExposed(window)
        kiosk = Kiosk(terminal, window, host, timers, clock, exits)
        built.append(kiosk)
        return kiosk

    yield build
    for kiosk in built:
        kiosk.terminal.stop()
        QApplication.instance().removeEventFilter(kiosk.host.gesture)  # type: ignore[union-attr]


@pytest.fixture
def kiosk(make_kiosk: Callable[[], Kiosk]) -> Kiosk:
    kiosk = make_kiosk()
    kiosk.terminal.staff.set_pin("S001", PIN)
    return kiosk


@pytest.fixture(autouse=True)
def english(translator: i18n.Translator) -> None:
    """Each Terminal makes its own translator current; the fixture puts the previous one back afterwards."""


def click(qtbot: Any, widget: QWidget, at: QPoint | None = None) -> None:
    if at is None:
        qtbot.mouseClick(widget, LEFT)
    else:
        qtbot.mouseClick(widget, LEFT, pos=at)


def tap_corner(qtbot: Any, kiosk: Kiosk, times: int, every_s: float, at: QPoint | None = None) -> None:
    header = kiosk.window.header
    for _ in range(times):
        click(qtbot, header, at or QPoint(20, 20))
        kiosk.clock.now += every_s


def sign_in(qtbot: Any, kiosk: Kiosk, pin: str = PIN) -> None:
    tap_corner(qtbot, kiosk, 5, 0.3)
    type_pin(qtbot, kiosk, pin)


def type_pin(qtbot: Any, kiosk: Kiosk, pin: str) -> None:
    pad = kiosk.host.pad
    for digit in pin:
        click(qtbot, pad.keypad.keys[digit])
    click(qtbot, pad.ok)


def open_menu(qtbot: Any, kiosk: Kiosk) -> None:
    sign_in(qtbot, kiosk)
    qtbot.waitUntil(lambda: kiosk.host.menu_view.isVisible())


def nav(qtbot: Any, kiosk: Kiosk, section: Section) -> None:
    click(qtbot, kiosk.host.menu_view.nav_buttons[section])


def shown(parent: QWidget, kind: type[W], name: str) -> W | None:
    """The one visible widget of that kind and name. A page is rebuilt from each model: the old widgets are
    hidden at once and deleted later, the new ones show on the next turn of the event loop."""
    QApplication.processEvents()
    found = [w for w in parent.findChildren(kind, name) if w.isVisible()]
    assert len(found) <= 1, f"{len(found)} visible widgets named {name!r}"
    return found[0] if found else None


def button(qtbot: Any, kiosk: Kiosk, name: str, within: str | None = None) -> QPushButton:
    """Wait for the button to be on screen (inside the widget named `within`), and return it."""
    found: list[QPushButton] = []

    def on_screen() -> bool:
        parent = kiosk.host if within is None else shown(kiosk.host, QWidget, within)
        widget = shown(parent, QPushButton, name) if parent is not None else None
        found[:] = [widget] if widget is not None else []
        return bool(found)

    qtbot.waitUntil(on_screen, timeout=5000)
    return found[0]


def banner(kiosk: Kiosk) -> str:
    view = kiosk.host.menu_view
    return view.success.text if view.success.isVisible() else view.failure.text


# ---- the hidden entry --------------------------------------------------------------------------------------


def test_five_taps_in_the_corner_within_three_seconds_open_the_pin_pad(qtbot: Any, kiosk: Kiosk) -> None:
    tap_corner(qtbot, kiosk, 4, 0.7)
    assert not kiosk.host.isVisible()
    tap_corner(qtbot, kiosk, 1, 0.7)  # the fifth, 2.8 s after the first
    assert kiosk.host.isVisible() and kiosk.host.pad.isVisible()
    assert kiosk.state == PinPad(kiosk.state.entry)


def test_taps_too_slow_or_elsewhere_do_nothing(qtbot: Any, kiosk: Kiosk) -> None:
    tap_corner(qtbot, kiosk, 5, 0.8)  # 3.2 s from first to fifth
    assert not kiosk.host.isVisible()
    kiosk.clock.now += 10
    tap_corner(qtbot, kiosk, 4, 0.2)
    tap_corner(qtbot, kiosk, 1, 0.2, at=QPoint(600, 40))  # the middle of the header
    tap_corner(qtbot, kiosk, 1, 0.2)
    assert not kiosk.host.isVisible()
    assert kiosk.state is None


def test_a_staff_card_opens_the_pad(qtbot: Any, kiosk: Kiosk) -> None:
    kiosk.terminal.journey.card_inserted(STAFF_CARD)
    assert kiosk.host.pad.isVisible()
    assert "Staff card" in kiosk.host.pad.prompt.text()


# ---- the PIN ---------------------------------------------------------------------------------------------------


def test_digits_show_masked_and_the_right_pin_opens_the_menu(qtbot: Any, kiosk: Kiosk) -> None:
    tap_corner(qtbot, kiosk, 5, 0.3)
    pad = kiosk.host.pad
    for digit in PIN[:4]:
        click(qtbot, pad.keypad.keys[digit])
    assert pad.dots.text().count(DOT) == 4
    texts = " ".join(label.text() for label in kiosk.host.findChildren(QLabel))
    assert "4802" not in texts
    for digit in PIN[4:]:
        click(qtbot, pad.keypad.keys[digit])
    click(qtbot, pad.ok)
    qtbot.waitUntil(lambda: kiosk.host.menu_view.isVisible())
    assert "S001" in kiosk.host.menu_view.who.text()
    assert kiosk.audit()[0] == Action.MENU_OPENED


def test_wrong_pins_then_lockout_that_survives_a_restart(
    qtbot: Any, kiosk: Kiosk, make_kiosk: Callable[[], Kiosk]
) -> None:
    sign_in(qtbot, kiosk, "000111")
    qtbot.waitUntil(lambda: kiosk.host.pad.notice.isVisible())
    assert "4 more tries" in kiosk.host.pad.notice.text
    for _ in range(4):
        qtbot.waitUntil(lambda: not kiosk.state.checking)
        type_pin(qtbot, kiosk, "000111")
    qtbot.waitUntil(lambda: "locked until" in kiosk.host.pad.notice.text)
    assert not kiosk.host.pad.keypad.isEnabled() and not kiosk.host.pad.ok.isEnabled()
    assert kiosk.audit()[:2] == [Action.PIN_LOCKED, Action.PIN_WRONG]

    kiosk.terminal.stop()  # the terminal restarts
    again = make_kiosk()
    tap_corner(qtbot, again, 5, 0.3)
    qtbot.waitUntil(lambda: "locked until" in again.host.pad.notice.text)
    assert not again.host.pad.keypad.isEnabled()


def test_cancel_on_the_pad_closes_it(qtbot: Any, kiosk: Kiosk) -> None:
    tap_corner(qtbot, kiosk, 5, 0.3)
    click(qtbot, kiosk.host.pad.cancel)
    assert not kiosk.host.isVisible()


def test_the_menu_closes_by_itself_after_two_minutes_without_a_touch(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    kiosk.timers.advance(110)
    nav(qtbot, kiosk, Section.LOG)  # a touch: two more minutes
    kiosk.timers.advance(110)
    assert kiosk.host.isVisible()
    kiosk.timers.advance(10)
    assert not kiosk.host.isVisible()
    qtbot.waitUntil(lambda: kiosk.audit()[0] == Action.MENU_CLOSED)
    assert kiosk.terminal.staff.audit_log()[0].detail == {"reason": "timeout"}


def test_a_residents_card_closes_the_menu_for_the_journey(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    kiosk.terminal.journey.card_inserted("04A1B2C3D4")
    assert not kiosk.host.isVisible()
    assert isinstance(kiosk.terminal.journey.screen, LoadingScreen)


# ---- every action, with its audit entry ------------------------------------------------------------------------


def test_device_self_tests(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    printer = kiosk.terminal.devices.printer
    assert isinstance(printer, FakePrinter)
    click(qtbot, button(qtbot, kiosk, "test:receipt_printer"))
    qtbot.waitUntil(lambda: "Test passed" in _result(kiosk, "receipt_printer"))
    assert len(printer.receipts) == 1 and printer.receipts[0].qr_data
    click(qtbot, button(qtbot, kiosk, "test:card_reader"))
    assert "Insert or tap any card" in _result(kiosk, "card_reader")
    kiosk.terminal.journey.card_inserted("04A1B2C3D4")
    assert _result(kiosk, "card_reader").startswith("Test passed: card ****C3D4")
    click(qtbot, button(qtbot, kiosk, "test:qr_scanner"))
    kiosk.terminal.journey.qr_scanned("CPK:H:HC3K2P501X")
    assert _result(kiosk, "qr_scanner").startswith("Test passed: house code ****501X")
    qtbot.waitUntil(lambda: kiosk.audit().count(Action.DEVICE_TEST) == 3)


def _result(kiosk: Kiosk, kind: str) -> str:
    QApplication.processEvents()  # widgets added to a shown page show on the next turn of the event loop
    labels = [label for label in kiosk.host.findChildren(QLabel, f"result:{kind}") if label.isVisible()]
    return labels[0].text() if labels else ""


def _needs_attention(kiosk: Kiosk) -> str:
    store = kiosk.terminal.store
    tx = store.create(terminal_id="T-UI-MENU", service="electricity", house_id="h1", house_label="3-2-501",
                      meter_id="m1", meter_label="lighting:1", amount_fen=5000)
    store.transition(tx.id, TxState.UNKNOWN, reason="create_no_answer", sent=[m.id for m in store.outbox_for(tx.id)])
    store.transition(tx.id, TxState.NEEDS_ATTENTION, reason="attempts_used_up", last_error="no answer")
    return tx.id


def test_queue_retry_mark_settled_and_export(qtbot: Any, kiosk: Kiosk, tmp_path: Path) -> None:
    first, second = _needs_attention(kiosk), _needs_attention(kiosk)
    open_menu(qtbot, kiosk)
    nav(qtbot, kiosk, Section.QUEUE)
    qtbot.waitUntil(lambda: "Needs attention: 2" in " ".join(lb.text() for lb in kiosk.host.findChildren(QLabel)))
    click(qtbot, button(qtbot, kiosk, "retry", within=f"tx:{first}"))
    qtbot.waitUntil(lambda: Action.QUEUE_RETRY in kiosk.audit())
    assert kiosk.terminal.store.get(first).state is TxState.UNKNOWN
    qtbot.waitUntil(lambda: shown(kiosk.host, QWidget, f"tx:{first}") is None)  # no longer needs attention

    click(qtbot, button(qtbot, kiosk, "settle", within=f"tx:{second}"))
    assert not button(qtbot, kiosk, "confirm", within=f"tx:{second}").isEnabled()  # an outcome and a reason first
    click(qtbot, button(qtbot, kiosk, "outcome:paid", within=f"tx:{second}"))
    click(qtbot, button(qtbot, kiosk, "reason:payer_record", within=f"tx:{second}"))
    click(qtbot, button(qtbot, kiosk, "confirm", within=f"tx:{second}"))
    qtbot.waitUntil(lambda: kiosk.terminal.store.get(second).state is TxState.PAID)
    qtbot.waitUntil(lambda: "Marked as settled" in banner(kiosk))
    assert kiosk.terminal.staff.audit_log()[0].detail == {"tx_id": second, "state": "paid", "reason": "payer_record"}

    click(qtbot, button(qtbot, kiosk, "export"))
    qtbot.waitUntil(lambda: "Exported to" in banner(kiosk))
    assert list((tmp_path / "exports").glob("transactions-T-UI-MENU-*.csv"))
    assert kiosk.audit()[0] == Action.QUEUE_EXPORT


def test_network_check(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    nav(qtbot, kiosk, Section.NETWORK)
    labels = lambda: " ".join(lb.text() for lb in kiosk.host.findChildren(QLabel) if lb.isVisible())  # noqa: E731
    qtbot.waitUntil(lambda: "HQ does not answer" in labels())
    qtbot.waitUntil(lambda: button(qtbot, kiosk, "check").isEnabled())
    click(qtbot, button(qtbot, kiosk, "check"))
    qtbot.waitUntil(lambda: Action.NETWORK_CHECK in kiosk.audit())


def test_settings_change_at_once_and_reset(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    nav(qtbot, kiosk, Section.SETTINGS)
    click(qtbot, button(qtbot, kiosk, "more", within="setting:ui.inactivity_s"))
    assert kiosk.terminal.config.ui.inactivity_s == 70
    card = shown(kiosk.host, QWidget, "setting:ui.inactivity_s")
    assert card is not None and card.findChild(QLabel, "value").text() == "70"
    click(qtbot, button(qtbot, kiosk, "choice:elderly", within="setting:ui.mode"))
    assert kiosk.terminal.config.ui.mode == "elderly"
    assert "Saved" in banner(kiosk)
    qtbot.waitUntil(lambda: kiosk.terminal.staff_store.overrides().get("settings") == {
        "ui.inactivity_s": 70, "ui.mode": "elderly"})
    click(qtbot, button(qtbot, kiosk, "reset"))
    assert kiosk.terminal.config.ui.inactivity_s == 60 and kiosk.terminal.config.ui.mode == "standard"
    qtbot.waitUntil(lambda: kiosk.audit()[:3] == [Action.SETTINGS_RESET, Action.SETTING_CHANGED,
                                                  Action.SETTING_CHANGED])


def test_reprint_a_receipt(qtbot: Any, kiosk: Kiosk) -> None:
    store = kiosk.terminal.store
    tx = store.create(terminal_id="T-UI-MENU", service="electricity", house_id="h2", house_label="1-1-101",
                      meter_id="m2", meter_label="lighting:2", amount_fen=10000)
    store.transition(tx.id, TxState.AWAITING_PAYMENT, order_no="EO7KQ2M4X9ZP3R8T",
                     sent=[m.id for m in store.outbox_for(tx.id)])
    store.transition(tx.id, TxState.PAID, reason="hq_paid")
    open_menu(qtbot, kiosk)
    nav(qtbot, kiosk, Section.RECEIPTS)
    qtbot.waitUntil(lambda: shown(kiosk.host, QPushButton, f"reprint:{tx.id}") is not None)
    click(qtbot, button(qtbot, kiosk, f"reprint:{tx.id}"))
    qtbot.waitUntil(lambda: "Receipt printed" in banner(kiosk))
    printer = kiosk.terminal.devices.printer
    assert isinstance(printer, FakePrinter) and len(printer.receipts) == 1
    qtbot.waitUntil(lambda: Action.RECEIPT_REPRINT in kiosk.audit())


def test_out_of_service_and_back(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    nav(qtbot, kiosk, Section.TERMINAL)
    click(qtbot, button(qtbot, kiosk, "service"))
    qtbot.waitUntil(lambda: isinstance(kiosk.terminal.journey.screen, OutOfServiceScreen))
    qtbot.waitUntil(lambda: "out of service" in banner(kiosk))
    click(qtbot, kiosk.host.menu_view.close_button)
    assert kiosk.window.current_view is kiosk.window.views[OutOfServiceScreen]
    assert kiosk.window.current_view.where.text() == "the property office"  # the configured place, in English
    open_menu(qtbot, kiosk)  # the corner works on the out-of-service screen too
    nav(qtbot, kiosk, Section.TERMINAL)
    click(qtbot, button(qtbot, kiosk, "service"))
    qtbot.waitUntil(lambda: isinstance(kiosk.terminal.journey.screen, IdleScreen))
    qtbot.waitUntil(lambda: Action.BACK_IN_SERVICE in kiosk.audit())
    assert Action.OUT_OF_SERVICE in kiosk.audit()


@pytest.mark.parametrize(("name", "audited"), [("restart", Action.APP_RESTART), ("leave", Action.KIOSK_LEFT)])
def test_restart_and_leave_ask_twice_then_go(qtbot: Any, kiosk: Kiosk, name: str, audited: str) -> None:
    open_menu(qtbot, kiosk)
    nav(qtbot, kiosk, Section.TERMINAL)
    click(qtbot, button(qtbot, kiosk, name))
    assert kiosk.exits == [] and "again" in button(qtbot, kiosk, name).text()
    click(qtbot, button(qtbot, kiosk, name))
    qtbot.waitUntil(lambda: kiosk.exits == [name])
    assert not kiosk.host.isVisible()
    assert audited in kiosk.audit()


def test_close_menu_and_the_audit_page(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    nav(qtbot, kiosk, Section.AUDIT)
    qtbot.waitUntil(lambda: "Opened the menu" in kiosk.host.menu_view.page_of[Section.AUDIT].text.toPlainText())
    nav(qtbot, kiosk, Section.LOG)
    assert kiosk.host.menu_view.page_of[Section.LOG].text.toPlainText()
    click(qtbot, kiosk.host.menu_view.close_button)
    assert not kiosk.host.isVisible()
    qtbot.waitUntil(lambda: kiosk.terminal.staff.audit_log()[0].detail == {"reason": "staff"})


def test_the_menu_covers_the_whole_window_whatever_its_size(qtbot: Any, kiosk: Kiosk) -> None:
    open_menu(qtbot, kiosk)
    kiosk.window.resize(1600, 900)
    qtbot.waitUntil(lambda: kiosk.host.geometry() == kiosk.window.rect())
    assert isinstance(kiosk.state, MenuScreen)
