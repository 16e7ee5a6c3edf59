"""Anomaly and sync-health rules: their params, checks, create/read/update/delete, and what their alerts link to.

Budgets are alert rules too (kind "budget") but have their own service and API; this module manages the two other
kinds. Stored params are JSON with Decimals as strings; a rule's currency lives in its own column.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.errors import Invalid, NotFound
from backend.models import AlertRule, AlertState, ProviderAccount
from backend.services import rule_channels
from integrations.providers import PROVIDERS

log = logging.getLogger(__name__)

KINDS = ("anomaly", "sync_health")
MAX_STATES_SHOWN = 50
P = TypeVar("P", bound="StoredParams")


class StoredParams(BaseModel):
    """Params as stored on a rule: validated when written; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def stored(cls: type[P], raw: dict[str, Any] | None) -> P:
        """The params of a stored rule, with defaults for anything missing (and all defaults if a row written
        around the API is not valid: one bad row must not stop the evaluation of every other rule)."""
        try:
            return cls.model_validate(raw or {})
        except ValidationError:
            log.warning("alert rule params not valid, using the defaults")
            return cls()


class AnomalyParams(StoredParams):
    z_threshold: Decimal = Field(Decimal("3.5"), ge=1, le=20, max_digits=6, decimal_places=3, allow_inf_nan=False)
    min_amount: Decimal = Field(Decimal("5.00"), ge=0, max_digits=20, decimal_places=10, allow_inf_nan=False)
    baseline_days: int = Field(28, ge=7, le=90)


class SyncHealthParams(StoredParams):
    failures: int = Field(3, ge=1, le=100)
    stale_hours: int = Field(24, ge=1, le=720)


PARAMS: dict[str, type[StoredParams]] = {"anomaly": AnomalyParams, "sync_health": SyncHealthParams}
# Resolved notifications by default: an account recovering is news, a spike day being over is not.
NOTIFY_ON_RESOLVE = {"anomaly": False, "sync_health": True}


def rule_ref(rule: AlertRule) -> dict[str, Any]:
    """How an alert payload names its rule."""
    return {"id": rule.id, "name": rule.name, "kind": rule.kind}


def _invalid_params(exc: ValidationError) -> Invalid:
    details = [
        {"loc": ["params", *(str(p) for p in err.get("loc", ()))], "msg": err.get("msg", ""), "type": err.get("type")}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
    return Invalid("The rule's params are not valid.", details=details)


def _validated_params(kind: str, raw: dict[str, Any], currency: str) -> tuple[dict[str, Any], str]:
    """(params to store, currency) from submitted PARAMS; anomaly rules take their currency from params."""
    raw = dict(raw)
    if kind == "anomaly":
        code = str(raw.pop("currency", currency) or "").strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise Invalid(
                "The rule's params are not valid.",
                details=[
                    {
                        "loc": ["params", "currency"],
                        "msg": "a three-letter currency code such as USD",
                        "type": "currency",
                    }
                ],
            )
        currency = code
    try:
        params = PARAMS[kind].model_validate(raw)
    except ValidationError as exc:
        raise _invalid_params(exc) from None
    return params.model_dump(mode="json"), currency


def _bad_scope(field: str, message: str, msg: str, kind: str) -> Invalid:
    """A 422 `bad_scope` whose details point at scope.FIELD, so that a form shows it next to that field."""
    return Invalid(message, code="bad_scope", details=[{"loc": ["scope", field], "msg": msg, "type": kind}])


def _check_scope(session: Session, workspace_id: int, kind: str, scope: dict[str, Any]) -> None:
    """A 422 for a scope that cannot match anything: an unknown provider or account, or fields the kind ignores."""
    provider, account_id = scope.get("provider"), scope.get("account_id")
    for field in ("model", "project"):
        if kind == "sync_health" and scope.get(field) is not None:
            raise _bad_scope(
                field,
                "Sync-health rules are scoped by provider and account only.",
                f"sync-health rules have no {field} scope",
                "scope_not_allowed",
            )
    if provider is not None:
        cls = PROVIDERS.get(provider)
        if cls is None:
            known = ", ".join(sorted(PROVIDERS))
            raise _bad_scope(
                "provider",
                f"Unknown provider kind {provider!r}.",
                f"unknown provider (known: {known})",
                "unknown_provider",
            )
        if kind == "sync_health" and not cls.syncs:
            raise _bad_scope(
                "provider",
                f"{cls.label} accounts never sync, so they cannot be watched.",
                "never syncs",
                "not_syncable",
            )
    if account_id is not None:
        account = session.scalars(
            select(ProviderAccount).where(
                ProviderAccount.id == account_id, ProviderAccount.workspace_id == workspace_id
            )
        ).first()
        if account is None:
            # Another workspace's account gets the same answer as one that never existed.
            raise _bad_scope(
                "account_id",
                "No such account in this workspace.",
                "not an account of this workspace",
                "unknown_account",
            )
        if provider is not None and account.kind != provider:
            raise _bad_scope(
                "account_id",
                f"That account is a {account.kind} account, not {provider}.",
                f"a {account.kind} account, not {provider}",
                "provider_mismatch",
            )
        cls = PROVIDERS.get(account.kind)
        if kind == "sync_health" and (cls is None or not cls.syncs):
            raise _bad_scope(
                "account_id",
                "That account never syncs (manual entry), so it cannot be watched.",
                "never syncs (manual entry)",
                "not_syncable",
            )


def _set_scope(rule: AlertRule, scope: dict[str, Any]) -> None:
    rule.scope_provider = scope.get("provider")
    rule.scope_account_id = scope.get("account_id")
    rule.scope_model = scope.get("model")
    rule.scope_project = scope.get("project")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


def list_rules(*, session: Session, workspace_id: int, kind: str | None = None) -> list[AlertRule]:
    """The workspace's anomaly and sync-health rules (or those of KIND), oldest first."""
    stmt = select(AlertRule).where(
        AlertRule.workspace_id == workspace_id, AlertRule.kind.in_([kind] if kind else KINDS)
    )
    return list(session.scalars(stmt.order_by(AlertRule.id)))


def get_rule(*, session: Session, workspace_id: int, rule_id: int) -> AlertRule:
    """The rule, or 404 when it is not an anomaly or sync-health rule of this workspace."""
    rule = session.scalars(
        select(AlertRule).where(
            AlertRule.id == rule_id, AlertRule.workspace_id == workspace_id, AlertRule.kind.in_(KINDS)
        )
    ).first()
    if rule is None:
        raise NotFound("Alert rule not found.")
    return rule


def rule_states(*, session: Session, rule: AlertRule) -> list[AlertState]:
    """The rule's states, newest period first."""
    stmt = (
        select(AlertState)
        .where(AlertState.rule_id == rule.id, AlertState.workspace_id == rule.workspace_id)
        .order_by(AlertState.period_key.desc(), AlertState.threshold_key)
        .limit(MAX_STATES_SHOWN)
    )
    return list(session.scalars(stmt))


def create_rule(*, session: Session, workspace_id: int, data: dict[str, Any]) -> AlertRule:
    """Check everything first (scope, params, channels), then store the rule and its channel links."""
    kind = data["kind"]
    scope = data.get("scope") or {}
    _check_scope(session, workspace_id, kind, scope)
    params, currency = _validated_params(kind, data.get("params") or {}, "USD")
    channels = list(data.get("channels") or [])
    rule_channels.check_channels(session, workspace_id, channels)
    notify_on_resolve = data.get("notify_on_resolve")
    rule = AlertRule(
        workspace_id=workspace_id,
        name=data["name"],
        kind=kind,
        currency=currency,
        params=params,
        muted=bool(data.get("muted", False)),
        snoozed_until=_utc(data.get("snoozed_until")),
        repeat_minutes=data.get("repeat_minutes"),
        notify_on_resolve=NOTIFY_ON_RESOLVE[kind] if notify_on_resolve is None else notify_on_resolve,
    )
    _set_scope(rule, scope)
    session.add(rule)
    session.flush()
    rule_channels.set_channels(session, rule, channels)
    session.flush()
    log.info("alert rule created id=%s kind=%s workspace=%s", rule.id, kind, workspace_id)
    return rule


def stored_params(rule: AlertRule) -> dict[str, Any]:
    """The params as the API shows them: every setting with its default filled in (anomaly: with the currency)."""
    shown = PARAMS[rule.kind].stored(rule.params).model_dump(mode="json")
    if rule.kind == "anomaly":
        shown["currency"] = rule.currency
    return shown


def update_rule(*, session: Session, rule: AlertRule, changes: dict[str, Any]) -> AlertRule:
    """Apply a PATCH, checking everything before changing anything. A field sent as null is left alone, except
    snoozed_until and repeat_minutes, where null means stop snoozing / stop repeating."""
    if changes.get("scope") is not None:
        _check_scope(session, rule.workspace_id, rule.kind, changes["scope"])
    params = currency = None
    if changes.get("params") is not None:
        merged = {**stored_params(rule), **changes["params"]}
        params, currency = _validated_params(rule.kind, merged, rule.currency)
    if changes.get("channels") is not None:
        rule_channels.check_channels(session, rule.workspace_id, changes["channels"])

    if changes.get("name") is not None:
        rule.name = changes["name"]
    if changes.get("scope") is not None:
        _set_scope(rule, changes["scope"])
    if params is not None and currency is not None:
        rule.params, rule.currency = params, currency
    if changes.get("channels") is not None:
        rule_channels.set_channels(session, rule, changes["channels"])
    for key in ("muted", "notify_on_resolve"):
        if changes.get(key) is not None:
            setattr(rule, key, changes[key])
    # Sent explicitly as null: stop snoozing / stop repeating.
    if "snoozed_until" in changes:
        rule.snoozed_until = _utc(changes["snoozed_until"])
    if "repeat_minutes" in changes:
        rule.repeat_minutes = changes["repeat_minutes"]
    rule.updated_at = utcnow()
    session.flush()
    return rule


def delete_rule(*, session: Session, rule: AlertRule) -> None:
    """Delete the rule with its states and channel links; its past events stay in the history."""
    session.delete(rule)
    log.info("alert rule deleted id=%s workspace=%s", rule.id, rule.workspace_id)
