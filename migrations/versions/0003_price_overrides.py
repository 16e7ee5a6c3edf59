"""price overrides

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_overrides",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("input_per_million", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("output_per_million", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("cache_read_per_million", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("cache_write_per_million", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_overrides")),
        sa.UniqueConstraint(
            "provider", "model", "valid_from", name=op.f("uq_price_overrides_provider_model_valid_from")
        ),
    )


def downgrade() -> None:
    op.drop_table("price_overrides")
