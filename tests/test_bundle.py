"""The installable terminal: `kiosk.spec` builds a one-folder bundle whose `--self-test` passes.

Builds into a temporary folder with PyInstaller (about half a minute), then runs the bundled executable as an
installer would: with a configuration (simulated devices, a fresh database), and with a broken one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bundle")
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "ERROR",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(ROOT / "kiosk.spec")],
        check=True, cwd=work,
    )
    return work / "dist" / "kiosk"


def run_bundle(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    # Outside the source tree, so nothing can be imported from it: only what the bundle carries.
    return subprocess.run([str(bundle / "kiosk"), *args], capture_output=True, text=True, env=env,
                          cwd=bundle.parent, timeout=120)


def test_the_bundle_carries_catalogs_migrations_and_a_chinese_font(bundle: Path) -> None:
    internal = bundle / "_internal"
    assert (internal / "locales" / "zh_CN" / "LC_MESSAGES" / "kiosk.po").exists()
    assert any((internal / "offline_queue" / "migrations").rglob("*.py"))
    assert (internal / "fonts" / "NotoSansCJK-Regular.ttc").exists()


def test_the_bundles_self_test_passes_and_reports_every_part(bundle: Path, tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "tx.db"}"\n[hq]\nurl = "http://127.0.0.1:9"\n')
    done = run_bundle(bundle, "--self-test", "--config", str(config), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    verdicts = {check["name"]: check["verdict"] for check in report["checks"]}
    assert verdicts == {
        "configuration": "ok", "database": "ok", "staff": "warn", "catalogs": "ok", "card_reader": "ok",
        "qr_scanner": "ok", "receipt_printer": "ok", "speaker": "ok", "hq": "warn", "font": "ok", "idle screen": "ok",
    }
    assert (tmp_path / "tx.db").exists()


def test_the_bundles_self_test_fails_clearly_on_a_broken_configuration(bundle: Path, tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[payment]\nmin_fen = "ten"\n')
    done = run_bundle(bundle, "--self-test", "--config", str(config))
    assert done.returncode == 1
    assert "FAIL  configuration" in done.stdout and "min_fen" in done.stdout
