"""Sign-in throttling per (email, client address) instead of a lockout, per-endpoint moving-window rate limits,
and tokens without `exp` — each test performs the attack the issue reported."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from types import SimpleNamespace
from typing import Any

import argon2
import jwt as pyjwt
import limits.storage.memory
import pytest
from sqlalchemy import select, update

from backend.db import utcnow
from backend.models import LoginThrottle
from backend.services import login_throttle
from tests.conftest import PASSWORD

OWNER = "owner@example.com"
WRONG = "not the password!"


def _login(client: Any, email: str, password: str, address: str) -> Any:
    return client.post(
        "/api/auth/login", json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def _answer(response: Any) -> tuple[Any, ...]:
    """What a client can see of a sign-in answer, apart from the moment it was given."""
    headers = {
        name: response.headers.get(name)
        for name in ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "Content-Type")
    }
    return response.status_code, response.get_json(), headers


def test_six_wrong_passwords_do_not_lock_the_instance_admin_out_from_another_address(client, owner):
    codes = [_login(client, OWNER, WRONG, "203.0.113.7").status_code for _ in range(6)]
    assert codes == [401, 401, 401, 401, 401, 429]
    # The attacker's address waits, even with the right password…
    assert _login(client, OWNER, PASSWORD, "203.0.113.7").status_code == 429
    # …the admin, from their own address, signs in at once.
    signed_in = _login(client, OWNER, PASSWORD, "198.51.100.2")
    assert signed_in.status_code == 200 and signed_in.get_json()["user"]["is_admin"] is True


def _pair(client: Any, password: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The answers to one attempt on the known email (from .1) and on the unknown one (from .2)."""
    return (
        _answer(_login(client, OWNER, password, "192.0.2.1")),
        _answer(_login(client, "nobody@example.com", password, "192.0.2.2")),
    )


def _throttled_pair(client: Any, password: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    # Retry-After counts down in whole seconds: if the second changed between the two requests (milliseconds
    # apart), ask again — a tick is not a difference between the emails, and it cannot happen twice running.
    for _ in range(2):
        before = int(time.time())
        pair = _pair(client, password)
        if int(time.time()) == before:
            break
    return pair


def test_wrong_unknown_and_throttled_answers_are_identical(app, client, owner):
    # The same attack on a known email (the instance admin's) and an unknown one, each from its own fresh address,
    # step by step: every answer matches, the countdown of attempts included.
    for attempts_left in (4, 3, 2, 1, 0):
        known, unknown = _pair(client, WRONG)
        assert known == unknown
        assert known[0] == 401 and known[1]["error"]["details"]["attempts_left"] == attempts_left
    assert known[1]["error"]["details"]["retry_after"] == 2 and "waits 2 seconds" in known[1]["error"]["message"]
    assert known[2]["Retry-After"] is None  # a 401 names no wait (the rate limiter's own is dropped)
    # Both pairs are now throttled; make the wait long enough that it cannot end during the comparison.
    with app.extensions["spendwatch"].db.session() as session:
        session.execute(update(LoginThrottle).values(blocked_until=utcnow() + dt.timedelta(seconds=600)))
        session.commit()
    for password in (WRONG, PASSWORD):  # the right password from a throttled address tells nothing either
        known, unknown = _throttled_pair(client, password)
        assert known == unknown
        status, body, headers = known
        assert status == 429 and body["error"]["code"] == "too_many_attempts"
        assert headers["Retry-After"] in ("600", "599") and body["error"]["details"]["retry_after"] == int(
            headers["Retry-After"]
        )


def test_an_unknown_email_runs_the_password_hash_like_a_known_one(client, owner, monkeypatch):
    calls: list[str] = []
    original = argon2.PasswordHasher.verify

    def counting(self: Any, hash: str, password: str) -> bool:
        calls.append(hash[:9])
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    _login(client, OWNER, WRONG, "192.0.2.10")
    _login(client, "nobody@example.com", WRONG, "192.0.2.11")
    assert calls == ["$argon2id", "$argon2id"]  # one argon2 check each: the dummy hash for the unknown email


def test_waits_double_until_an_hour_and_end_when_time_passes(app, client, owner):
    assert [login_throttle.wait_after(n).total_seconds() for n in (4, 5, 6, 7, 15, 16, 40)] == [
        0,
        2,
        4,
        8,
        2048,
        3600,
        3600,
    ]
    for _ in range(5):
        _login(client, OWNER, WRONG, "192.0.2.20")
    throttled = _login(client, OWNER, WRONG, "192.0.2.20")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    db = app.extensions["spendwatch"].db
    with db.session() as session:  # time passes: the wait is over
        session.execute(update(LoginThrottle).values(blocked_until=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
    again = _login(client, OWNER, WRONG, "192.0.2.20")
    assert again.status_code == 401 and again.get_json()["error"]["details"]["retry_after"] == 4
    assert _login(client, OWNER, WRONG, "192.0.2.20").headers["Retry-After"] == "4"


def test_success_forgets_that_address_only_and_ipv6_counts_per_64(app, client, owner):
    for address in ("192.0.2.30", "2001:db8:1:2::1"):
        for _ in range(3):
            _login(client, OWNER, WRONG, address)
    # Another address in the same IPv6 /64 shares that count (a host usually holds the whole /64).
    assert _login(client, OWNER, WRONG, "2001:db8:1:2::ffff").get_json()["error"]["details"]["attempts_left"] == 1
    assert _login(client, OWNER, PASSWORD, "192.0.2.30").status_code == 200
    with app.extensions["spendwatch"].db.session() as session:
        rows = session.execute(select(LoginThrottle.client, LoginThrottle.failures)).all()
    assert rows == [("2001:db8:1:2::/64", 4)]


# --- rate limits ------------------------------------------------------------------------------------


def test_an_ipv6_host_cannot_rotate_through_its_64_for_fresh_rate_limit_budgets(make_app):
    client = make_app(auth_rate_limit="2 per minute").test_client()
    login = {"email": "x@example.com", "password": "whatever it is"}
    statuses = [
        client.post("/api/auth/login", json=login, environ_base={"REMOTE_ADDR": f"2001:db8::{n}"}).status_code
        for n in range(1, 4)
    ]
    assert statuses == [401, 401, 429]
    # Another /64 has its own budget.
    assert (
        client.post("/api/auth/login", json=login, environ_base={"REMOTE_ADDR": "2001:db8:0:1::1"}).status_code == 401
    )


def test_each_auth_endpoint_has_its_own_budget(make_app):
    client = make_app(auth_rate_limit="2 per minute").test_client()
    login = {"email": "x@example.com", "password": "whatever it is"}
    assert [client.post("/api/auth/login", json=login).status_code for _ in range(3)] == [401, 401, 429]
    # Sign-in is used up; sign-up, link verification and invitation lookup are not.
    assert client.post("/api/auth/register", json={"email": "y@example.com", "password": "short"}).status_code == 422
    assert (
        client.post("/api/auth/register/verify", json={"token": "nope", "password": "whatever it is"}).status_code
        == 422
    )
    assert client.get("/api/auth/invites/nope").status_code == 422


@pytest.fixture
def limiter_clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A clock for the rate limiter's in-memory storage only (a third-party module), set by the test."""
    clock = SimpleNamespace(now=time.time())
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: clock.now))
    return clock


def test_a_burst_across_the_window_boundary_is_refused(make_app, limiter_clock):
    client = make_app(auth_rate_limit="3 per minute").test_client()
    sent: list[int] = []

    def attempts(count: int) -> list[int]:
        codes = []
        for _ in range(count):
            sent.append(1)  # a new email each time: this is about the rate limit, not the sign-in throttle
            login = {"email": f"x{len(sent)}@example.com", "password": "whatever it is"}
            response = client.post("/api/auth/login", json=login)
            assert response.status_code == 401 or response.get_json()["error"]["code"] == "rate_limited"
            codes.append(response.status_code)
        return codes

    start = limiter_clock.now
    assert attempts(1) == [401]  # opens a fixed window
    limiter_clock.now = start + 59
    assert attempts(2) == [401, 401]  # its last second
    limiter_clock.now = start + 61
    # A fixed window has restarted here and would let 3 more through: 5 within 2 seconds. The moving window
    # still holds the 2 from two seconds ago.
    assert attempts(2) == [401, 429]
    limiter_clock.now = start + 61 + 61  # a minute after the burst, the budget is back
    assert attempts(2) == [401, 401]


# --- tokens -----------------------------------------------------------------------------------------


def _forge(app: Any, owner: dict[str, Any], **claims: Any) -> str:
    """An access token signed with the app's own secret, for the owner's live session."""
    real = pyjwt.decode(owner["access_token"], options={"verify_signature": False})
    payload = {k: v for k, v in real.items() if k not in ("exp", "jti")} | {"jti": str(uuid.uuid4()), **claims}
    return pyjwt.encode(payload, app.config["JWT_SECRET_KEY"], algorithm="HS256")


def test_a_signed_token_without_exp_is_refused(app, api, owner):
    forever = api.call("GET", "/api/auth/me", _forge(app, owner))
    assert forever.status_code == 401 and forever.get_json()["error"]["code"] == "invalid_token"
    # The same token with an expiry is accepted: only the missing exp was refused.
    expiring = _forge(app, owner, exp=int(time.time()) + 60)
    assert api.call("GET", "/api/auth/me", expiring).status_code == 200
