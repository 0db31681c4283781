"""The fleet dashboard in a real headless browser (Debian's chromium driven by Playwright): log in, see an offline
terminal and a paper-out terminal shown as such, and queue a command from a terminal's page."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fleet_helpers import beat_body, signed_headers
from hq_helpers import FakeClock

from hq.context import hq_context
from hq.operators import add_operator
from hq.server import HqServer

CHROMIUM = os.environ.get("KIOSK_TEST_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"

playwright_api = pytest.importorskip("playwright.sync_api")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no chromium at {CHROMIUM} (scripts/system-deps.sh installs it)", allow_module_level=True)


def _beat(hq: HqServer, clock: FakeClock, terminal_id: str, secret: str, **fields: Any) -> None:
    path = f"/api/v1/terminals/{terminal_id}/heartbeat"
    body = json.dumps(beat_body(**fields)).encode()
    headers = signed_headers(terminal_id, secret, "POST", path, body, at=clock())
    headers["Content-Type"] = "application/json"
    answer = requests.post(hq.base_url + path, data=body, headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def fleet_hq() -> Iterator[tuple[HqServer, FakeClock]]:
    clock = FakeClock()
    with HqServer(clock=clock, require_signatures=True) as hq:
        assert hq.app is not None
        add_operator(hq_context(hq.app).sessions, "alice", PASSWORD, clock())
        secrets = {t: hq.register_terminal(t) for t in ("T-OFFLINE", "T-PAPER", "T-FINE")}
        _beat(hq, clock, "T-OFFLINE", secrets["T-OFFLINE"])
        clock.advance(minutes=5)  # three 30 s intervals and more: T-OFFLINE is offline
        printer_out = {"kind": "receipt_printer", "state": "online", "paper": "out", "action": "none"}
        _beat(hq, clock, "T-PAPER", secrets["T-PAPER"], devices=[printer_out],
              health={"status": "degraded", "problems": ["paper_out"]})
        _beat(hq, clock, "T-FINE", secrets["T-FINE"])
        yield hq, clock


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


def test_dashboard_shows_offline_and_paper_out(
    fleet_hq: tuple[HqServer, FakeClock], browser: Any, tmp_path: Path
) -> None:
    hq, _clock = fleet_hq
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{hq.base_url}/fleet")
    assert "/fleet/login" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#terminals")

    offline = page.locator('tr.terminal[data-terminal="T-OFFLINE"]')
    assert offline.get_attribute("data-state") == "offline"
    assert "离线" in offline.inner_text() and "Offline" in offline.inner_text()
    paper = page.locator('tr.terminal[data-terminal="T-PAPER"]')
    assert paper.get_attribute("data-state") == "online"
    assert "缺纸" in paper.locator("td.paper").inner_text()
    assert page.locator('tr.terminal[data-terminal="T-FINE"]').get_attribute("data-state") == "online"
    alerts = page.locator("#alerts li.alert")
    found = {(alerts.nth(i).get_attribute("data-reason"), alerts.nth(i).get_attribute("data-terminal"))
             for i in range(alerts.count())}
    assert found == {("offline", "T-OFFLINE"), ("paper_out", "T-PAPER")}
    page.screenshot(path=os.environ.get("KIOSK_SHOT", str(tmp_path / "fleet.png")), full_page=True)

    page.click("text=需要处理 Needs someone")
    page.wait_for_url("**/fleet?show=attention")
    shown = {page.locator("tr.terminal").nth(i).get_attribute("data-terminal")
             for i in range(page.locator("tr.terminal").count())}
    assert shown == {"T-OFFLINE", "T-PAPER"}

    page.click('tr.terminal[data-terminal="T-PAPER"] a')
    page.wait_for_selector("#terminal")
    assert page.locator("#terminal").get_attribute("data-paper") == "out"
    page.click('button[data-kind="print_test_receipt"]')
    page.wait_for_selector("#issued")
    assert page.locator("#commands tr[data-status=pending]").count() == 1
    page.close()
