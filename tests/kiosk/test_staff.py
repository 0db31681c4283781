"""Staff PINs (Argon2id only), the wrong-PIN lock that survives a restart, the audit log, and `kiosk staff`."""

from __future__ import annotations

import argparse
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from maintenance_rig import TEST_HASHER, FakeClock

from kiosk.cli import parse
from kiosk.staff import Action, PinHasher, StaffError, StaffService, pin_problem
from kiosk.staff_cli import run_staff
from offline_queue.staff_store import StaffStore
from offline_queue.store import TransactionStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "terminal.db"


@pytest.fixture
def service(db: Path, clock: FakeClock) -> Iterator[StaffService]:
    store = StaffStore.open(db, clock=clock)
    yield StaffService(store, TEST_HASHER)
    store.close()


def reopen(service: StaffService, db: Path, clock: FakeClock) -> StaffService:
    service.store.close()
    return StaffService(StaffStore.open(db, clock=clock), TEST_HASHER)


def test_a_pin_is_kept_only_as_an_argon2id_hash(service: StaffService, db: Path) -> None:
    assert service.set_pin("S001", "480215") is True
    assert service.set_pin("S001", "593104") is False  # changed, not added
    (member,) = service.members()
    assert member.pin_hash.startswith("$argon2id$")
    raw = db.read_bytes() + (db.with_name(db.name + "-wal").read_bytes() if db.with_name(db.name + "-wal").exists()
                             else b"")
    assert b"480215" not in raw and b"593104" not in raw
    assert [e.action for e in service.audit_log()] == [Action.PIN_SET, Action.PIN_SET]


@pytest.mark.parametrize("pin", ["12345", "1234567890123", "12a456", "111111", "123456", "654321", "１２３４５６"])
def test_weak_or_malformed_pins_are_refused(pin: str) -> None:
    assert pin_problem(pin) is not None


def test_two_members_cannot_share_a_pin(service: StaffService) -> None:
    service.set_pin("S001", "480215")
    with pytest.raises(StaffError, match="another member"):
        service.set_pin("S002", "480215")
    with pytest.raises(StaffError, match="staff id"):
        service.set_pin("bad id!", "593104")


def test_the_right_pin_names_its_holder_and_resets_the_count(service: StaffService) -> None:
    service.set_pin("S001", "480215")
    service.set_pin("S002", "593104")
    assert not service.check_pin("000111", via="gesture").ok
    check = service.check_pin("593104", via="card")
    assert check.ok and check.staff_id == "S002"
    assert service.lock().failures == 0
    opened = service.audit_log()[0]
    assert (opened.action, opened.staff_id, opened.detail) == (Action.MENU_OPENED, "S002", {"via": "card"})


def test_five_wrong_pins_lock_for_thirty_minutes_across_a_restart(
    service: StaffService, db: Path, clock: FakeClock
) -> None:
    service.set_pin("S001", "480215")
    lefts = [service.check_pin("000111", via="gesture").tries_left for _ in range(4)]
    assert lefts == [4, 3, 2, 1]
    fifth = service.check_pin("000111", via="gesture")
    assert fifth.lock.locked_until == clock.now.replace(minute=30)
    service = reopen(service, db, clock)  # the terminal restarts
    assert service.lock().locked(clock.now)
    assert not service.check_pin("480215", via="gesture").ok  # even the right PIN, while locked
    clock.advance(minutes=29, seconds=59)
    assert not service.check_pin("480215", via="gesture").ok
    clock.advance(seconds=1)
    assert service.check_pin("480215", via="gesture").ok
    actions = [e.action for e in reversed(service.audit_log())]
    assert actions == [Action.PIN_SET] + [Action.PIN_WRONG] * 4 + [Action.PIN_LOCKED, Action.MENU_OPENED]
    service.store.close()


def test_no_staff_means_no_way_in_and_no_count(service: StaffService) -> None:
    check = service.check_pin("480215", via="gesture")
    assert check.no_staff and not check.ok
    assert service.lock().failures == 0


def test_the_audit_log_is_append_only(service: StaffService, db: Path) -> None:
    service.audit("S001", Action.QUEUE_EXPORT, rows=3)
    with sqlite3.connect(db) as conn:
        for statement in ("UPDATE staff_audit SET action = 'x'", "DELETE FROM staff_audit"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)


def test_staff_tables_live_in_the_transaction_database(db: Path) -> None:
    TransactionStore.open(db).close()
    staff = StaffStore.open(db)  # migrated already: opens without a migration
    assert staff.members() == []
    staff.close()


def test_a_damaged_hash_opens_nothing() -> None:
    assert PinHasher().matches("not a hash", "480215") is False


# ---- kiosk staff --------------------------------------------------------------------------------------------


def staff_args(config: Path, *argv: str) -> argparse.Namespace:
    return parse(["staff", *argv, "--config", str(config)])


@pytest.fixture
def config_file(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[storage]\ndatabase = "{db}"\n', encoding="utf-8")
    return path


def run(args: argparse.Namespace, service: StaffService, *secrets: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    answers = iter(secrets)
    code = run_staff(args, out, err, read_secret=lambda _prompt: next(answers), service=service)
    return code, out.getvalue(), err.getvalue()


def test_set_pin_reads_the_pin_twice_without_echo(config_file: Path, service: StaffService) -> None:
    args = staff_args(config_file, "set-pin", "--staff-id", "S001")
    assert run(args, service, "480215", "480216")[0] == 2  # typed differently
    assert run(args, service, "123456", "123456")[2].endswith("like 123456; nothing changed\n")
    assert service.members() == []
    code, out, _ = run(args, service, "480215", "480215")
    assert (code, out) == (0, "S001: added with a PIN\n")
    code, out, _ = run(staff_args(config_file, "list"), service)
    assert code == 0 and out.startswith("S001") and "1 member(s) of staff" in out
    assert run(staff_args(config_file, "remove", "--staff-id", "S001"), service)[0] == 0
    assert run(staff_args(config_file, "remove", "--staff-id", "S001"), service)[0] == 1


def test_the_command_opens_the_configured_database(
    config_file: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["480215", "480215"])
    monkeypatch.setattr("kiosk.staff_cli.getpass.getpass", lambda _prompt: next(answers))
    out = io.StringIO()
    assert run_staff(staff_args(config_file, "set-pin", "--staff-id", "S009"), out, io.StringIO()) == 0
    store = StaffStore.open(db)
    assert [m.staff_id for m in store.members()] == ["S009"]
    store.close()
