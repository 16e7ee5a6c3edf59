"""Links carried by alert messages: the dashboard and a signed one-click mute link per rule.

Evaluators import these from here rather than from backend.services.alerting, which imports the evaluators.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from backend.services.instance_settings import public_base_url

MUTE_SALT = "spendwatch.alert-rule.mute"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=MUTE_SALT)


def mute_token(rule_id: int, secret_key: str) -> str:
    """A token that mutes RULE_ID when presented to GET /api/alert-rules/{id}/mute (signed with SECRET_KEY)."""
    return str(_serializer(secret_key).dumps({"rule": rule_id}))


def verify_mute_token(rule_id: int, token: str, secret_key: str) -> bool:
    """Whether TOKEN was signed with SECRET_KEY for RULE_ID."""
    try:
        data = _serializer(secret_key).loads(token)
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("rule") == rule_id


@dataclass(frozen=True)
class LinkSettings:
    """What links need from the app's settings: BASE_URL (the default) and SECRET_KEY (signs mute links)."""

    base_url: str = ""
    secret_key: str = ""


_LINK_SETTINGS: ContextVar[LinkSettings] = ContextVar("spendwatch_alert_links")


@contextmanager
def using(settings: LinkSettings) -> Iterator[None]:
    """Evaluations inside the block build their links from SETTINGS (set by alerting.evaluate)."""
    token = _LINK_SETTINGS.set(settings)
    try:
        yield
    finally:
        _LINK_SETTINGS.reset(token)


@dataclass(frozen=True)
class Links:
    base: str
    secret_key: str

    def dashboard(self) -> str:
        return f"{self.base}/"

    def mute(self, rule_id: int) -> str | None:
        """The mute link, or None when no secret key is configured for this evaluation."""
        if not self.secret_key:
            return None
        return f"{self.base}/api/alert-rules/{rule_id}/mute?token={mute_token(rule_id, self.secret_key)}"

    def for_rule(self, rule_id: int) -> dict[str, str | None]:
        """The payload's `links` object."""
        return {"dashboard": self.dashboard(), "mute": self.mute(rule_id)}


def links(session: Session) -> Links:
    """Links for this evaluation: the admin's public URL setting, else BASE_URL."""
    current = _LINK_SETTINGS.get(LinkSettings())
    return Links(public_base_url(session=session, default=current.base_url), current.secret_key)
