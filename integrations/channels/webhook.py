"""Webhook channel: a Standard Webhooks signed JSON event (format "standard"), or a Slack incoming-webhook
message (format "slack", unsigned: Slack authenticates by its secret URL)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets as random_secrets
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from integrations.channels.base import Message, SendContext, SendResult, Target, failure
from integrations.channels.render import render
from integrations.http import (
    OutboundPolicy,
    UnresolvableHostError,
    UnsafeURLError,
    build_client,
    check_outbound_url,
    status_phrase,
)

PAYLOAD_VERSION = 1
SECRET_PREFIX = "whsec_"
# Header names a channel's extra headers may not set: the signature, the framing and the transport.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "host",
        "user-agent",
        "transfer-encoding",
        "connection",
    }
)


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode()


def event_body(message: Message) -> dict[str, Any]:
    """The standard JSON body: type, version, event id, creation time and the event's figures."""
    return {
        "type": message.event_type,
        "version": PAYLOAD_VERSION,
        "id": message.event_id,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
        "state": message.event_state,
        "data": message.payload,
    }


def slack_body(message: Message) -> dict[str, Any]:
    """A Slack incoming-webhook body: the subject as text, the figures as a section, the links as buttons."""
    rendered = render(message)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": rendered.subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": rendered.text.strip()[:2900] or rendered.subject}},
    ]
    links = message.payload.get("links") if isinstance(message.payload.get("links"), dict) else {}
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url}
        for label, url in (("Open dashboard", (links or {}).get("dashboard")), ("Mute", (links or {}).get("mute")))
        if isinstance(url, str) and url.startswith(("http://", "https://"))
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": rendered.subject, "blocks": blocks}


def active_secrets(stored: dict[str, Any], now: dt.datetime) -> list[str]:
    """The current secret, plus the previous one while a rotation's grace period lasts."""
    found = [str(stored["secret"])] if stored.get("secret") else []
    previous, until = stored.get("previous_secret"), stored.get("previous_until")
    if previous and until:
        try:
            if dt.datetime.fromisoformat(str(until)) > now:
                found.append(str(previous))
        except ValueError:
            pass
    return found


def signature_headers(message_id: str, body: str, stored: dict[str, Any], now: dt.datetime) -> dict[str, str]:
    """webhook-id / webhook-timestamp / webhook-signature (one `v1,…` per active secret, space-separated)."""
    signatures = [Webhook(secret).sign(message_id, now, body) for secret in active_secrets(stored, now)]
    headers = {"webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp()))}
    if signatures:
        headers["webhook-signature"] = " ".join(signatures)
    return headers


def send(message: Message, target: Target, context: SendContext) -> SendResult:
    """POST the event; 2xx is delivered, 410 disables the channel, anything else (and no answer) is retried."""
    # The URL is kept with the secrets (its path is often the credential); channels saved before kept it in config.
    url = str(target.secrets.get("url") or target.config.get("url") or "")
    try:
        parsed = check_outbound_url(url, allow_private=context.allow_private_webhooks)
    except UnresolvableHostError as exc:  # DNS down or the name gone: retried, and never sent unresolved
        return failure(f"refused to send: {exc}")
    except UnsafeURLError as exc:
        # Checked again at send time (DNS answers change): refusing now is final for this notification.
        return failure(f"refused to send: {exc}", permanent=True)
    host = parsed.host
    now = dt.datetime.now(dt.UTC)
    fmt = target.config.get("format") or "standard"
    body = json.dumps(slack_body(message) if fmt == "slack" else event_body(message), separators=(",", ":"))
    extra = target.secrets.get("headers") if isinstance(target.secrets.get("headers"), dict) else {}
    headers = {str(k): str(v) for k, v in (extra or {}).items() if str(k).lower() not in RESERVED_HEADERS}
    headers["Content-Type"] = "application/json"
    if fmt != "slack":
        headers.update(signature_headers(message.message_id, body, target.secrets, now))
    timeout = httpx.Timeout(context.timeout_seconds, connect=min(context.timeout_seconds, 10.0))
    policy = OutboundPolicy(allow_private=context.allow_private_webhooks)
    try:
        with build_client(base_url="", policy=policy, headers=headers, timeout=timeout) as client:
            response = client.post(str(parsed), content=body.encode())
    except UnsafeURLError as exc:  # the transport's connect-time check (DNS may have changed since the one above)
        return failure(f"refused to send: {exc}", permanent=not isinstance(exc, UnresolvableHostError))
    except httpx.TimeoutException:
        return failure(f"{host} did not answer within {context.timeout_seconds:g} s")
    except httpx.TransportError as exc:
        return failure(f"could not connect to {host} ({type(exc).__name__})")
    status = response.status_code
    if 200 <= status < 300:
        return SendResult(ok=True, response_code=status)
    if status == 410:
        return failure(f"{host} answered 410 Gone: the endpoint asked for no more deliveries", code=410, gone=True)
    # The standard phrase, not the receiver's own: it could write anything there.
    return failure(f"{host} answered HTTP {status} {status_phrase(status)}", code=status)
