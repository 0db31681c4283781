"""The dashboard's login throttle, in the database: after ``LIMIT`` failed logins for a name within ``WINDOW``,
that name is refused until the failures age out; a successful login clears its failures.

In the database (table ``operator_login_failure``) rather than one process's memory, so every HQ process on the
database shares it (with N processes a guesser would otherwise get N times the tries) and a restart does not
reset it. Times come from the app's clock. A login costs a read (the recent failures), the password check, and
a write only when it failed (prune the rows older than the window, record this one) or succeeded after failures
(clear them).

Only names an operator could have (``USERNAME_RE``) are counted: any other name has no password to guess, and
storing it (too long for the column, or with characters PostgreSQL refuses) could fail the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from hq.db import read_session, write_session
from hq.fleet_models import Operator, OperatorLoginFailure
from hq.operators import USERNAME_RE, authenticate

LIMIT = 5
WINDOW = timedelta(seconds=300)


@dataclass(frozen=True)
class LoginAttempt:
    """What became of a login: refused unchecked (``blocked``), or the operator (None for a wrong login)."""

    blocked: bool
    operator: Operator | None = None


def recent_failures(sessions: sessionmaker[Session], username: str, now: datetime,
                    window: timedelta = WINDOW) -> int:
    """How many logins failed for ``username`` within ``window`` before ``now``."""
    with read_session(sessions) as session:
        count = session.scalar(
            select(func.count()).select_from(OperatorLoginFailure).where(
                OperatorLoginFailure.username == username, OperatorLoginFailure.failed_at > now - window
            )
        )
    return int(count or 0)


def record_failure(sessions: sessionmaker[Session], username: str, now: datetime,
                   window: timedelta = WINDOW) -> None:
    """Record a failed login at ``now``, and drop every failure (of any name) older than ``window``."""
    with write_session(sessions) as session:
        session.execute(delete(OperatorLoginFailure).where(OperatorLoginFailure.failed_at <= now - window))
        session.add(OperatorLoginFailure(username=username, failed_at=now))
        session.commit()


def clear(sessions: sessionmaker[Session], username: str) -> None:
    """Forget the failed logins of ``username`` (after it logged in)."""
    with write_session(sessions) as session:
        session.execute(delete(OperatorLoginFailure).where(OperatorLoginFailure.username == username))
        session.commit()


def attempt_login(sessions: sessionmaker[Session], username: str, password: str, now: datetime, *,
                  limit: int = LIMIT, window: timedelta = WINDOW) -> LoginAttempt:
    """Check the throttle, then the password, and record the outcome; blocking (run it in a worker thread).

    Like the in-memory throttle before it, this checks before the password and records after: logins for one
    name that run at the same moment all pass the check, so a guesser sending many at once gets as many tries
    as HQ checks in parallel before the first failures are recorded, and ``limit`` per window after that.
    """
    counted = USERNAME_RE.fullmatch(username) is not None
    failures = recent_failures(sessions, username, now, window) if counted else 0
    if failures >= limit:
        return LoginAttempt(blocked=True)
    operator = authenticate(sessions, username, password)
    if counted:
        if operator is None:
            record_failure(sessions, username, now, window)
        elif failures:
            clear(sessions, username)
    return LoginAttempt(blocked=False, operator=operator)
