"""Signing the terminal's requests to HQ, and noticing when HQ refuses them (docs/api.md "Signed requests").

The terminal's secret is read from the file named by ``terminal.secret_file`` (never from the TOML itself).
`TerminalSigner` is a requests auth hook, so every call of every `HqClient` is signed the same way. When HQ
refuses a request for a reason of trust (bad signature, clock off, revoked...), `TrustStatus` logs it clearly and
keeps the last refusal for the maintenance menu (`Terminal.trust.last_refusal`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

from kiosk.clock import utc_now

log = logging.getLogger(__name__)

TERMINAL_HEADER = "X-Kiosk-Terminal"
TIMESTAMP_HEADER = "X-Kiosk-Timestamp"
NONCE_HEADER = "X-Kiosk-Nonce"
SIGNATURE_HEADER = "X-Kiosk-Signature"
SCHEME = "v1"

# HQ's codes for a refusal of trust (docs/api.md); each means the request was not served at all.
TRUST_CODES = frozenset({
    "signature_missing", "signature_malformed", "signature_invalid", "timestamp_out_of_window", "nonce_reused",
    "unknown_terminal", "terminal_revoked", "terminal_mismatch",
})
_ADVICE = {
    "signature_missing": "HQ requires signed requests: set terminal.secret_file",
    "signature_invalid": "the secret in terminal.secret_file is not the one HQ has for this terminal",
    "timestamp_out_of_window": "this terminal's clock is more than 5 minutes off HQ's: check NTP",
    "unknown_terminal": "HQ has no terminal with this terminal.id: register it (kiosk-hq terminals register)",
    "terminal_revoked": "HQ has revoked this terminal: ask HQ for a new registration",
    "terminal_mismatch": "a request named another terminal's data: check terminal.id",
}


class SecretFileError(ValueError):
    """The terminal's secret file cannot be used; the message says why."""


def canonical_string(terminal_id: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What is signed; the same as hq/signing.py builds on the server."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((SCHEME, terminal_id, method.upper(), path, timestamp, nonce, body_hash)).encode()


def load_secret(path: str | Path) -> str:
    """The secret in ``path`` (surrounding whitespace ignored); warns when others may read the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise SecretFileError(f"terminal secret file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"cannot read terminal secret file {path}: {exc}") from exc
    if len(text) < 16 or any(c.isspace() for c in text):
        raise SecretFileError(f"terminal secret file {path} does not hold a secret (one line, 16+ characters)")
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("terminal secret file %s can be read by other users: chmod 600 it", path)
    return text


class TerminalSigner(requests.auth.AuthBase):
    """Adds the four signature headers to each request, over exactly the bytes sent."""

    def __init__(self, terminal_id: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.terminal_id = terminal_id
        self._key = secret.encode()
        self._clock = clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        timestamp = str(int(self._clock()))
        nonce = secrets.token_urlsafe(18)
        message = canonical_string(
            self.terminal_id, request.method or "GET", request.path_url, timestamp, nonce, bytes(body)
        )
        request.headers[TERMINAL_HEADER] = self.terminal_id
        request.headers[TIMESTAMP_HEADER] = timestamp
        request.headers[NONCE_HEADER] = nonce
        request.headers[SIGNATURE_HEADER] = f"{SCHEME}=" + hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return request


@dataclass(frozen=True)
class Refusal:
    """HQ refused a request of this terminal for a reason of trust."""

    code: str
    message: str
    path: str
    at: datetime

    @property
    def advice(self) -> str:
        return _ADVICE.get(self.code, "see docs/api.md, Signed requests")


class TrustStatus:
    """What the terminal knows of its standing with HQ: its secret's problem, if any, and the last refusal."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.secret_problem: str | None = None
        self._last: Refusal | None = None
        self._last_logged: str | None = None

    @property
    def last_refusal(self) -> Refusal | None:
        """The latest refusal since HQ last accepted a request (None once one is accepted again)."""
        with self._lock:
            return self._last

    def refused(self, code: str, message: str, path: str) -> None:
        """Called by `HqClient` for a refusal of trust; logged once per new code, not on every retry."""
        refusal = Refusal(code, message, path, self._clock())
        with self._lock:
            self._last = refusal
            repeat, self._last_logged = self._last_logged == code, code
        if not repeat:
            log.error("HQ refused this terminal's request %s: %s (%s); %s", path, code, message, refusal.advice)

    def accepted(self) -> None:
        with self._lock:
            if self._last is not None:
                log.info("HQ accepts this terminal's requests again")
            self._last, self._last_logged = None, None


def signer_for(terminal_id: str, secret_file: str, trust: TrustStatus) -> TerminalSigner | None:
    """The signer for a configured secret file; None (unsigned requests) when none is set or it is unusable."""
    if not secret_file:
        return None
    try:
        secret = load_secret(secret_file)
    except SecretFileError as exc:
        # The terminal still starts: residents see "HQ not available", staff see why in the maintenance menu.
        log.error("requests to HQ will not be signed: %s", exc)
        trust.secret_problem = str(exc)
        return None
    return TerminalSigner(terminal_id, secret)
