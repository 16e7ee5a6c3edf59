"""SimpleFIN Bridge: bank accounts, balances and transactions through a SimpleFIN Access URL.

The user pastes a setup token (base64 of a one-time claim URL); `exchange_credentials` claims it for the Access
URL, which carries Basic-auth credentials and is what gets stored. `/accounts` is read in windows of at most 90
days. The bridge allows about 24 requests a day, so a 429 is never retried here (retrying only burns more of
the quota): it becomes a ProviderTransientError for the next scheduled sync.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import math
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
    ProviderMalformedError,
    ProviderRequestError,
    ProviderTransientError,
)
from integrations.records import BankAccountRecord, SyncWindow, TransactionRecord, TransactionSync

log = logging.getLogger(__name__)

LABEL = "SimpleFIN Bridge"
CHUNK = dt.timedelta(days=90)  # the most a bridge serves per request
MAX_TRANSACTIONS = 1000  # a bridge's cap per response: reaching it means some may be missing
NOTICE_LENGTH = 300
#: One retry of a 5xx or network error at most, by default: every request counts against the daily quota.
DEFAULT_RETRY_ATTEMPTS = 2
RECONNECT = " Connect the account again with a new setup token from the SimpleFIN Bridge."

Row = Mapping[str, Any]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal escape sequences ("\x1b[31m"): dropped whole
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A URL with a user (and maybe a password) in it, with or without a scheme: "https://u:p@host/…", "u:p@host".
_URL_WITH_USER = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@]+@\S*")
_BARE_USER_PASSWORD = re.compile(r"[^\s/?#@:]+:[^\s/?#@]+@\S+")


def json_safe(value: Any) -> Any:
    """VALUE with every Decimal (a JSON number parsed exactly) as its text, so `raw` can be stored as JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def strip_userinfo(url: str) -> str:
    """URL without its user and password (for checks and messages)."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None))


def _check_reachable(url: str, allow_private: bool) -> None:
    """Refuse a user-given URL that reaches a private, loopback, link-local or metadata address."""
    try:
        http.check_outbound_url(url, allow_private=allow_private)
    except http.UnsafeURLError as exc:
        raise ProviderRequestError(f"{LABEL}: the token's URL is refused ({exc}).") from None


def sanitize(message: str, *, hide: tuple[str, ...] = ()) -> str:
    """A bridge's message made safe to show: no control characters, no URL with credentials, none of HIDE,
    at most 300 characters."""
    text = _CONTROL.sub(" ", _ANSI.sub("", message))
    text = _URL_WITH_USER.sub("[link removed]", text)
    text = _BARE_USER_PASSWORD.sub("[link removed]", text)
    for secret in hide:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())
    return text if len(text) <= NOTICE_LENGTH else text[: NOTICE_LENGTH - 1] + "…"


def decode_setup_token(token: str) -> str:
    """The claim URL inside a setup token; ProviderRequestError (naming nothing of the token) when it is not one."""
    compact = "".join(token.split())
    invalid = "This is not a SimpleFIN setup token: copy the whole token from the SimpleFIN Bridge and paste it again."
    if not compact:
        raise ProviderRequestError(invalid)
    # Bridges use standard base64; a URL-safe one (with - and _) is accepted too, and missing padding forgiven.
    altchars = b"-_" if ("-" in compact or "_" in compact) else None
    try:
        text = base64.b64decode(compact + "=" * (-len(compact) % 4), altchars=altchars, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ProviderRequestError(invalid) from None
    text = text.strip()
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ProviderRequestError(invalid) from None
    if url.scheme not in ("http", "https") or not url.host or any(ch.isspace() for ch in text):
        raise ProviderRequestError(invalid)
    return text


def parse_access_url(access_url: str) -> tuple[str, str, str, str]:
    """(base URL without credentials, user, password, Authorization header) of an Access URL."""
    invalid = "The stored SimpleFIN Access URL is not valid." + RECONNECT
    try:
        url = httpx.URL(access_url.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ProviderAuthError(invalid) from None
    if url.scheme not in ("http", "https") or not url.host or not url.username:
        raise ProviderAuthError(invalid)
    user, password = url.username, url.password
    # The credentials move to a header: the URL itself (which may end up in a log or an error) carries none.
    base = str(url.copy_with(username=None, password=None, query=None, fragment=None)).rstrip("/")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return base, user, password, f"Basic {token}"


def _money(value: Any, what: str) -> Decimal:
    """A money amount (a decimal string on the wire) as an exact Decimal; anything else is malformed."""
    if value is None:
        raise ProviderMalformedError(f"{LABEL} sent an unexpected response: {what} is missing.")
    return fields.decimal(LABEL, value, what)


def _optional_money(row: Row, key: str, what: str) -> Decimal | None:
    value = row.get(key)
    return None if value is None or value == "" else _money(value, what)


def _timestamp(value: Any, what: str) -> int:
    """A unix timestamp (integer seconds; a numeric string or integral number is accepted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        number = fields.decimal(LABEL, value, what)
    http.expect(number == number.to_integral_value() and number >= 0, LABEL, f"{what} is not a unix timestamp")
    return int(number)


def _moment(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _text(row: Row, key: str, where: str) -> str:
    return fields.text(LABEL, row, key, where)


def _identifier(row: Row, key: str, where: str) -> str:
    value = row.get(key)
    ok = isinstance(value, str | int) and not isinstance(value, bool) and str(value) != ""
    http.expect(ok, LABEL, f"{where}.{key} is missing")
    return str(value)


def _list(row: Row, key: str, what: str) -> list[Any]:
    """ROW[KEY] as a list (absent → empty), or a malformed-response error."""
    value = row.get(key)
    if value is None:
        return []
    http.expect(isinstance(value, list), LABEL, f"{what} is not a list")
    return list(value)


def _currency(value: str) -> str:
    """ISO codes upper-cased; a custom currency (SimpleFIN allows a URL there) is kept as sent."""
    return value.upper() if len(value) == 3 and value.isalpha() else value


def _account(row: Any) -> BankAccountRecord:
    http.expect(isinstance(row, dict), LABEL, "an account is not an object")
    org = row.get("org")
    org = org if isinstance(org, dict) else {}
    balance_date = row.get("balance-date")
    extra = {
        key: org[name] for key, name in (("org_domain", "domain"), ("org_id", "id")) if isinstance(org.get(name), str)
    }
    return BankAccountRecord(
        external_id=_identifier(row, "id", "account"),
        name=_text(row, "name", "account") or _identifier(row, "id", "account"),
        currency=_currency(_text(row, "currency", "account") or "USD"),
        institution=_text(org, "name", "account.org") or _text(org, "domain", "account.org"),
        balance=_optional_money(row, "balance", "account balance"),
        available_balance=_optional_money(row, "available-balance", "account available-balance"),
        balance_at=None if balance_date is None else _moment(_timestamp(balance_date, "account balance-date")),
        extra={k: v for k, v in extra.items() if v},
    )


def _transaction(account: BankAccountRecord, row: Any, fallback_day: dt.date) -> TransactionRecord:
    http.expect(isinstance(row, dict), LABEL, "a transaction is not an object")
    posted = _timestamp(row.get("posted", 0), "transaction posted")
    transacted = row.get("transacted_at")
    transacted_at = _moment(_timestamp(transacted, "transaction transacted_at")) if transacted else None
    if posted:
        posted_on = _moment(posted).date()
    else:  # posted is 0 while pending: the day it happened if known, else the day it was seen
        posted_on = transacted_at.date() if transacted_at is not None else fallback_day
    extra = row.get("extra")
    merchant = extra.get("merchant") if isinstance(extra, dict) else None
    return TransactionRecord(
        account_external_id=account.external_id,
        external_id=_identifier(row, "id", "transaction"),
        posted_on=posted_on,
        amount=_money(row.get("amount"), "transaction amount"),  # SimpleFIN's sign is ours: + in, - out
        currency=account.currency,
        description=_text(row, "description", "transaction"),
        merchant=merchant if isinstance(merchant, str) else "",
        pending=row.get("pending") is True or posted == 0,
        transacted_at=transacted_at,
        raw=json_safe(dict(row)),
    )


def _unix_floor(moment: dt.datetime) -> int:
    return math.floor(moment.timestamp())


def _unix_ceil(moment: dt.datetime) -> int:
    return math.ceil(moment.timestamp())


class SimpleFinProvider(Provider):
    kind = "simplefin"
    label = "SimpleFIN Bridge (banks)"
    category = ProviderCategory.MONEY
    description = (
        "Bank accounts, balances and transactions through the SimpleFIN Bridge (read-only). Paste a setup token "
        "from the bridge; it is exchanged once for a lasting access URL."
    )
    capabilities = frozenset({Capability.TRANSACTIONS, Capability.BALANCES})
    config_keys = {"include_pending": bool}
    credential_fields = (
        CredentialField(
            "setup_token",
            "Setup token",
            secret=True,
            help=(
                "Paste the setup token from the SimpleFIN Bridge (Connect an app → create a setup token). It can be "
                "used only once."
            ),
        ),
    )

    # ------------------------------------------------------------------------------------------ credentials
    def exchange_credentials(self, *, allow_private: bool = False) -> dict[str, str]:
        """Claim the setup token for its Access URL (or keep an Access URL already stored). The claim URL comes
        from the user: like a webhook URL, it may not reach private networks unless the admin allows it."""
        existing = str(self.credentials.get("access_url") or "").strip()
        if existing:
            parse_access_url(existing)
            return {"access_url": existing}
        token = self.require_credential("setup_token", "Paste the setup token from the SimpleFIN Bridge.")
        claim_url = decode_setup_token(token)
        _check_reachable(claim_url, allow_private)
        policy = http.OutboundPolicy(allow_private=allow_private)
        with http.build_client(
            base_url="", policy=policy, headers={"Accept": "*/*"}, transport=self.transport
        ) as client:
            try:
                # Never retried: a claim that reached the bridge spends the token even if the answer is lost.
                response = client.post(claim_url, content=b"")
            except http.UnsafeURLError as exc:  # the connect-time check: DNS changed since the one above
                raise ProviderRequestError(f"{LABEL}: the token's URL is refused ({exc}).") from None
            except httpx.TimeoutException:
                raise ProviderTransientError(f"{LABEL} did not answer the claim in time; try again.") from None
            except httpx.TransportError as exc:
                raise ProviderTransientError(f"Could not reach {LABEL} ({type(exc).__name__}); try again.") from None
        status = response.status_code
        if status == 403:
            raise ProviderAuthError(
                "This setup token was already claimed — it may be compromised. Disable it in the SimpleFIN Bridge, "
                "create a new token and paste that one."
            )
        if status == 429 or status >= 500:
            raise ProviderTransientError(
                f"{LABEL} could not claim the setup token now (HTTP {status}); try again later."
            )
        if status != 200:
            raise ProviderRequestError(
                f"{LABEL} refused to claim the setup token (HTTP {status}); check that the whole token was pasted."
            )
        access_url = response.text.strip()
        try:
            parse_access_url(access_url)
        except ProviderAuthError:
            raise ProviderMalformedError(
                f"{LABEL} answered the claim with something that is not an Access URL."
            ) from None
        _check_reachable(strip_userinfo(access_url), allow_private)
        return {"access_url": access_url}

    def _access(self) -> tuple[str, str, str, str]:
        access_url = str(self.credentials.get("access_url") or "").strip()
        if not access_url:
            raise ProviderAuthError("This SimpleFIN connection has no Access URL yet." + RECONNECT)
        return parse_access_url(access_url)

    # ---------------------------------------------------------------------------------------------- HTTP
    def _get_accounts(self, params: dict[str, str]) -> dict[str, Any]:
        """One GET /accounts; 5xx and network errors retried (by default once), a 429 never."""
        base, user, password, authorization = self._access()
        hide = (user, password)
        policy = self.retry or http.RetryPolicy(attempts=DEFAULT_RETRY_ATTEMPTS)
        problem = ""
        # The Access URL came from a user's token: every request passes the outbound-address policy at connect
        # time, with the instance admin's current allow_private_webhooks (not the one when it was claimed).
        with http.build_client(
            base_url=base, policy=self.outbound, headers={"Authorization": authorization}, transport=self.transport
        ) as client:
            for attempt in range(1, policy.attempts + 1):
                retry_after: float | None = None
                try:
                    response = client.get("/accounts", params=params)
                except http.UnresolvableHostError:
                    problem = f"could not resolve {LABEL}'s host"
                except http.UnsafeURLError as exc:
                    raise ProviderRequestError(f"{LABEL}: the Access URL is refused ({exc}).") from None
                except httpx.TimeoutException:
                    problem = f"{LABEL} did not answer in time"
                except httpx.TransportError as exc:
                    problem = f"could not reach {LABEL} ({type(exc).__name__})"
                else:
                    status = response.status_code
                    said = _said(response, hide)
                    if status == 429:
                        raise ProviderTransientError(
                            f"{LABEL}'s daily request quota is used up (HTTP 429{said}); the bridge allows about 24 "
                            "requests a day, so the sync will try again later."
                        )
                    if status in (401, 403):
                        raise ProviderAuthError(
                            f"{LABEL} refused the Access URL (HTTP {status}{said}): the connection was probably "
                            "disabled." + RECONNECT
                        )
                    if status == 402:
                        raise ProviderAuthError(f"{LABEL} says a payment is required (HTTP 402{said}).")
                    if status >= 500:
                        retry_after = http.parse_retry_after(response.headers.get("Retry-After"))
                        problem = f"{LABEL} answered HTTP {status}{said}"
                    elif status != 200:
                        raise ProviderRequestError(f"{LABEL} rejected the request (HTTP {status}{said}).")
                    else:
                        try:
                            # Decimal for every JSON number with a fraction: money never passes through floats.
                            body = json.loads(response.content, parse_float=Decimal)
                        except (json.JSONDecodeError, UnicodeDecodeError):
                            raise ProviderMalformedError(f"{LABEL} sent a response that is not valid JSON.") from None
                        http.expect(isinstance(body, dict), LABEL, "/accounts did not return an object")
                        return dict(body)
                if attempt < policy.attempts:
                    wait = policy.delay(attempt, retry_after)
                    log.info("%s: %s; retry %d/%d in %.1fs", LABEL, problem, attempt, policy.attempts - 1, wait)
                    policy.sleep(wait)
        raise ProviderTransientError(f"{problem}; gave up after {policy.attempts} attempts.")

    def _notices(self, body: Row) -> list[str]:
        errors = _list(body, "errors", "errors")
        _, user, password, _ = self._access()
        # The bridge is whatever host the user's token named: only short, plain messages are passed on.
        found = (http.short_reason(str(e), hide=(user, password)) for e in errors if isinstance(e, str | int | float))
        return [notice for notice in found if notice]

    # ----------------------------------------------------------------------------------------- contract
    def test_connection(self) -> ConnectionResult:
        """List the accounts (balances only: no transactions are read) and say how many there are."""
        body = self._get_accounts({"balances-only": "1"})
        http.expect(isinstance(body.get("accounts"), list), LABEL, "/accounts has no accounts list")
        accounts = _list(body, "accounts", "accounts")
        for row in accounts:
            _account(row)  # the shape is checked now rather than at the first sync
        count = len(accounts)
        message = f"Connected to the SimpleFIN Bridge: {count} account{'' if count == 1 else 's'}."
        notices = self._notices(body)
        if notices:
            message += f" The bridge says: {notices[0]}"
        return ConnectionResult(ok=True, message=message)

    def fetch_transactions(self, window: SyncWindow, cursor: str | None) -> TransactionSync:
        """WINDOW's accounts and transactions, read 90 days per request (SimpleFIN has no cursor: CURSOR is
        ignored). Pending transactions only when the account's config says `include_pending`."""
        include_pending = bool(self.config.get("include_pending"))
        # For a pending transaction with neither date: the last day inside the half-open window.
        fallback_day = (
            (window.end - dt.timedelta(microseconds=1)).date() if window.end > window.start else window.end.date()
        )
        accounts: dict[str, BankAccountRecord] = {}
        transactions: dict[tuple[str, str], TransactionRecord] = {}
        notices: list[str] = []
        for chunk in window.chunks(CHUNK):
            params = {"start-date": str(_unix_floor(chunk.start)), "end-date": str(_unix_ceil(chunk.end))}
            if include_pending:
                params["pending"] = "1"
            body = self._get_accounts(params)
            notices.extend(self._notices(body))
            http.expect(isinstance(body.get("accounts"), list), LABEL, "/accounts has no accounts list")
            rows = _list(body, "accounts", "accounts")
            count = 0
            for row in rows:
                account = _account(row)
                seen = accounts.get(account.external_id)
                # The latest balance wins; a chunk answered later with the same balance date replaces it too.
                if (
                    seen is None
                    or seen.balance_at is None
                    or (account.balance_at is not None and account.balance_at >= seen.balance_at)
                ):
                    accounts[account.external_id] = account
                items = _list(row, "transactions", "account transactions")
                for item in items:
                    record = _transaction(account, item, fallback_day)
                    # Ids are unique per account only: the key is the pair.
                    transactions[(record.account_external_id, record.external_id)] = record
                count += len(items)
            if count >= MAX_TRANSACTIONS:
                notices.append(
                    f"{LABEL} returned its maximum of {MAX_TRANSACTIONS} transactions for "
                    f"{chunk.start.date().isoformat()} to {chunk.end.date().isoformat()}: some may be missing."
                )
        for notice in notices:
            log.info("%s says: %s", LABEL, notice)
        return TransactionSync(
            accounts=list(accounts.values()),
            upserted=list(transactions.values()),
            removed=[],
            cursor=None,
            notices=list(dict.fromkeys(notices)),  # each chunk repeats the same errors: show each once
        )


def _said(response: httpx.Response, hide: tuple[str, ...]) -> str:
    """ ": <the bridge's errors[]>" of an error response, sanitized; "" when it says nothing usable."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    texts = [http.short_reason(e, hide=hide) for e in errors if isinstance(e, str)]
    joined = http.short_reason(" ".join(t for t in texts if t))
    return f": {joined}" if joined else ""
