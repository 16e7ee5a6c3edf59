"""/api/accounts and /api/providers: provider accounts of the current workspace and the kinds on offer."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import current_actor, db, tenant_guard, user_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.extensions import get_state
from backend.limits import MAX_JSON_DEPTH, nesting_depth
from backend.models import ProviderAccount
from backend.schemas.accounts import (
    AccountIn,
    AccountList,
    AccountOut,
    AccountPatch,
    AccountPath,
    ConnectionTestOut,
    CredentialFieldOut,
    ProviderKindList,
    ProviderKindOut,
    SyncRequested,
    SyncRunList,
    SyncRunOut,
    SyncRunQuery,
)
from backend.services import accounts, instance_settings, sync
from integrations.providers import PROVIDERS
from integrations.providers.base import ProviderCategory

log = logging.getLogger(__name__)

bp = APIBlueprint(
    "accounts",
    __name__,
    url_prefix="/api/accounts",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="accounts")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())

providers_bp = APIBlueprint(
    "providers",
    __name__,
    url_prefix="/api/providers",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="accounts")],
    abp_security=BEARER,
)
providers_bp.before_request(user_guard)


def _shown_config(account: ProviderAccount) -> dict[str, Any]:
    """The stored config, or {} when it nests deeper than a request may (a row stored before the limit)."""
    # Serializing such a config fails, and one such row made the whole account list answer 500; saving a new
    # config replaces it.
    config = account.config or {}
    if nesting_depth(config) > MAX_JSON_DEPTH:
        log.warning("account %s: config nests deeper than %s levels; shown as {}", account.id, MAX_JSON_DEPTH)
        return {}
    return config


def account_out(account: ProviderAccount, default_interval: int) -> AccountOut:
    return AccountOut(
        id=account.id,
        workspace_id=account.workspace_id,
        kind=account.kind,
        name=account.name,
        credentials=accounts.masked_credentials(account),
        config=_shown_config(account),
        enabled=account.enabled,
        sync_interval_minutes=account.sync_interval_minutes or default_interval,
        status=account.status,
        last_error=account.last_error,
        last_tested_at=account.last_tested_at,
        last_sync_at=account.last_sync_at,
        last_success_at=account.last_success_at,
        next_sync_at=account.next_sync_at,
        synced_until=account.synced_until,
        notices=list(account.notices or []),
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _outs(items: list[ProviderAccount]) -> list[AccountOut]:
    """Accounts as the API shows them; the instance's default intervals are read once, not per account."""
    intervals = instance_settings.get_config(session=db()).sync_intervals

    def default_interval(kind: str) -> int:
        cls = PROVIDERS.get(kind)
        return intervals.money_minutes if cls and cls.category == ProviderCategory.MONEY else intervals.ai_minutes

    return [account_out(a, default_interval(a.kind)) for a in items]


def _out(account: ProviderAccount) -> AccountOut:
    return _outs([account])[0]


@providers_bp.get("", responses={200: ProviderKindList})
def list_providers() -> Response:
    """Provider kinds from the registry, each with the credential form it needs."""
    items = [
        ProviderKindOut(
            kind=cls.kind,
            label=cls.label,
            category=cls.category.value,
            description=cls.description,
            capabilities=sorted(c.value for c in cls.capabilities),
            credential_fields=[
                CredentialFieldOut(
                    name=f.name,
                    label=f.label,
                    secret=f.secret,
                    required=f.required,
                    help=f.help,
                    placeholder=f.placeholder,
                )
                for f in cls.credential_fields
            ],
        )
        for cls in PROVIDERS.values()
    ]
    return json_response(ProviderKindList(items=items))


@bp.get("", responses={200: AccountList})
def list_accounts() -> Response:
    """Provider accounts of the current workspace."""
    items = accounts.list_accounts(session=db(), workspace_id=current_actor().workspace_id)
    return json_response(AccountList(items=_outs(items)))


@bp.post("", responses={201: AccountOut})
def create_account(body: AccountIn) -> Response:
    """Add a provider account; its credentials are stored encrypted and only shown as hints."""
    session = db()
    account = accounts.create_account(
        session=session,
        workspace_id=current_actor().workspace_id,
        kind=body.kind,
        name=body.name,
        credentials=body.credentials,
        config=body.config,
        sync_interval_minutes=body.sync_interval_minutes,
    )
    session.commit()
    return json_response(_out(account), 201)


@bp.get("/<int:account_id>", responses={200: AccountOut})
def get_account(path: AccountPath) -> Response:
    """One provider account."""
    account = accounts.get_account(session=db(), workspace_id=current_actor().workspace_id, account_id=path.account_id)
    return json_response(_out(account))


@bp.patch("/<int:account_id>", responses={200: AccountOut})
def update_account(path: AccountPath, body: AccountPatch) -> Response:
    """Change an account. Sending a secret's hint back keeps the stored secret."""
    session = db()
    account = accounts.get_account(
        session=session, workspace_id=current_actor().workspace_id, account_id=path.account_id
    )
    accounts.update_account(session=session, account=account, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return json_response(_out(account))


@bp.delete("/<int:account_id>", responses={204: None})
def delete_account(path: AccountPath) -> Response:
    """Delete an account and everything synced from it."""
    session = db()
    account = accounts.get_account(
        session=session, workspace_id=current_actor().workspace_id, account_id=path.account_id
    )
    accounts.delete_account(session=session, account=account)
    session.commit()
    return no_content()


@bp.post("/<int:account_id>/test", responses={200: ConnectionTestOut})
def test_account(path: AccountPath) -> Response:
    """Try the stored credentials against the provider; the outcome is recorded on the account."""
    session = db()
    account = accounts.get_account(
        session=session, workspace_id=current_actor().workspace_id, account_id=path.account_id
    )
    result = accounts.check_connection(
        session=session, account=account, base_urls=dict(get_state(current_app).settings.provider_base_urls)
    )
    session.commit()
    return json_response(ConnectionTestOut(ok=result.ok, message=result.message, status=account.status))


@bp.post("/<int:account_id>/sync", responses={202: SyncRequested})
def request_sync(path: AccountPath) -> Response:
    """Sync this account now: it becomes due and a worker starts it within seconds."""
    session = db()
    account = accounts.get_account(
        session=session, workspace_id=current_actor().workspace_id, account_id=path.account_id
    )
    due = sync.request_sync(session=session, account=account)
    session.commit()
    return json_response(
        SyncRequested(
            account_id=account.id,
            next_sync_at=due,
            message="Sync requested; a worker picks it up within seconds.",
        ),
        202,
    )


@bp.get("/<int:account_id>/syncs", responses={200: SyncRunList})
def list_syncs(path: AccountPath, query: SyncRunQuery) -> Response:
    """The account's recent sync runs, newest first: when, outcome, records stored and the error if any."""
    session = db()
    workspace_id = current_actor().workspace_id
    account = accounts.get_account(session=session, workspace_id=workspace_id, account_id=path.account_id)
    runs = sync.list_runs(session=session, workspace_id=workspace_id, account_id=account.id, limit=query.limit)
    return json_response(SyncRunList(items=[SyncRunOut.model_validate(r, from_attributes=True) for r in runs]))
