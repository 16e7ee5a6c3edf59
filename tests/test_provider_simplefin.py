"""The SimpleFIN provider against the fake SimpleFIN Bridge over real HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from decimal import Decimal

import pytest

from integrations import http
from integrations.http import RetryPolicy
from integrations.providers.base import (
    Capability,
    ProviderAuthError,
    ProviderCategory,
    ProviderError,
    ProviderMalformedError,
    ProviderRequestError,
    ProviderTransientError,
)
from integrations.providers.simplefin import SimpleFinProvider, sanitize
from integrations.records import SyncWindow
from tests.fakes.banks import FakeBanks, SimpleFinAccess

DAY = dt.timedelta(days=1)


def make(
    access_url: str,
    *,
    pending: bool = False,
    sleeps: list[float] | None = None,
    attempts: int = 4,
) -> SimpleFinProvider:
    sleeps = [] if sleeps is None else sleeps
    return SimpleFinProvider(
        {"access_url": access_url},
        config={"include_pending": pending},
        retry=RetryPolicy(attempts=attempts, sleep=sleeps.append),
        allow_private=True,  # the fake bridge listens on loopback: as if the instance admin allowed it
    )


def unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def window_200(fake: FakeBanks) -> SyncWindow:
    return SyncWindow(fake.simplefin_end - 200 * DAY, fake.simplefin_end)


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(exc), "a credential leaked into an error message"


def test_kind_and_credential_form():
    assert SimpleFinProvider.kind == "simplefin"
    assert SimpleFinProvider.label == "SimpleFIN Bridge (banks)"
    assert SimpleFinProvider.category is ProviderCategory.MONEY
    assert SimpleFinProvider.capabilities == {Capability.TRANSACTIONS, Capability.BALANCES}
    (field,) = SimpleFinProvider.credential_fields
    assert field.name == "setup_token" and field.secret and "setup token" in field.help
    assert "hunter2" not in repr(SimpleFinProvider({"access_url": "https://u:hunter2@bridge.example/simplefin"}))


def test_claim_once_then_a_second_claim_is_compromised(fake_banks: FakeBanks):
    token = fake_banks.setup_token()
    stored = SimpleFinProvider({"setup_token": f"  {token}\n"}).exchange_credentials(allow_private=True)
    assert set(stored) == {"access_url"}
    number = fake_banks.claimed(token)
    assert number is not None
    (claim,) = fake_banks.requests
    assert claim.method == "POST" and claim.path.startswith("/claim/") and claim.body == ""

    # The stored access URL works: the provider can read the accounts with it.
    assert "2 accounts" in make(stored["access_url"]).test_connection().message

    with pytest.raises(ProviderAuthError) as exc:
        SimpleFinProvider({"setup_token": token}).exchange_credentials(allow_private=True)
    assert "already claimed" in exc.value.message and "compromised" in exc.value.message
    assert "new token" in exc.value.message
    password = stored["access_url"].split("@")[0].rsplit(":", 1)[1]
    assert_no_secret(exc.value, token, stored["access_url"], password)
    assert [r.method for r in fake_banks.requests_for("simplefin", "/claim/")] == ["POST", "POST"]


def test_an_access_url_already_stored_is_kept_without_a_request(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    assert SimpleFinProvider({"access_url": access.url}).exchange_credentials(allow_private=True) == {
        "access_url": access.url
    }
    assert fake_banks.requests == []


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        base64.b64encode(b"ftp://bridge.example/claim/x").decode(),
        base64.b64encode(b"just some words").decode(),
        base64.b64encode(b"\xff\xfe\x00").decode(),
    ],
)
def test_a_setup_token_that_is_not_one_is_refused_before_any_request(fake_banks: FakeBanks, token: str):
    with pytest.raises(ProviderRequestError) as exc:
        SimpleFinProvider({"setup_token": token}).exchange_credentials(allow_private=True)
    assert "setup token" in exc.value.message
    assert_no_secret(exc.value, token)
    assert fake_banks.requests == []


def test_an_unknown_claim_is_a_request_error(fake_banks: FakeBanks):
    token = base64.b64encode(f"{fake_banks.simplefin_url}/claim/nope".encode()).decode()
    with pytest.raises(ProviderRequestError) as exc:
        SimpleFinProvider({"setup_token": token}).exchange_credentials(allow_private=True)
    assert "404" in exc.value.message


def test_test_connection_sends_basic_auth_not_a_url_with_credentials(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    result = make(access.url).test_connection()
    assert result.ok and "2 accounts" in result.message
    (request,) = fake_banks.requests
    assert request.path == f"/bridge/{access.number}/accounts" and request.query == {"balances-only": ["1"]}
    basic = base64.b64encode(f"{access.user}:{access.password}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {basic}"


def test_a_200_day_window_is_read_in_three_requests_of_at_most_90_days(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    window = window_200(fake_banks)
    result = make(access.url).fetch_transactions(window, cursor=None)

    requests = fake_banks.requests_for("simplefin", "/accounts")
    assert len(requests) == 3
    bounds = [(int(r.query["start-date"][0]), int(r.query["end-date"][0])) for r in requests]
    assert bounds[0][0] == unix(window.start) and bounds[-1][1] == unix(window.end)
    assert all(end - start <= 90 * 86_400 for start, end in bounds)
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(2))  # contiguous, end exclusive
    assert all("pending" not in r.query for r in requests)

    expected = fake_banks.simplefin_expected(access.number, window.start, window.end)
    found = {(t.account_external_id, t.external_id) for t in result.upserted}
    assert found == expected.ids and len(result.upserted) == expected.count
    assert sum((t.amount for t in result.upserted), Decimal(0)) == expected.total
    for account_id, total in expected.totals.items():
        assert sum((t.amount for t in result.upserted if t.account_external_id == account_id), Decimal(0)) == total
    # Ids are unique per account only: the same id lives in both accounts, and both are kept.
    assert len({t.external_id for t in result.upserted}) < len(result.upserted)
    for t in result.upserted:
        assert isinstance(t.amount, Decimal) and str(t.amount) == t.raw["amount"]  # exact, never via float
        assert t.posted_on == dt.datetime.fromtimestamp(int(str(t.raw["posted"])), dt.UTC).date()
        assert not t.pending and t.merchant == "" and t.description == t.raw["description"]
        assert t.currency == "USD"
        assert window.start.date() <= t.posted_on < window.end.date()
    assert any(t.transacted_at is not None for t in result.upserted)
    assert all(t.transacted_at is None or t.transacted_at.tzinfo is not None for t in result.upserted)

    checking, card = sorted(result.accounts, key=lambda a: a.name)
    assert (checking.external_id, checking.balance, checking.available_balance) == (
        f"ACT-{access.number}-CHK",
        Decimal("2345.67"),
        Decimal("2300.00"),
    )
    assert card.balance == Decimal("-512.34") and card.institution == "Example Bank"
    assert checking.balance_at == fake_banks.simplefin_end
    assert result.removed == [] and result.cursor is None and result.notices == []
    assert fake_banks.errors == []


def test_pending_transactions_only_when_configured(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    window = window_200(fake_banks)
    plain = make(access.url).fetch_transactions(window, None)
    assert not any(t.pending for t in plain.upserted)

    fake_banks.requests.clear()
    result = make(access.url, pending=True).fetch_transactions(window, None)
    assert all(r.query.get("pending") == ["1"] for r in fake_banks.requests)
    expected = fake_banks.simplefin_expected(access.number, window.start, window.end, pending=True)
    assert {(t.account_external_id, t.external_id) for t in result.upserted} == expected.ids
    assert sum((t.amount for t in result.upserted), Decimal(0)) == expected.total
    pending = [t for t in result.upserted if t.pending]
    assert len(pending) == 6  # three per account: two dated by transacted_at, one not dated at all
    for t in pending:
        assert t.raw["posted"] == 0
        if t.transacted_at is not None:
            assert t.posted_on == t.transacted_at.date()
        else:  # neither date: the last day inside the window
            assert t.posted_on == (fake_banks.simplefin_end - DAY).date()


def test_bridge_errors_become_sanitized_deduplicated_notices(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    fake_banks.simplefin_add_errors(
        access.number,
        "Example Bank needs attention:\x07\x1b[31m log in at https://alice:hunter2@bank.example/fix\r\nplease",
        "x" * 500,
        f"token {access.user}:{access.password}@127.0.0.1 was used",
        f"echo {access.password}",
    )
    result = make(access.url).fetch_transactions(window_200(fake_banks), None)
    # Every one of the three responses carried them: each is shown once; the 500-character one not at all (a
    # long text from a host the user named is never passed on, not even cut short).
    assert len(result.notices) == 3
    first, bare, echo = result.notices
    assert first == "Example Bank needs attention: log in at [link removed] please"
    assert "hunter2" not in first and "alice" not in first and "[link removed]" in first
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for n in result.notices for ch in n)
    assert not any("xxxxx" in n for n in result.notices)
    for notice in result.notices:
        assert access.password not in notice and access.user not in notice
    assert "[redacted]" in echo and "[link removed]" in bare


def test_sanitize_keeps_ordinary_messages():
    assert sanitize("  Connection to Example Bank may need attention.  ") == (
        "Connection to Example Bank may need attention."
    )
    assert sanitize("mail support@bank.example or see https://bank.example/help") == (
        "mail support@bank.example or see https://bank.example/help"
    )


def test_a_429_is_a_transient_error_about_the_quota_and_never_retried(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    fake_banks.simplefin_quota = 0
    sleeps: list[float] = []
    with pytest.raises(ProviderTransientError) as exc:
        make(access.url, sleeps=sleeps).fetch_transactions(window_200(fake_banks), None)
    assert "quota" in exc.value.message and "Too many requests" in exc.value.message
    assert len(fake_banks.requests) == 1 and sleeps == []
    assert_no_secret(exc.value, access.password, access.url)


def test_the_quota_counts_every_request(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    fake_banks.simplefin_quota = 4
    provider = make(access.url)
    provider.fetch_transactions(window_200(fake_banks), None)  # 3 requests
    provider.test_connection()  # the 4th
    with pytest.raises(ProviderTransientError):
        provider.test_connection()
    assert fake_banks.simplefin_requests_today(access.number) == 5


def test_a_server_error_is_retried_and_then_succeeds(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    fake_banks.fail("simplefin", 502, retry_after="3")
    sleeps: list[float] = []
    result = make(access.url, sleeps=sleeps).test_connection()
    assert result.ok and sleeps == [3.0] and len(fake_banks.requests) == 2


def test_by_default_a_server_error_is_retried_only_once(fake_banks: FakeBanks, monkeypatch: pytest.MonkeyPatch):
    access = fake_banks.simplefin_access()
    fake_banks.fail("simplefin", 503, times=5)
    slept: list[float] = []
    monkeypatch.setattr(http, "RetryPolicy", functools.partial(RetryPolicy, sleep=slept.append))
    with pytest.raises(ProviderTransientError) as exc:
        SimpleFinProvider({"access_url": access.url}, allow_private=True).test_connection()  # no retry policy
    assert "503" in exc.value.message
    assert len(fake_banks.requests) == 2 and len(slept) == 1  # every request costs quota


def test_a_wrong_access_url_is_an_auth_error_without_the_credentials(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    wrong = access.url.replace(access.password, "not-the-password-0000")
    with pytest.raises(ProviderAuthError) as exc:
        make(wrong).fetch_transactions(window_200(fake_banks), None)
    assert "403" in exc.value.message and "setup token" in exc.value.message
    assert_no_secret(exc.value, "not-the-password-0000", access.user, wrong)
    assert len(fake_banks.requests) == 1


def test_no_credential_in_any_error_even_when_the_bridge_echoes_it(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    echoed = {"errors": [f"bad request from {access.url} ({access.user}:{access.password})"]}
    for status, error in ((400, ProviderRequestError), (401, ProviderAuthError), (500, ProviderTransientError)):
        fake_banks.fail("simplefin", status, body=echoed, times=4)
        with pytest.raises(error) as exc:
            make(access.url, attempts=2).test_connection()
        assert_no_secret(exc.value, access.password, access.user, access.url)
        fake_banks.reset()
        access = fake_banks.simplefin_access()
        echoed = {"errors": [f"bad request from {access.url} ({access.user}:{access.password})"]}


def test_an_unreachable_bridge_is_transient_without_the_url(fake_banks: FakeBanks):
    url = "http://user:sekrit-pass@127.0.0.1:9/simplefin/bridge/1"  # discard port: nothing listens
    with pytest.raises(ProviderTransientError) as exc:
        make(url, attempts=1).test_connection()
    assert_no_secret(exc.value, "sekrit-pass", url)


@pytest.mark.parametrize(
    "transaction",
    [
        {"id": "T1", "posted": 1700000000, "amount": "12,34", "description": "x"},
        {"id": "T1", "posted": 1700000000, "amount": None, "description": "x"},
        {"id": "T1", "posted": "yesterday", "amount": "1.00", "description": "x"},
        {"posted": 1700000000, "amount": "1.00", "description": "x"},
    ],
)
def test_a_malformed_transaction_fails_the_sync(fake_banks: FakeBanks, transaction: dict[str, object]):
    access = fake_banks.simplefin_access()
    body = {"errors": [], "accounts": [{"id": "A", "name": "A", "currency": "USD", "transactions": [transaction]}]}
    fake_banks.fail("simplefin", 200, body=json.dumps(body))
    with pytest.raises(ProviderMalformedError):
        make(access.url).fetch_transactions(SyncWindow(fake_banks.simplefin_end - DAY, fake_banks.simplefin_end), None)


def test_the_latest_balance_wins_across_chunks(fake_banks: FakeBanks):
    access = fake_banks.simplefin_access()
    end = fake_banks.simplefin_end
    old = {"id": "A", "name": "A", "currency": "usd", "balance": "1.00", "balance-date": unix(end) - 86_400}
    new = {**old, "balance": "2.50", "balance-date": unix(end)}
    fake_banks.fail("simplefin", 200, body=json.dumps({"accounts": [new]}))
    fake_banks.fail("simplefin", 200, body=json.dumps({"accounts": [old]}))
    result = make(access.url).fetch_transactions(SyncWindow(end - 100 * DAY, end), None)
    (account,) = result.accounts
    assert account.balance == Decimal("2.50") and account.currency == "USD"


def test_every_error_is_a_provider_error_without_the_setup_token(fake_banks: FakeBanks):
    token = fake_banks.setup_token()
    fake_banks.fail("simplefin", 500, path_contains="/claim/")
    with pytest.raises(ProviderError) as exc:
        SimpleFinProvider({"setup_token": token}).exchange_credentials(allow_private=True)
    assert isinstance(exc.value, ProviderTransientError)
    assert_no_secret(exc.value, token, base64.b64decode(token).decode())
    # That claim did not reach the bridge's logic: the token still works once.
    assert "access_url" in SimpleFinProvider({"setup_token": token}).exchange_credentials(allow_private=True)


def test_an_access_has_its_own_credentials(fake_banks: FakeBanks):
    first: SimpleFinAccess = fake_banks.simplefin_access()
    second = fake_banks.simplefin_access()
    assert first.password != second.password
    mixed = second.url.replace(f"/bridge/{second.number}", f"/bridge/{first.number}")
    with pytest.raises(ProviderAuthError):
        make(mixed).test_connection()


def test_a_claim_url_on_a_private_network_is_refused_unless_allowed(fake_banks: FakeBanks):
    token = fake_banks.setup_token()
    with pytest.raises(ProviderRequestError, match="loopback"):
        SimpleFinProvider({"setup_token": token}).exchange_credentials()
    assert fake_banks.requests == []  # refused before any request: the token is not spent
    assert SimpleFinProvider({"setup_token": token}).exchange_credentials(allow_private=True)["access_url"]
