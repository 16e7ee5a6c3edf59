"""summary read path: covering daily_spend index, row-level security settings read once per statement

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

`GET /api/usage/summary` reads a workspace's daily_spend rows of a range of days (18,848 rows for a month of the
largest tenant in `python -m bench.summary`). Two per-row costs dominated it on PostgreSQL:

- the tenant_isolation policy called current_setting() twice and cast the workspace id from text for every row
  scanned. Each setting is now read in a scalar subquery, which PostgreSQL evaluates once per statement (an
  InitPlan) and compares per row as a parameter; who may see what is unchanged. The bypass test is a boolean
  subquery on purpose: the planner then estimates the policy to keep about half the rows (a parameter compared
  with 'on' would be 0.5 %, so with the workspace test 2.5 % at 50 workspaces, when in fact the query's own
  workspace filter already selected exactly the rows the policy keeps); with 2.5 % it sorted a month's 18,848 rows
  to group them instead of hashing them, which took 1.6 times as long;
- the rows came from the heap. ix_daily_spend_workspace_id_day (same key) now carries every other column that
  the summary reads, so any grouping of it is an index-only scan.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The condition of every tenant_isolation policy before (as migrations/rls.py made it) and after.
PER_ROW = (
    "current_setting('app.rls_bypass', true) = 'on' "
    "OR workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::integer"
)
PER_STATEMENT = (
    "(SELECT current_setting('app.rls_bypass', true) = 'on') "
    "OR workspace_id = (SELECT NULLIF(current_setting('app.workspace_id', true), '')::integer)"
)
SUMMARY_COLUMNS = [
    "account_id",
    "provider",
    "model",
    "project",
    "currency",
    "cost",
    "cost_source",
    "input_tokens",
    "output_tokens",
    "requests",
]


def _policies(condition: str) -> None:
    bind = op.get_bind()
    tables = bind.exec_driver_sql(
        "SELECT tablename FROM pg_policies WHERE schemaname = current_schema() AND policyname = 'tenant_isolation' "
        "ORDER BY tablename"
    ).scalars()
    for table in list(tables):
        op.execute(f"ALTER POLICY tenant_isolation ON {table} USING ({condition}) WITH CHECK ({condition})")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has neither policies nor INCLUDE columns: nothing changes there
    _policies(PER_STATEMENT)
    op.drop_index("ix_daily_spend_workspace_id_day", table_name="daily_spend")
    op.create_index(
        "ix_daily_spend_workspace_id_day", "daily_spend", ["workspace_id", "day"], postgresql_include=SUMMARY_COLUMNS
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_daily_spend_workspace_id_day", table_name="daily_spend")
    op.create_index("ix_daily_spend_workspace_id_day", "daily_spend", ["workspace_id", "day"])
    _policies(PER_ROW)
