"""HQ's master key: encrypts the terminals' secrets at rest and signs operator sessions.

A terminal's secret cannot be stored as a one-way hash: HQ must recompute the HMAC of every request, so it needs
the secret itself. It is stored encrypted (Fernet: AES-128-CBC with an HMAC-SHA256 tag) under a key derived from
the master key, which lives in a file outside the database (``kiosk-hq --key-file``, mode 0600). A copy of the
database alone reveals no terminal secret. Operators' passwords, which HQ only ever compares, are hashed
(``hq/operators.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_BYTES = 32


class MasterKeyError(ValueError):
    """The master key file cannot be read or holds no valid key."""


class SecretUnreadable(Exception):
    """A stored secret does not decrypt under this master key (wrong key file, or a damaged row)."""


_DECRYPTED_KEPT = 10_000  # decrypted secrets kept in memory (a fleet's worth, with rotations)


class SecretBox:
    """Encrypts and decrypts short secrets; derives other keys from the same master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < KEY_BYTES:
            raise MasterKeyError(f"master key must be at least {KEY_BYTES} bytes")
        self._master = master_key
        self._fernet = Fernet(base64.urlsafe_b64encode(self.derive("terminal-secrets")))
        # Every signed request needs its terminal's secret: decrypt each stored token once, not per request.
        self._plain: dict[str, str] = {}

    @classmethod
    def ephemeral(cls) -> SecretBox:
        """A box with a random key, for tests and the demo (nothing it encrypts survives the process)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, so no two uses share a key."""
        return hmac.new(self._master, f"kiosk-hq/{purpose}".encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        plain = self._plain.get(token)
        if plain is not None:
            return plain
        try:
            plain = self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise SecretUnreadable("stored secret does not decrypt under this master key") from exc
        if len(self._plain) >= _DECRYPTED_KEPT:
            self._plain.clear()
        self._plain[token] = plain
        return plain


def load_master_key(path: str | Path, *, create: bool = False) -> bytes:
    """The master key in ``path`` (urlsafe base64 of 32 random bytes); with ``create``, made when missing."""
    path = Path(path)
    if not path.exists():
        if not create:
            raise MasterKeyError(f"master key file not found: {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
        # Created 0600 from the start, never world-readable even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text + "\n")
    try:
        text = path.read_text(encoding="ascii").strip()
        key = base64.urlsafe_b64decode(text.encode("ascii"))
    except (OSError, ValueError) as exc:
        raise MasterKeyError(f"cannot read master key file {path}: {exc}") from exc
    if len(key) < KEY_BYTES:
        raise MasterKeyError(f"master key file {path} holds no valid key (expected {KEY_BYTES} bytes, base64)")
    return key
