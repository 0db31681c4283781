"""`kiosk self-test` from the command line: the report, the screen checks and the exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.main import main


def test_self_test_prints_every_check_and_passes_on_a_usable_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: object
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "tx.db"}"\n[hq]\nurl = "http://127.0.0.1:9"\n')
    assert main(["--self-test", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    for line in ("OK    configuration", "OK    font", "OK    idle screen", "WARN  hq", "self-test: passed"):
        assert line in out


def test_self_test_fails_with_status_1_on_a_missing_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: object
) -> None:
    assert main(["self-test", "--config", str(tmp_path / "nowhere.toml")]) == 1
    out = capsys.readouterr().out
    assert "FAIL  configuration" in out and "not found" in out
