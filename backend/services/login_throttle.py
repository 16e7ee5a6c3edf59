"""Sign-in throttling per (email, client address): a few free attempts, then waits that double, never a lockout.

The key is the email as typed, whether or not an account has it, so an unknown email is throttled exactly like
a known one and no answer tells them apart. The same email from another address has its own count: an attacker
cannot lock the real user out, only slow themselves down.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import LoginThrottle

FREE_ATTEMPTS = 5  # failures from one address for one email before the first wait
MAX_WAIT = dt.timedelta(hours=1)  # the doubling stops here: 2, 4, 8 … 2048 s, then 3600 s
FORGET_AFTER = dt.timedelta(hours=24)  # a pair with no failure for this long starts over


@dataclass(frozen=True)
class Status:
    """Where a pair stands: attempts left before the first wait, and the wait in force (0 = none)."""

    attempts_left: int
    retry_after: int


def client_key(address: str | None) -> str:
    """The client part of the key: the IPv4 address, or the /64 of an IPv6 one (one host usually holds a whole
    /64, so per-address keys would give it 2^64 fresh starts)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return (address or "unknown")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def wait_after(failures: int) -> dt.timedelta:
    """How long a pair waits after its FAILURES-th failure: nothing for the free ones, then 2 s doubling to 1 h."""
    if failures < FREE_ATTEMPTS:
        return dt.timedelta(0)
    exponent = min(failures - FREE_ATTEMPTS + 1, 12)  # 2**12 s > MAX_WAIT already; keeps the number small
    return min(dt.timedelta(seconds=2**exponent), MAX_WAIT)


def _seconds_until(moment: dt.datetime | None, now: dt.datetime) -> int:
    if moment is None or moment <= now:
        return 0
    return math.ceil((moment - now).total_seconds())


def _row(session: Session, email: str, client: str) -> LoginThrottle | None:
    return session.scalars(
        select(LoginThrottle).where(LoginThrottle.email == email, LoginThrottle.client == client)
    ).first()


def check(*, session: Session, email: str, client: str) -> Status:
    """The pair's status before an attempt (retry_after > 0: refuse without checking the password)."""
    now = utcnow()
    row = _row(session, email, client)
    if row is None or row.last_failure_at < now - FORGET_AFTER:
        return Status(attempts_left=FREE_ATTEMPTS, retry_after=0)
    return Status(
        attempts_left=max(0, FREE_ATTEMPTS - row.failures), retry_after=_seconds_until(row.blocked_until, now)
    )


def record_failure(*, session: Session, email: str, client: str) -> Status:
    """Count one failed attempt of the pair and set its wait; returns the status after it."""
    now = utcnow()
    row = _row(session, email, client)
    if row is not None and row.last_failure_at < now - FORGET_AFTER:
        row.failures = 0
        session.flush()
    if row is None:
        try:
            with session.begin_nested():
                row = LoginThrottle(email=email, client=client, failures=0, last_failure_at=now)
                session.add(row)
        except IntegrityError:  # a concurrent first failure of the same pair inserted it: count on that row
            row = _row(session, email, client)
            assert row is not None
    # Increment in SQL: two concurrent failures both count.
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.id == row.id)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    wait = wait_after(row.failures)
    row.blocked_until = now + wait if wait else None
    session.flush()
    return Status(
        attempts_left=max(0, FREE_ATTEMPTS - row.failures), retry_after=_seconds_until(row.blocked_until, now)
    )


def clear(*, session: Session, email: str, client: str | None = None) -> int:
    """Forget the failures of EMAIL (from CLIENT only, or from every address); returns the rows removed."""
    stmt = delete(LoginThrottle).where(LoginThrottle.email == email)
    if client is not None:
        stmt = stmt.where(LoginThrottle.client == client)
    result = session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_stale(*, session: Session) -> int:
    """Delete pairs whose last failure is older than FORGET_AFTER (they would start over anyway)."""
    result = session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.last_failure_at < utcnow() - FORGET_AFTER)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
