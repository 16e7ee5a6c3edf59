"""Provider accounts: create, read, update with masked secrets, delete, and test the connection."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.crypto import UNDECRYPTABLE_MESSAGE, Undecryptable, mask_secret
from backend.db import utcnow
from backend.errors import Invalid, NotFound
from backend.models import ProviderAccount
from backend.services import alert_marks, instance_settings
from integrations.providers import PROVIDERS, get_provider
from integrations.providers.base import ConnectionResult, Provider, ProviderAuthError, ProviderError, Unavailable

log = logging.getLogger(__name__)


def provider_class(kind: str) -> type[Provider]:
    """The registered provider for KIND, or a 422 naming the known kinds."""
    cls = get_provider(kind)
    if cls is None:
        raise Invalid(
            f"Unknown provider kind {kind!r}.",
            code="unknown_provider",
            details={"known": sorted(PROVIDERS)},
        )
    return cls


def _check_credentials(cls: type[Provider], credentials: dict[str, Any]) -> None:
    errors = cls.validate_credentials(credentials)
    if errors:
        raise Invalid(
            "Some credentials are missing or not valid.",
            details=[{"loc": ["credentials", k], "msg": v, "type": "credential"} for k, v in errors.items()],
        )


def _check_config(cls: type[Provider], config: dict[str, Any]) -> None:
    """422 unless CONFIG holds only the settings CLS declares (never a base URL or other connection target)."""
    errors = cls.validate_config(config)
    if errors:
        raise Invalid(
            f"Some settings are not valid for {cls.label}.",
            details=[{"loc": ["config", k], "msg": v, "type": "config"} for k, v in errors.items()],
        )


def masked_credentials(account: ProviderAccount) -> dict[str, str]:
    """Credentials as the API shows them: secret fields as hints, other fields as they are."""
    cls = get_provider(account.kind)
    fields = {f.name: f for f in cls.credential_fields} if cls else {}
    shown: dict[str, str] = {}
    for name, value in (account.credentials or {}).items():
        field = fields.get(name)
        shown[name] = mask_secret(str(value)) if field is None or field.secret else str(value)
    return shown


def list_accounts(*, session: Session, workspace_id: int) -> list[ProviderAccount]:
    stmt = select(ProviderAccount).where(ProviderAccount.workspace_id == workspace_id).order_by(ProviderAccount.id)
    return list(session.scalars(stmt))


def get_account(*, session: Session, workspace_id: int, account_id: int) -> ProviderAccount:
    """The account, or 404 when it does not exist in this workspace."""
    account = session.scalars(
        select(ProviderAccount).where(ProviderAccount.id == account_id, ProviderAccount.workspace_id == workspace_id)
    ).first()
    if account is None:
        raise NotFound("Account not found.")
    return account


def create_account(
    *,
    session: Session,
    workspace_id: int,
    kind: str,
    name: str,
    credentials: dict[str, Any],
    config: dict[str, Any] | None = None,
    sync_interval_minutes: int | None = None,
) -> ProviderAccount:
    """Store a new account; its credentials are encrypted by the column type."""
    cls = provider_class(kind)
    _check_credentials(cls, credentials)
    _check_config(cls, config or {})
    typed = {k: v.strip() for k, v in credentials.items() if v}
    account = ProviderAccount(
        workspace_id=workspace_id,
        kind=kind,
        name=name.strip() or cls.label,
        credentials=_exchanged(session, cls, typed, config or {}),
        config=config or {},
        sync_interval_minutes=sync_interval_minutes,
        status="new",
        # The first sync (the backfill) starts with the next dispatch; kinds that never sync are never due.
        next_sync_at=utcnow() if cls.syncs else None,
    )
    session.add(account)
    session.flush()
    log.info("account created id=%s kind=%s workspace=%s", account.id, kind, workspace_id)
    return account


def _exchanged(
    session: Session, cls: type[Provider], credentials: dict[str, Any], config: dict[str, Any]
) -> dict[str, Any]:
    """What to store of the typed credentials: a kind taking a one-time token (SimpleFIN) claims it now; a refusal
    is the user's to fix (422 with the provider's words), and nothing is stored."""
    allow_private = instance_settings.get_config(session=session).allow_private_webhooks
    try:
        return cls(credentials, config=config).exchange_credentials(allow_private=allow_private)
    except ProviderError as exc:
        raise Invalid(
            exc.message, code="credentials_rejected", details=[{"loc": ["credentials"], "msg": exc.message}]
        ) from None


def update_account(*, session: Session, account: ProviderAccount, changes: dict[str, Any]) -> ProviderAccount:
    """Apply a PATCH. A secret sent back as its hint keeps the stored value; new credentials clear the status."""
    if "name" in changes and changes["name"] is not None:
        account.name = changes["name"].strip() or account.name
    if changes.get("config") is not None:
        _check_config(provider_class(account.kind), changes["config"])
        account.config = changes["config"]
    if changes.get("enabled") is not None:
        account.enabled = changes["enabled"]
    if "sync_interval_minutes" in changes:
        account.sync_interval_minutes = changes["sync_interval_minutes"]
    submitted = changes.get("credentials")
    if submitted is not None:
        cls = provider_class(account.kind)
        current = dict(account.credentials or {})
        declared = {f.name for f in cls.credential_fields}
        # What an exchange stored in place of the form's fields (SimpleFIN's Access URL) gives way to new input.
        merged = {k: v for k, v in current.items() if k in declared}
        for field_name, value in submitted.items():
            old = str(current.get(field_name, ""))
            if value is not None and not (old and value == mask_secret(old)):
                merged[field_name] = value.strip() if isinstance(value, str) else value
        _check_credentials(cls, merged)
        if merged != current:
            account.credentials = _exchanged(session, cls, {k: v for k, v in merged.items() if v}, account.config or {})
            # New credentials deserve a fresh chance: "needs attention" is cleared and a sync is due now.
            account.status = "new"
            account.last_error = None
            account.consecutive_failures = 0
            account.next_sync_at = utcnow() if cls.syncs else None
    account.updated_at = utcnow()
    return account


def delete_account(*, session: Session, account: ProviderAccount) -> None:
    """Delete the account and everything it synced; its workspace's budgets are looked at on the next tick."""
    alert_marks.mark(session, [account.workspace_id])
    session.delete(account)
    log.info("account deleted id=%s workspace=%s", account.id, account.workspace_id)


def provider_for(
    account: ProviderAccount, base_urls: dict[str, str] | None = None, *, allow_private: bool = False
) -> Provider:
    """An instance of the account's provider with its decrypted credentials (a stand-in that fails as "needs
    attention" when they cannot be decrypted). The API address is the kind's own or the override in BASE_URLS
    (server configuration or the instance admin's setting), never anything from the account: a member must not be
    able to send the stored credential elsewhere. ALLOW_PRIVATE is the instance admin's allow_private_webhooks."""
    if isinstance(account.credentials, Undecryptable):
        return Unavailable(ProviderAuthError(UNDECRYPTABLE_MESSAGE))
    cls = provider_class(account.kind)
    base_url = (base_urls or {}).get(account.kind)
    return cls(account.credentials, base_url=base_url, config=account.config or {}, allow_private=allow_private)


def check_connection(
    *, session: Session, account: ProviderAccount, base_urls: dict[str, str] | None = None
) -> ConnectionResult:
    """Try the credentials against the provider and record the outcome on the account."""
    instance = instance_settings.get_config(session=session)
    urls = instance_settings.provider_urls(config=instance, operator=base_urls)
    provider = provider_for(account, urls, allow_private=instance.allow_private_webhooks)
    account.last_tested_at = utcnow()
    try:
        result = provider.test_connection()
    except ProviderError as exc:
        account.status = "needs_attention" if exc.kind == "auth" else "failing"
        account.last_error = exc.message
        log.warning("account test failed id=%s kind=%s error_kind=%s", account.id, account.kind, exc.kind)
        return ConnectionResult(ok=False, message=exc.message)
    account.status = "ok"
    account.last_error = None
    log.info("account test ok id=%s kind=%s", account.id, account.kind)
    return result
