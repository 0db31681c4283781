"""hq.server.HqServer: a real server on loopback, started and stopped quickly."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from hq_helpers import ORDER_BODY, new_key

from hq.server import HqServer


def test_start_serve_stop() -> None:
    server = HqServer()
    started = time.monotonic()
    server.start()
    assert time.monotonic() - started < 1.5
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.public_url == server.base_url
        health = httpx.get(f"{server.base_url}/api/v1/health", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        house = httpx.post(
            f"{server.base_url}/api/v1/identify", json={"method": "card", "value": "04A1B2C3D4"}, timeout=5
        )
        assert house.json()["house_id"] == "h_3_2_501"
        db_file = Path(server.db_url.removeprefix("sqlite:///"))
        assert db_file.exists()
        port = int(server.base_url.rsplit(":", 1)[1])
    finally:
        server.stop()
    assert not db_file.exists()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
    server.stop()  # twice is harmless


def test_public_url_and_existing_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    with HqServer(url, public_url="http://192.0.2.10:8800") as server:
        order = httpx.post(
            f"{server.base_url}/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()}, timeout=5
        ).json()
        assert order["pay_url"].startswith("http://192.0.2.10:8800/sandbox/checkout/")
    # The database outlives a server given its URL, and seeding again leaves it as it was.
    with HqServer(url) as server:
        found = httpx.get(f"{server.base_url}/api/v1/orders/{order['order_no']}", timeout=5)
        assert found.status_code == 200
    assert (tmp_path / "hq.db").exists()


def test_unseeded_server() -> None:
    with HqServer(seed=False) as server:
        resp = httpx.post(
            f"{server.base_url}/api/v1/identify", json={"method": "card", "value": "04A1B2C3D4"}, timeout=5
        )
        assert resp.status_code == 404


def test_two_servers_side_by_side() -> None:
    with HqServer() as a, HqServer() as b:
        assert a.base_url != b.base_url
        assert httpx.get(f"{b.base_url}/api/v1/health", timeout=5).status_code == 200


def test_start_twice_refused() -> None:
    with HqServer(seed=False) as server, pytest.raises(RuntimeError):
        server.start()


def test_stop_with_open_keep_alive_connection() -> None:
    server = HqServer(seed=False).start()
    with httpx.Client() as client:
        client.get(f"{server.base_url}/api/v1/health", timeout=5)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 3
