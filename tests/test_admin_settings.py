"""Instance settings: admins only, validated, secrets encrypted and masked."""

from __future__ import annotations

from backend.services import instance_settings


def test_only_instance_admins(api, owner):
    api.call("PATCH", "/api/admin/settings", owner["access_token"], json={"registration_mode": "open"})
    other = api.register("user@example.com")["access_token"]
    for method, body in (("GET", None), ("PATCH", {"registration_mode": "closed"})):
        response = api.call(method, "/api/admin/settings", other, json=body)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "admin_only"
    assert api.call("GET", "/api/admin/settings", owner["access_token"]).get_json()["registration_mode"] == "open"


def test_defaults(api, owner):
    settings = api.call("GET", "/api/admin/settings", owner["access_token"]).get_json()
    assert settings["registration_mode"] == "invite"
    assert settings["sync_intervals"] == {"ai_minutes": 15, "money_minutes": 360}
    assert settings["allow_private_webhooks"] is False
    assert settings["smtp"]["password"] == ""


def test_partial_updates_merge(api, owner):
    token = owner["access_token"]
    api.call(
        "PATCH",
        "/api/admin/settings",
        token,
        json={"smtp": {"host": "mail.example.com", "port": 465, "security": "tls"}},
    )
    response = api.call(
        "PATCH",
        "/api/admin/settings",
        token,
        json={"smtp": {"username": "spend"}, "sync_intervals": {"ai_minutes": 5}},
    )
    settings = response.get_json()
    assert settings["smtp"]["host"] == "mail.example.com" and settings["smtp"]["port"] == 465
    assert settings["smtp"]["username"] == "spend"
    assert settings["sync_intervals"] == {"ai_minutes": 5, "money_minutes": 360}
    body = {"kind": "demo", "name": "d", "credentials": {"api_key": "demo-1"}}
    assert api.call("POST", "/api/accounts", token, json=body).get_json()["sync_interval_minutes"] == 5


def test_smtp_password_is_encrypted_masked_kept_and_cleared(app, api, owner):
    token = owner["access_token"]
    shown = api.call("PATCH", "/api/admin/settings", token, json={"smtp": {"password": "hunter2-hunter2"}}).get_json()
    assert shown["smtp"]["password"] == "…ter2"
    db = app.extensions["spendwatch"].db

    def stored() -> str:
        with db.session() as session:
            return instance_settings.get_secret(session=session, key="smtp_password")

    assert stored() == "hunter2-hunter2"
    api.call(
        "PATCH",
        "/api/admin/settings",
        token,
        json={"smtp": {"password": shown["smtp"]["password"], "port": 2525}},
    )
    assert stored() == "hunter2-hunter2"
    api.call("PATCH", "/api/admin/settings", token, json={"smtp": {"host": "other"}})
    assert stored() == "hunter2-hunter2"
    cleared = api.call("PATCH", "/api/admin/settings", token, json={"smtp": {"password": ""}}).get_json()
    assert cleared["smtp"]["password"] == "" and stored() == ""


def test_bad_values_are_422_and_change_nothing(api, owner):
    token = owner["access_token"]
    api.call(
        "PATCH",
        "/api/admin/settings",
        token,
        json={"registration_mode": "open", "base_url": "https://spend.example.com"},
    )
    for body in (
        {"registration_mode": "sometimes"},
        {"smtp": {"port": 70000}},
        {"smtp": {"security": "ssl3"}},
        {"sync_intervals": {"money_minutes": 1}},
        {"base_url": "not a url"},
        {"unknown_setting": True},
        {"registration_mode": "closed", "smtp": {"port": -1}},
    ):
        response = api.call("PATCH", "/api/admin/settings", token, json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "validation_error"
    settings = api.call("GET", "/api/admin/settings", token).get_json()
    assert settings["registration_mode"] == "open"
    assert settings["base_url"] == "https://spend.example.com"
    assert settings["smtp"]["port"] == 587


def test_base_url_setting_drives_invite_links(api, owner):
    token = owner["access_token"]
    api.call("PATCH", "/api/admin/settings", token, json={"base_url": "https://spend.example.com/"})
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "x@example.com"}).get_json()
    assert invite["url"].startswith("https://spend.example.com/invite/")
