"""kiosk-hq terminals and operators: the registry and the master key file, and serve's trust options."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fleet_helpers import signed_headers
from hq_helpers import NOW, FakeClock

from hq.app import create_app
from hq.cli import _parser, main
from hq.context import hq_context
from hq.fleet_cli import serve_options
from hq.operators import authenticate
from hq.secret_box import MasterKeyError, SecretBox, load_master_key


def _signed_identify(client: TestClient, terminal_id: str, secret: str) -> int:
    body = b'{"method": "card", "value": "04A1B2C3D4"}'
    headers = signed_headers(terminal_id, secret, "POST", "/api/v1/identify", body, at=NOW)
    headers["Content-Type"] = "application/json"
    return client.post("/api/v1/identify", content=body, headers=headers).status_code


def test_register_rotate_revoke_list(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file, secret_file = tmp_path / "hq.key", tmp_path / "t1.secret"
    common = ["--db", sqlite_url, "--key-file", str(key_file)]
    assert main(["terminals", "register", *common, "T-0001", "--name", "3号楼大堂", "--secret-file",
                 str(secret_file)]) == 0
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert main(["terminals", "register", *common, "T-0001"]) == 1
    assert "already registered" in capsys.readouterr().err

    app = create_app(sqlite_url, clock=FakeClock(), secret_box=SecretBox(load_master_key(key_file)),
                     require_signatures=True)
    client = TestClient(app)
    assert _signed_identify(client, "T-0001", secret) == 200

    assert main(["terminals", "rotate", *common, "T-0001"]) == 0
    new = capsys.readouterr().out.strip().splitlines()[-1]
    assert new != secret and len(new) == 43
    assert _signed_identify(client, "T-0001", secret) == 401
    assert _signed_identify(client, "T-0001", new) == 200

    assert main(["terminals", "revoke", *common, "T-0001"]) == 0
    assert _signed_identify(client, "T-0001", new) == 403
    assert main(["terminals", "list", *common]) == 0
    out = capsys.readouterr().out
    assert "T-0001" in out and "revoked" in out and "3号楼大堂" in out
    hq_context(app).engine.dispose()


def test_a_server_with_another_key_cannot_read_the_secrets(sqlite_url: str, tmp_path: Path) -> None:
    key_file, secret_file = tmp_path / "hq.key", tmp_path / "t1.secret"
    main(["terminals", "register", "--db", sqlite_url, "--key-file", str(key_file), "T-0001",
          "--secret-file", str(secret_file)])
    app = create_app(sqlite_url, clock=FakeClock(), secret_box=SecretBox.ephemeral())
    client = TestClient(app)
    assert _signed_identify(client, "T-0001", secret_file.read_text().strip()) == 500
    hq_context(app).engine.dispose()


def test_bad_terminal_ids_and_key_files(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["terminals", "register", "--db", sqlite_url, "--key-file", str(tmp_path / "k"), "T 1"]) == 1
    assert "must be 1 to 32 characters" in capsys.readouterr().err
    (tmp_path / "bad.key").write_text("not base64 at all!\n")
    with pytest.raises(MasterKeyError):
        load_master_key(tmp_path / "bad.key")
    with pytest.raises(MasterKeyError):
        load_master_key(tmp_path / "missing.key")


def test_operators(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["operators", "add", "--db", sqlite_url, "alice", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["operators", "add", "--db", sqlite_url, "bob", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert main(["operators", "disable", "--db", sqlite_url, "alice"]) == 0
    assert main(["operators", "list", "--db", sqlite_url]) == 0
    assert "alice" in capsys.readouterr().out
    app = create_app(sqlite_url)
    assert authenticate(hq_context(app).sessions, "alice", "a long enough password") is None  # disabled
    main(["operators", "enable", "--db", sqlite_url, "alice"])
    assert authenticate(hq_context(app).sessions, "alice", "a long enough password") is not None
    hq_context(app).engine.dispose()


def test_serve_requires_signatures_unless_told(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    args = _parser().parse_args(["serve", "--key-file", str(tmp_path / "hq.key"), "--metrics-token-file", str(token)])
    trust, tls = serve_options(args)
    assert trust.require_signatures is True and trust.metrics_token == "s3cret" and tls == {}
    assert trust.master_key == load_master_key(tmp_path / "hq.key")
    args = _parser().parse_args(["serve", "--key-file", str(tmp_path / "hq.key"), "--allow-unsigned",
                                 "--tls-cert", "c.pem", "--tls-key", "k.pem"])
    trust, tls = serve_options(args)
    assert trust.require_signatures is False and tls == {"ssl_certfile": "c.pem", "ssl_keyfile": "k.pem"}
    args = _parser().parse_args(["serve", "--key-file", str(tmp_path / "hq.key"), "--tls-cert", "c.pem"])
    with pytest.raises(MasterKeyError):
        serve_options(args)
