"""The staff maintenance menu's core: the PIN pad, the menu's pages and every action staff can take. No Qt.

Like the journey, `MaintenanceMenu` lives on the GUI thread and never blocks: PIN checks, database reads and
writes, printing and the network check go to `Runner` lanes and come back as callbacks; the UI renders the
`PinPad` or `MenuScreen` it emits (None: closed). Every action staff take is written to the audit log.

Entry: the hidden gesture (the UI reports it) or a staff card (configured ids), only while no resident is being
served. The menu closes by itself after `maintenance.idle_close_s` without a touch, and at once when a resident
needs the screen: a resident's card or a scan while the pad or menu is open closes it and goes to the journey as
usual (the resident walked up; staff step aside). A card or scan a device self-test is waiting for is the test's.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from devices.base import DeviceStatus, PrinterError
from devices.speaker import Speaker, SpeechEvent
from kiosk.clock import utc_now
from kiosk.config import ConfigError
from kiosk.i18n import N_, _, current
from kiosk.maintenance_work import (
    NetworkInfo,
    SettleOutcome,
    SettleReason,
    export_transactions,
    local_address,
    settle_by_staff,
    test_receipt,
)
from kiosk.qr_payload import Payload, mask_code
from kiosk.qr_payload import parse as parse_qr
from kiosk.receipts import reprint_receipt
from kiosk.runtime_settings import EDITABLE, SETTINGS_KEY, Editable, value_of, with_value
from kiosk.screens import Screen
from kiosk.staff import PIN_MAX, PIN_MIN, Action, PinCheck
from kiosk.tasks import TimerHandle
from offline_queue.staff_store import AuditEntry, AuditNote
from offline_queue.states import TxState
from offline_queue.store import TransactionRecord

if TYPE_CHECKING:
    from kiosk.app import Terminal

log = logging.getLogger(__name__)
T = TypeVar("T")

LANE = "staff"
DEVICE_TEST_S = 30.0  # how long a card or scan test waits for a card or a code (or the speaker to play)
SPEAKER_TEST = N_("This is the voice test of the terminal.")
RECEIPT_DAYS = 7  # paid transactions offered for a reprint
SHOWN_ROWS = 50


class Entry(StrEnum):
    GESTURE = "gesture"
    CARD = "card"


class PinNotice(StrEnum):
    WRONG = "wrong"
    LOCKED = "locked"
    NO_STAFF = "no_staff"
    TOO_SHORT = "too_short"
    ERROR = "error"


class Section(StrEnum):
    DEVICES = "devices"
    QUEUE = "queue"
    NETWORK = "network"
    SETTINGS = "settings"
    RECEIPTS = "receipts"
    LOG = "log"
    AUDIT = "audit"
    TERMINAL = "terminal"


class SelfTestState(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"  # for a card or a code
    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class CloseReason(StrEnum):
    STAFF = "staff"
    TIMEOUT = "timeout"
    RESIDENT = "resident"
    RESTART = "restart"
    LEAVE = "leave"


class MenuNotice(StrEnum):
    RETRY_QUEUED = "retry_queued"
    SETTLED = "settled"
    EXPORTED = "exported"
    SETTING_SAVED = "setting_saved"
    SETTING_INVALID = "setting_invalid"
    SETTINGS_RESET = "settings_reset"
    REPRINTED = "reprinted"
    REPRINT_FAILED = "reprint_failed"
    OUT_OF_SERVICE = "out_of_service"
    BACK_IN_SERVICE = "back_in_service"
    FAILED = "failed"  # an action could not be done; `notice_detail` says what went wrong (for staff)


@dataclass(frozen=True)
class SelfTestResult:
    state: SelfTestState
    kind: str = ""  # what was read (card, house, bill, payment_code, not_ours, unreadable) or why printing failed
    value: str = ""  # what was read, masked to its last four characters
    at: datetime | None = None


@dataclass(frozen=True)
class DeviceRow:
    kind: str
    status: DeviceStatus
    test: SelfTestResult | None = None


@dataclass(frozen=True)
class QueueRow:
    tx_id: str
    created_at: datetime
    state: TxState
    house_label: str
    amount_fen: int
    order_no: str | None
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, tx: TransactionRecord) -> QueueRow:
        return cls(tx.id, tx.created_at, tx.state, tx.house_label, tx.amount_fen, tx.order_no, tx.attempts,
                   tx.last_error)


@dataclass(frozen=True)
class SettingRow:
    item: Editable
    value: Any
    overridden: bool  # changed at the terminal (else the configuration file's value)


@dataclass(frozen=True)
class PinPad:
    """The staff PIN pad. It never holds the digits, only how many were typed."""

    entry: Entry
    digits: int = 0
    checking: bool = False
    notice: PinNotice | None = None
    tries_left: int | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class MenuScreen:
    """The open menu: who signed in, the page shown, and what each page shows (loaded when it is opened)."""

    staff_id: str
    section: Section = Section.DEVICES
    devices: tuple[DeviceRow, ...] = ()
    waiting: tuple[QueueRow, ...] = ()
    attention: tuple[QueueRow, ...] = ()
    network: NetworkInfo | None = None
    online: bool = True
    hq_url: str = ""
    terminal_id: str = ""
    settings: tuple[SettingRow, ...] = ()
    receipts: tuple[QueueRow, ...] = ()
    log_lines: tuple[str, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    out_of_service: bool = False
    busy: frozenset[str] = field(default_factory=frozenset)  # actions under way; their buttons wait
    notice: MenuNotice | None = None
    notice_detail: str = ""


MenuState = PinPad | MenuScreen | None
MenuListener = Callable[[MenuState], None]


class MaintenanceMenu:
    """The menu's state and actions, on the GUI thread; blocking work goes to the terminal's lanes."""

    def __init__(self, terminal: Terminal, clock: Callable[[], datetime] = utc_now) -> None:
        self._t = terminal
        self._clock = clock
        self._listeners: list[MenuListener] = []
        self._state: MenuState = None
        self._digits: list[str] = []
        self._generation = 0
        self._idle: TimerHandle | None = None
        self._tests: dict[str, SelfTestResult] = {}
        self._test_timers: dict[str, TimerHandle] = {}
        self._restart: Callable[[], None] = lambda: log.warning("restart asked for, but no UI can restart")
        self._leave: Callable[[], None] = lambda: log.warning("leave asked for, but no UI can leave")
        for device in terminal.devices.all():
            device.add_status_listener(lambda _status: terminal.dispatch(self._devices_changed))
        speaker = terminal.devices.speaker
        if speaker is not None:
            speaker.add_speech_listener(
                lambda event, utterance, _at: terminal.dispatch(lambda: self._speaker_heard(event, utterance.text))
            )
        terminal.journey.add_screen_listener(self._journey_screen)

    # ---- listeners and state -----------------------------------------------------------------------------

    def add_listener(self, listener: MenuListener) -> None:
        self._listeners.append(listener)

    @property
    def state(self) -> MenuState:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is not None

    def set_app_hooks(self, *, restart: Callable[[], None], leave: Callable[[], None]) -> None:
        """What "restart the app" and "leave kiosk mode" do (the UI knows how)."""
        self._restart, self._leave = restart, leave

    def _emit(self, state: MenuState) -> None:
        self._state = state
        for listener in list(self._listeners):
            listener(state)

    def _menu(self) -> MenuScreen | None:
        return self._state if isinstance(self._state, MenuScreen) else None

    def _update(self, **changes: Any) -> None:
        menu = self._menu()
        if menu is not None:
            self._emit(replace(menu, **changes))

    def _submit(self, lane: str, work: Callable[[], T], done: Callable[[T], None],
                failed: Callable[[Exception], None]) -> None:
        """Run `work` on a lane; its callbacks are dropped once the menu has closed (or closed and reopened)."""
        generation = self._generation

        def on_done(result: T) -> None:
            if generation == self._generation:
                done(result)

        def on_error(exc: Exception) -> None:
            if generation == self._generation:
                failed(exc)
            else:
                log.error("maintenance work failed after the menu closed: %s", exc)

        self._t.runner.submit(lane, work, on_done, on_error)

    # ---- entry -----------------------------------------------------------------------------------------

    def gesture(self) -> None:
        """The hidden gesture was made (the UI recognises it)."""
        self._open_pad(Entry.GESTURE)

    def intercept(self, kind: str, value: str) -> bool:
        """The journey's first look at a card ("card"), scan ("scan") or unreadable scan ("unreadable"): True
        when the menu takes it."""
        device = "card_reader" if kind == "card" else "qr_scanner"
        if self._waiting_for(device):
            self._device_read(device, kind, value)
            return True
        if kind == "card" and value.strip() in self._t.config.maintenance.staff_cards:
            if self._state is None and self._t.journey.at_rest:
                self._open_pad(Entry.CARD)
            else:
                log.info("staff card ignored: %s", "menu open" if self._state else "a resident is being served")
            return True
        if self._state is not None:
            self.close(CloseReason.RESIDENT)  # a resident needs the screen
        return False

    def _open_pad(self, entry: Entry) -> None:
        if self._state is not None or not self._t.journey.at_rest:
            return
        self._generation += 1
        self._digits = []
        self._emit(PinPad(entry))
        self.touched()
        self._submit(LANE, self._t.staff.lock, self._lock_known, lambda exc: self._pad_error(exc))

    def _lock_known(self, lock: Any) -> None:
        pad = self._state
        if isinstance(pad, PinPad) and lock.locked(self._t.staff.now()):
            self._emit(replace(pad, notice=PinNotice.LOCKED, locked_until=lock.locked_until, tries_left=0))

    # ---- the PIN pad ----------------------------------------------------------------------------------

    def _pad(self) -> PinPad | None:
        pad = self._state
        if not isinstance(pad, PinPad) or pad.checking or pad.notice is PinNotice.LOCKED:
            return None
        return pad

    def pin_digit(self, digit: str) -> None:
        pad = self._pad()
        if pad is None or not (len(digit) == 1 and digit.isdigit()) or len(self._digits) >= PIN_MAX:
            return
        self._digits.append(digit)
        self._emit(replace(pad, digits=len(self._digits), notice=None))

    def pin_backspace(self) -> None:
        pad = self._pad()
        if pad is not None and self._digits:
            self._digits.pop()
            self._emit(replace(pad, digits=len(self._digits)))

    def pin_clear(self) -> None:
        pad = self._pad()
        if pad is not None:
            self._digits = []
            self._emit(replace(pad, digits=0))

    def pin_submit(self) -> None:
        pad = self._pad()
        if pad is None:
            return
        if len(self._digits) < PIN_MIN:
            self._emit(replace(pad, notice=PinNotice.TOO_SHORT))
            return
        pin, self._digits = "".join(self._digits), []
        self._emit(replace(pad, digits=0, checking=True, notice=None))
        staff = self._t.staff
        self._submit(LANE, lambda: staff.check_pin(pin, via=pad.entry.value), self._pin_checked, self._pad_error)

    def _pin_checked(self, check: PinCheck) -> None:
        pad = self._state
        if not isinstance(pad, PinPad):
            return
        if check.ok and check.staff_id is not None:
            self._open_menu(check.staff_id)
        elif check.no_staff:
            self._emit(replace(pad, checking=False, notice=PinNotice.NO_STAFF))
        elif check.lock.locked(self._t.staff.now()):
            self._emit(replace(pad, checking=False, notice=PinNotice.LOCKED, locked_until=check.lock.locked_until,
                               tries_left=0))
        else:
            self._emit(replace(pad, checking=False, notice=PinNotice.WRONG, tries_left=check.tries_left))

    def _pad_error(self, exc: Exception) -> None:
        log.error("PIN pad: %s", exc)
        pad = self._state
        if isinstance(pad, PinPad):
            self._emit(replace(pad, checking=False, notice=PinNotice.ERROR))

    # ---- open, close and idle ---------------------------------------------------------------------------

    def _open_menu(self, staff_id: str) -> None:
        config = self._t.config
        self._tests = {}
        self._emit(MenuScreen(
            staff_id=staff_id, devices=self._device_rows(), online=self._t.journey.online, hq_url=config.hq.url,
            terminal_id=config.terminal.id, settings=self._setting_rows(), out_of_service=self._t.out_of_service,
        ))
        log.info("maintenance menu opened by %s", staff_id)
        self.touched()

    def touched(self) -> None:
        """Any touch on the pad or menu: staff are still there (re-arms the close-by-itself timer)."""
        if self._state is None:
            return
        if self._idle is not None:
            self._idle.cancel()
        self._idle = self._t.timers.call_later(self._t.config.maintenance.idle_close_s, self._idle_timeout)

    def _idle_timeout(self) -> None:
        if self._state is not None:
            self.close(CloseReason.TIMEOUT)

    def close(self, reason: CloseReason = CloseReason.STAFF) -> None:
        """Close the pad or menu; the resident's screen is what shows again. Closing the menu is audited."""
        state = self._state
        if state is None:
            return
        self._generation += 1
        self._digits = []
        for timer in (self._idle, *self._test_timers.values()):
            if timer is not None:
                timer.cancel()
        self._idle = None
        self._test_timers.clear()
        self._tests = {}
        if isinstance(state, MenuScreen):
            staff = self._t.staff
            self._t.runner.submit(
                LANE, lambda: staff.audit(state.staff_id, Action.MENU_CLOSED, reason=reason.value),
                lambda _entry: None, lambda exc: log.error("audit of closing the menu failed: %s", exc),
            )
            default = self._t.config.ui.language
            if self._t.translator.language != default and self._t.journey.at_rest:
                self._t.journey.set_language(default)  # the menu's language was staff's; residents get the default
        log.info("maintenance %s closed (%s)", "menu" if isinstance(state, MenuScreen) else "PIN pad", reason.value)
        self._emit(None)

    def _journey_screen(self, screen: Screen) -> None:
        if self._state is not None and not self._t.journey.at_rest:
            self.close(CloseReason.RESIDENT)

    def set_language(self, language: str) -> None:
        """The menu's language (not audited: it changes nothing on the terminal)."""
        if self._state is not None and self._t.journey.at_rest:
            self._t.journey.set_language(language)
            self._emit(self._state)

    def dismiss_notice(self) -> None:
        self._update(notice=None, notice_detail="")

    # ---- pages -------------------------------------------------------------------------------------------

    def show_section(self, section: Section) -> None:
        menu = self._menu()
        if menu is None:
            return
        self._emit(replace(menu, section=Section(section), notice=None, notice_detail=""))
        self.refresh()

    def refresh(self) -> None:
        """Load what the current page shows (off the GUI thread where it touches the database or network)."""
        menu = self._menu()
        if menu is None:
            return
        section = menu.section
        if section is Section.DEVICES:
            self._update(devices=self._device_rows())
        elif section is Section.QUEUE:
            self._load_queue()
        elif section is Section.NETWORK:
            self.check_network(audited=False)
        elif section is Section.SETTINGS:
            self._update(settings=self._setting_rows())
        elif section is Section.RECEIPTS:
            self._load_receipts()
        elif section is Section.LOG:
            self._update(log_lines=tuple(self._t.log_lines.lines()))
        elif section is Section.AUDIT:
            self._load_audit()
        elif section is Section.TERMINAL:
            self._update(out_of_service=self._t.out_of_service)

    def _load_queue(self) -> None:
        store = self._t.store

        def work() -> tuple[tuple[QueueRow, ...], tuple[QueueRow, ...]]:
            in_flight = store.in_flight()
            attention = [QueueRow.of(tx) for tx in in_flight if tx.state is TxState.NEEDS_ATTENTION]
            waiting = [QueueRow.of(tx) for tx in in_flight if tx.state is not TxState.NEEDS_ATTENTION]
            return tuple(waiting[:SHOWN_ROWS]), tuple(attention[:SHOWN_ROWS])

        self._submit(LANE, work, lambda rows: self._update(waiting=rows[0], attention=rows[1]), self._failed)

    def _load_receipts(self) -> None:
        store, terminal_id, since = self._t.store, self._t.config.terminal.id, self._clock() - timedelta(RECEIPT_DAYS)

        def work() -> tuple[QueueRow, ...]:
            paid = [tx for tx in store.transactions(state=TxState.PAID, created_since=since)
                    if tx.terminal_id == terminal_id and tx.order_no]
            return tuple(QueueRow.of(tx) for tx in reversed(paid[-20:]))

        self._submit(LANE, work, lambda rows: self._update(receipts=rows), self._failed)

    def _load_audit(self) -> None:
        staff = self._t.staff
        self._submit(LANE, lambda: tuple(staff.audit_log(100)), lambda rows: self._update(audit=rows), self._failed)

    def _device_rows(self) -> tuple[DeviceRow, ...]:
        # `status` is a snapshot the device keeps in memory: reading it does no I/O.
        return tuple(DeviceRow(d.kind, d.status, self._tests.get(d.kind)) for d in self._t.devices.all())

    def _devices_changed(self) -> None:
        menu = self._menu()
        if menu is not None:
            self._emit(replace(menu, devices=self._device_rows()))

    def _setting_rows(self) -> tuple[SettingRow, ...]:
        config, overridden = self._t.config, self._t.overridden
        return tuple(SettingRow(item, value_of(config, item.key), item.key in overridden) for item in EDITABLE)

    # ---- actions ------------------------------------------------------------------------------------------
    # Each one: mark busy, do the work on a lane with its audit entry, then show the result.

    def _staff_id(self) -> str | None:
        menu = self._menu()
        return menu.staff_id if menu else None

    def _busy(self, key: str, on: bool) -> None:
        menu = self._menu()
        if menu is not None:
            busy = menu.busy | {key} if on else menu.busy - {key}
            self._emit(replace(menu, busy=frozenset(busy)))

    def _failed(self, exc: Exception, key: str | None = None) -> None:
        log.error("maintenance action failed: %s", exc)
        if key:
            self._busy(key, False)
        self._update(notice=MenuNotice.FAILED, notice_detail=str(exc)[:200])

    def _audit(self, action: str, **detail: Any) -> None:
        """Write an audit entry for the signed-in member of staff (on the staff lane, in order)."""
        staff, staff_id = self._t.staff, self._staff_id()
        self._t.runner.submit(LANE, lambda: staff.audit(staff_id, action, **detail), lambda _e: self._refresh_audit(),
                              lambda exc: log.error("audit entry %s not written: %s", action, exc))

    def _refresh_audit(self) -> None:
        menu = self._menu()
        if menu is not None and menu.section is Section.AUDIT:
            self._load_audit()

    # devices

    def test_device(self, kind: str) -> None:
        if self._staff_id() is None or self._tests.get(kind, SelfTestResult(SelfTestState.PASSED)).state in (
            SelfTestState.RUNNING, SelfTestState.WAITING,
        ):
            return
        if kind == "receipt_printer":
            self._test_printer()
        elif kind in ("card_reader", "qr_scanner"):
            self._set_test(kind, SelfTestResult(SelfTestState.WAITING))
            self._test_timers[kind] = self._t.timers.call_later(DEVICE_TEST_S, lambda: self._test_timed_out(kind))
        elif kind == "speaker" and self._t.devices.speaker is not None:
            self._test_speaker(self._t.devices.speaker)

    def _test_speaker(self, speaker: Speaker) -> None:
        """Say a test sentence in the menu's language; passed once it has played (to the end or until a touch)."""
        self._set_test("speaker", SelfTestResult(SelfTestState.RUNNING))
        self._test_timers["speaker"] = self._t.timers.call_later(DEVICE_TEST_S, self._speaker_timed_out)
        speaker.say(_(SPEAKER_TEST), current().language)

    def _speaker_heard(self, event: SpeechEvent, text: str) -> None:
        test = self._tests.get("speaker")
        if test is None or test.state is not SelfTestState.RUNNING or text != _(SPEAKER_TEST):
            return
        if event in (SpeechEvent.FINISHED, SpeechEvent.INTERRUPTED, SpeechEvent.FAILED):
            timer = self._test_timers.pop("speaker", None)
            if timer is not None:
                timer.cancel()
            state = SelfTestState.FAILED if event is SpeechEvent.FAILED else SelfTestState.PASSED
            self._set_test("speaker", SelfTestResult(state, at=self._clock()))
            self._audit(Action.DEVICE_TEST, device="speaker", result=state.value)

    def _set_test(self, kind: str, result: SelfTestResult) -> None:
        self._tests[kind] = result
        self._update(devices=self._device_rows())

    def _waiting_for(self, kind: str) -> bool:
        test = self._tests.get(kind)
        return self._state is not None and test is not None and test.state is SelfTestState.WAITING

    def _device_read(self, device: str, kind: str, value: str) -> None:
        timer = self._test_timers.pop(device, None)
        if timer is not None:
            timer.cancel()
        if kind == "card":
            read, masked = "card", mask_code(value.strip())
        elif kind == "unreadable":
            read, masked = "unreadable", ""
        else:
            parsed = parse_qr(value)
            if isinstance(parsed, Payload):
                read, masked = parsed.kind.value, mask_code(parsed.code)
            else:
                read, masked = "not_ours", mask_code(value.strip())
        state = SelfTestState.FAILED if kind == "unreadable" else SelfTestState.PASSED
        self._set_test(device, SelfTestResult(state, read, masked, self._clock()))
        self._audit(Action.DEVICE_TEST, device=device, result=state.value, read=read, value=masked)

    def _test_timed_out(self, kind: str) -> None:
        self._test_timers.pop(kind, None)
        if self._waiting_for(kind):
            self._set_test(kind, SelfTestResult(SelfTestState.TIMED_OUT, at=self._clock()))
            self._audit(Action.DEVICE_TEST, device=kind, result=SelfTestState.TIMED_OUT.value)

    def _speaker_timed_out(self) -> None:
        self._test_timers.pop("speaker", None)
        test = self._tests.get("speaker")
        if self._state is not None and test is not None and test.state is SelfTestState.RUNNING:
            self._set_test("speaker", SelfTestResult(SelfTestState.TIMED_OUT, at=self._clock()))
            self._audit(Action.DEVICE_TEST, device="speaker", result=SelfTestState.TIMED_OUT.value)

    def _test_printer(self) -> None:
        kind, printer = "receipt_printer", self._t.devices.printer
        receipt = test_receipt(self._t.receipt_translator, self._t.config.terminal.id, self._clock())
        self._set_test(kind, SelfTestResult(SelfTestState.RUNNING))

        def work() -> SelfTestResult:
            try:
                printer.print_receipt(receipt)
            except PrinterError as exc:
                return SelfTestResult(SelfTestState.FAILED, exc.reason, at=self._clock())
            return SelfTestResult(SelfTestState.PASSED, at=self._clock())

        def done(result: SelfTestResult) -> None:
            self._set_test(kind, result)
            self._audit(Action.DEVICE_TEST, device=kind, result=result.state.value, reason=result.kind)

        def failed(exc: Exception) -> None:
            log.error("printer test crashed: %s", exc)
            done(SelfTestResult(SelfTestState.FAILED, "error", at=self._clock()))

        self._submit("printer", work, done, failed)

    # the queue

    def retry(self, tx_id: str) -> None:
        """Give a transaction that needs attention three more attempts, under its own idempotency key."""
        staff_id, key = self._staff_id(), f"retry:{tx_id}"
        if staff_id is None:
            return
        worker, staff = self._t.worker, self._t.staff

        def work() -> None:
            worker.retry(tx_id)
            staff.audit(staff_id, Action.QUEUE_RETRY, tx_id=tx_id)

        def done(_none: None) -> None:
            self._busy(key, False)
            self._update(notice=MenuNotice.RETRY_QUEUED, notice_detail=tx_id)
            self._load_queue()

        self._busy(key, True)
        self._submit(LANE, work, done, lambda exc: self._failed(exc, key))

    def mark_settled(self, tx_id: str, outcome: SettleOutcome, reason: SettleReason) -> None:
        """Close a transaction that needs attention with what staff established (paid, or not), and why."""
        staff_id, key = self._staff_id(), f"settle:{tx_id}"
        if staff_id is None:
            return
        store, staff = self._t.store, self._t.staff
        outcome, reason = SettleOutcome(outcome), SettleReason(reason)

        def work() -> TransactionRecord:
            record = settle_by_staff(store, tx_id, outcome, reason, staff_id)
            staff.audit(staff_id, Action.QUEUE_SETTLED, tx_id=tx_id, state=record.state.value, reason=reason.value)
            return record

        def done(record: TransactionRecord) -> None:
            self._busy(key, False)
            self._update(notice=MenuNotice.SETTLED, notice_detail=record.state.value)
            self._load_queue()

        self._busy(key, True)
        self._submit(LANE, work, done, lambda exc: self._failed(exc, key))

    def export_csv(self) -> None:
        staff_id, key = self._staff_id(), "export"
        if staff_id is None:
            return
        store, staff, config = self._t.store, self._t.staff, self._t.config
        folder = Path(config.maintenance.export_dir) if config.maintenance.export_dir else self._t.export_dir
        now = self._clock()

        def work() -> tuple[Path, int]:
            path, count = export_transactions(store, folder, config.terminal.id, now)
            staff.audit(staff_id, Action.QUEUE_EXPORT, path=str(path), rows=count)
            return path, count

        def done(result: tuple[Path, int]) -> None:
            self._busy(key, False)
            self._update(notice=MenuNotice.EXPORTED, notice_detail=str(result[0]))

        self._busy(key, True)
        self._submit(LANE, work, done, lambda exc: self._failed(exc, key))

    # network

    def check_network(self, audited: bool = True) -> None:
        """Ask HQ's health endpoint now, timed (on the health lane, beside the connectivity monitor's checks)."""
        menu, key = self._menu(), "network"
        if menu is None or key in menu.busy:
            return
        terminal = self._t
        url = terminal.config.hq.url

        def work() -> NetworkInfo:
            started = time.monotonic()
            try:
                terminal.check_hq()
                reachable, error = True, ""
            except Exception as exc:
                reachable, error = False, f"{type(exc).__name__}: {exc}"[:200]
            latency = round((time.monotonic() - started) * 1000)
            return NetworkInfo(url, reachable, latency if reachable else None, error, socket.gethostname(),
                               local_address(url))

        def done(info: NetworkInfo) -> None:
            self._busy(key, False)
            self._update(network=info, online=terminal.journey.online)
            if audited:
                self._audit(Action.NETWORK_CHECK, reachable=info.reachable, latency_ms=info.latency_ms)

        self._busy(key, True)
        self._submit("health", work, done, lambda exc: self._failed(exc, key))

    # settings

    def change_setting(self, key: str, value: Any) -> None:
        """Validate, apply at once, and keep (in the database) one setting; the file is not touched."""
        staff_id = self._staff_id()
        if staff_id is None:
            return
        terminal = self._t
        before_config, before = terminal.config, dict(terminal.overridden)
        try:
            config = with_value(before_config, key, value)
        except ConfigError as exc:
            log.info("setting not changed: %s", exc)
            self._update(notice=MenuNotice.SETTING_INVALID, notice_detail=key)
            return
        old = value_of(before_config, key)
        overrides = {**before, key: value}
        terminal.apply_settings(config, overrides)
        note = AuditNote(staff_id, Action.SETTING_CHANGED, {"key": key, "from": old, "to": value})
        store = terminal.staff.store

        def failed(exc: Exception) -> None:
            terminal.apply_settings(before_config, before)  # not kept, so not applied either
            self._update(settings=self._setting_rows())
            self._failed(exc)

        self._update(settings=self._setting_rows(), notice=MenuNotice.SETTING_SAVED, notice_detail=key)
        self._submit(LANE, lambda: store.set_override(SETTINGS_KEY, overrides, staff_id, audit=note),
                     lambda _none: self._refresh_audit(), failed)

    def reset_settings(self) -> None:
        """Back to the configuration file's values."""
        staff_id = self._staff_id()
        if staff_id is None:
            return
        terminal = self._t
        before_config, before = terminal.config, dict(terminal.overridden)
        terminal.apply_settings(terminal.file_config, {})
        note = AuditNote(staff_id, Action.SETTINGS_RESET, {"keys": sorted(before)})
        store = terminal.staff.store

        def failed(exc: Exception) -> None:
            terminal.apply_settings(before_config, before)
            self._update(settings=self._setting_rows())
            self._failed(exc)

        self._update(settings=self._setting_rows(), notice=MenuNotice.SETTINGS_RESET)
        self._submit(LANE, lambda: store.clear_override(SETTINGS_KEY, audit=note), lambda _r: None, failed)

    # receipts

    def reprint(self, tx_id: str) -> None:
        """Print a paid transaction's receipt again (marked as a copy); the payment is not touched."""
        staff_id, key = self._staff_id(), f"reprint:{tx_id}"
        if staff_id is None:
            return
        terminal, staff = self._t, self._t.staff

        def work() -> str:
            try:
                reprint_receipt(store=terminal.store, printer=terminal.devices.printer,
                                translator=terminal.receipt_translator, tx_id=tx_id)
            except PrinterError as exc:
                staff.audit(staff_id, Action.RECEIPT_REPRINT, tx_id=tx_id, result=exc.reason)
                return exc.reason
            staff.audit(staff_id, Action.RECEIPT_REPRINT, tx_id=tx_id, result="printed")
            return ""

        def done(problem: str) -> None:
            self._busy(key, False)
            notice = MenuNotice.REPRINT_FAILED if problem else MenuNotice.REPRINTED
            self._update(notice=notice, notice_detail=problem)

        self._busy(key, True)
        self._submit("printer", work, done, lambda exc: self._failed(exc, key))

    # the terminal

    def set_out_of_service(self, on: bool) -> None:
        staff_id, key = self._staff_id(), "service"
        if staff_id is None:
            return

        def done() -> None:
            self._busy(key, False)
            notice = MenuNotice.OUT_OF_SERVICE if on else MenuNotice.BACK_IN_SERVICE
            self._update(out_of_service=self._t.out_of_service, notice=notice, notice_detail="")
            self._refresh_audit()

        self._busy(key, True)
        self._t.set_out_of_service(on, "staff", by=staff_id, on_done=done)
        self._update(out_of_service=on)

    def restart_app(self) -> None:
        self._then_exit(Action.APP_RESTART, CloseReason.RESTART, lambda: self._restart())

    def leave_kiosk(self) -> None:
        self._then_exit(Action.KIOSK_LEFT, CloseReason.LEAVE, lambda: self._leave())

    def _then_exit(self, action: str, reason: CloseReason, exit_now: Callable[[], None]) -> None:
        """Write the audit entry first (an exit may follow at once), then close the menu and go."""
        staff_id = self._staff_id()
        if staff_id is None:
            return
        staff = self._t.staff

        def go(_entry: object) -> None:
            self.close(reason)
            exit_now()

        def failed(exc: Exception) -> None:
            log.error("audit of %s not written: %s; going on", action, exc)
            go(None)

        self._busy(action, True)
        self._submit(LANE, lambda: staff.audit(staff_id, action), go, failed)
