"""What the holder of a signed mute link may do: find the rule it names, mute or unmute it; and revoking links."""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import set_workspace
from backend.models import AlertRule
from backend.models.alerts import new_link_nonce
from backend.services.alert_links import MuteClaim


def rule_for_link(*, session: Session, claim: MuteClaim, rule_id: int) -> AlertRule | None:
    """The rule CLAIM names (RULE_ID is the link's path), or None: another rule, a deleted one, one that is not in
    the claim's workspace, or a nonce that was rotated since the link was made all get the same None."""
    if claim.rule_id != rule_id:
        return None
    # The token's workspace scopes the lookup (and PostgreSQL row-level security), not only the row id.
    set_workspace(session, claim.workspace_id)
    rule = session.scalars(
        select(AlertRule).where(AlertRule.id == claim.rule_id, AlertRule.workspace_id == claim.workspace_id)
    ).first()
    if rule is None or rule.workspace_id != claim.workspace_id:
        return None
    # Constant time: the comparison must not tell an attacker how much of a guessed nonce was right.
    if not hmac.compare_digest(rule.link_nonce.encode(), claim.nonce.encode()):
        return None
    return rule


def set_muted(*, session: Session, rule: AlertRule, muted: bool) -> AlertRule:
    """Mute or unmute RULE for the holder of its verified link (the link stays valid for the other action)."""
    rule.muted = muted
    session.flush()
    return rule


def rotate_nonce(*, session: Session, rule: AlertRule) -> None:
    """Give RULE a new link nonce: every mute link sent for it so far stops working."""
    rule.link_nonce = new_link_nonce()
    session.flush()
