"""ids never reused on SQLite (AUTOINCREMENT) and a per-rule nonce carried by mute links

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

SQLite hands the id of a deleted row (the highest) to the next insert unless the table was created with
AUTOINCREMENT, so a mute link or bookmark made for a deleted row named the next row, perhaps another workspace's.
SQLite cannot add AUTOINCREMENT to a table: each table whose ids the API shows is rebuilt (batch mode, rows kept;
the new sqlite_sequence starts after the highest id still stored). PostgreSQL identities never reuse ids: there only
the nonce column is added.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose integer ids appear in URLs, API payloads or signed links (the models' NEVER_REUSE_IDS).
TABLES = (
    "users",
    "workspaces",
    "memberships",
    "invites",
    "provider_accounts",
    "sync_runs",
    "price_overrides",
    "channels",
    "alert_rules",
    "alert_events",
    "notifications",
    "delivery_attempts",
    "categories",
    "bank_accounts",
    "import_batches",
    "import_formats",
    "transaction_rules",
    "transactions",
)


def _foreign_keys_off() -> None:
    """Rebuilding a table drops the old one: with foreign keys enforced, SQLite would cascade that drop into every
    child row. Migrations run on a connection of their own (foreign keys off by default); make sure of it."""
    bind = op.get_bind()
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction, hence the check below
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("migration 0008 rebuilds tables on SQLite and needs PRAGMA foreign_keys=OFF")


def _rebuild(table: str, autoincrement: bool, alter: sa.Column[str] | None = None) -> None:
    # table_kwargs every time: reflection does not see AUTOINCREMENT, so a rebuild without it would drop it.
    with op.batch_alter_table(
        table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ) as batch_op:
        if alter is not None:
            batch_op.alter_column(alter.name, existing_type=alter.type, nullable=alter.nullable)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("alert_rules", sa.Column("link_nonce", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM alert_rules"))]
    if ids:
        bind.execute(
            sa.text("UPDATE alert_rules SET link_nonce = :nonce WHERE id = :id"),
            [{"id": rule_id, "nonce": secrets.token_hex(16)} for rule_id in ids],
        )
    nonce = sa.Column("link_nonce", sa.String(length=32), nullable=False)
    if not sqlite:
        op.alter_column("alert_rules", "link_nonce", existing_type=nonce.type, nullable=False)
        return
    _foreign_keys_off()
    for table in TABLES:
        _rebuild(table, True, nonce if table == "alert_rules" else None)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _foreign_keys_off()
        for table in TABLES:
            _rebuild(table, False)
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_column("link_nonce")
