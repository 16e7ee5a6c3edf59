"""login throttles per (email, client address) replace the per-user lockout; pending open-mode sign-ups

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("email", "client", name=op.f("uq_login_throttles_email_client")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_last_failure_at"), ["last_failure_at"], unique=False)

    op.create_table(
        "pending_signups",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workspace_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_signups")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_signups_token_hash")),
    )
    with op.batch_alter_table("pending_signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_signups_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_pending_signups_expires_at"), ["expires_at"], unique=False)

    # The per-user lockout (failed_logins / locked_until) is gone: it let anyone lock out any known account.
    # Rebuilt on SQLite: keep AUTOINCREMENT (0008), which reflection does not see.
    with op.batch_alter_table("users", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    # Rebuilt on SQLite: keep AUTOINCREMENT (0008), which reflection does not see.
    with op.batch_alter_table("users", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("pending_signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_signups_expires_at"))
        batch_op.drop_index(batch_op.f("ix_pending_signups_email"))
    op.drop_table("pending_signups")
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_last_failure_at"))
    op.drop_table("login_throttles")
