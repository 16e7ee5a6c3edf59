"""/api/demo: load the demo data into the caller's workspace, see whether it is there, remove it in one action."""

from __future__ import annotations

from decimal import Decimal

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from backend.api.context import current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.extensions import get_state
from backend.services import demo
from jobs.alerts import evaluate_workspace

bp = APIBlueprint(
    "demo",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="demo", description="Demo data: made-up accounts, usage, transactions, budgets and a channel")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())


class DemoRow(BaseModel):
    id: int
    name: str


class DemoStatus(BaseModel):
    present: bool = Field(description="Whether the workspace has demo data")
    accounts: list[DemoRow] = Field(description="Demo provider accounts (kind demo)")
    bank_accounts: list[DemoRow] = Field(description="The demo's hand-kept bank account")
    budgets: list[DemoRow]
    channels: list[DemoRow]


class DemoCreated(DemoStatus):
    usage_records: int = Field(description="Usage records stored for the demo accounts")
    usage_cost: Decimal = Field(description="Their total cost (USD)")
    transactions: int = Field(description="Bank transactions stored")
    transactions_total: Decimal = Field(description="Their signed sum (USD)")
    balance: Decimal = Field(description="The demo bank account's balance")


def _status() -> DemoStatus:
    rows = demo.find(db(), current_actor().workspace_id)
    return DemoStatus(
        present=rows.present,
        accounts=[DemoRow(id=a.id, name=a.name) for a in rows.accounts],
        bank_accounts=[DemoRow(id=b.id, name=b.name) for b in rows.bank_accounts],
        budgets=[DemoRow(id=r.id, name=r.name) for r in rows.budgets],
        channels=[DemoRow(id=c.id, name=c.name) for c in rows.channels],
    )


def _evaluate(workspace_id: int) -> None:
    state = get_state(current_app)
    evaluate_workspace(state.db, state.settings, workspace_id)


@bp.get("/demo", responses={200: DemoStatus})
def demo_status() -> Response:
    """Whether the workspace has demo data, and which rows it is."""
    return json_response(_status())


@bp.post("/demo", responses={201: DemoCreated})
def load_demo() -> Response:
    """Fill the workspace with demo data (no network is used). 409 `demo_exists` when it is already there."""
    workspace_id = current_actor().workspace_id
    created = demo.load(db(), workspace_id=workspace_id, evaluate=lambda: _evaluate(workspace_id))
    return json_response(
        DemoCreated(
            **_status().model_dump(),
            usage_records=created.usage_records,
            usage_cost=created.usage_cost,
            transactions=created.transactions,
            transactions_total=created.transactions_total,
            balance=created.balance,
        ),
        201,
    )


@bp.delete("/demo", responses={204: None})
def remove_demo() -> Response:
    """Delete exactly the demo rows: its accounts with their usage, its bank account with its transactions, its
    budgets and its channel. Nothing else of the workspace changes."""
    workspace_id = current_actor().workspace_id
    demo.unload(db(), workspace_id=workspace_id, evaluate=lambda: _evaluate(workspace_id))
    return no_content()
