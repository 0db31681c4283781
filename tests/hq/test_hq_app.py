"""hq.app.create_app: health, OpenAPI document, options."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hq_helpers import NOW


def test_health(sqlite_client: TestClient) -> None:
    assert sqlite_client.get("/api/v1/health").json() == {"status": "ok", "time": "2026-11-22T03:00:00+00:00"}
    assert NOW.isoformat() == "2026-11-22T03:00:00+00:00"


def test_openapi_describes_the_api(sqlite_client: TestClient) -> None:
    doc = sqlite_client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in (
        "/api/v1/health", "/api/v1/identify", "/api/v1/houses/{house_id}/overview", "/api/v1/orders",
        "/api/v1/orders/{order_no}", "/api/v1/orders/{order_no}/cancel", "/sandbox/checkout/{order_no}",
        "/sandbox/checkout/{order_no}/pay", "/r/{order_no}",
    ):
        assert path in paths, path
    create = paths["/api/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "201" in create["responses"] and "400" in create["responses"]
    schemas = doc["components"]["schemas"]
    assert set(schemas["OrderOut"]["properties"]) == {
        "order_no", "status", "house_id", "meter_id", "service", "amount_fen", "created_at", "expires_at",
        "pay_url", "receipt_url", "paid_at", "new_balance_fen",
    }
    assert set(schemas["OverviewOut"]["properties"]) == {
            "house", "payee", "meters", "accounts", "last_recharge", "usual_amounts_fen"
        }
    assert schemas["ErrorOut"]["properties"]["error"]
    assert sqlite_client.get("/docs").status_code == 200


def test_public_url_defaults_to_request_address(tmp_path: Path) -> None:
    from hq_helpers import ORDER_BODY, FakeClock, new_key

    from hq.app import create_app
    from hq.context import hq_context
    from hq.seed import seed_demo

    app = create_app(f"sqlite:///{tmp_path / 'hq.db'}", clock=FakeClock())
    seed_demo(hq_context(app).engine, NOW)
    client = TestClient(app, base_url="http://kiosk-hq.local:8800")
    order = client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": new_key()}).json()
    assert order["pay_url"].startswith("http://kiosk-hq.local:8800/sandbox/checkout/")
    hq_context(app).engine.dispose()


def test_bad_order_ttl(tmp_path: Path) -> None:
    from hq.app import create_app

    with pytest.raises(ValueError):
        create_app(f"sqlite:///{tmp_path / 'hq.db'}", order_ttl=timedelta(0))
