"""Alembic environment: runs migrations for the URL in the config (set by backend.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool, text

from backend.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    with connectable.connect() if hasattr(connectable, "connect") else connectable as connection:
        if connection.dialect.name == "postgresql":
            # Data migrations may touch every workspace's rows: lift row-level security for this session.
            connection.execute(text("SELECT set_config('app.rls_bypass', 'on', false)"))
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # Batch mode: SQLite cannot ALTER most things, so Alembic rebuilds tables there.
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
