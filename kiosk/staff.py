"""Staff PINs, the wrong-PIN lock and the audit log of staff actions (no Qt; blocking: call off the GUI thread).

PINs are kept only as Argon2id hashes (argon2-cffi), set with `kiosk staff set-pin`. A PIN on its own names the
member of staff (no two may share one), so the pad asks for nothing else. After `max_failures` wrong PINs in a row
the menu locks for `lock_for`; the count and the lock are in the database, so a restart does not reset them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from offline_queue.staff_store import AuditEntry, AuditNote, PinLock, StaffMember, StaffStore

PIN_MIN, PIN_MAX = 6, 12
_STAFF_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


class StaffError(ValueError):
    """A staff id or PIN that cannot be used; the message says why (for the command line)."""


class Action:
    """The audit log's action codes (the menu shows each with a catalog text)."""

    MENU_OPENED = "menu.opened"
    MENU_CLOSED = "menu.closed"
    PIN_WRONG = "pin.wrong"
    PIN_LOCKED = "pin.locked"
    DEVICE_TEST = "device.test"
    QUEUE_RETRY = "queue.retry"
    QUEUE_SETTLED = "queue.settled"
    QUEUE_EXPORT = "queue.export"
    NETWORK_CHECK = "network.check"
    SETTING_CHANGED = "settings.changed"
    SETTINGS_RESET = "settings.reset"
    RECEIPT_REPRINT = "receipt.reprint"
    APP_RESTART = "app.restart"
    KIOSK_LEFT = "kiosk.left"
    OUT_OF_SERVICE = "service.out"
    BACK_IN_SERVICE = "service.back"
    PIN_SET = "staff.pin_set"
    STAFF_REMOVED = "staff.removed"


def pin_problem(pin: str) -> str | None:
    """Why a PIN cannot be used, or None: digits only (the pad has nothing else), not guessable at a glance."""
    if not pin.isdigit() or not pin.isascii():
        return "a PIN is digits only"
    if not PIN_MIN <= len(pin) <= PIN_MAX:
        return f"a PIN has {PIN_MIN} to {PIN_MAX} digits"
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps <= {0} or steps == {1} or steps == {-1}:
        return "a PIN must not be one digit repeated or a run like 123456"
    return None


def staff_id_problem(staff_id: str) -> str | None:
    if not _STAFF_ID.fullmatch(staff_id):
        return "a staff id is 1 to 32 letters, digits, '.', '_' or '-'"
    return None


class PinHasher:
    """Argon2id hashing; the defaults are argon2-cffi's (RFC 9106 low-memory profile, about 0.1 s a check)."""

    def __init__(self, *, time_cost: int | None = None, memory_cost: int | None = None,
                 parallelism: int | None = None) -> None:
        options: dict[str, Any] = {"type": Type.ID}
        for name, value in (("time_cost", time_cost), ("memory_cost", memory_cost), ("parallelism", parallelism)):
            if value is not None:
                options[name] = value
        self._hasher = PasswordHasher(**options)

    def hash(self, pin: str) -> str:
        return self._hasher.hash(pin)

    def matches(self, pin_hash: str, pin: str) -> bool:
        try:
            return self._hasher.verify(pin_hash, pin)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            return False  # a damaged hash opens nothing

    def needs_rehash(self, pin_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(pin_hash)
        except InvalidHashError:
            return False


@dataclass(frozen=True)
class PinCheck:
    """The answer to a PIN typed on the pad."""

    staff_id: str | None  # who it is, when the PIN was right
    lock: PinLock
    tries_left: int
    no_staff: bool = False  # nobody has a PIN on this terminal yet

    @property
    def ok(self) -> bool:
        return self.staff_id is not None


class StaffService:
    """PINs, the lock and the audit log over a `StaffStore`. Every method blocks: call it on a worker lane."""

    def __init__(
        self, store: StaffStore, hasher: PinHasher | None = None, *, max_failures: int = 5,
        lock_for: timedelta = timedelta(minutes=30),
    ) -> None:
        self.store = store
        self.hasher = hasher or PinHasher()
        self.max_failures = max_failures
        self.lock_for = lock_for

    def now(self) -> datetime:
        return self.store.now()

    # -- members (the command line) ------------------------------------------------------------------------

    def members(self) -> list[StaffMember]:
        return self.store.members()

    def set_pin(self, staff_id: str, pin: str, *, by: str = "command line") -> bool:
        """Give `staff_id` this PIN (adding them if new); True when new. StaffError for a bad id or PIN, or a PIN
        another member already has (a PIN alone names its holder)."""
        problem = staff_id_problem(staff_id) or pin_problem(pin)
        if problem:
            raise StaffError(problem)
        if any(m.staff_id != staff_id and self.hasher.matches(m.pin_hash, pin) for m in self.members()):
            raise StaffError("another member of staff has this PIN; choose a different one")
        new = staff_id not in {m.staff_id for m in self.members()}
        note = AuditNote(staff_id, Action.PIN_SET, {"by": by, "new": new})
        return self.store.put_member(staff_id, self.hasher.hash(pin), audit=note)

    def remove(self, staff_id: str, *, by: str = "command line") -> bool:
        return self.store.remove_member(staff_id, audit=AuditNote(staff_id, Action.STAFF_REMOVED, {"by": by}))

    # -- the PIN pad ------------------------------------------------------------------------------------------

    def lock(self) -> PinLock:
        return self.store.pin_lock()

    def tries_left(self, lock: PinLock) -> int:
        return max(self.max_failures - lock.failures, 0)

    def check_pin(self, pin: str, *, via: str) -> PinCheck:
        """Check a PIN typed on the pad (`via`: how the pad was opened, for the log). While locked nothing is
        checked; a wrong PIN counts towards the lock; a right one opens the menu and resets the count."""
        lock = self.store.pin_lock()
        if lock.locked(self.now()):
            return PinCheck(None, lock, 0)
        members = self.members()
        if not members:
            return PinCheck(None, lock, self.tries_left(lock), no_staff=True)
        # Every hash is checked, so the time taken does not tell whose PIN came closest.
        found = [m for m in members if self.hasher.matches(m.pin_hash, pin)]
        if found:
            member = found[0]
            self.store.pin_succeeded(AuditNote(member.staff_id, Action.MENU_OPENED, {"via": via}))
            if self.hasher.needs_rehash(member.pin_hash):
                self.store.put_member(member.staff_id, self.hasher.hash(pin))
            return PinCheck(member.staff_id, PinLock(), self.max_failures)
        would_lock = lock.failures + 1 >= self.max_failures
        action = Action.PIN_LOCKED if would_lock else Action.PIN_WRONG
        lock = self.store.pin_failed(
            self.max_failures, self.lock_for, AuditNote(None, action, {"via": via, "failures": lock.failures + 1})
        )
        return PinCheck(None, lock, self.tries_left(lock))

    # -- the audit log ----------------------------------------------------------------------------------------

    def audit(self, staff_id: str | None, action: str, **detail: Any) -> AuditEntry:
        return self.store.audit(AuditNote(staff_id, action, detail or None))

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        return self.store.audit_log(limit)
