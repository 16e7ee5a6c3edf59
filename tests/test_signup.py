"""Open-mode sign-up by email link: a taken address and a new one get the same answer for the same work, and only
the mail (which only the address's owner reads) tells them apart."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import argon2
import pytest
from sqlalchemy import select, update

from backend.db import utcnow
from backend.models import PendingSignup, User
from tests.conftest import PASSWORD, Api, signup_token_from_outbox
from tests.fakes.smtp import FakeSmtp

NEW_PASSWORD = "a different passphrase"


@pytest.fixture
def open_mode(api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    response = api.call("PATCH", "/api/admin/settings", owner["access_token"], json={"registration_mode": "open"})
    assert response.status_code == 200
    return owner


def _sign_up(client: Any, email: str, address: str, **extra: Any) -> Any:
    return client.post(
        "/api/auth/register",
        json={"email": email, "password": NEW_PASSWORD, **extra},
        environ_base={"REMOTE_ADDR": address},
    )


def _outbox(settings: Any) -> dict[str, Any]:
    """The mails in the outbox folder by recipient."""
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in (settings.data_dir / "mail-outbox").glob("*.eml")
    ]
    return {str(mail["To"]): mail for mail in mails}


def test_taken_and_new_address_get_the_same_answer_for_the_same_work(client, open_mode, settings, monkeypatch):
    hashes: list[str] = []
    original = argon2.PasswordHasher.hash

    def counting(self: Any, password: str | bytes, *, salt: bytes | None = None) -> str:
        hashes.append("hash")
        return original(self, password, salt=salt)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting)
    taken = _sign_up(client, "owner@example.com", "192.0.2.1")
    assert hashes == ["hash"]  # the taken address hashes the password too: no faster answer
    new = _sign_up(client, "newcomer@example.com", "192.0.2.2")
    assert hashes == ["hash", "hash"]
    assert (taken.status_code, taken.get_json()) == (new.status_code, new.get_json())
    assert new.status_code == 202 and new.get_json()["status"] == "check_inbox"

    mails = _outbox(settings)
    assert set(mails) == {"owner@example.com", "newcomer@example.com"}
    note = mails["owner@example.com"].get_body(("plain",)).get_content()
    assert "already has one" in note and "verify-email" not in note
    assert "http://spendwatch.test/signin" in note
    link = mails["newcomer@example.com"].get_body(("plain",)).get_content()
    assert "http://spendwatch.test/verify-email#token=" in link
    # The taken address's account is untouched: the old password works, the new one does not.
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 200


def test_the_link_creates_the_account_once_and_signs_in(app, client, open_mode, settings):
    _sign_up(client, "newcomer@example.com", "192.0.2.3", name="Nia", workspace_name="Nia's lab")
    login = {"email": "newcomer@example.com", "password": NEW_PASSWORD}
    assert client.post("/api/auth/login", json=login).status_code == 401  # nothing exists before the link
    token = signup_token_from_outbox(app, "newcomer@example.com")
    with app.extensions["spendwatch"].db.session() as session:  # only a hash of the token is stored
        assert session.scalars(select(PendingSignup.token_hash)).one() != token

    done = client.post("/api/auth/register/verify", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 201
    body = done.get_json()
    assert body["user"]["name"] == "Nia" and body["user"]["is_admin"] is False
    assert [w["workspace_name"] for w in body["workspaces"]] == ["Nia's lab"]
    assert client.post("/api/auth/login", json=login).status_code == 200

    replayed = client.post("/api/auth/register/verify", json={"token": token, "password": NEW_PASSWORD})
    assert replayed.status_code == 422 and replayed.get_json()["error"]["code"] == "invalid_link"


def test_a_sign_up_someone_else_started_cannot_give_the_owner_an_account_with_their_password(app, client, open_mode):
    """Pre-account takeover: an attacker starts a sign-up for the victim's address with a password of their own;
    the victim, signing up too, gets two links and clicks the attacker's."""
    _sign_up(client, "victim@example.com", "198.51.100.66")  # the attacker, with NEW_PASSWORD
    planted = signup_token_from_outbox(app, "victim@example.com")
    victims_password = "the victim's own passphrase"
    own = client.post("/api/auth/register", json={"email": "victim@example.com", "password": victims_password})
    assert own.status_code == 202
    token = signup_token_from_outbox(app, "victim@example.com")
    assert token != planted

    refused = client.post("/api/auth/register/verify", json={"token": planted, "password": victims_password})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "signup_password_mismatch"
    with app.extensions["spendwatch"].db.session() as session:
        assert session.scalars(select(User.id).where(User.email == "victim@example.com")).first() is None

    done = client.post("/api/auth/register/verify", json={"token": token, "password": victims_password})
    assert done.status_code == 201
    attacker = client.post("/api/auth/login", json={"email": "victim@example.com", "password": NEW_PASSWORD})
    assert attacker.status_code == 401
    # The planted link can no longer make a second account for the address either.
    late = client.post("/api/auth/register/verify", json={"token": planted, "password": NEW_PASSWORD})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "email_taken"


def test_one_address_gets_at_most_three_sign_up_mails_an_hour_whoever_asks(client, open_mode, settings):
    # From four different clients (each within its own rate limit), for a new and for a taken address alike.
    for email in ("flooded@example.com", "owner@example.com"):
        answers = [_sign_up(client, email, f"192.0.2.{n}") for n in range(10, 14)]
        assert {(a.status_code, a.get_json()["status"]) for a in answers} == {(202, "check_inbox")}
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)["To"]
        for p in (settings.data_dir / "mail-outbox").glob("*.eml")
    ]
    assert sorted(mails) == ["flooded@example.com"] * 3 + ["owner@example.com"] * 3


def test_an_expired_or_unknown_link_is_refused(app, client, open_mode):
    _sign_up(client, "late@example.com", "192.0.2.4")
    token = signup_token_from_outbox(app, "late@example.com")
    with app.extensions["spendwatch"].db.session() as session:
        session.execute(update(PendingSignup).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
    for attempt in (token, "made-up-token"):
        refused = client.post("/api/auth/register/verify", json={"token": attempt, "password": NEW_PASSWORD})
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_link"
    with app.extensions["spendwatch"].db.session() as session:
        assert session.scalars(select(User.email).where(User.email == "late@example.com")).first() is None


def test_a_link_stops_working_when_sign_up_closes(app, api, client, open_mode):
    _sign_up(client, "slow@example.com", "192.0.2.5")
    token = signup_token_from_outbox(app, "slow@example.com")
    api.call("PATCH", "/api/admin/settings", open_mode["access_token"], json={"registration_mode": "invite"})
    refused = client.post("/api/auth/register/verify", json={"token": token, "password": NEW_PASSWORD})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "registration_closed"


def test_invitees_sign_up_at_once_but_a_stolen_invite_does_not_probe_addresses(api, client, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call(
        "POST",
        f"/api/workspaces/{ws}/invites",
        owner["access_token"],
        json={"email": "guest@example.com", "role": "member"},
    ).get_json()
    # Someone else's invitation with a taken address: refused for the mismatch, before the address is looked up.
    probe = client.post(
        "/api/auth/register", json={"email": "owner@example.com", "password": PASSWORD, "invite_token": invite["token"]}
    )
    assert probe.status_code == 403 and probe.get_json()["error"]["code"] == "invite_email_mismatch"
    joined = client.post(
        "/api/auth/register", json={"email": "guest@example.com", "password": PASSWORD, "invite_token": invite["token"]}
    )
    assert joined.status_code == 201 and joined.get_json()["workspaces"][0]["role"] == "member"


def test_the_sign_up_mail_goes_through_the_configured_smtp_server(api, client, open_mode, smtp: FakeSmtp, settings):
    response = api.call(
        "PATCH",
        "/api/admin/settings",
        open_mode["access_token"],
        json={"smtp": {"host": smtp.host, "port": smtp.port, "security": "none", "from_address": "sw@example.com"}},
    )
    assert response.status_code == 200, response.get_json()
    assert _sign_up(client, "viasmtp@example.com", "192.0.2.6").status_code == 202
    [received] = smtp.messages
    assert received.rcpt_tos == ["viasmtp@example.com"]
    assert "/verify-email#token=" in received.message.get_body(("plain",)).get_content()
    assert not Path(settings.data_dir, "mail-outbox").exists()
