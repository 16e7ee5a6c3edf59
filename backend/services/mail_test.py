"""The admin's "Send test email": one message through the instance's saved SMTP settings, now, and how it went."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db import utcnow
from backend.services.delivery import send_context
from backend.services.outbox import new_message_id
from integrations.channels import registry
from integrations.channels.base import Message, Target

log = logging.getLogger(__name__)

TEXT = (
    "This is a test email from the Spendwatch admin settings: outgoing mail works with these settings. "
    "Alert emails are sent the same way."
)


def send_test_email(*, session: Session, settings: Settings, to: str, base_url: str) -> dict[str, Any]:
    """Send a test email to TO with the saved SMTP settings (or write it to the mail outbox when no host is set);
    the outcome never holds the SMTP password."""
    context = send_context(session=session, settings=settings)
    # End the request's read transaction first: talking to the mail server may take up to the delivery timeout.
    session.commit()
    smtp = context.smtp
    message = Message(
        message_id=new_message_id(),
        event_id=0,  # no alert event: nothing is stored for a test email
        event_type="test",
        event_state="firing",
        created_at=utcnow(),
        payload={"message": TEXT, "links": {"dashboard": f"{base_url}/", "mute": None}},
    )
    result = registry.send(message, Target(kind="email", config={"recipients": [to]}, secrets={}), context)
    via = "smtp" if smtp.host else "outbox"
    server = f"{smtp.host}:{smtp.port} ({smtp.security})" if smtp.host else None
    log.info("admin test email via=%s server=%s ok=%s", via, server, result.ok)
    note = result.note
    if via == "outbox" and result.ok:
        note = (
            f"SMTP is not set up (no host), so the message was not sent: it was {result.note} "
            f"({context.mail_outbox}). Set a host to send real mail."
        )
    return {
        "ok": result.ok,
        "via": via,
        "server": server,
        "status_code": result.response_code,
        "error": result.error,
        "note": note,
        "duration_ms": result.duration_ms,
    }
