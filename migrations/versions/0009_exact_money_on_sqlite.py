"""exact money on SQLite: money columns become scaled 64-bit integers (value * 10**scale)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06

SQLite's NUMERIC stores decimals as 8-byte floats past 15 significant digits (99999999999999.99 came back as
…9.9844). backend.db.ExactDecimal stores them there as integers scaled by 10**scale instead; this converts the
existing values (ROUND(old * 10**scale): the stored float rounded to the column's scale, which is as close to what
was written as the float still knows). PostgreSQL's NUMERIC is exact already: nothing changes there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> [(column, precision, scale, nullable)]
MONEY_COLUMNS: dict[str, list[tuple[str, int, int, bool]]] = {
    "bank_accounts": [("balance", 18, 4, True), ("available_balance", 18, 4, True)],
    "transactions": [("amount", 18, 4, False)],
    "usage_records": [("cost", 20, 10, True)],
    "daily_spend": [("cost", 20, 10, False)],
    "alert_rules": [("amount", 20, 10, True)],
    "alert_states": [("value", 20, 10, True)],
    "price_overrides": [
        ("input_per_million", 20, 10, False),
        ("output_per_million", 20, 10, False),
        ("cache_read_per_million", 20, 10, True),
        ("cache_write_per_million", 20, 10, True),
    ],
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _kept_options(table: str) -> dict[str, bool]:
    # The batch rebuild reflects the table, and reflection does not carry SQLite's AUTOINCREMENT (ids never reused):
    # keep it when an earlier migration gave the table one.
    sql = op.get_bind().execute(sa.text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
    return {"sqlite_autoincrement": True} if "AUTOINCREMENT" in str(sql).upper() else {}


def upgrade() -> None:
    if not _sqlite():
        return
    for table, columns in MONEY_COLUMNS.items():
        # Scale in place first (the NUMERIC affinity keeps a whole number as INTEGER), then retype: the batch copy
        # casts each value to the new type, which leaves those integers as they are.
        scaled = ", ".join(f"{c} = CAST(ROUND({c} * 1e{s}) AS INTEGER)" for c, _p, s, _n in columns)
        op.execute(f"UPDATE {table} SET {scaled}")  # noqa: S608 - fixed table and column names only
        with op.batch_alter_table(table, table_kwargs=_kept_options(table)) as batch:
            for column, precision, scale, nullable in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.Numeric(precision=precision, scale=scale),
                    type_=sa.BigInteger(),
                    existing_nullable=nullable,
                )


def downgrade() -> None:
    if not _sqlite():
        return
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table, table_kwargs=_kept_options(table)) as batch:
            for column, precision, scale, nullable in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.BigInteger(),
                    type_=sa.Numeric(precision=precision, scale=scale),
                    existing_nullable=nullable,
                )
        unscaled = ", ".join(f"{c} = {c} / 1e{s}" for c, _p, s, _n in columns)
        op.execute(f"UPDATE {table} SET {unscaled}")  # noqa: S608 - fixed table and column names only
