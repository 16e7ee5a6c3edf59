"""What every channel sender takes and returns: the message, the channel's settings and the outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SmtpSecurity = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class Message:
    """One alert event as one channel receives it."""

    message_id: str  # Standard Webhooks webhook-id: the same on every retry of one notification
    event_id: int
    event_type: str  # "budget.threshold_crossed", …, "test"
    event_state: str  # "firing" | "resolved"
    created_at: dt.datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A channel's plain settings and its decrypted secrets (never logged)."""

    kind: str
    config: dict[str, Any]
    secrets: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class SmtpConfig:
    """The instance's SMTP settings; host '' means "write .eml files to the outbox folder"."""

    host: str = ""
    port: int = 587
    security: SmtpSecurity = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str = ""


@dataclass(frozen=True)
class SendContext:
    """Instance-wide settings a send needs, read once per delivery run."""

    smtp: SmtpConfig
    mail_outbox: Path  # where emails go when no SMTP host is set
    allow_private_webhooks: bool = False
    timeout_seconds: float = 15.0


@dataclass(frozen=True)
class SendResult:
    """How one attempt went. PERMANENT failures are not retried; GONE asks for the channel to be disabled."""

    ok: bool
    response_code: int | None = None  # HTTP status or SMTP reply code
    error: str | None = None
    permanent: bool = False
    gone: bool = False
    duration_ms: int = 0
    note: str | None = None  # e.g. "written to the mail outbox"


def failure(error: str, *, code: int | None = None, permanent: bool = False, gone: bool = False) -> SendResult:
    """A failed attempt (transient unless PERMANENT)."""
    return SendResult(ok=False, response_code=code, error=error[:500], permanent=permanent or gone, gone=gone)
