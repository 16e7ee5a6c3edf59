"""Migrations: one head, build from empty and back to base, and the models match them exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from backend.migrate import alembic_config, current_revisions, downgrade, head_revisions, upgrade
from backend.models import Base, tenant_tables


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert head_revisions() == tuple(script.get_heads())


def test_models_match_migrations(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; generate a migration: {diff}"


def test_downgrade_to_base_and_back(database_url):
    engine = create_engine(database_url)
    model_tables = {t.name for t in Base.metadata.sorted_tables}
    try:
        downgrade(database_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revisions(engine) == ()
        upgrade(database_url)
        assert model_tables <= set(inspect(engine).get_table_names())
        assert current_revisions(engine) == head_revisions()
    finally:
        upgrade(database_url)  # leave the shared test database at head whatever happened
        engine.dispose()


def test_empty_sqlite_file_builds_from_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = create_engine(url)
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_every_table_with_workspace_id_is_a_tenant_table():
    with_column = sorted(t.name for t in Base.metadata.sorted_tables if "workspace_id" in t.c)
    identity_tables = {"memberships"}  # read by user id across workspaces; scoped in the service layer
    assert sorted(set(with_column) - identity_tables) == tenant_tables()
    # Together, the migrations enable row-level security on every tenant table.
    from importlib import import_module

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    secured: set[str] = set()
    for revision in script.walk_revisions():
        module = import_module(f"migrations.versions.{Path(revision.path).stem}")
        secured |= set(getattr(module, "TENANT_TABLES", ()))
    assert sorted(secured) == tenant_tables()


# Tables with an integer id the API never shows (internal state, bulk rows, singletons): ids may be reused there.
IDS_NOT_SHOWN = {
    "alert_states",
    "alert_sweeps",
    "daily_spend",
    "instance_settings",
    "login_throttles",
    "pending_signups",  # a sign-up link carries a random token, never the row id
    "usage_records",
}


def _never_reuse_ids() -> set[str]:
    """The tables the models flag with NEVER_REUSE_IDS, checked against the tables with an integer id."""
    integer_ids = {
        t.name
        for t in Base.metadata.sorted_tables
        if [c.name for c in t.primary_key.columns] == ["id"] and t.c.id.type.python_type is int
    }
    flagged = {t.name for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]}
    assert flagged == integer_ids - IDS_NOT_SHOWN, "a new table with ids in URLs needs NEVER_REUSE_IDS"
    return flagged


def test_ids_the_api_shows_are_never_reused_and_0008_kept_the_rows_it_rebuilt(tmp_path):
    """On SQLite: 0008 rebuilt every such table with AUTOINCREMENT, keeping rows, children and the id sequence."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007")
    engine = create_engine(url)
    rule = (
        "INSERT INTO alert_rules (id, name, kind, currency, week_start, params, muted, notify_on_resolve, created_at,"
        " updated_at, workspace_id) VALUES (:id, :name, 'budget', 'USD', 0, '{}', 0, 0, 0, 0, 1)"
    )
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO workspaces (id, name, timezone, created_at, updated_at) VALUES (1, 'a', 'UTC', 0, 0)")
        )
        for rule_id in (1, 2, 3):
            conn.execute(text(rule), {"id": rule_id, "name": f"rule {rule_id}"})
        conn.execute(text("DELETE FROM alert_rules WHERE id = 3"))
        conn.execute(
            text(
                "INSERT INTO channels (id, name, kind, config, secrets, enabled, created_at, updated_at, workspace_id)"
                " VALUES (1, 'mail', 'email', '{}', '', 1, 0, 0, 1)"
            )
        )
        conn.execute(text("INSERT INTO alert_rule_channels (rule_id, channel_id, workspace_id) VALUES (2, 1, 1)"))
    upgrade(url)
    with engine.begin() as conn:
        # A deleted row's id handed to the next insert let an old link name another workspace's row (issue 12).
        ddl = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
        # Each later migration that rebuilds one of these tables must keep it (reflection does not see it).
        assert sorted(name for name in _never_reuse_ids() if "AUTOINCREMENT" not in ddl[name]) == []
        rows = conn.execute(text("SELECT id, name, link_nonce FROM alert_rules ORDER BY id")).all()
        assert [(r.id, r.name) for r in rows] == [(1, "rule 1"), (2, "rule 2")]
        assert len({r.link_nonce for r in rows}) == 2 and all(len(r.link_nonce) == 32 for r in rows)
        # Dropping the old tables did not cascade into their children.
        assert conn.execute(text("SELECT rule_id, channel_id FROM alert_rule_channels")).all() == [(2, 1)]
        new = rule.replace("(id, ", "(link_nonce, ").replace("(:id, ", "('n', ")
        conn.execute(text(new), {"name": "new"})
        assert conn.execute(text("SELECT max(id) FROM alert_rules")).scalar() == 3  # after the highest stored
        conn.execute(text("DELETE FROM alert_rules WHERE id = 3"))
        conn.execute(text(new), {"name": "newer"})
        assert conn.execute(text("SELECT max(id) FROM alert_rules")).scalar() == 4  # 3 is never handed out again
    engine.dispose()
    downgrade(url, "0007")
    engine = create_engine(url)
    assert "link_nonce" not in {c["name"] for c in inspect(engine).get_columns("alert_rules")}
    engine.dispose()
