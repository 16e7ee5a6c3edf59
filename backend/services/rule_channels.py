"""Which channels a rule notifies: checking, storing and reading a rule's channel links (all rule kinds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.errors import Invalid
from backend.models import AlertRule, Channel, RuleChannel


def check_channels(session: Session, workspace_id: int, channel_ids: list[int]) -> None:
    """422 unless every id is a channel of the workspace (checked before anything is stored)."""
    wanted = set(channel_ids)
    if not wanted:
        return
    found = set(
        session.scalars(select(Channel.id).where(Channel.workspace_id == workspace_id, Channel.id.in_(sorted(wanted))))
    )
    unknown = sorted(wanted - found)
    if unknown:
        # Ids of other workspaces are reported exactly like ids that never existed.
        raise Invalid(
            "Some channels are not channels of this workspace.",
            code="unknown_channel",
            details=[{"loc": ["channels"], "msg": f"unknown channel ids: {unknown}", "type": "unknown_channel"}],
        )


def set_channels(session: Session, rule: AlertRule, channel_ids: list[int]) -> None:
    """Replace the rule's channel links."""
    session.execute(delete(RuleChannel).where(RuleChannel.rule_id == rule.id))
    session.add_all(
        RuleChannel(workspace_id=rule.workspace_id, rule_id=rule.id, channel_id=c) for c in sorted(set(channel_ids))
    )


def channel_ids(*, session: Session, rule_ids: Iterable[int]) -> dict[int, list[int]]:
    """The channel ids of each rule, in one query."""
    ids = sorted(set(rule_ids))
    out: dict[int, list[int]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(RuleChannel.rule_id, RuleChannel.channel_id)
            .where(RuleChannel.rule_id.in_(ids))
            .order_by(RuleChannel.channel_id)
        )
        for rule_id, channel_id in rows:
            out[rule_id].append(channel_id)
    return out
