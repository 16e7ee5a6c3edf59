"""PostgreSQL row-level security: the second lock behind the app's own workspace filter."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.db import set_workspace
from backend.models import tenant_tables

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def two_workspaces(app, api):
    owner = api.register("a@example.com")
    token = owner["access_token"]
    ws_a = owner["workspaces"][0]["workspace_id"]
    ws_b = api.call("POST", "/api/workspaces", token, json={"name": "B"}).get_json()["id"]
    for ws, names in ((ws_a, ("a1", "a2")), (ws_b, ("b1",))):
        for name in names:
            body = {"kind": "demo", "name": name, "credentials": {"api_key": "demo-key-1234"}}
            assert api.call("POST", "/api/accounts", token, ws, json=body).status_code == 201
    return ws_a, ws_b


def _names(session) -> list[str]:
    # A raw SELECT with no workspace filter at all: only the database policy narrows it.
    return sorted(session.execute(text("SELECT name FROM provider_accounts")).scalars())


def test_raw_select_sees_only_the_current_workspace(app, two_workspaces):
    ws_a, ws_b = two_workspaces
    db = app.extensions["spendwatch"].db
    with db.session() as session:
        set_workspace(session, ws_a)
        assert _names(session) == ["a1", "a2"]
        session.commit()
        # The setting is per transaction, re-applied at every begin: a new transaction keeps the scope.
        assert _names(session) == ["a1", "a2"]
        set_workspace(session, ws_b)
        assert _names(session) == ["b1"]


def test_no_workspace_means_no_rows(app, two_workspaces):
    with app.extensions["spendwatch"].db.session() as session:
        assert _names(session) == []


def test_writes_into_another_workspace_are_refused(app, two_workspaces):
    ws_a, ws_b = two_workspaces
    db = app.extensions["spendwatch"].db
    with db.session() as session:
        set_workspace(session, ws_a)
        updated = session.execute(text("UPDATE provider_accounts SET name = 'hijacked' WHERE name = 'b1'"))
        assert updated.rowcount == 0
        with pytest.raises(Exception, match="row-level security"):
            session.execute(
                text(
                    "INSERT INTO provider_accounts (workspace_id, kind, name, credentials, config, enabled, status,"
                    " created_at, updated_at) VALUES (:ws, 'demo', 'sneaky', 'x', '{}', true, 'new', now(), now())"
                ),
                {"ws": ws_b},
            )
        session.rollback()
    with db.system_session() as session:
        assert _names(session) == ["a1", "a2", "b1"]


def test_setting_does_not_leak_across_pooled_connections(app, two_workspaces):
    ws_a, _ = two_workspaces
    db = app.extensions["spendwatch"].db
    with db.session() as session:
        set_workspace(session, ws_a)
        assert _names(session) == ["a1", "a2"]
        session.commit()
    # The same pooled connection, a new session without a workspace: nothing visible.
    with db.session() as session:
        assert _names(session) == []


def test_every_tenant_table_has_forced_rls_and_a_policy(app):
    with app.extensions["spendwatch"].db.system_session() as session:
        rows = session.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                " (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname)"
                " FROM pg_class c WHERE c.relname = ANY(:names)"
            ),
            {"names": tenant_tables()},
        ).all()
        superuser = session.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    assert sorted(r[0] for r in rows) == tenant_tables()
    assert all(r[1] and r[2] and r[3] == 1 for r in rows), rows
    assert superuser is False  # a superuser would bypass every policy: the app must not connect as one


def test_what_rls_does_not_stop_sql_run_as_the_app_role(app, two_workspaces):
    """The threat model of docs/security/data.md, pinned: RLS catches a tenant query that forgot its workspace
    filter, not SQL an attacker runs on the app's connection (an injection). Such SQL can set the bypass flag
    itself, and users and memberships have no policy. If a change closes either, this test says to update the doc."""
    ws_a, _ = two_workspaces
    db = app.extensions["spendwatch"].db
    with db.session() as session:
        # No workspace set: no tenant rows, yet the identity tables answer in full.
        assert _names(session) == []
        assert list(session.execute(text("SELECT email FROM users")).scalars()) == ["a@example.com"]
        assert session.execute(text("SELECT count(*) FROM memberships")).scalar() == 2
        set_workspace(session, ws_a)
        assert _names(session) == ["a1", "a2"]
        # What an injected statement could do on a tenant request's connection:
        session.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        assert _names(session) == ["a1", "a2", "b1"]
        # The app role owns the tables in the default setup: it could even turn the policies off.
        owner = session.execute(
            text("SELECT pg_has_role(current_user, tableowner, 'MEMBER') FROM pg_tables WHERE tablename = 'invites'")
        ).scalar()
        assert owner is True
        session.rollback()
