"""Sign-up, sign-in, token rotation with reuse detection, sign-out, rate limits, registration modes (throttling:
tests/test_auth_throttle.py; open sign-up by email link: tests/test_signup.py)."""

from __future__ import annotations

import datetime as dt

import jwt
from sqlalchemy import select

from backend.db import utcnow
from backend.models import AuthSession
from tests.conftest import PASSWORD


def _refresh(client, refresh_token):
    """Refresh with REFRESH_TOKEN as the session cookie (and its CSRF value as the header), as a browser would."""
    client.set_cookie("spendwatch_refresh", refresh_token, path="/api/auth")
    csrf = jwt.decode(refresh_token, options={"verify_signature": False}).get("csrf", "")
    return client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})


def _cookie(client):
    """The refresh token the browser holds: the HttpOnly cookie the last sign-in or refresh set."""
    return client.get_cookie("spendwatch_refresh", path="/api/auth").value


def _error_code(response):
    return response.get_json()["error"]["code"]


def test_first_user_becomes_admin_and_owner(api, owner):
    me = api.call("GET", "/api/auth/me", owner["access_token"]).get_json()
    assert me["user"]["email"] == "owner@example.com"
    assert me["user"]["is_admin"] is True
    assert [w["role"] for w in me["workspaces"]] == ["owner"]
    assert owner["expires_in"] == 15 * 60


def test_tokens_have_documented_lifetimes(app, client, owner):
    from flask_jwt_extended import decode_token

    with app.app_context():
        access = decode_token(owner["access_token"])
        refresh = decode_token(_cookie(client))
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    assert access["type"] == "access" and refresh["type"] == "refresh"


def test_login_and_email_is_case_insensitive(api, owner):
    session = api.login("OWNER@Example.com")
    assert session["user"]["id"] == owner["user"]["id"]


def test_wrong_password_is_401_without_revealing_which_part(client, owner):
    for email in ("owner@example.com", "nobody@example.com"):
        response = client.post("/api/auth/login", json={"email": email, "password": "wrong password!"})
        assert response.status_code == 401
        assert response.get_json()["error"]["message"] == "Wrong email or password."


def test_refresh_rotates_and_reuse_revokes_the_whole_family(api, client, owner):
    original = _cookie(client)
    first = _refresh(client, original)
    assert first.status_code == 200
    rotated = first.get_json()
    rotated_cookie = _cookie(client)
    assert rotated_cookie != original
    assert api.call("GET", "/api/auth/me", rotated["access_token"]).status_code == 200

    # The old refresh token is presented again: someone copied it. The whole family dies.
    reused = _refresh(client, original)
    assert reused.status_code == 401
    assert _error_code(reused) == "refresh_token_reused"
    assert _refresh(client, rotated_cookie).status_code == 401
    me = api.call("GET", "/api/auth/me", rotated["access_token"])
    assert me.status_code == 401 and _error_code(me) == "session_revoked"
    # Other sign-ins of the same user are separate families and keep working.
    other = api.login("owner@example.com")
    assert api.call("GET", "/api/auth/me", other["access_token"]).status_code == 200


def test_access_token_cannot_refresh_and_refresh_token_cannot_call_api(api, client, owner):
    refresh_token = _cookie(client)
    assert _refresh(client, owner["access_token"]).status_code == 401
    assert api.call("GET", "/api/auth/me", refresh_token).status_code == 401


def test_logout_revokes_access_and_refresh(api, client, owner):
    refresh_token = _cookie(client)
    assert api.call("POST", "/api/auth/logout", owner["access_token"]).status_code == 204
    assert api.call("GET", "/api/auth/me", owner["access_token"]).status_code == 401
    assert _refresh(client, refresh_token).status_code == 401


def test_change_password_signs_out_other_sessions(api, client, owner):
    other = api.login("owner@example.com")
    response = api.call(
        "POST",
        "/api/auth/password",
        owner["access_token"],
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 204
    assert api.call("GET", "/api/auth/me", owner["access_token"]).status_code == 200
    assert api.call("GET", "/api/auth/me", other["access_token"]).status_code == 401
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 401
    api.login("owner@example.com", "a brand new passphrase")


def test_change_password_checks_current_and_strength(api, owner):
    wrong = api.call(
        "POST",
        "/api/auth/password",
        owner["access_token"],
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
    )
    assert wrong.status_code == 403
    short = api.call(
        "POST",
        "/api/auth/password",
        owner["access_token"],
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert short.status_code == 422
    api.login("owner@example.com")


def test_success_resets_the_failure_count(client, owner):
    for _ in range(4):
        client.post("/api/auth/login", json={"email": "owner@example.com", "password": "nope nope"})
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 200
    for _ in range(4):
        client.post("/api/auth/login", json={"email": "owner@example.com", "password": "nope nope"})
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 200


def test_auth_endpoints_are_rate_limited(make_app):
    client = make_app(auth_rate_limit="3 per minute").test_client()
    codes = [
        client.post("/api/auth/login", json={"email": "x@example.com", "password": "whatever it is"}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    limited = client.post("/api/auth/login", json={"email": "x@example.com", "password": "whatever it is"})
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers


def test_registration_is_invite_only_by_default_after_first_user(client, owner):
    response = client.post("/api/auth/register", json={"email": "second@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert _error_code(response) == "invite_required"
    info = client.get("/api/auth/registration").get_json()
    assert info == {"mode": "invite", "first_user": False}


def _set_mode(api, owner, mode):
    response = api.call("PATCH", "/api/admin/settings", owner["access_token"], json={"registration_mode": mode})
    assert response.status_code == 200, response.get_json()


def test_open_registration_gives_each_user_a_workspace(api, owner):
    _set_mode(api, owner, "open")
    second = api.register("second@example.com", workspace_name="Second's lab")
    assert second["user"]["is_admin"] is False
    assert second["workspaces"][0]["workspace_name"] == "Second's lab"
    assert second["workspaces"][0]["workspace_id"] != owner["workspaces"][0]["workspace_id"]


def test_duplicate_email_in_open_mode_creates_nothing(api, client, owner):
    _set_mode(api, owner, "open")
    response = client.post("/api/auth/register", json={"email": "Owner@example.com", "password": "another passphrase"})
    assert response.status_code == 202  # the same as for a new address (tests/test_signup.py)
    api.login("owner@example.com")


def test_closed_registration_refuses_everyone_new(api, client, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call(
        "POST", f"/api/workspaces/{ws}/invites", owner["access_token"], json={"email": "new@example.com"}
    ).get_json()
    _set_mode(api, owner, "closed")
    for body in (
        {"email": "new@example.com", "password": PASSWORD},
        {"email": "new@example.com", "password": PASSWORD, "invite_token": invite["token"]},
    ):
        response = client.post("/api/auth/register", json=body)
        assert response.status_code == 403
        assert _error_code(response) == "registration_closed"


def test_invite_token_signs_up_into_the_workspace_with_its_role(api, client, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    created = api.call(
        "POST",
        f"/api/workspaces/{ws}/invites",
        owner["access_token"],
        json={"email": "Viv@example.com", "role": "viewer"},
    )
    assert created.status_code == 201
    invite = created.get_json()
    assert invite["url"] == f"http://spendwatch.test/invite/{invite['token']}"

    viewer = api.register("viv@example.com", invite_token=invite["token"])
    assert viewer["workspaces"] == [
        {"workspace_id": ws, "workspace_name": owner["workspaces"][0]["workspace_name"], "role": "viewer"}
    ]
    # A token works once.
    again = client.post(
        "/api/auth/register",
        json={"email": "viv2@example.com", "password": PASSWORD, "invite_token": invite["token"]},
    )
    assert again.status_code == 422 and _error_code(again) == "invalid_invite"
    listed = api.call("GET", f"/api/workspaces/{ws}/invites", owner["access_token"]).get_json()["items"]
    assert listed[0]["accepted_at"] is not None and "token" not in listed[0]


def test_invite_for_another_email_is_refused(api, client, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call(
        "POST", f"/api/workspaces/{ws}/invites", owner["access_token"], json={"email": "right@example.com"}
    ).get_json()
    response = client.post(
        "/api/auth/register",
        json={"email": "wrong@example.com", "password": PASSWORD, "invite_token": invite["token"]},
    )
    assert response.status_code == 403
    assert _error_code(response) == "invite_email_mismatch"
    assert client.post("/api/auth/login", json={"email": "wrong@example.com", "password": PASSWORD}).status_code == 401


def test_existing_user_accepts_invite_and_gets_second_workspace(api, owner):
    _set_mode(api, owner, "open")
    other = api.register("other@example.com")
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call(
        "POST",
        f"/api/workspaces/{ws}/invites",
        owner["access_token"],
        json={"email": "other@example.com", "role": "member"},
    ).get_json()
    me = api.call("POST", "/api/auth/invites/accept", other["access_token"], json={"token": invite["token"]})
    assert me.status_code == 200
    assert sorted(w["role"] for w in me.get_json()["workspaces"]) == ["member", "owner"]


def test_revoked_or_expired_invite_is_refused(app, api, client, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    token = owner["access_token"]
    revoked = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "r@example.com"}).get_json()
    assert api.call("DELETE", f"/api/workspaces/{ws}/invites/{revoked['id']}", token).status_code == 204
    expired = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "e@example.com"}).get_json()
    from backend.db import enable_rls_bypass
    from backend.models import Invite

    with app.extensions["spendwatch"].db.session() as session:
        enable_rls_bypass(session)
        session.get(Invite, expired["id"]).expires_at = utcnow() - dt.timedelta(seconds=1)
        session.commit()
    for email, invite in (("r@example.com", revoked), ("e@example.com", expired)):
        response = client.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "invite_token": invite["token"]}
        )
        assert response.status_code == 422, response.get_json()


def test_sessions_are_recorded_per_sign_in(app, api, owner):
    api.login("owner@example.com")
    with app.extensions["spendwatch"].db.session() as session:
        rows = session.scalars(select(AuthSession)).all()
    assert len(rows) == 2
    assert all(row.revoked_at is None for row in rows)


def test_invite_info_tells_the_invitee_what_it_is_for(api, client, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call(
        "POST",
        f"/api/workspaces/{ws}/invites",
        owner["access_token"],
        json={"email": "i@example.com", "role": "viewer"},
    ).get_json()
    info = client.get(f"/api/auth/invites/{invite['token']}")
    assert info.status_code == 200
    body = info.get_json()
    assert (body["workspace_name"], body["email"], body["role"]) == (
        owner["workspaces"][0]["workspace_name"],
        "i@example.com",
        "viewer",
    )
    unknown = client.get("/api/auth/invites/not-a-real-token")
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "invalid_invite"
