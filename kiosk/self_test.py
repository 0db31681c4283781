"""`kiosk self-test`: what an installer runs before walking away, and what a bundle runs to prove it is whole.

Each check says OK, WARN (works, but someone should look) or FAIL (the terminal cannot serve residents), with a
line a technician can act on. The core's checks are here: configuration, database, catalogs, devices, HQ; the
screen checks (Qt starts, fonts, the idle screen paints) are added by `ui.self_test`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

from babel.messages.pofile import read_po

from kiosk.config import LANGUAGES, Config
from locales import DOMAIN, LOCALES_DIR


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    name: str
    verdict: Verdict
    detail: str


Check = Callable[[], CheckResult]
#: Devices whose fault leaves the terminal serving residents (without voice), so the self-test only warns.
OPTIONAL_DEVICES = frozenset({"speaker"})


def run_checks(checks: Iterable[tuple[str, Check]]) -> list[CheckResult]:
    """Run every check; one that raises is reported as failed with its error, and the others still run."""
    results = []
    for name, check in checks:
        try:
            results.append(check())
        except Exception as exc:  # a self-test reports, it does not crash
            results.append(CheckResult(name, Verdict.FAIL, f"{type(exc).__name__}: {exc}"))
    return results


def exit_status(results: list[CheckResult]) -> int:
    """0 when nothing failed (warnings allowed), 1 otherwise."""
    return 1 if any(r.verdict is Verdict.FAIL for r in results) else 0


def format_report(results: list[CheckResult], *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(
            {"ok": exit_status(results) == 0, "checks": [asdict(r) for r in results]}, ensure_ascii=False, indent=2
        )
    width = max((len(r.name) for r in results), default=0)
    lines = [f"{r.verdict.upper():<4}  {r.name:<{width}}  {r.detail}" for r in results]
    failed = sum(r.verdict is Verdict.FAIL for r in results)
    warned = sum(r.verdict is Verdict.WARN for r in results)
    lines.append(f"self-test: {'FAILED' if failed else 'passed'} ({failed} failed, {warned} warnings, "
                 f"{len(results)} checks)")
    return "\n".join(lines)


def check_database(config: Config) -> CheckResult:
    """The store opens in WAL with synchronous=FULL at the newest schema, passes quick_check; what is waiting."""
    from sqlalchemy import text

    from kiosk.app import database_path
    from offline_queue.states import TxState
    from offline_queue.store import TransactionStore

    path = database_path(config)
    with TransactionStore.open(path) as store, store.engine.connect() as conn:
        quick = conn.execute(text("PRAGMA quick_check")).scalar()
        if quick != "ok":
            return CheckResult("database", Verdict.FAIL, f"{path}: quick_check says {quick}")
        counts = store.count_by_state()
    attention = counts.get(TxState.NEEDS_ATTENTION, 0)
    waiting = counts.get(TxState.UNKNOWN, 0) + counts.get(TxState.NEW, 0)
    detail = f"{path}: ok; {waiting} waiting for HQ, {attention} needing attention"
    return CheckResult("database", Verdict.WARN if attention else Verdict.OK, detail)


def check_staff(config: Config) -> CheckResult:
    """At least one staff PIN is set: without one the maintenance menu cannot be opened on site."""
    from kiosk.app import database_path
    from offline_queue.staff_store import StaffStore

    store = StaffStore.open(database_path(config))
    try:
        members = store.members()
    finally:
        store.close()
    if not members:
        return CheckResult("staff", Verdict.WARN, "no staff PIN is set, so nobody can open the maintenance menu; "
                                                  "set one with: kiosk staff set-pin <staff id>")
    return CheckResult("staff", Verdict.OK, f"{len(members)} staff PIN(s) set")


def check_catalogs() -> CheckResult:
    """Every shipped language has a catalog in which every message is translated and none is fuzzy."""
    problems = []
    sizes = []
    for language in LANGUAGES:
        path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.exists():
            problems.append(f"{language}: {path} missing")
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=language, domain=DOMAIN)
        messages = [m for m in catalog if m.id]
        untranslated = [m for m in messages if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
        fuzzy = [m for m in messages if m.fuzzy]
        if untranslated or fuzzy:
            problems.append(f"{language}: {len(untranslated)} untranslated, {len(fuzzy)} fuzzy")
        sizes.append(f"{language} {len(messages)}")
    if problems:
        return CheckResult("catalogs", Verdict.FAIL, "; ".join(problems))
    return CheckResult("catalogs", Verdict.OK, "messages: " + ", ".join(sizes))


def check_devices(config: Config, settle_s: float = 5.0) -> list[CheckResult]:
    """Open each configured device, give it `settle_s` to come online, report its state, close it."""
    from devices.base import DeviceState
    from kiosk.app import Devices

    devices = Devices.from_config(config)
    results = []
    for device in devices.all():
        changed = threading.Event()

        def wake(_status: object, changed: threading.Event = changed) -> None:
            changed.set()

        device.add_status_listener(wake)
        try:
            device.open()
            deadline = time.monotonic() + settle_s
            # A device connects on its own thread: wait for its first report, not a fixed time.
            while device.status.state is DeviceState.OFFLINE and (left := deadline - time.monotonic()) > 0:
                changed.wait(left)
                changed.clear()
            status = device.status
        finally:
            device.close()
        detail = status.state.value
        if status.paper is not None:
            detail += f", paper {status.paper.value}"
        if status.last_error:
            detail += f": {status.last_error} (action: {status.action.value})"
        verdict = Verdict.OK if status.state is DeviceState.ONLINE else Verdict.FAIL
        if verdict is Verdict.FAIL and device.kind in OPTIONAL_DEVICES:
            verdict = Verdict.WARN  # residents are served without it; the heartbeat reports the fault
            detail += "; residents are served without voice prompts"
        results.append(CheckResult(device.kind, verdict, detail))
    return results


def check_hq(config: Config) -> CheckResult:
    """Whether HQ answers; a terminal works offline, so an unreachable HQ is a warning, not a failure."""
    from kiosk.hq_client import HqClient, HqError, HqFailure, HqNoAnswer

    client = HqClient(config.hq.url, config.hq.connect_timeout_s, config.hq.read_timeout_s)
    try:
        client.health()
    except HqFailure as exc:
        why = (f"answered {exc.status} {exc.code}" if isinstance(exc, HqError)
               else "no answer in time" if isinstance(exc, HqNoAnswer) else "cannot connect")
        return CheckResult("hq", Verdict.WARN, f"{config.hq.url}: {why}; payments wait until it answers")
    finally:
        client.close()
    return CheckResult("hq", Verdict.OK, f"{config.hq.url}: answering")


def core_checks(config: Config, settle_s: float = 5.0) -> list[CheckResult]:
    """The checks that need no screen."""
    results = run_checks([
        ("database", lambda: check_database(config)), ("staff", lambda: check_staff(config)),
        ("catalogs", check_catalogs),
    ])
    try:
        results += check_devices(config, settle_s)
    except Exception as exc:  # a device URL the factory refuses, a missing driver
        results.append(CheckResult("devices", Verdict.FAIL, f"{type(exc).__name__}: {exc}"))
    results += run_checks([("hq", lambda: check_hq(config))])
    return results
