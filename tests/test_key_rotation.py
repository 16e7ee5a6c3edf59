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
