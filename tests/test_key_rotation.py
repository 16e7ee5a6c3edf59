"""MultiFernet keys: adding a key keeps old data readable; `keys rotate` leaves nothing under the old key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text, column, select, table

from backend.cli import main
from backend.services.keys import encrypted_columns

KEY = "demo-rotate-me-0a1b2c3d"
SMTP_PASSWORD = "smtp-pa55-word-xyz"


def _raw_tokens(app) -> list[str]:
    """Every stored ciphertext, read as raw text (no decrypting column type in the way)."""
    tokens = []
    with app.extensions["spendwatch"].db.system_session() as session:
        for tbl, name in encrypted_columns():
            raw = table(tbl.name, column(name, Text))
            tokens += [t for (t,) in session.execute(select(raw.c[name])) if t is not None]
    return tokens


def _seed(app, api):
    owner = api.register("owner@example.com")
    token = owner["access_token"]
    created = api.call(
        "POST", "/api/accounts", token, json={"kind": "demo", "name": "Demo", "credentials": {"api_key": KEY}}
    )
    assert created.status_code == 201
    assert (
        api.call("PATCH", "/api/admin/settings", token, json={"smtp": {"password": SMTP_PASSWORD}}).status_code == 200
    )
    return owner, created.get_json()["id"]


def test_encrypted_columns_are_discovered():
    assert {(t.name, c) for t, c in encrypted_columns()} == {
        ("provider_accounts", "credentials"),
        ("instance_settings", "secrets"),
        ("channels", "secrets"),
    }


def test_old_data_decrypts_after_adding_a_key_and_rotation_removes_the_old_key(make_app, encryption_key):
    from tests.conftest import Api

    old_app = make_app()
    api = Api(old_app.test_client())
    _owner, account_id = _seed(old_app, api)
    old = Fernet(encryption_key.encode())
    before = _raw_tokens(old_app)
    assert len(before) == 2 and all(old.decrypt(t.encode()) for t in before)

    new_key = Fernet.generate_key().decode()
    new_app = make_app(encryption_keys=(new_key, encryption_key))  # newest first
    api = Api(new_app.test_client())
    token = api.login("owner@example.com")["access_token"]
    # Old ciphertext still decrypts: the account works and shows its hint.
    assert api.call("GET", f"/api/accounts/{account_id}", token).get_json()["credentials"] == {"api_key": "…2c3d"}
    assert api.call("POST", f"/api/accounts/{account_id}/test", token).get_json()["ok"] is True
    status = api.call("GET", "/api/admin/keys", token).get_json()
    assert status["keys"] == 2 and status["secrets_stale"] >= 1

    result = new_app.test_cli_runner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted" in result.output

    after = _raw_tokens(new_app)
    assert len(after) == 2
    for token_text in after:
        with pytest.raises(InvalidToken):
            old.decrypt(token_text.encode())
        Fernet(new_key.encode()).decrypt(token_text.encode())
    assert api.call("GET", "/api/admin/keys", token).get_json() == {
        "keys": 2,
        "secrets_current": 2,
        "secrets_stale": 0,
        "secrets_unreadable": 0,
    }

    # The old key can now be dropped: an app with only the new key reads everything.
    only_new = make_app(encryption_keys=(new_key,))
    api = Api(only_new.test_client())
    token = api.login("owner@example.com")["access_token"]
    assert api.call("POST", f"/api/accounts/{account_id}/test", token).get_json()["ok"] is True
    settings = api.call("GET", "/api/admin/settings", token).get_json()
    assert settings["smtp"]["password"] == "…-xyz"


def test_rotation_is_idempotent(make_app):
    from tests.conftest import Api

    app = make_app()
    _seed(app, Api(app.test_client()))
    runner = app.test_cli_runner()
    runner.invoke(main, ["keys", "rotate"])
    result = runner.invoke(main, ["keys", "rotate"])
    assert "re-encrypted 0 secret(s)" in result.output
    assert "2 already under the newest key" in result.output


def test_credentials_under_a_removed_key_make_the_account_need_attention(make_app):
    """A key dropped from ENCRYPTION_KEYS too early: the account's row still loads (no 500), its sync and test
    say what happened, the other accounts sync, and a webhook channel's notifications end with the reason."""
    from backend.models import AlertEvent, Channel, Notification, ProviderAccount, SyncRun
    from backend.services import outbox
    from backend.services.delivery import deliver_due
    from jobs.sync import SyncDispatcher
    from tests.conftest import Api

    old_app = make_app()
    api = Api(old_app.test_client())
    _owner, lost_id = _seed(old_app, api)
    hook = {"name": "Hook", "kind": "webhook", "url": "https://1.1.1.1/hook"}
    token = api.login("owner@example.com")["access_token"]
    channel_id = api.call("POST", "/api/channels", token, json=hook).get_json()["id"]

    new_app = make_app(encryption_keys=(Fernet.generate_key().decode(),))  # the old key is gone
    api = Api(new_app.test_client())
    token = api.login("owner@example.com")["access_token"]
    body = {"kind": "demo", "name": "Fresh", "credentials": {"api_key": "demo-fresh-key-0123456789"}}
    fresh_id = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    listed = api.call("GET", "/api/accounts", token)
    assert listed.status_code == 200
    assert {a["id"]: a["credentials"] for a in listed.get_json()["items"]}[lost_id] == {}
    state = new_app.extensions["spendwatch"]
    dispatcher = SyncDispatcher(state.db, state.settings)
    try:
        dispatcher(wait_for_completion=True)
    finally:
        dispatcher.shutdown()
    with state.db.system_session() as s:
        lost, fresh = s.get(ProviderAccount, lost_id), s.get(ProviderAccount, fresh_id)
        assert (lost.status, fresh.status) == ("needs_attention", "ok")
        assert "cannot be decrypted" in lost.last_error and lost.next_sync_at is None
        assert s.scalar(select(SyncRun.status).where(SyncRun.account_id == lost_id)) == "failed"
    tested = api.call("POST", f"/api/accounts/{lost_id}/test", token).get_json()
    assert tested["ok"] is False and "ENCRYPTION_KEYS" in tested["message"]
    assert api.call("POST", f"/api/channels/{channel_id}/test", token).status_code == 409
    with state.db.system_session() as s:
        channel = s.get(Channel, channel_id)
        event = AlertEvent(workspace_id=channel.workspace_id, type="test", state="firing", payload={})
        s.add(event)
        s.flush()
        outbox.enqueue(session=s, event=event, channel_ids=[channel_id])
    deliver_due(database=state.db, settings=state.settings, worker="test")
    with state.db.system_session() as s:
        [note] = s.scalars(select(Notification)).all()
        assert note.status == "dead" and "cannot be decrypted" in note.last_error
    # Status says so; rotation leaves them alone instead of failing.
    status = api.call("GET", "/api/admin/keys", token).get_json()
    assert (status["secrets_unreadable"], status["secrets_current"]) == (3, 1)
    result = new_app.test_cli_runner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0 and "3 under no configured key" in result.output, result.output
