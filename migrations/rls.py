"""Row-level security helpers shared by migrations (PostgreSQL only; a no-op on SQLite).

Changing POLICY changes what *future* migrations create; existing policies stay as their migration made them.
"""

from __future__ import annotations

from alembic import op

# Each setting is read in a scalar subquery, which PostgreSQL evaluates once per statement (an InitPlan) instead of
# once per row scanned; the bypass test is a boolean subquery so that the planner does not take the policy for very
# selective (see migration 0005, which brought the existing policies to this form).
POLICY = """
CREATE POLICY tenant_isolation ON {table}
    USING (
        (SELECT current_setting('app.rls_bypass', true) = 'on')
        OR workspace_id = (SELECT NULLIF(current_setting('app.workspace_id', true), '')::integer)
    )
    WITH CHECK (
        (SELECT current_setting('app.rls_bypass', true) = 'on')
        OR workspace_id = (SELECT NULLIF(current_setting('app.workspace_id', true), '')::integer)
    )
"""


def enable_rls(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(POLICY.format(table=table))


def disable_rls(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
