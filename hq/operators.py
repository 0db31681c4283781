"""Operators of the fleet dashboard: scrypt password hashes, and sessions in a signed cookie.

A session cookie holds the operator's name, when it was issued and a fingerprint of the password hash, signed
with HMAC-SHA256 under a key derived from HQ's master key: it cannot be forged, it expires, and changing the
password or disabling the operator ends every session. Forms carry a token derived from the session, so
another site cannot post a command with the operator's cookie (which is also SameSite=Strict).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hq.db import read_session, write_session
from hq.fleet_models import Operator

COOKIE_NAME = "kiosk_hq_session"
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
# scrypt at n=2^14, r=8: 16 MiB and some 50 ms a check, the cost OWASP suggests for interactive logins.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class OperatorError(ValueError):
    """An operator operation that cannot be done (bad name, short password, unknown operator)."""


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt$hash`` with a random salt (base64 parts)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
    return "$".join(("scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=64 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _dummy_hash() -> str:
    """A real hash to check against when the name is unknown, so a login takes as long either way."""
    return hash_password(secrets.token_urlsafe(16))


def add_operator(sessions: sessionmaker[Session], username: str, password: str, now: datetime) -> None:
    _check_username(username)
    _check_password(password)
    with write_session(sessions) as session:
        if session.get(Operator, username) is not None:
            raise OperatorError(f"operator {username} already exists (use passwd to change the password)")
        session.add(Operator(username=username, password_hash=hash_password(password), created_at=now,
                             password_changed_at=now, disabled=False))
        session.commit()


def set_password(sessions: sessionmaker[Session], username: str, password: str, now: datetime) -> None:
    _check_password(password)
    with write_session(sessions) as session:
        operator = _existing(session, username)
        operator.password_hash = hash_password(password)
        operator.password_changed_at = now
        session.commit()


def set_disabled(sessions: sessionmaker[Session], username: str, disabled: bool) -> None:
    with write_session(sessions) as session:
        _existing(session, username).disabled = disabled
        session.commit()


def list_operators(sessions: sessionmaker[Session]) -> list[Operator]:
    with read_session(sessions) as session:
        return list(session.scalars(select(Operator).order_by(Operator.username)))


def authenticate(sessions: sessionmaker[Session], username: str, password: str) -> Operator | None:
    """The operator if the name and password match and the operator is enabled."""
    with read_session(sessions) as session:
        operator = session.get(Operator, username) if USERNAME_RE.fullmatch(username) else None
    if operator is None:
        verify_password(password, _dummy_hash())
        return None
    if not verify_password(password, operator.password_hash) or operator.disabled:
        return None
    return operator


@dataclass(frozen=True)
class OperatorSession:
    username: str
    issued_at: int
    token: str  # the cookie value, from which the form token is derived


def issue_cookie(key: bytes, operator: Operator, now: datetime) -> str:
    payload = {"u": operator.username, "iat": int(now.timestamp()), "pw": _fingerprint(operator.password_hash)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_mac(key, body)}"


def read_cookie(
    key: bytes, sessions: sessionmaker[Session], cookie: str | None, now: datetime, max_age: timedelta
) -> OperatorSession | None:
    """The session a cookie proves, or None (missing, forged, expired, password changed, operator disabled)."""
    if not cookie or cookie.count(".") != 1:
        return None
    body, mac = cookie.split(".")
    if not hmac.compare_digest(mac, _mac(key, body)):
        return None
    try:
        payload = json.loads(_unb64(body))
        username, issued_at, fingerprint = str(payload["u"]), int(payload["iat"]), str(payload["pw"])
    except (ValueError, KeyError, TypeError):
        return None
    age = now.timestamp() - issued_at
    if age < -60 or age > max_age.total_seconds():
        return None
    with read_session(sessions) as session:
        operator = session.get(Operator, username)
    if operator is None or operator.disabled or not hmac.compare_digest(
        fingerprint, _fingerprint(operator.password_hash)
    ):
        return None
    return OperatorSession(username, issued_at, cookie)


def form_token(key: bytes, session_token: str) -> str:
    """The anti-forgery token of a session, put in every form and checked on every post."""
    return _mac(key, "form:" + session_token)


def _check_username(username: str) -> None:
    if not USERNAME_RE.fullmatch(username):
        raise OperatorError(f"operator name {username!r} must be 1 to 64 of A-Z a-z 0-9 _ . @ -")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OperatorError(f"password must have at least {MIN_PASSWORD} characters")


def _existing(session: Session, username: str) -> Operator:
    operator = session.get(Operator, username)
    if operator is None:
        raise OperatorError(f"no operator {username}")
    return operator


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _mac(key: bytes, text: str) -> str:
    return _b64(hmac.new(key, text.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
