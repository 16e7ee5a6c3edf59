"""Plaid: bank accounts, balances and transactions of one Item through `/transactions/sync`.

The sync follows `has_more` page by page from the stored cursor. When Plaid says the data changed while the
pages were being read (TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION), everything read so far is dropped and the
loop starts again from the original cursor, as Plaid requires. Plaid's amounts are positive for money out; they
are negated here (Spendwatch: positive = money in).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

# A module import, not `from integrations.http import …`: integrations.http imports providers.base, which
# loads this package's registry, so the names are looked up when called, not while the modules load.
from integrations import http
from integrations.providers import fields
from integrations.providers.base import (
    Capability,
    ConnectionResult,
    CredentialField,
    Provider,
    ProviderAuthError,
    ProviderCategory,
    ProviderError,
    ProviderMalformedError,
    ProviderRequestError,
    ProviderTransientError,
)
from integrations.providers.simplefin import json_safe, sanitize
from integrations.records import BankAccountRecord, SyncWindow, TransactionRecord, TransactionSync

log = logging.getLogger(__name__)

LABEL = "Plaid"
ENVIRONMENTS = {
    "sandbox": "https://sandbox.plaid.com",
    "development": "https://development.plaid.com",
    "production": "https://production.plaid.com",
}
DEFAULT_ENVIRONMENT = "production"
PAGE_SIZE = 500  # Plaid's maximum `count`
MAX_RESTARTS = 3
MUTATION = "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION"
#: The Item needs the user: they must go through Plaid Link again (update mode).
RELINK_CODES = frozenset(
    {"ITEM_LOGIN_REQUIRED", "PENDING_EXPIRATION", "ACCESS_NOT_GRANTED", "USER_PERMISSION_REVOKED", "ITEM_NOT_FOUND"}
)
#: Our credentials (client id / secret / access token) are wrong.
CREDENTIAL_CODES = frozenset({"INVALID_API_KEYS", "INVALID_ACCESS_TOKEN", "INVALID_CLIENT_ID", "INVALID_SECRET"})
#: Worth trying again later, though Plaid answers them with a 4xx.
TRANSIENT_CODES = frozenset(
    {"PRODUCT_NOT_READY", "RATE_LIMIT_EXCEEDED", "INSTITUTION_DOWN", "INSTITUTION_NOT_RESPONDING"}
)
#: Plaid reports what is owed on these as a positive `current`; Spendwatch balances are negative when owed.
OWED_TYPES = frozenset({"credit", "loan"})

Row = Mapping[str, Any]


class MutationDuringPagination(ProviderTransientError):
    """Plaid's data changed between two pages of one sync: start again from the original cursor."""


_CODE = re.compile(r"[A-Z0-9_]{1,64}")  # Plaid's error codes: shown only when they look like one


class _PlaidError:
    """request_json's error-message hook that also keeps Plaid's error fields (the code decides what to do)."""

    def __init__(self) -> None:
        self.error_type = ""
        self.error_code = ""
        self.text = ""  # what Plaid said: "<error_code>: <error_message> <display_message>"

    def __call__(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        self.error_type = str(body.get("error_type") or "")
        self.error_code = str(body.get("error_code") or "")
        parts = [body.get("error_message"), body.get("display_message")]
        said = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
        # Both if short enough, else the shorter display_message, else nothing: never a long text cut short.
        message = (
            http.short_reason(" ".join(dict.fromkeys(said)))  # display_message often repeats error_message
            or next(filter(None, (http.short_reason(p) for p in reversed(said))), None)
            or ""
        )
        code = self.error_code if _CODE.fullmatch(self.error_code) else ""
        if code:
            message = f"{code}: {message}" if message else code
        self.text = message
        return message or None


def _text(row: Row, key: str, where: str) -> str:
    return fields.text(LABEL, row, key, where)


def _identifier(row: Row, key: str, where: str) -> str:
    value = row.get(key)
    http.expect(isinstance(value, str) and value != "", LABEL, f"{where}.{key} is missing")
    return str(value)


def _list(row: Row, key: str, where: str) -> list[Any]:
    value = row.get(key)
    if value is None:
        return []
    http.expect(isinstance(value, list), LABEL, f"{where} is not a list")
    return list(value)


def _object(row: Row, key: str) -> Row:
    value = row.get(key)
    return value if isinstance(value, dict) else {}


def _money(value: Any, what: str) -> Decimal | None:
    return None if value is None else fields.decimal(LABEL, value, what)


def _date(value: Any, what: str) -> dt.date:
    http.expect(isinstance(value, str), LABEL, f"{what} is missing")
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ProviderMalformedError(f"{LABEL} sent an unexpected response: {what} is not a date.") from None


def _datetime(value: Any, what: str) -> dt.datetime | None:
    """An optional ISO 8601 date-time as UTC-aware (one without an offset is taken as UTC)."""
    if value is None or value == "":
        return None
    http.expect(isinstance(value, str), LABEL, f"{what} is not a string")
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ProviderMalformedError(f"{LABEL} sent an unexpected response: {what} is not a date-time.") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _currency(row: Row, where: str) -> str:
    return _text(row, "iso_currency_code", where) or _text(row, "unofficial_currency_code", where) or "USD"


def _account(row: Any) -> BankAccountRecord:
    http.expect(isinstance(row, dict), LABEL, "an account is not an object")
    balances = _object(row, "balances")
    kind = _text(row, "type", "account")
    current = _money(balances.get("current"), "account balances.current")
    if current is not None and kind in OWED_TYPES:
        current = Decimal(0) - current
    extra = {key: _text(row, key, "account") for key in ("mask", "type", "subtype", "official_name")}
    return BankAccountRecord(
        external_id=_identifier(row, "account_id", "account"),
        name=_text(row, "name", "account") or _text(row, "official_name", "account") or str(row["account_id"]),
        currency=_currency(balances, "account.balances"),
        balance=current,
        available_balance=_money(balances.get("available"), "account balances.available"),
        balance_at=_datetime(balances.get("last_updated_datetime"), "account balances.last_updated_datetime"),
        extra={k: v for k, v in extra.items() if v},
    )


def _transaction(row: Any) -> TransactionRecord:
    http.expect(isinstance(row, dict), LABEL, "a transaction is not an object")
    amount = fields.decimal(LABEL, row.get("amount"), "transaction amount")
    category = _object(row, "personal_finance_category")
    transacted_at = _datetime(row.get("authorized_datetime"), "transaction authorized_datetime") or _datetime(
        row.get("datetime"), "transaction datetime"
    )
    return TransactionRecord(
        account_external_id=_identifier(row, "account_id", "transaction"),
        external_id=_identifier(row, "transaction_id", "transaction"),
        posted_on=_date(row.get("date"), "transaction date"),
        amount=Decimal(0) - amount,  # Plaid: positive = money out; Spendwatch: positive = money in
        currency=_currency(row, "transaction"),
        description=_text(row, "name", "transaction") or _text(row, "original_description", "transaction"),
        merchant=_text(row, "merchant_name", "transaction"),
        pending=row.get("pending") is True,
        pending_external_id=_text(row, "pending_transaction_id", "transaction"),
        transacted_at=transacted_at,
        provider_category=_text(category, "detailed", "personal_finance_category")
        or _text(category, "primary", "personal_finance_category"),
        raw=json_safe(dict(row)),
    )


class PlaidProvider(Provider):
    kind = "plaid"
    label = "Plaid (banks)"
    category = ProviderCategory.MONEY
    description = (
        "Bank accounts, balances and transactions of one Plaid Item through /transactions/sync. Needs your Plaid "
        "client id and secret and the Item's access token."
    )
    capabilities = frozenset({Capability.TRANSACTIONS, Capability.BALANCES})
    # Only the name of one of Plaid's own environments: the host it maps to is fixed here (or set by the operator).
    config_keys = {"environment": str}
    address_overridable = True
    credential_fields = (
        CredentialField("client_id", "Client ID", secret=False, help="Your Plaid client_id (Plaid dashboard → Keys)."),
        CredentialField("secret", "Secret", help="The secret of the Plaid environment this Item lives in."),
        CredentialField(
            "access_token",
            "Access token",
            placeholder="access-production-…",
            help="The Item's access token, from exchanging Plaid Link's public token.",
        ),
    )

    def _base(self) -> str:
        if self.base_url:
            return self.base_url
        environment = str(self.config.get("environment") or DEFAULT_ENVIRONMENT).strip().lower()
        if environment not in ENVIRONMENTS:
            raise ProviderRequestError(
                f"Unknown Plaid environment {environment[:40]!r}: one of {', '.join(ENVIRONMENTS)}."
            )
        return ENVIRONMENTS[environment]

    def _credentials(self) -> dict[str, str]:
        return {
            "client_id": self.require_credential("client_id", "No Plaid client id is configured."),
            "secret": self.require_credential("secret", "No Plaid secret is configured."),
            "access_token": self.require_credential("access_token", "No Plaid access token is configured."),
        }

    def _client(self) -> httpx.Client:
        return http.build_client(base_url=self._base(), policy=self.outbound, transport=self.transport)

    def _post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One POST through the shared retrying seam (429/5xx retried); Plaid's error codes mapped to our errors,
        which never contain the secret or the access token."""
        hide = (body["secret"], body["access_token"])
        error = _PlaidError()
        try:
            answer = http.request_json(
                client, "POST", path, label=LABEL, json_body=body, retry=self.retry, error_message=error
            )
        except ProviderError as exc:
            raise _mapped(exc, error, hide) from None
        http.expect(isinstance(answer, dict), LABEL, f"{path} did not return an object")
        return dict(answer)

    def test_connection(self) -> ConnectionResult:
        """List the Item's accounts (`/accounts/get`) and say how many there are."""
        with self._client() as client:
            body = self._post(client, "/accounts/get", self._credentials())
        rows = _list(body, "accounts", "accounts")
        for row in rows:
            _account(row)
        count = len(rows)
        return ConnectionResult(ok=True, message=f"Connected to Plaid: {count} account{'' if count == 1 else 's'}.")

    def fetch_transactions(self, window: SyncWindow, cursor: str | None) -> TransactionSync:
        """Every change since CURSOR (all history when None), all pages; WINDOW is ignored (Plaid decides what
        history an Item has). Restarts from CURSOR when the data changes mid-way, at most 3 times."""
        credentials = self._credentials()
        with self._client() as client:
            for restart in range(MAX_RESTARTS + 1):
                try:
                    return self._sync(client, credentials, cursor)
                except MutationDuringPagination:
                    log.info("Plaid: transactions changed during pagination; restart %d/%d", restart + 1, MAX_RESTARTS)
        raise ProviderTransientError(
            f"Plaid's transactions kept changing while they were being read (restarted {MAX_RESTARTS} times); "
            "the next sync will try again."
        )

    def _sync(self, client: httpx.Client, credentials: dict[str, str], cursor: str | None) -> TransactionSync:
        """One pagination loop from CURSOR; nothing of it is kept if any page fails."""
        accounts: dict[str, BankAccountRecord] = {}
        upserted: dict[tuple[str, str], TransactionRecord] = {}
        removed: dict[tuple[str, str], None] = {}  # an ordered set
        notices: list[str] = []
        current = cursor
        seen: set[str] = set()
        while True:
            body: dict[str, Any] = dict(credentials)
            if current:
                body["cursor"] = current
            body["count"] = PAGE_SIZE
            page = self._post(client, "/transactions/sync", body)
            for row in _list(page, "accounts", "accounts"):
                account = _account(row)
                accounts[account.external_id] = account  # every page repeats them; the last is the newest
            for key in ("added", "modified"):
                for row in _list(page, key, key):
                    record = _transaction(row)
                    pair = (record.account_external_id, record.external_id)
                    upserted[pair] = record
                    removed.pop(pair, None)
            for row in _list(page, "removed", "removed"):
                http.expect(isinstance(row, dict), LABEL, "a removed transaction is not an object")
                # account_id came to `removed` late (2023): without it the id alone has to do.
                pair = (_text(row, "account_id", "removed"), _identifier(row, "transaction_id", "removed"))
                upserted.pop(pair, None)
                removed[pair] = None
            next_cursor = page.get("next_cursor")
            http.expect(next_cursor is None or isinstance(next_cursor, str), LABEL, "next_cursor is not a string")
            has_more = page.get("has_more", False)
            http.expect(isinstance(has_more, bool), LABEL, "has_more is not a boolean")
            if not has_more:
                if page.get("transactions_update_status") == "NOT_READY":
                    notices.append("Plaid is still fetching this account's transactions; more will come later.")
                return TransactionSync(
                    accounts=list(accounts.values()),
                    upserted=list(upserted.values()),
                    removed=list(removed),
                    cursor=next_cursor or cursor,  # an empty cursor (nothing ready yet) keeps the old one
                    notices=notices,
                )
            # A page that loops back to a cursor already read is a malformed answer, not an endless sync.
            http.expect(bool(next_cursor), LABEL, "has_more without next_cursor")
            http.expect(next_cursor != current and next_cursor not in seen, LABEL, "a page cursor repeated")
            seen.add(str(next_cursor))
            current = str(next_cursor)


def _mapped(exc: ProviderError, error: _PlaidError, hide: tuple[str, ...]) -> ProviderError:
    """EXC (from request_json) as the error Plaid's code calls for, its message without HIDE."""
    message = sanitize(exc.message, hide=hide)
    code = error.error_code
    said = http.short_reason(error.text, hide=hide) or message
    if code == MUTATION:
        return MutationDuringPagination(f"Plaid's transactions changed during pagination ({said}).")
    if code in RELINK_CODES:
        return ProviderAuthError(
            f"Plaid needs you to sign in to your bank again ({said}): re-link this account through Plaid Link."
        )
    if code in CREDENTIAL_CODES or isinstance(exc, ProviderAuthError):
        return ProviderAuthError(
            f"Plaid refused the credentials ({said}): check the client id, the secret (of the right environment) "
            "and the access token."
        )
    if error.error_type == "RATE_LIMIT_EXCEEDED" or isinstance(exc, ProviderTransientError):
        return ProviderTransientError(message)
    if code in TRANSIENT_CODES or error.error_type in ("INSTITUTION_ERROR", "API_ERROR"):
        return ProviderTransientError(f"Plaid cannot serve this Item right now ({said}); the sync will try again.")
    return type(exc)(message)
