"""Fixtures for the HQ tests: seeded SQLite and PostgreSQL databases, a fake clock, clients, live servers.

PostgreSQL runs as a throwaway server (initdb + pg_ctl in a temp dir, on a free port) for the session;
each test gets its own database cloned from a seeded template, as each SQLite test gets a copied file.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hq_helpers import NOW, PUBLIC_URL, FakeClock
from sqlalchemy import create_engine, text

from hq.app import close_app, create_app
from hq.db import create_engine_for
from hq.seed import seed_demo
from hq.server import HqServer

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its TestClient; httpx is what the project installs.
    warnings.filterwarnings("ignore", message="Using `httpx` with")
    from fastapi.testclient import TestClient

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres_user() -> list[str]:
    """Command prefix to run PostgreSQL's tools: initdb refuses to run as root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run initdb as")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and runuser is missing, so initdb cannot run")
    return [runuser, "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL (without database) of a throwaway PostgreSQL server for the test session."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("initdb/pg_ctl not on PATH: PostgreSQL tests skipped")
    prefix = _as_postgres_user()
    workdir = Path(tempfile.mkdtemp(prefix="hq-pg-"))
    if prefix:
        shutil.chown(workdir, user="postgres")
    data = workdir / "data"
    port = _free_port()
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
             "--locale=C", "--no-sync"],
            check=True, capture_output=True, timeout=60,
        )
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-l", str(workdir / "log"), "-w", "-t", "30",
             "-o", f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -F", "start"],
            check=True, capture_output=True, timeout=60,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (workdir / "log").read_text(errors="replace") if (workdir / "log").exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc}\n{getattr(exc, 'stderr', b'')!r}\n{log}")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


def _pg_admin(server_url: str, *statements: str) -> None:
    engine = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_template(postgres_server: str) -> str:
    """Name of a seeded PostgreSQL database to clone."""
    _pg_admin(postgres_server, "CREATE DATABASE hq_seeded")
    engine = create_engine_for(f"{postgres_server}/hq_seeded")
    seed_demo(engine, NOW)
    engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the template to have no connections
    return "hq_seeded"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite file (WAL checkpointed into it) to copy."""
    path = tmp_path_factory.mktemp("template") / "hq.db"
    engine = create_engine_for(f"sqlite:///{path}")
    seed_demo(engine, NOW)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh seeded SQLite database for this test."""
    path = tmp_path / "hq.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh seeded database for this test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("pg_template")
    name = f"hq_{uuid.uuid4().hex[:12]}"
    _pg_admin(server, f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    try:
        yield f"{server}/{name}"
    finally:
        _pg_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at NOW (the seed time)."""
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., TestClient]]:
    """Factory of TestClients on an app for a database URL (public URL http://hq.test, fake clock)."""
    apps = []

    def make(url: str, **kwargs: object) -> TestClient:
        kwargs.setdefault("clock", clock)
        app = create_app(url, PUBLIC_URL, **kwargs)  # type: ignore[arg-type]
        apps.append(app)
        return TestClient(app)

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture
def client(make_client: Callable[..., TestClient], db_url: str) -> TestClient:
    """A TestClient on a seeded database (SQLite and PostgreSQL)."""
    return make_client(db_url)


@pytest.fixture
def sqlite_client(make_client: Callable[..., TestClient], sqlite_url: str) -> TestClient:
    """A TestClient on a seeded SQLite database (for tests where the database makes no difference)."""
    return make_client(sqlite_url)


@pytest.fixture
def live_server(db_url: str) -> Iterator[HqServer]:
    """A real HQ server on loopback over the seeded database."""
    with HqServer(db_url, seed=False) as server:
        yield server
