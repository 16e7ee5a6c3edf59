"""The Plaid provider against the fake Plaid `/transactions/sync` over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

import httpx
import pytest

from integrations.http import RetryPolicy
from integrations.providers.base import (
    Capability,
    ProviderAuthError,
    ProviderCategory,
    ProviderMalformedError,
    ProviderRequestError,
    ProviderTransientError,
)
from integrations.providers.plaid import PlaidProvider
from integrations.records import SyncWindow, TransactionSync
from tests.fakes.banks import PLAID_ACCESS_TOKEN, PLAID_CLIENT_ID, PLAID_SECRET, FakeBanks

WINDOW = SyncWindow(dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2020, 1, 2, tzinfo=dt.UTC))  # ignored


def make(
    fake: FakeBanks,
    token: str = PLAID_ACCESS_TOKEN,
    *,
    secret: str = PLAID_SECRET,
    sleeps: list[float] | None = None,
    attempts: int = 4,
) -> PlaidProvider:
    sleeps = [] if sleeps is None else sleeps
    return PlaidProvider(
        {"client_id": PLAID_CLIENT_ID, "secret": secret, "access_token": token},
        base_url=fake.plaid_url,
        retry=RetryPolicy(attempts=attempts, sleep=sleeps.append),
    )


def sync(fake: FakeBanks, cursor: str | None = None, token: str = PLAID_ACCESS_TOKEN) -> TransactionSync:
    return make(fake, token).fetch_transactions(WINDOW, cursor)


def sync_bodies(fake: FakeBanks) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests_for("plaid", "/transactions/sync")]


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(exc), "a credential leaked into an error message"


def test_kind_form_and_environments():
    assert PlaidProvider.kind == "plaid" and PlaidProvider.label == "Plaid (banks)"
    assert PlaidProvider.category is ProviderCategory.MONEY
    assert PlaidProvider.capabilities == {Capability.TRANSACTIONS, Capability.BALANCES}
    assert [(f.name, f.secret) for f in PlaidProvider.credential_fields] == [
        ("client_id", False),
        ("secret", True),
        ("access_token", True),
    ]
    for environment in ("sandbox", "development", "production"):
        provider = PlaidProvider({}, config={"environment": environment})
        assert provider._base() == f"https://{environment}.plaid.com"
    assert PlaidProvider({})._base() == "https://production.plaid.com"
    assert PlaidProvider({}, base_url="http://x.test/plaid/", config={"environment": "sandbox"})._base() == (
        "http://x.test/plaid"
    )
    with pytest.raises(ProviderRequestError):
        PlaidProvider({}, config={"environment": "moon"})._base()
    assert PLAID_SECRET not in repr(PlaidProvider({"secret": PLAID_SECRET}))


def test_test_connection_counts_the_accounts(fake_banks: FakeBanks):
    result = make(fake_banks).test_connection()
    assert result.ok and "2 accounts" in result.message
    (request,) = fake_banks.requests
    assert request.path == "/accounts/get"
    assert request.body == {"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET, "access_token": PLAID_ACCESS_TOKEN}


def test_the_first_sync_reads_every_page(fake_banks: FakeBanks):
    fake_banks.plaid_page_size = 5
    result = sync(fake_banks)

    bodies = sync_bodies(fake_banks)
    assert len(bodies) == math.ceil(24 / 5)
    assert "cursor" not in bodies[0] and all(b["count"] == 500 for b in bodies)
    assert len({b.get("cursor") for b in bodies}) == len(bodies)  # each page asked with the one before's cursor

    expected = fake_banks.plaid_changes(PLAID_ACCESS_TOKEN)
    assert {t.external_id for t in result.upserted} == set(expected.upserted) and len(result.upserted) == 24
    for t in result.upserted:
        plaid = expected.upserted[t.external_id]
        assert t.amount == -plaid["amount"] and isinstance(t.amount, Decimal)
        assert t.account_external_id == plaid["account_id"] and t.posted_on.isoformat() == plaid["date"]
        assert t.description == plaid["name"] and t.merchant == (plaid["merchant_name"] or "")
        assert t.provider_category == plaid["personal_finance_category"]["detailed"]
        assert t.pending is plaid["pending"] and t.pending_external_id == ""
        assert (t.transacted_at is not None) is (plaid["authorized_datetime"] is not None)
        json.dumps(t.raw)  # storable as JSON as it is
    assert sum(t.pending for t in result.upserted) == 2
    assert result.removed == [] and result.cursor and result.notices == []

    checking, card = sorted(result.accounts, key=lambda a: a.name)
    assert (checking.balance, checking.available_balance, checking.currency) == (
        Decimal("110.00"),
        Decimal("100.00"),
        "USD",
    )
    assert card.balance == Decimal("-410.00")  # owed on a card: negative, like SimpleFIN
    assert card.extra["type"] == "credit" and card.extra["mask"] == "3333"

    fake_banks.requests.clear()
    again = sync(fake_banks, result.cursor)
    assert (again.upserted, again.removed, again.cursor) == ([], [], result.cursor)
    assert len(fake_banks.requests) == 1


def test_a_purchase_is_negative_and_a_refund_positive(fake_banks: FakeBanks):
    cursor = sync(fake_banks).cursor
    purchase = fake_banks.plaid_add(PLAID_ACCESS_TOKEN, "12.34")
    refund = fake_banks.plaid_add(PLAID_ACCESS_TOKEN, "-5.00", name="BOOK NOOK REFUND", merchant_name=None)
    result = sync(fake_banks, cursor)
    found = {t.external_id: t for t in result.upserted}
    assert set(found) == {purchase, refund}
    assert found[purchase].amount == Decimal("-12.34") and str(found[purchase].amount) == "-12.34"
    assert found[refund].amount == Decimal("5.00")
    coffee = found[purchase]
    assert (coffee.merchant, coffee.description, coffee.provider_category) == (
        "Coffee Corner",
        "COFFEE CORNER",
        "FOOD_AND_DRINK_COFFEE",
    )
    assert found[refund].merchant == ""
    assert coffee.raw["amount"] == "12.34"  # as Plaid sent it (exact text), not the flipped amount


def test_modified_and_removed(fake_banks: FakeBanks):
    first = sync(fake_banks)
    changed, gone = sorted(fake_banks.plaid_transactions(PLAID_ACCESS_TOKEN))[:2]
    fake_banks.plaid_modify(PLAID_ACCESS_TOKEN, changed, amount=Decimal("9.99"), name="CHANGED")
    fake_banks.plaid_remove(PLAID_ACCESS_TOKEN, gone)
    gone_account = {t.external_id: t.account_external_id for t in first.upserted}[gone]

    result = sync(fake_banks, first.cursor)
    (modified,) = result.upserted
    assert (modified.external_id, modified.amount, modified.description) == (changed, Decimal("-9.99"), "CHANGED")
    assert result.removed == [(gone_account, gone)]
    expected = fake_banks.plaid_changes(PLAID_ACCESS_TOKEN, first.cursor)
    assert set(expected.upserted) == {changed} and expected.removed == {(gone_account, gone)}


def test_a_posted_transaction_arrives_with_its_pending_id_on_another_page(fake_banks: FakeBanks):
    first = sync(fake_banks)
    (pending, *_) = [t for t in first.upserted if t.pending]
    posted_id = fake_banks.plaid_post(PLAID_ACCESS_TOKEN, pending.external_id)
    fake_banks.plaid_page_size = 1
    fake_banks.requests.clear()

    result = sync(fake_banks, first.cursor)
    assert len(fake_banks.requests) == 2  # the removal on page 1, the posted one on page 2
    assert result.removed == [(pending.account_external_id, pending.external_id)]
    (posted,) = result.upserted
    assert (posted.external_id, posted.pending, posted.pending_external_id) == (posted_id, False, pending.external_id)
    assert posted.amount == pending.amount and posted.account_external_id == pending.account_external_id


def test_mutation_during_pagination_restarts_from_the_original_cursor(fake_banks: FakeBanks):
    cursor = sync(fake_banks).cursor
    assert cursor
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00", "6.00"):
        fake_banks.plaid_add(PLAID_ACCESS_TOKEN, amount)
    some = sorted(fake_banks.plaid_transactions(PLAID_ACCESS_TOKEN))[0]
    fake_banks.plaid_modify(PLAID_ACCESS_TOKEN, some, name="RENAMED")
    fake_banks.plaid_page_size = 2  # 7 changes: 4 pages
    fake_banks.plaid_mutation_on_page(PLAID_ACCESS_TOKEN, 3)
    fake_banks.requests.clear()

    result = make(fake_banks).fetch_transactions(WINDOW, cursor)

    cursors = [b["cursor"] for b in sync_bodies(fake_banks)]
    assert len(cursors) == 3 + 4  # pages 1-2, page 3 fails; then the whole loop again
    assert cursors[0] == cursor and cursors[3] == cursor  # the restart starts from the original cursor
    assert cursors[:3] == cursors[3:6]

    fake_banks.requests.clear()
    clean = make(fake_banks).fetch_transactions(WINDOW, cursor)
    assert len(fake_banks.requests) == 4
    assert clean == result  # nothing from the failed run leaked in (no duplicates, same cursor)
    assert len(result.upserted) == 7 and result.removed == []
    assert {t.external_id for t in result.upserted} == set(
        fake_banks.plaid_changes(PLAID_ACCESS_TOKEN, cursor).upserted
    )


def test_mutation_three_restarts_then_a_transient_error(fake_banks: FakeBanks):
    fake_banks.plaid_mutation_on_page(PLAID_ACCESS_TOKEN, 1, times=3)
    assert len(sync(fake_banks).upserted) == 24  # the fourth run gets through
    assert len(fake_banks.requests) == 4

    fake_banks.requests.clear()
    fake_banks.plaid_mutation_on_page(PLAID_ACCESS_TOKEN, 1, times=4)
    with pytest.raises(ProviderTransientError) as exc:
        sync(fake_banks)
    assert "changing" in exc.value.message and len(fake_banks.requests) == 4


def test_the_fake_detects_a_real_mutation_between_pages(fake_banks: FakeBanks):
    body = {"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET, "access_token": PLAID_ACCESS_TOKEN, "count": 5}
    first = httpx.post(f"{fake_banks.plaid_url}/transactions/sync", json=body).json()
    assert first["has_more"]
    fake_banks.plaid_add(PLAID_ACCESS_TOKEN, "1.00")
    second = httpx.post(f"{fake_banks.plaid_url}/transactions/sync", json={**body, "cursor": first["next_cursor"]})
    assert second.status_code == 400
    assert second.json()["error_code"] == "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION"


def test_item_login_required_asks_to_relink_without_retrying(fake_banks: FakeBanks):
    fake_banks.plaid_login_required(PLAID_ACCESS_TOKEN)
    sleeps: list[float] = []
    for call in (lambda p: p.fetch_transactions(WINDOW, None), lambda p: p.test_connection()):
        with pytest.raises(ProviderAuthError) as exc:
            call(make(fake_banks, sleeps=sleeps))
        assert "re-link" in exc.value.message and "ITEM_LOGIN_REQUIRED" in exc.value.message
        assert_no_secret(exc.value, PLAID_SECRET, PLAID_ACCESS_TOKEN)
    assert len(fake_banks.requests) == 2 and sleeps == []


def test_wrong_keys_and_unknown_tokens_are_auth_errors_without_them(fake_banks: FakeBanks):
    wrong_secret = "wrong-secret-0123456789abcdef"
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_banks, secret=wrong_secret).fetch_transactions(WINDOW, None)
    assert "INVALID_API_KEYS" in exc.value.message
    assert_no_secret(exc.value, wrong_secret, PLAID_ACCESS_TOKEN)

    unknown = "access-sandbox-00000000-dead-beef-0000-000000000000"
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_banks, unknown).test_connection()
    assert "INVALID_ACCESS_TOKEN" in exc.value.message
    assert_no_secret(exc.value, unknown, PLAID_SECRET)


def test_an_echoed_secret_is_redacted(fake_banks: FakeBanks):
    said = f"bad request: secret={PLAID_SECRET} access_token={PLAID_ACCESS_TOKEN}"
    for status, error_type, code, error in (
        (400, "INVALID_REQUEST", "INVALID_FIELD", ProviderRequestError),
        (400, "INVALID_INPUT", "INVALID_API_KEYS", ProviderAuthError),
        (500, "API_ERROR", "INTERNAL_SERVER_ERROR", ProviderTransientError),
    ):
        body = {"error_type": error_type, "error_code": code, "error_message": said, "display_message": said}
        fake_banks.fail("plaid", status, body=body, times=2 if status >= 500 else 1)  # 5xx: retried once
        with pytest.raises(error) as exc:
            make(fake_banks, attempts=2).fetch_transactions(WINDOW, None)
        assert_no_secret(exc.value, PLAID_SECRET, PLAID_ACCESS_TOKEN)
        assert "[redacted]" in exc.value.message


def test_rate_limit_is_retried_then_transient(fake_banks: FakeBanks):
    sleeps: list[float] = []
    fake_banks.plaid_rate_limit(times=2)
    assert len(make(fake_banks, sleeps=sleeps).fetch_transactions(WINDOW, None).upserted) == 24
    assert len(sleeps) == 2

    fake_banks.requests.clear()
    fake_banks.plaid_rate_limit(times=3)
    with pytest.raises(ProviderTransientError) as exc:
        make(fake_banks, attempts=3).fetch_transactions(WINDOW, None)
    assert "429" in exc.value.message and "RATE_LIMIT_EXCEEDED" in exc.value.message
    assert len(fake_banks.requests) == 3


@pytest.mark.parametrize(
    "page",
    [
        {"added": [{"transaction_id": "t", "account_id": "a", "date": "2024-01-01", "amount": "lots"}]},
        {"added": [{"transaction_id": "t", "account_id": "a", "date": "yesterday", "amount": 1}]},
        {"added": [{"account_id": "a", "date": "2024-01-01", "amount": 1}]},
        {"added": "many"},
        {"added": [], "has_more": "yes"},
        {"added": [], "has_more": True, "next_cursor": ""},
    ],
)
def test_a_malformed_page_fails_the_sync(fake_banks: FakeBanks, page: dict[str, Any]):
    fake_banks.fail("plaid", 200, body={"modified": [], "removed": [], "next_cursor": "c", "has_more": False, **page})
    with pytest.raises(ProviderMalformedError):
        sync(fake_banks)


def test_an_item_with_nothing_ready_keeps_its_cursor(fake_banks: FakeBanks):
    body = {
        "added": [],
        "modified": [],
        "removed": [],
        "accounts": [],
        "next_cursor": "",
        "has_more": False,
        "transactions_update_status": "NOT_READY",
    }
    fake_banks.fail("plaid", 200, body=body)
    result = sync(fake_banks, "previous-cursor")
    assert result.cursor == "previous-cursor" and result.notices and result.upserted == []
