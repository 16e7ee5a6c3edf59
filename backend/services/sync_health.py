"""Sync-health rules: an account failing N syncs in a row, or whose data is older than H hours.

Watched accounts: the enabled accounts of the rule's workspace and scope (provider kind and/or account; NULL =
all) whose provider syncs at all (manual accounts never sync, so they are never stale). One state per (rule,
account): "failing" when `consecutive_failures ≥ failures`, else "stale" when the last successful sync (or, for
an account that never succeeded, its creation) is more than `stale_hours` ago. The account recovers — and the
state resolves — on its next successful sync. A disabled or deleted account is no longer watched: its state
stays as it was last seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from backend.models import AlertRule, ProviderAccount
from backend.services import alert_links
from backend.services.alert_rules import SyncHealthParams, rule_ref
from backend.services.alert_state import Observation
from integrations.providers import PROVIDERS

KIND = "sync_health"
EVENT_TYPE = "account.sync_failing"
RESOLVED_TYPE = "account.recovered"
PERIOD_KEY = "-"


def syncing_kinds() -> list[str]:
    """Provider kinds that sync (manual entry does not)."""
    return sorted(kind for kind, cls in PROVIDERS.items() if cls.syncs)


def reason_for(
    *, consecutive_failures: int, last_success_at: dt.datetime | None, created_at: dt.datetime,
    params: SyncHealthParams, now: dt.datetime,
) -> str | None:  # fmt: skip
    """'failing', 'stale' or None (healthy) for one account under one rule's params."""
    if consecutive_failures >= params.failures:
        return "failing"
    if now - (last_success_at or created_at) > dt.timedelta(hours=params.stale_hours):
        return "stale"
    return None


def evaluate_sync_health(
    *, session: Session, now: dt.datetime, workspace_ids: Iterable[int] | None = None
) -> list[Observation]:
    """Observations of every sync-health rule (of WORKSPACE_IDS, else all), one per watched account."""
    rule, account = AlertRule, ProviderAccount
    stmt = (
        select(
            rule,
            account.id,
            account.name,
            account.kind,
            account.consecutive_failures,
            account.last_error,
            account.last_success_at,
            account.created_at,
        )
        .join(
            account,
            and_(
                account.workspace_id == rule.workspace_id,
                or_(rule.scope_provider.is_(None), account.kind == rule.scope_provider),
                or_(rule.scope_account_id.is_(None), account.id == rule.scope_account_id),
            ),
        )
        .where(rule.kind == KIND, account.enabled.is_(True), account.kind.in_(syncing_kinds()))
        .order_by(rule.id, account.id)
    )
    if workspace_ids is not None:
        stmt = stmt.where(rule.workspace_id.in_(list(workspace_ids)))
    rows = session.execute(stmt).all()
    links = alert_links.links(session)
    observations: list[Observation] = []
    for r, account_id, name, kind, failures, last_error, last_success_at, created_at in rows:
        reason = reason_for(
            consecutive_failures=failures,
            last_success_at=last_success_at,
            created_at=created_at,
            params=SyncHealthParams.stored(r.params),
            now=now,
        )
        observations.append(
            Observation(
                rule_id=r.id,
                workspace_id=r.workspace_id,
                period_key=PERIOD_KEY,
                threshold_key=f"account:{account_id}",
                group=f"account:{account_id}",  # each account alerts on its own
                firing=reason is not None,
                rank=Decimal(1),
                value=Decimal(failures),
                event_type=EVENT_TYPE,
                resolved_type=RESOLVED_TYPE,
                payload={
                    "rule": rule_ref(r),
                    "account": {"id": account_id, "name": name, "kind": kind},
                    "consecutive_failures": failures,
                    "last_error": last_error,
                    "last_success_at": last_success_at.isoformat() if last_success_at else None,
                    "reason": reason or "ok",
                    "links": links.for_rule(r),
                },
            )
        )
    return observations
