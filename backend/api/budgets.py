"""/api/budgets, /api/alert-rules and /api/alerts: budgets and other alert rules, and the alerts they fired."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.db import utcnow
from backend.models import AlertEvent, AlertRule, Role
from backend.schemas import budgets as schemas
from backend.schemas.alert_rules import (
    AlertRuleDetail,
    AlertRuleIn,
    AlertRuleList,
    AlertRuleOut,
    AlertRulePatch,
    AlertRulePath,
    AlertRuleQuery,
    RuleStateOut,
    ScopeOut,
)
from backend.services import alert_history, alert_rules, budgets, mute_links, rule_channels
from backend.services.budget_spend import cents
from backend.services.periods import WEEKDAYS

bp = APIBlueprint(
    "budgets",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="budgets and alerts")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())

# --- /api/budgets ------------------------------------------------------------------------------------------------


def _budget_out(rule: AlertRule, channels: list[int]) -> schemas.BudgetOut:
    params = rule.params or {}
    return schemas.BudgetOut(
        id=rule.id,
        workspace_id=rule.workspace_id,
        name=rule.name,
        scope=schemas.ScopeOut(
            provider=rule.scope_provider,
            account_id=rule.scope_account_id,
            model=rule.scope_model,
            project=rule.scope_project,
            category_id=rule.scope_category_id,
            bank_account_id=rule.scope_bank_account_id,
        ),
        period=rule.period or "month",
        week_start=WEEKDAYS[rule.week_start or 0],
        amount=Decimal(cents(rule.amount or Decimal(0))),
        currency=rule.currency,
        thresholds=[schemas.ThresholdOut(**t) for t in params.get("thresholds", [])],
        basis=params.get("basis", "actual"),
        channels=channels,
        muted=rule.muted,
        snoozed_until=rule.snoozed_until,
        repeat_minutes=rule.repeat_minutes,
        notify_on_resolve=rule.notify_on_resolve,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def _with_status(rule: AlertRule, channels: list[int], figures: dict[str, Any]) -> schemas.BudgetDetail:
    shown = {**figures, **{name: Decimal(cents(figures[name])) for name in ("spent", "remaining", "forecast")}}
    return schemas.BudgetDetail(
        **_budget_out(rule, channels).model_dump(), status=schemas.BudgetStatus.model_validate(shown)
    )


def _budget_detail(rule: AlertRule) -> schemas.BudgetDetail:
    session = db()
    channels = rule_channels.channel_ids(session=session, rule_ids=[rule.id]).get(rule.id, [])
    return _with_status(rule, channels, budgets.status(session=session, rule=rule, now=utcnow()))


@bp.get("/budgets", responses={200: schemas.BudgetList})
def list_budgets() -> Response:
    """The workspace's budgets, each with its current status.

    Oldest first; each item is what GET /api/budgets/{id} answers, `status` included (period, spent, remaining,
    percent, forecast, each threshold's state), so a dashboard draws its gauges from this one call. The figures
    are computed for all budgets together: one spend query per period group, not one per budget.
    """
    session = db()
    workspace_id = current_actor().workspace_id
    rules = budgets.list_budgets(session=session, workspace_id=workspace_id)
    ids = [r.id for r in rules]
    channels = rule_channels.channel_ids(session=session, rule_ids=ids)
    figures = budgets.statuses(session=session, workspace_id=workspace_id, rule_ids=ids, now=utcnow())
    items = [_with_status(r, channels.get(r.id, []), figures[r.id]) for r in rules]
    return json_response(schemas.BudgetList(items=items))


@bp.post("/budgets", responses={201: schemas.BudgetDetail})
def create_budget(body: schemas.BudgetIn) -> Response:
    """Create a budget; another workspace's account or unknown channels are a 422 and nothing is stored."""
    session = db()
    rule = budgets.create_budget(
        session=session, workspace_id=current_actor().workspace_id, data=body.model_dump(exclude_unset=False)
    )
    session.commit()
    return json_response(_budget_detail(rule), 201)


@bp.post("/budgets/check", responses={200: schemas.AffordOut})
def check_budgets(body: schemas.AffordIn) -> Response:
    """Can I afford this? Whether spending `amount` in a category (and/or from a bank account) fits the money
    budgets covering it, what remains, and which thresholds it would cross. Nothing is stored."""
    result = budgets.afford(
        session=db(),
        workspace_id=current_actor().workspace_id,
        category_id=body.category_id,
        bank_account_id=body.bank_account_id,
        amount=body.amount,
        currency=body.currency,
        now=utcnow(),
    )
    return json_response(schemas.AffordOut(**result))


@bp.get("/budgets/<int:rule_id>", responses={200: schemas.BudgetDetail})
def get_budget(path: schemas.BudgetPath) -> Response:
    """A budget with its period, spent, remaining, percent, forecast and each threshold's state."""
    rule = budgets.get_budget(session=db(), workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    return json_response(_budget_detail(rule))


@bp.patch("/budgets/<int:rule_id>", responses={200: schemas.BudgetDetail})
def update_budget(path: schemas.BudgetPath, body: schemas.BudgetPatch) -> Response:
    """Change a budget (mute, snooze, amount…); scope, thresholds and channels are replaced when given."""
    session = db()
    rule = budgets.get_budget(session=session, workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    budgets.update_budget(session=session, rule=rule, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return json_response(_budget_detail(rule))


@bp.delete("/budgets/<int:rule_id>", responses={204: None})
def delete_budget(path: schemas.BudgetPath) -> Response:
    """Delete a budget; the alerts it fired stay in the history."""
    session = db()
    rule = budgets.get_budget(session=session, workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    budgets.delete_budget(session=session, rule=rule)
    session.commit()
    return no_content()


@bp.post("/budgets/<int:rule_id>/mute-link/rotate", responses={204: None})
def rotate_budget_mute_link(path: schemas.BudgetPath) -> Response:
    """Revoke every mute link sent for this budget so far (a message was forwarded, a recipient left); the next
    alert carries a new one."""
    session = db()
    rule = budgets.get_budget(session=session, workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    mute_links.rotate_nonce(session=session, rule=rule)
    session.commit()
    return no_content()


# --- /api/alerts: the history --------------------------------------------------------------------------------------


def _alert_out(event: AlertEvent, counts: dict[str, int]) -> schemas.AlertOut:
    return schemas.AlertOut(
        id=event.id,
        rule_id=event.rule_id,
        type=event.type,
        state=event.state,
        period_key=event.period_key,
        threshold_key=event.threshold_key,
        silenced=event.silenced,
        created_at=event.created_at,
        notifications=counts,
    )


@bp.get("/alerts", responses={200: schemas.AlertPage})
def list_alerts(query: schemas.AlertsQuery) -> Response:
    """Alert history, newest first, each with how its notifications fared; filter by rule, type or state."""
    session = db()
    events, next_cursor = alert_history.list_events(
        session=session,
        workspace_id=current_actor().workspace_id,
        filters={"rule_id": query.rule_id, "type": query.type, "state": query.state},
        limit=query.limit,
        cursor=query.cursor,
    )
    counts = alert_history.notification_counts(session=session, event_ids=[e.id for e in events])
    items = [_alert_out(e, counts.get(e.id, {})) for e in events]
    return json_response(schemas.AlertPage(items=items, next_cursor=next_cursor))


def _shown_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as sent, but a viewer (who may not mute) does not get the signed mute link it carries."""
    links = payload.get("links")
    if current_actor().role.at_least(Role.MEMBER) or not isinstance(links, dict) or not links.get("mute"):
        return payload
    return {**payload, "links": {**links, "mute": None}}


@bp.get("/alerts/<int:alert_id>", responses={200: schemas.AlertDetail})
def get_alert(path: schemas.AlertPath) -> Response:
    """One alert: its payload (the figures as sent) and each notification's status and attempts."""
    session = db()
    event = alert_history.get_event(session=session, workspace_id=current_actor().workspace_id, event_id=path.alert_id)
    notes = alert_history.notifications(session=session, event_id=event.id)
    counts: dict[str, int] = {}
    for note in notes:
        counts[note.status] = counts.get(note.status, 0) + 1
    detail = schemas.AlertDetail(
        **_alert_out(event, counts).model_dump(),
        payload=_shown_payload(event.payload),
        deliveries=[schemas.NotificationOut.model_validate(n, from_attributes=True) for n in notes],
    )
    return json_response(detail)


# --- /api/alert-rules: anomaly and sync-health rules -------------------------------------------------------------


def _alert_rule_out(rule: AlertRule, channels: list[int]) -> AlertRuleOut:
    return AlertRuleOut(
        id=rule.id,
        workspace_id=rule.workspace_id,
        name=rule.name,
        kind=rule.kind,
        scope=ScopeOut(
            provider=rule.scope_provider,
            account_id=rule.scope_account_id,
            model=rule.scope_model,
            project=rule.scope_project,
        ),
        params=alert_rules.stored_params(rule),
        channels=channels,
        muted=rule.muted,
        snoozed_until=rule.snoozed_until,
        repeat_minutes=rule.repeat_minutes,
        notify_on_resolve=rule.notify_on_resolve,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def _alert_rule_detail(rule: AlertRule) -> AlertRuleDetail:
    session = db()
    channels = rule_channels.channel_ids(session=session, rule_ids=[rule.id]).get(rule.id, [])
    states = [
        RuleStateOut(
            period_key=s.period_key,
            threshold_key=s.threshold_key,
            state=s.state,
            firing=s.state == "firing",
            since=s.changed_at,
            value=s.value,
            last_notified_at=s.last_notified_at,
        )
        for s in alert_rules.rule_states(session=session, rule=rule)
    ]
    base = _alert_rule_out(rule, channels)
    return AlertRuleDetail(**base.model_dump(), firing=any(s.firing for s in states), states=states)


@bp.get("/alert-rules", responses={200: AlertRuleList})
def list_alert_rules(query: AlertRuleQuery) -> Response:
    """The workspace's anomaly and sync-health rules (budgets are under /api/budgets)."""
    session = db()
    rules = alert_rules.list_rules(session=session, workspace_id=current_actor().workspace_id, kind=query.kind)
    channels = rule_channels.channel_ids(session=session, rule_ids=[r.id for r in rules])
    return json_response(AlertRuleList(items=[_alert_rule_out(r, channels.get(r.id, [])) for r in rules]))


@bp.post("/alert-rules", responses={201: AlertRuleDetail})
def create_alert_rule(body: AlertRuleIn) -> Response:
    """Create an anomaly or sync-health rule; unknown channels or accounts are a 422 and nothing is stored."""
    session = db()
    rule = alert_rules.create_rule(
        session=session, workspace_id=current_actor().workspace_id, data=body.model_dump(exclude_unset=False)
    )
    session.commit()
    return json_response(_alert_rule_detail(rule), 201)


@bp.get("/alert-rules/<int:rule_id>", responses={200: AlertRuleDetail})
def get_alert_rule(path: AlertRulePath) -> Response:
    """One rule with its current states: firing or not, since when, and the figure last seen."""
    rule = alert_rules.get_rule(session=db(), workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    return json_response(_alert_rule_detail(rule))


@bp.patch("/alert-rules/<int:rule_id>", responses={200: AlertRuleDetail})
def update_alert_rule(path: AlertRulePath, body: AlertRulePatch) -> Response:
    """Change a rule; params are merged into the stored ones, channels and scope are replaced."""
    session = db()
    rule = alert_rules.get_rule(session=session, workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    alert_rules.update_rule(session=session, rule=rule, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return json_response(_alert_rule_detail(rule))


@bp.delete("/alert-rules/<int:rule_id>", responses={204: None})
def delete_alert_rule(path: AlertRulePath) -> Response:
    """Delete a rule with its states; the alerts it fired stay in the history."""
    session = db()
    rule = alert_rules.get_rule(session=session, workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    alert_rules.delete_rule(session=session, rule=rule)
    session.commit()
    return no_content()


@bp.post("/alert-rules/<int:rule_id>/mute-link/rotate", responses={204: None})
def rotate_alert_rule_mute_link(path: AlertRulePath) -> Response:
    """Revoke every mute link sent for this rule so far; the next alert carries a new one."""
    session = db()
    rule = alert_rules.get_rule(session=session, workspace_id=current_actor().workspace_id, rule_id=path.rule_id)
    mute_links.rotate_nonce(session=session, rule=rule)
    session.commit()
    return no_content()
