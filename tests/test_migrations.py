"""Migrations: one head, build from empty and back to base, and the models match them exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

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
