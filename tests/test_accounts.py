"""Provider accounts: registry-driven kinds, encrypted credentials shown as hints, PATCH semantics, connection test."""

from __future__ import annotations

from backend.db import set_workspace
from backend.models import ProviderAccount

KEY = "demo-s3cr3t-value-long-enough-7f3a"


def _create(api, token, **overrides):
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": KEY}, **overrides}
    return api.call("POST", "/api/accounts", token, json=body)


def _stored_credentials(app, account_id, workspace_id):
    with app.extensions["spendwatch"].db.session() as session:
        set_workspace(session, workspace_id)
        return session.get(ProviderAccount, account_id).credentials


def test_providers_come_from_the_registry(api, owner):
    from integrations.providers import PROVIDERS

    items = api.call("GET", "/api/providers", owner["access_token"]).get_json()["items"]
    assert [p["kind"] for p in items] == list(PROVIDERS)
    demo = items[0]
    assert demo["credential_fields"] == [
        {
            "name": "api_key",
            "label": "API key",
            "secret": True,
            "required": True,
            "help": "Any value starting with demo-",
            "placeholder": "demo-…",
        }
    ]


def test_create_returns_hint_and_stores_the_secret_encrypted(app, api, owner):
    response = _create(api, owner["access_token"])
    assert response.status_code == 201
    account = response.get_json()
    assert account["credentials"] == {"api_key": "demo-…7f3a"}
    assert KEY not in response.get_data(as_text=True)
    assert account["status"] == "new"
    assert account["sync_interval_minutes"] == 15  # the instance default for AI providers
    assert _stored_credentials(app, account["id"], account["workspace_id"]) == {"api_key": KEY}

    listed = api.call("GET", "/api/accounts", owner["access_token"]).get_json()["items"]
    assert [a["id"] for a in listed] == [account["id"]]
    assert KEY not in str(listed)


def test_patch_with_the_hint_keeps_the_secret(app, api, owner):
    account = _create(api, owner["access_token"]).get_json()
    response = api.call(
        "PATCH",
        f"/api/accounts/{account['id']}",
        owner["access_token"],
        json={"name": "Renamed", "credentials": {"api_key": account["credentials"]["api_key"]}},
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Renamed"
    assert _stored_credentials(app, account["id"], account["workspace_id"]) == {"api_key": KEY}


def test_patch_with_a_new_secret_replaces_it_and_clears_needs_attention(app, api, owner):
    token = owner["access_token"]
    account = _create(api, token, credentials={"api_key": "wrong-key-123456"}).get_json()
    failed = api.call("POST", f"/api/accounts/{account['id']}/test", token).get_json()
    assert failed == {
        "ok": False,
        "message": "The demo provider rejected this key: demo keys start with 'demo-'.",
        "status": "needs_attention",
    }
    shown = api.call("GET", f"/api/accounts/{account['id']}", token).get_json()
    assert shown["status"] == "needs_attention" and "rejected" in shown["last_error"]

    patched = api.call(
        "PATCH",
        f"/api/accounts/{account['id']}",
        token,
        json={"credentials": {"api_key": "demo-new-key-999999"}},
    ).get_json()
    assert patched["credentials"] == {"api_key": "…9999"}
    assert patched["status"] == "new" and patched["last_error"] is None
    assert _stored_credentials(app, account["id"], account["workspace_id"]) == {"api_key": "demo-new-key-999999"}
    ok = api.call("POST", f"/api/accounts/{account['id']}/test", token).get_json()
    assert ok == {"ok": True, "message": "Connected to the demo provider.", "status": "ok"}


def test_bad_input_is_422_and_loses_nothing(app, api, owner):
    token = owner["access_token"]
    account = _create(api, token).get_json()
    cases = [
        (
            "POST",
            "/api/accounts",
            {"kind": "nope", "name": "x", "credentials": {"api_key": "k"}},
            "unknown_provider",
        ),
        ("POST", "/api/accounts", {"kind": "demo", "name": "x", "credentials": {}}, "invalid"),
        (
            "POST",
            "/api/accounts",
            {"kind": "demo", "name": "x", "credentials": {"api_key": "demo-1", "extra": "y"}},
            "invalid",
        ),
        (
            "POST",
            "/api/accounts",
            {"kind": "demo", "name": "", "credentials": {"api_key": "demo-1"}},
            "validation_error",
        ),
        ("PATCH", f"/api/accounts/{account['id']}", {"credentials": {"api_key": ""}}, "invalid"),
        ("PATCH", f"/api/accounts/{account['id']}", {"sync_interval_minutes": 0}, "validation_error"),
        ("PATCH", f"/api/accounts/{account['id']}", {"unknown": 1}, "validation_error"),
    ]
    for method, path, body, code in cases:
        response = api.call(method, path, token, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.get_json()["error"]["code"] == code
    assert _stored_credentials(app, account["id"], account["workspace_id"]) == {"api_key": KEY}
    assert [a["id"] for a in api.call("GET", "/api/accounts", token).get_json()["items"]] == [account["id"]]


def test_credential_errors_name_the_field(api, owner):
    response = _create(api, owner["access_token"], credentials={})
    assert response.get_json()["error"]["details"] == [
        {"loc": ["credentials", "api_key"], "msg": "is required", "type": "credential"}
    ]


def test_delete_and_missing_ids_are_404(api, owner):
    token = owner["access_token"]
    account = _create(api, token).get_json()
    assert api.call("DELETE", f"/api/accounts/{account['id']}", token).status_code == 204
    for method in ("GET", "DELETE", "PATCH"):
        response = api.call(method, f"/api/accounts/{account['id']}", token, json={} if method == "PATCH" else None)
        assert response.status_code == 404
    assert api.call("POST", f"/api/accounts/{account['id']}/test", token).status_code == 404
    not_a_number = api.call("GET", "/api/accounts/not-a-number", token)
    assert not_a_number.status_code == 404 and not_a_number.get_json()["error"]["code"] == "not_found"


def test_viewers_read_but_cannot_write(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    token = owner["access_token"]
    account = _create(api, token).get_json()
    invite = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "v@example.com", "role": "viewer"})
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]

    assert api.call("GET", "/api/accounts", viewer).status_code == 200
    assert api.call("GET", f"/api/accounts/{account['id']}", viewer).status_code == 200
    for method, path, body in (
        ("POST", "/api/accounts", {"kind": "demo", "name": "v", "credentials": {"api_key": "demo-x"}}),
        ("PATCH", f"/api/accounts/{account['id']}", {"name": "viewer was here"}),
        ("DELETE", f"/api/accounts/{account['id']}", None),
        ("POST", f"/api/accounts/{account['id']}/test", None),
    ):
        response = api.call(method, path, viewer, json=body)
        assert response.status_code == 403, (method, path)
        assert response.get_json()["error"]["code"] == "forbidden"
    assert api.call("GET", f"/api/accounts/{account['id']}", token).get_json()["name"] == "Demo"


def test_members_can_write_accounts(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call(
        "POST",
        f"/api/workspaces/{ws}/invites",
        owner["access_token"],
        json={"email": "m@example.com", "role": "member"},
    )
    member = api.register("m@example.com", invite_token=invite.get_json()["token"])["access_token"]
    assert _create(api, member).status_code == 201


def test_workspace_header_selects_the_workspace(api, owner):
    token = owner["access_token"]
    first_ws = owner["workspaces"][0]["workspace_id"]
    second = api.call("POST", "/api/workspaces", token, json={"name": "Side project"}).get_json()
    assert second["role"] == "owner"
    _create(api, token, name="in first")
    api.call(
        "POST",
        "/api/accounts",
        token,
        second["id"],
        json={"kind": "demo", "name": "in second", "credentials": {"api_key": "demo-2"}},
    )
    names = lambda ws: [a["name"] for a in api.call("GET", "/api/accounts", token, ws).get_json()["items"]]  # noqa: E731
    assert names(first_ws) == ["in first"]
    assert names(second["id"]) == ["in second"]
    assert names(None) == ["in first"]  # default: the user's first workspace
    assert api.call("GET", "/api/accounts", token, 999999).status_code == 404
