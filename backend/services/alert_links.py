"""Links carried by alert messages: the dashboard and a signed mute link per rule (docs/security/links.md).

Evaluators import these from here rather than from backend.services.alerting, which imports the evaluators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from backend.services.instance_settings import public_url

# v2: the token binds workspace, rule and the rule's nonce, and carries its signing time. Tokens of the first
# format ({"rule": id}, no time) were signed with another salt, so they no longer verify at all.
MUTE_SALT = "spendwatch.alert-rule.mute.v2"
# How long a mute link works after the message that carried it was built.
MUTE_LINK_MAX_AGE = dt.timedelta(days=30)


class LinkedRule(Protocol):
    """What a mute link is made from: an AlertRule, or a row read with these columns."""

    @property
    def id(self) -> int: ...
    @property
    def workspace_id(self) -> int: ...
    @property
    def link_nonce(self) -> str: ...


@dataclass(frozen=True)
class MuteClaim:
    """What a verified mute token says: this rule of this workspace, while its nonce is this one."""

    workspace_id: int
    rule_id: int
    nonce: str


def _serializer(secret_key: str, issued_at: dt.datetime | None = None) -> URLSafeTimedSerializer:
    signer = TimestampSigner
    if issued_at is not None:
        stamp = int(issued_at.timestamp())

        class _IssuedAt(TimestampSigner):
            def get_timestamp(self) -> int:
                return stamp

        signer = _IssuedAt
    return URLSafeTimedSerializer(
        secret_key, salt=MUTE_SALT, signer=signer, signer_kwargs={"digest_method": hashlib.sha256}
    )


def mute_token(rule: LinkedRule, secret_key: str, *, issued_at: dt.datetime | None = None) -> str:
    """A token that mutes RULE (signed with SECRET_KEY, stamped with ISSUED_AT, default now)."""
    claims = {"w": rule.workspace_id, "r": rule.id, "n": rule.link_nonce}
    return str(_serializer(secret_key, issued_at).dumps(claims))


def read_mute_token(token: str, secret_key: str) -> MuteClaim | None:
    """The claim of TOKEN when SECRET_KEY signed it less than MUTE_LINK_MAX_AGE ago, else None."""
    if not secret_key:
        return None
    try:
        # max_age makes the timestamp mandatory: a token without one (or from the future) is refused too.
        data = _serializer(secret_key).loads(token, max_age=int(MUTE_LINK_MAX_AGE.total_seconds()))
    except BadSignature:  # SignatureExpired and BadTimeSignature are BadSignatures
        return None
    if not isinstance(data, dict):
        return None
    workspace_id, rule_id, nonce = data.get("w"), data.get("r"), data.get("n")
    if not (type(workspace_id) is int and type(rule_id) is int and isinstance(nonce, str) and nonce):
        return None
    return MuteClaim(workspace_id=workspace_id, rule_id=rule_id, nonce=nonce)


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
    base: str  # the public URL without a trailing slash
    secret_key: str

    def dashboard(self) -> str:
        return f"{self.base}/"

    def mute(self, rule: LinkedRule) -> str | None:
        """The mute link (it opens a confirmation page), or None when no secret key is configured."""
        if not self.secret_key:
            return None
        return f"{self.base}{mute_path(rule.id)}?token={mute_token(rule, self.secret_key)}"

    def for_rule(self, rule: LinkedRule) -> dict[str, str | None]:
        """The payload's `links` object."""
        return {"dashboard": self.dashboard(), "mute": self.mute(rule)}


def mute_path(rule_id: int, action: str = "mute") -> str:
    """Where a mute link points (GET: confirmation page; POST: mute), or with ACTION "unmute" where its page's
    Unmute button posts."""
    return f"/api/alert-rules/{rule_id}/{action}"


def links(session: Session) -> Links:
    """Links for this evaluation, under the same public URL as every link Spendwatch sends (public_url)."""
    current = _LINK_SETTINGS.get(LinkSettings())
    return Links(public_url(session=session, default=current.base_url), current.secret_key)
