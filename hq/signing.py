"""The terminal request signature (docs/api.md "Signed requests"): header names, the string signed, the check.

A terminal signs every request with HMAC-SHA256 under its own secret over a canonical string of its id, the
method, the path with its query, a timestamp, a nonce and the SHA-256 of the body. ``kiosk/signing.py`` builds
the same string on the terminal; ``tests/hq/test_hq_signing.py`` checks the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TERMINAL_HEADER = "X-Kiosk-Terminal"
TIMESTAMP_HEADER = "X-Kiosk-Timestamp"
NONCE_HEADER = "X-Kiosk-Nonce"
SIGNATURE_HEADER = "X-Kiosk-Signature"
SIGNED_HEADERS = (TERMINAL_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)

SCHEME = "v1"
WINDOW_S = 300  # a timestamp more than 5 minutes off is refused; a nonce is remembered as long
TERMINAL_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
SIGNATURE_RE = re.compile(r"^v1=[0-9a-f]{64}$")


def canonical_string(terminal_id: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes a request's signature is computed over; ``path`` includes ``?query`` when there is one."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((SCHEME, terminal_id, method.upper(), path, timestamp, nonce, body_hash)).encode()


def sign(secret: str, message: bytes) -> str:
    """The signature header value for ``message`` under ``secret`` (``v1=<hex>``)."""
    return f"{SCHEME}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, message: bytes, signature: str) -> bool:
    """Constant-time comparison of a presented signature with the expected one."""
    return hmac.compare_digest(sign(secret, message).encode(), signature.encode())
