"""Channels: create, read, update and delete email and webhook channels; signing secrets and masked headers."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.crypto import mask_secret
from backend.db import utcnow
from backend.errors import Invalid, NotFound
from backend.models import Channel
from backend.services import instance_settings
from integrations.channels.webhook import new_secret
from integrations.http import UnsafeURLError, check_outbound_url

log = logging.getLogger(__name__)

ROTATION_GRACE = dt.timedelta(hours=24)  # both secrets sign for this long after a rotation


def check_url(*, session: Session, url: str) -> str:
    """URL if it may be a webhook target (422 otherwise): http(s), well-formed, and not private unless allowed."""
    allow = instance_settings.get_config(session=session).allow_private_webhooks
    try:
        check_outbound_url(url, allow_private=allow)
    except UnsafeURLError as exc:
        raise Invalid(str(exc), code="invalid_url", details=[{"loc": ["url"], "msg": str(exc)}]) from None
    return url


def list_channels(*, session: Session, workspace_id: int) -> list[Channel]:
    return list(session.scalars(select(Channel).where(Channel.workspace_id == workspace_id).order_by(Channel.id)))


def get_channel(*, session: Session, workspace_id: int, channel_id: int) -> Channel:
    """The channel, or 404 when it does not exist in this workspace."""
    channel = session.scalars(
        select(Channel).where(Channel.id == channel_id, Channel.workspace_id == workspace_id)
    ).first()
    if channel is None:
        raise NotFound("Channel not found.")
    return channel


def masked_headers(channel: Channel) -> dict[str, str]:
    """Extra header values are secrets (tokens): shown as hints only."""
    headers = (channel.secrets or {}).get("headers") or {}
    return {str(name): mask_secret(str(value)) for name, value in headers.items()}


def url_hint(url: str) -> str:
    """What the API shows of a webhook URL: its origin and first path segment. The rest is often the credential
    (Slack's /services/T…/B…/<token>, many others' /hooks/<token>), so it is stored encrypted and never shown."""
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    first, _, tail = path.partition("/")
    shown = f"{scheme}://{host}/{first}"
    return f"{shown}/…{tail[-4:]}" if len(tail) >= 12 else (f"{shown}/…" if tail else shown)


def _merge_headers(current: dict[str, str], submitted: dict[str, str]) -> dict[str, str]:
    """A PATCH's headers replace the set; a value sent back as its hint keeps the stored value."""
    merged = {}
    for name, value in submitted.items():
        old = current.get(name, "")
        merged[name] = old if old and value == mask_secret(old) else value
    return merged


def create_channel(
    *,
    session: Session,
    workspace_id: int,
    name: str,
    kind: str,
    recipients: list[str] | None = None,
    url: str | None = None,
    fmt: str = "standard",
    headers: dict[str, str] | None = None,
) -> tuple[Channel, str | None]:
    """Store a channel; a webhook gets a new signing secret, returned here once and never shown again."""
    secret: str | None = None
    if kind == "email":
        config: dict[str, Any] = {"recipients": list(recipients or [])}
        secrets: dict[str, Any] = {}
    else:
        checked = check_url(session=session, url=url or "")
        config = {"url_hint": url_hint(checked), "format": fmt}
        secret = new_secret()
        secrets = {"secret": secret, "url": checked, "headers": dict(headers or {})}
    channel = Channel(workspace_id=workspace_id, name=name, kind=kind, config=config, secrets=secrets, enabled=True)
    session.add(channel)
    session.flush()
    log.info("channel created id=%s kind=%s workspace=%s", channel.id, kind, workspace_id)
    return channel, secret


def update_channel(*, session: Session, channel: Channel, changes: dict[str, Any]) -> Channel:
    """Apply a PATCH. Re-enabling clears the reason it was disabled; fields of the other kind are refused."""
    own = {"email": {"recipients"}, "webhook": {"url", "format", "headers"}}[channel.kind]
    foreign = sorted(k for k in ("recipients", "url", "format", "headers") if k in changes and k not in own)
    if foreign:
        raise Invalid(
            f"A {channel.kind} channel has no {', '.join(foreign)}.",
            details=[{"loc": [k], "msg": f"not a field of {channel.kind} channels"} for k in foreign],
        )
    if changes.get("name") is not None:
        channel.name = changes["name"]
    config = dict(channel.config or {})
    secrets = dict(channel.secrets or {})
    if changes.get("recipients") is not None:
        config["recipients"] = list(changes["recipients"])
    # A URL sent back as the hint the API showed keeps the stored one (the form round-trips what it was given).
    if changes.get("url") is not None and changes["url"] != config.get("url_hint"):
        secrets["url"] = check_url(session=session, url=changes["url"])
        config.pop("url", None)
        config["url_hint"] = url_hint(secrets["url"])
    if changes.get("format") is not None:
        config["format"] = changes["format"]
    if changes.get("headers") is not None:
        secrets["headers"] = _merge_headers(dict(secrets.get("headers") or {}), changes["headers"])
    channel.config = config
    if secrets != (channel.secrets or {}):
        channel.secrets = secrets
    if changes.get("enabled") is not None:
        channel.enabled = bool(changes["enabled"])
        if channel.enabled:
            channel.disabled_reason = None
        elif not channel.disabled_reason:
            channel.disabled_reason = "disabled by a user"
    channel.updated_at = utcnow()
    session.flush()
    return channel


def delete_channel(*, session: Session, channel: Channel) -> None:
    """Delete the channel with its notifications and delivery log (rules stop notifying it)."""
    session.delete(channel)
    session.flush()


def rotate_secret(*, session: Session, channel: Channel) -> tuple[str, dt.datetime]:
    """A new signing secret (returned once); the previous one keeps signing for 24 h, until the time returned."""
    if channel.kind != "webhook":
        raise Invalid("Only webhook channels have a signing secret.", code="not_a_webhook")
    secrets = dict(channel.secrets or {})
    secret = new_secret()
    until = utcnow() + ROTATION_GRACE
    secrets.update(previous_secret=secrets.get("secret"), previous_until=until.isoformat(), secret=secret)
    channel.secrets = secrets
    channel.updated_at = utcnow()
    session.flush()
    return secret, until


def rotation_until(channel: Channel) -> dt.datetime | None:
    """Until when the previous secret still signs (None when no rotation is in its grace period)."""
    raw = (channel.secrets or {}).get("previous_until")
    if not raw:
        return None
    try:
        until = dt.datetime.fromisoformat(str(raw))
    except ValueError:
        return None
    return until if until > utcnow() else None
