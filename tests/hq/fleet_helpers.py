"""Helpers of the fleet tests: signing requests for a TestClient, registering terminals, a minimal beat."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from hq_helpers import NOW

from hq.context import hq_context
from hq.fleet_context import fleet_context
from hq.signing import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TERMINAL_HEADER,
    TIMESTAMP_HEADER,
    canonical_string,
    sign,
)
from hq.terminals import register


def register_terminal(client: TestClient, terminal_id: str, now: datetime = NOW) -> str:
    """Register a terminal in the client's app; its secret."""
    app = client.app
    return register(hq_context(app).sessions, fleet_context(app).box, terminal_id, now).secret  # type: ignore[arg-type]


def signed_headers(
    terminal_id: str, secret: str, method: str, path: str, body: bytes = b"", *, at: datetime = NOW,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four signature headers for one request (``path`` with its query)."""
    timestamp = str(int(at.timestamp()))
    nonce = nonce or secrets.token_urlsafe(18)
    signature = sign(secret, canonical_string(terminal_id, method, path, timestamp, nonce, body))
    return {TERMINAL_HEADER: terminal_id, TIMESTAMP_HEADER: timestamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature}


class SignedClient:
    """Sends requests signed as one terminal through a TestClient."""

    def __init__(self, client: TestClient, terminal_id: str, secret: str, clock: Any) -> None:
        self.client = client
        self.terminal_id = terminal_id
        self.secret = secret
        self.clock = clock

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                **sign_kwargs: Any) -> Any:
        raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        sign_kwargs.setdefault("at", self.clock())
        all_headers.update(signed_headers(self.terminal_id, self.secret, method, path, raw, **sign_kwargs))
        return self.client.request(method, path, content=raw, headers=all_headers)

    def beat(self, **fields: Any) -> Any:
        return self.request("POST", f"/api/v1/terminals/{self.terminal_id}/heartbeat", beat_body(**fields))


def beat_body(**fields: Any) -> dict[str, Any]:
    """A valid heartbeat, with fields replaced."""
    body: dict[str, Any] = {
        "sent_at": "2026-11-22T03:00:00+00:00",
        "software_version": "0.1.0",
        "uptime_s": 60.0,
        "interval_s": 30.0,
        "out_of_service": False,
        "health": {"status": "ok", "problems": []},
        "devices": [
            {"kind": "card_reader", "state": "online", "action": "none"},
            {"kind": "receipt_printer", "state": "online", "paper": "ok", "action": "none"},
        ],
        "queue": {"waiting": 0, "needs_attention": 0, "oldest_age_s": None},
        "latency_ms": 12.5,
        "disk_free_bytes": 5_000_000_000,
        "counts": {},
        "acks": [],
    }
    body.update(fields)
    return body
