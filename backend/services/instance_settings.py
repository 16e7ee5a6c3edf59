"""Instance settings: typed defaults, stored values, encrypted secrets and their masked view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.crypto import mask_secret
from backend.db import utcnow
from backend.models import InstanceSettings
from backend.models.settings import SETTINGS_ROW_ID

RegistrationMode = Literal["open", "invite", "closed"]


class SmtpSettings(BaseModel):
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str = ""
    from_address: str = ""


class SyncIntervals(BaseModel):
    ai_minutes: int = Field(15, ge=1, le=24 * 60)
    money_minutes: int = Field(360, ge=15, le=7 * 24 * 60)


class InstanceConfig(BaseModel):
    """Non-secret instance settings with their defaults."""

    registration_mode: RegistrationMode = "invite"
    sync_intervals: SyncIntervals = SyncIntervals()
    smtp: SmtpSettings = SmtpSettings()
    allow_private_webhooks: bool = False
    base_url: str | None = None
    # Per provider kind, the API address to use instead of the kind's own (a proxy or gateway). Set by the
    # instance admin only, and trusted like the operator's SPENDWATCH_PROVIDER_URL_<KIND>, which wins over it.
    provider_urls: dict[str, str] = {}


# Secret settings live in the encrypted column under these keys and are shown only as hints.
SECRET_KEYS = ("smtp_password",)


def _row(session: Session) -> InstanceSettings:
    row = session.get(InstanceSettings, SETTINGS_ROW_ID)
    if row is None:
        row = InstanceSettings(id=SETTINGS_ROW_ID, values={}, secrets={})
        session.add(row)
        session.flush()
    return row


def get_config(*, session: Session) -> InstanceConfig:
    """Current instance settings (defaults for anything never set)."""
    # Only the plain column: loading the row would decrypt its secrets too (every sync asks for intervals).
    values = session.scalar(select(InstanceSettings.values).where(InstanceSettings.id == SETTINGS_ROW_ID))
    return InstanceConfig.model_validate(values or {})


def public_url(*, session: Session, default: str, path: str = "") -> str:
    """An absolute URL for PATH that users open from an invitation, an alert message or a mute page: under the
    admin's public URL setting, else DEFAULT (the BASE_URL config). Every link Spendwatch sends is built here."""
    return (get_config(session=session).base_url or default).rstrip("/") + path


def provider_urls(*, config: InstanceConfig, operator: Mapping[str, str] | None) -> dict[str, str]:
    """The API address override of each provider kind: the operator's (server configuration) over the admin's."""
    return {**config.provider_urls, **(operator or {})}


def get_secret(*, session: Session, key: str) -> str:
    """A decrypted secret setting, or '' when unset (for the code that uses it, never for the API)."""
    row = session.get(InstanceSettings, SETTINGS_ROW_ID)
    return str((row.secrets or {}).get(key, "")) if row else ""


def masked_view(*, session: Session) -> dict[str, Any]:
    """Settings as the admin API shows them: secrets replaced by hints."""
    row = session.get(InstanceSettings, SETTINGS_ROW_ID)
    config = InstanceConfig.model_validate(row.values if row else {})
    secrets = row.secrets if row else {}
    data = config.model_dump()
    data["smtp"]["password"] = mask_secret(str(secrets.get("smtp_password", "")))
    data["updated_at"] = row.updated_at if row else None
    return data


def resolve_secret(submitted: str | None, current: str) -> str:
    """Apply the masking rule: omitted or the hint sent back keeps the secret, '' clears, else replace."""
    if submitted is None or (current and submitted == mask_secret(current)):
        return current
    return submitted


def update(*, session: Session, changes: dict[str, Any], smtp_password: str | None = None) -> None:
    """Merge CHANGES (a partial InstanceConfig) into the stored settings, validating the result."""
    row = _row(session)
    merged = InstanceConfig.model_validate(row.values or {}).model_dump()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    # null (or "") in a change removes that kind's address: the kind's own is used again.
    merged["provider_urls"] = {k: v for k, v in (merged.get("provider_urls") or {}).items() if v}
    row.values = InstanceConfig.model_validate(merged).model_dump(mode="json")
    secrets = dict(row.secrets or {})
    new_password = resolve_secret(smtp_password, str(secrets.get("smtp_password", "")))
    if new_password:
        secrets["smtp_password"] = new_password
    else:
        secrets.pop("smtp_password", None)
    row.secrets = secrets
    row.updated_at = utcnow()
