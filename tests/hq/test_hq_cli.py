"""kiosk-hq: init-db, seed-demo and clear errors for bad database URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from hq.cli import main
from hq.db import create_engine_for
from hq.models import House


def test_init_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    assert main(["init-db", "--db", url]) == 0
    assert "Tables ready" in capsys.readouterr().out
    engine = create_engine_for(url)
    assert {"house", "meter", "orders", "idempotency_record"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_seed_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    assert main(["seed-demo", "--db", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Seeded")
    for text in ("04A1B2C3D4", "3-2-501", "CPK:H:H3U2R501X7", "CPK:B:B202611000123", "04B5C6D7E8", "04C9DAEBFC"):
        assert text in out
    assert main(["seed-demo", "--db", url, "--all"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Already seeded") and "CPK:H:" in out and out.count("CPK:B:") > 100
    engine = create_engine_for(url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(House)) == 72
    engine.dispose()


def test_default_database_is_hq_db_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init-db"]) == 0
    assert (tmp_path / "hq.db").exists()


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("nonsense", 2, "not a database URL"),
        ("foo://x", 2, "no driver"),
        ("sqlite:////nonexistent-dir/sub/hq.db", 1, "cannot use database"),
    ],
)
def test_bad_database_url(url: str, status: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init-db", "--db", url]) == status
    err = capsys.readouterr().err
    assert err.startswith("kiosk-hq: error:") and message in err


def test_serve_rejects_bad_port(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'hq.db'}", "--port", "70000"]) == 2
    assert "port" in capsys.readouterr().err


def test_serve_rejects_bad_public_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'hq.db'}", "--public-url", "hq.local:8800"]) == 2
    assert "--public-url" in capsys.readouterr().err


def test_password_is_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init-db", "--db", "postgresql://u:hunter2@127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err
    assert "hunter2" not in err and "***" in err
