"""`kiosk self-test`'s core checks: each part reported OK, WARN or FAIL with a line a technician can act on."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import kiosk.self_test as self_test
from hq.server import HqServer
from kiosk.config import Config, config_from_mapping
from kiosk.self_test import CheckResult, Verdict, core_checks, exit_status, format_report, run_checks
from kiosk.staff import PinHasher, StaffService
from locales import LOCALES_DIR
from offline_queue.staff_store import StaffStore
from offline_queue.states import TxState
from offline_queue.store import TransactionStore


def config_for(tmp_path: Path, hq_url: str = "http://127.0.0.1:9", **devices: str) -> Config:
    return config_from_mapping(
        {"storage": {"database": str(tmp_path / "tx.db")}, "hq": {"url": hq_url}, "devices": devices}
    )


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def test_a_healthy_terminal_passes_with_hq_answering(tmp_path: Path, hq_server: HqServer) -> None:
    results = by_name(core_checks(config_for(tmp_path, hq_server.base_url)))
    assert {name: r.verdict for name, r in results.items()} == {
        "database": Verdict.OK, "staff": Verdict.WARN, "catalogs": Verdict.OK, "card_reader": Verdict.OK,
        "qr_scanner": Verdict.OK,
        "receipt_printer": Verdict.OK, "speaker": Verdict.OK, "hq": Verdict.OK,  # speaker: sim: on real espeak-ng
    }
    assert "paper ok" in results["receipt_printer"].detail


def test_a_terminal_without_a_staff_pin_warns_until_one_is_set(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    result = self_test.check_staff(config)
    assert result.verdict is Verdict.WARN and "kiosk staff set-pin" in result.detail
    store = StaffStore.open(tmp_path / "tx.db")
    try:
        StaffService(store, PinHasher(time_cost=1, memory_cost=8, parallelism=1)).set_pin("wang", "407215")
    finally:
        store.close()
    assert self_test.check_staff(config) == CheckResult("staff", Verdict.OK, "1 staff PIN(s) set")


def test_hq_unreachable_is_a_warning_because_payments_wait_offline(tmp_path: Path) -> None:
    results = by_name(core_checks(config_for(tmp_path)))
    assert results["hq"].verdict is Verdict.WARN and "cannot connect" in results["hq"].detail
    assert exit_status(list(results.values())) == 0


def test_payments_needing_attention_are_a_warning(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with TransactionStore.open(tmp_path / "tx.db") as store:
        tx = store.create(terminal_id="T", service="electricity", house_id="h", house_label="1-1-101",
                          meter_id="m", meter_label="lighting:1", amount_fen=1000)
        store.transition(tx.id, TxState.UNKNOWN, reason="create_no_answer")
        store.transition(tx.id, TxState.NEEDS_ATTENTION, reason="attempts_used_up")
    result = self_test.check_database(config)
    assert result.verdict is Verdict.WARN and "1 needing attention" in result.detail


def test_an_untranslated_message_fails_the_catalog_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy)
    po = copy / "zh_CN" / "LC_MESSAGES" / "kiosk.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "返回"', 'msgstr ""', 1), encoding="utf-8")
    monkeypatch.setattr(self_test, "LOCALES_DIR", copy)
    result = self_test.check_catalogs()
    assert result.verdict is Verdict.FAIL and "zh_CN: 1 untranslated" in result.detail


def test_a_device_that_cannot_be_built_fails_and_the_other_checks_still_run(tmp_path: Path) -> None:
    # Loading a configuration refuses such a URL; a self-test must still survive one (an older config schema).
    config = config_for(tmp_path)
    config = replace(config, devices=replace(config.devices, printer="bogus:"))
    results = by_name(core_checks(config))
    assert results["devices"].verdict is Verdict.FAIL and "bogus:" in results["devices"].detail
    assert results["database"].verdict is Verdict.OK and "hq" in results


def test_a_check_that_raises_is_reported_not_raised() -> None:
    def broken() -> CheckResult:
        raise RuntimeError("disk on fire")

    results = run_checks([("disk", broken)])
    assert results == [CheckResult("disk", Verdict.FAIL, "RuntimeError: disk on fire")]
    report = format_report(results)
    assert "FAIL  disk  RuntimeError: disk on fire" in report and "self-test: FAILED" in report
    assert exit_status(results) == 1
