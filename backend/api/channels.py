"""/api/channels and /api/notifications: where alerts are delivered, and the delivery log."""

from __future__ import annotations

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.extensions import get_state
from backend.models import Channel
from backend.schemas.channels import (
    ChannelCreated,
    ChannelIn,
    ChannelList,
    ChannelOut,
    ChannelPatch,
    ChannelPath,
    DeliveryList,
    DeliveryOut,
    DeliveryQuery,
    NotificationOut,
    NotificationPath,
    SecretRotated,
    TestOutcome,
)
from backend.services import channels, delivery, instance_settings

bp = APIBlueprint(
    "channels",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="channels")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())


def channel_out(channel: Channel) -> ChannelOut:
    config = channel.config or {}
    webhook = channel.kind == "webhook"
    return ChannelOut(
        id=channel.id,
        workspace_id=channel.workspace_id,
        name=channel.name,
        kind=channel.kind,
        enabled=channel.enabled,
        disabled_reason=channel.disabled_reason,
        recipients=None if webhook else list(config.get("recipients") or []),
        url=(config.get("url_hint") or channels.url_hint(str(config.get("url") or ""))) if webhook else None,
        format=config.get("format", "standard") if webhook else None,
        headers=channels.masked_headers(channel) if webhook else None,
        previous_secret_valid_until=channels.rotation_until(channel) if webhook else None,
        last_error=channel.last_error,
        last_delivery_at=channel.last_delivery_at,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _channel(channel_id: int) -> Channel:
    return channels.get_channel(session=db(), workspace_id=current_actor().workspace_id, channel_id=channel_id)


@bp.get("/channels", responses={200: ChannelList})
def list_channels() -> Response:
    """Channels of the current workspace."""
    items = channels.list_channels(session=db(), workspace_id=current_actor().workspace_id)
    return json_response(ChannelList(items=[channel_out(c) for c in items]))


@bp.post("/channels", responses={201: ChannelCreated})
def create_channel(body: ChannelIn) -> Response:
    """Add an email or webhook channel. A webhook's signing secret is in this answer only."""
    session = db()
    channel, secret = channels.create_channel(
        session=session,
        workspace_id=current_actor().workspace_id,
        name=body.name,
        kind=body.kind,
        recipients=list(body.recipients or []),
        url=body.url,
        fmt=body.format or "standard",
        headers=body.headers,
    )
    session.commit()
    return json_response(ChannelCreated(**channel_out(channel).model_dump(), secret=secret), 201)


@bp.get("/channels/<int:channel_id>", responses={200: ChannelOut})
def get_channel(path: ChannelPath) -> Response:
    """One channel, with its last error and last delivery."""
    return json_response(channel_out(_channel(path.channel_id)))


@bp.patch("/channels/<int:channel_id>", responses={200: ChannelOut})
def update_channel(path: ChannelPath, body: ChannelPatch) -> Response:
    """Change a channel; `enabled: true` re-enables one that was disabled."""
    session = db()
    channel = _channel(path.channel_id)
    channels.update_channel(session=session, channel=channel, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return json_response(channel_out(channel))


@bp.delete("/channels/<int:channel_id>", responses={204: None})
def delete_channel(path: ChannelPath) -> Response:
    """Delete a channel with its delivery log."""
    session = db()
    channels.delete_channel(session=session, channel=_channel(path.channel_id))
    session.commit()
    return no_content()


@bp.post("/channels/<int:channel_id>/rotate-secret", responses={200: SecretRotated})
def rotate_secret(path: ChannelPath) -> Response:
    """A new signing secret, shown once; the previous one keeps signing (a second signature) for 24 hours."""
    session = db()
    secret, until = channels.rotate_secret(session=session, channel=_channel(path.channel_id))
    session.commit()
    return json_response(SecretRotated(secret=secret, previous_secret_valid_until=until))


@bp.post("/channels/<int:channel_id>/test", responses={200: TestOutcome})
def test_channel(path: ChannelPath) -> Response:
    """Send a `test` event now and say how it went; the attempt is in the channel's delivery log."""
    session = db()
    channel = _channel(path.channel_id)
    settings = get_state(current_app).settings
    base_url = instance_settings.public_url(session=session, default=settings.base_url)
    notification, result = delivery.send_test(session=session, channel=channel, settings=settings, base_url=base_url)
    return json_response(
        TestOutcome(
            ok=result.ok,
            status_code=result.response_code,
            error=result.error,
            duration_ms=result.duration_ms,
            note=result.note,
            notification_id=notification.id if notification else None,
            message_id=notification.message_id if notification else None,
        )
    )


@bp.get("/channels/<int:channel_id>/deliveries", responses={200: DeliveryList})
def list_deliveries(path: ChannelPath, query: DeliveryQuery) -> Response:
    """Delivery attempts to this channel, newest first (time, outcome, response code, duration, error)."""
    session = db()
    channel = _channel(path.channel_id)
    rows = delivery.list_attempts(
        session=session,
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        limit=query.limit,
        before=query.before,
    )
    items = [
        DeliveryOut(
            id=a.id,
            notification_id=n.id,
            event_id=e.id,
            event_type=e.type,
            message_id=n.message_id,
            notification_status=n.status,
            attempted_at=a.attempted_at,
            ok=a.ok,
            response_code=a.response_code,
            duration_ms=a.duration_ms,
            error=a.error,
        )
        for a, n, e in rows
    ]
    next_before = items[-1].id if len(items) == query.limit else None
    return json_response(DeliveryList(items=items, next_before=next_before))


@bp.post("/notifications/<int:notification_id>/retry", responses={200: NotificationOut})
def retry_notification(path: NotificationPath) -> Response:
    """Send a dead (or pending) notification again now, with a fresh retry schedule."""
    session = db()
    notification = delivery.retry(
        session=session, workspace_id=current_actor().workspace_id, notification_id=path.notification_id
    )
    session.commit()
    return json_response(NotificationOut.of(notification))
