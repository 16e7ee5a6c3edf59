"""money accounts: bank accounts, transactions, categories, rules, statement imports; money budget scopes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.rls import disable_rls, enable_rls

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "bank_accounts",
    "categories",
    "import_batches",
    "import_formats",
    "transaction_rules",
    "transactions",
)


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("key", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("icon", sa.String(length=16), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("necessity", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_categories_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("workspace_id", "key", name="uq_categories_workspace_key"),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_categories_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "import_formats",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_import_formats_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_formats")),
        sa.UniqueConstraint("workspace_id", "name", name="uq_import_formats_workspace_name"),
    )
    with op.batch_alter_table("import_formats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_formats_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "transaction_rules",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_transaction_rules_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_rules")),
    )
    with op.batch_alter_table("transaction_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transaction_rules_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "bank_accounts",
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("available_balance", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("balance_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["provider_accounts.id"],
            name=op.f("fk_bank_accounts_account_id_provider_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_bank_accounts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint("account_id", "external_id", name="uq_bank_accounts_account_external"),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_accounts_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "import_batches",
        sa.Column("bank_account_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("statement_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("rows_added", sa.Integer(), nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_import_batches_bank_account_id_bank_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_import_batches_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batches_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_account_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=120), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("merchant", sa.String(length=200), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("pending_external_id", sa.String(length=200), nullable=False),
        sa.Column("provider_category", sa.String(length=100), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("category_source", sa.String(length=10), nullable=True),
        sa.Column("category_confidence", sa.Numeric(precision=4, scale=2), nullable=True),
        sa.Column("category_rule_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("transfer_peer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("is_transfer", sa.Boolean(), nullable=False),
        sa.Column("transfer_locked", sa.Boolean(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_transactions_bank_account_id_bank_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_transactions_category_id_categories"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["category_rule_id"],
            ["transaction_rules.id"],
            name=op.f("fk_transactions_category_rule_id_transaction_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_batches.id"],
            name=op.f("fk_transactions_import_id_import_batches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["transfer_peer_id"],
            ["transactions.id"],
            name=op.f("fk_transactions_transfer_peer_id_transactions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_transactions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint("bank_account_id", "fingerprint", name="uq_transactions_bank_account_fingerprint"),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transactions_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transactions_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transactions_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index("ix_transactions_workspace_id_posted_on", ["workspace_id", "posted_on"], unique=False)

    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope_category_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("scope_bank_account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alert_rules_scope_category_id_categories"),
            "categories",
            ["scope_category_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_alert_rules_scope_bank_account_id_bank_accounts"),
            "bank_accounts",
            ["scope_bank_account_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("provider_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sync_cursor", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("notices", sa.JSON(), nullable=True))

    for table in TENANT_TABLES:
        enable_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_rls(table)
    with op.batch_alter_table("provider_accounts", schema=None) as batch_op:
        batch_op.drop_column("notices")
        batch_op.drop_column("sync_cursor")

    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_alert_rules_scope_bank_account_id_bank_accounts"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_alert_rules_scope_category_id_categories"), type_="foreignkey")
        batch_op.drop_column("scope_bank_account_id")
        batch_op.drop_column("scope_category_id")

    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_workspace_id_posted_on")
        batch_op.drop_index(batch_op.f("ix_transactions_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_transactions_import_id"))
        batch_op.drop_index(batch_op.f("ix_transactions_category_id"))

    op.drop_table("transactions")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_workspace_id"))

    op.drop_table("import_batches")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_accounts_workspace_id"))

    op.drop_table("bank_accounts")
    with op.batch_alter_table("transaction_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transaction_rules_workspace_id"))

    op.drop_table("transaction_rules")
    with op.batch_alter_table("import_formats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_formats_workspace_id"))

    op.drop_table("import_formats")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_categories_workspace_id"))

    op.drop_table("categories")
