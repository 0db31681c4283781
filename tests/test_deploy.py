"""deploy/: the systemd unit, the X session, the lockdown script (run into a scratch root) and the example config."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.config import Config, describe, load_config
from ui.maintenance.host import LEAVE_EXIT_CODE, RESTART_EXIT_CODE

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_the_example_configuration_explains_every_setting_and_loads_as_the_defaults() -> None:
    example = DEPLOY / "kiosk.example.toml"
    assert example.read_text(encoding="utf-8") == describe(), "run `make config-doc`"
    assert load_config(example) == Config()


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(DEPLOY / "kiosk.service")
    return parser


def test_the_unit_restarts_the_terminal_and_watches_its_event_loop() -> None:
    service = unit()["Service"]
    assert service["Type"] == "notify" and service["Restart"] == "always"
    assert int(service["WatchdogSec"]) > 0
    assert service["ExecStart"] == "/opt/kiosk/kiosk run --config /etc/kiosk/kiosk.toml"
    assert "--self-test" in service["ExecStartPre"]


def test_leaving_kiosk_mode_is_the_one_exit_systemd_does_not_restart() -> None:
    assert unit()["Service"]["RestartPreventExitStatus"].split() == [str(LEAVE_EXIT_CODE)]
    assert RESTART_EXIT_CODE != LEAVE_EXIT_CODE


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "kiosk").write_text("#!/bin/sh\n")
    (folder / "kiosk").chmod(0o755)
    return folder


def lockdown(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(DEPLOY / "lockdown.sh"), *args], capture_output=True, text=True, timeout=60)


def test_lockdown_writes_every_file_and_only_prints_system_commands_under_a_root(tmp_path: Path, bundle: Path) -> None:
    root = tmp_path / "root"
    done = lockdown("--bundle", str(bundle), "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert (root / "opt/kiosk/kiosk").exists()
    assert (root / "etc/kiosk/kiosk.toml").read_text() == describe()
    assert (root / "etc/systemd/user/kiosk.service").read_text() == (DEPLOY / "kiosk.service").read_text()
    assert "autologin-user=kiosk" in (root / "etc/lightdm/lightdm.conf.d/50-kiosk.conf").read_text()
    xorg = (root / "etc/X11/xorg.conf.d/10-kiosk.conf").read_text()
    assert '"DontVTSwitch" "true"' in xorg and '"DontZap" "true"' in xorg
    assert "NAutoVTs=0" in (root / "etc/systemd/logind.conf.d/50-kiosk.conf").read_text()
    assert "Exec=/usr/local/bin/kiosk-session" in (root / "usr/share/xsessions/kiosk.desktop").read_text()
    for command in ("systemctl mask ctrl-alt-del.target", "loginctl enable-linger kiosk", "useradd"):
        assert f"would run: {command}" in done.stdout


def test_lockdown_keeps_a_configuration_already_in_place(tmp_path: Path, bundle: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/kiosk").mkdir(parents=True)
    (root / "etc/kiosk/kiosk.toml").write_text('[terminal]\nid = "T-0042"\n')
    assert lockdown("--bundle", str(bundle), "--root", str(root)).returncode == 0
    assert (root / "etc/kiosk/kiosk.toml").read_text() == '[terminal]\nid = "T-0042"\n'


@pytest.mark.parametrize("args", [(), ("--bundle", "/nonexistent"), ("--frobnicate",)])
def test_lockdown_refuses_bad_arguments_with_a_clear_message(args: tuple[str, ...]) -> None:
    done = lockdown(*args)
    assert done.returncode == 2 and "lockdown.sh:" in done.stderr


def test_shell_scripts_parse() -> None:
    for script in (DEPLOY / "lockdown.sh", DEPLOY / "kiosk-session"):
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_systemd_analyze_verify_finds_nothing_wrong_with_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    program = tmp_path / "kiosk"  # verify checks that ExecStart's program exists and is executable
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    unit_file = tmp_path / "kiosk.service"
    unit_file.write_text((DEPLOY / "kiosk.service").read_text().replace("/opt/kiosk/kiosk", str(program)))
    done = subprocess.run([analyze, "verify", str(unit_file)], capture_output=True, text=True, timeout=60)
    if "Failed to initialize manager" in done.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {done.stderr.strip()}")
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
