"""alert marks and sweeps: the minute tick re-evaluates only what changed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

`alert_marks` holds the workspaces whose spend changed since the evaluator last looked (written where daily_spend
is rebuilt, taken by the tick); `alert_sweeps` holds when the scheduled tick last ran, so that the next one also
re-evaluates the workspaces whose local day rolled over and the rules edited since.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.rls import disable_rls, enable_rls

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("alert_marks",)


def upgrade() -> None:
    op.create_table(
        "alert_marks",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_alert_marks_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_alert_marks")),
    )
    enable_rls(TENANT_TABLES[0])
    op.create_table(
        "alert_sweeps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_sweeps")),
    )


def downgrade() -> None:
    op.drop_table("alert_sweeps")
    disable_rls(TENANT_TABLES[0])
    op.drop_table("alert_marks")
