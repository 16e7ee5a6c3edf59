"""Admin price overrides: who may set them, validation, and their effect on estimates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from backend.services.pricing import estimate_cost, load_overrides
from integrations.records import UsageRecord

PRICE = {
    "provider": "openai",
    "model": "gpt-4o-mini",
    "valid_from": "2026-10-01",
    "input_per_million": "1.00",
    "output_per_million": "4.00",
    "cache_read_per_million": "0.10",
}


def _usage(day: dt.date) -> UsageRecord:
    return UsageRecord(
        bucket_start=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC),
        bucket_width="1d",
        kind="completions",
        model="gpt-4o-mini",
        input_tokens=3_000_000,
        cache_read_tokens=1_000_000,
        output_tokens=1_000_000,
    )


def test_admin_sets_lists_and_deletes_prices(api, owner):
    token = owner["access_token"]
    created = api.call("POST", "/api/admin/prices", token, json=PRICE)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert Decimal(body["input_per_million"]) == Decimal("1.00")
    assert body["cache_write_per_million"] is None
    listed = api.call("GET", "/api/admin/prices", token).get_json()["items"]
    assert [p["id"] for p in listed] == [body["id"]]
    again = api.call("POST", "/api/admin/prices", token, json=PRICE)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "price_exists"
    assert api.call("DELETE", f"/api/admin/prices/{body['id']}", token).status_code == 204
    assert api.call("DELETE", f"/api/admin/prices/{body['id']}", token).status_code == 404
    assert api.call("GET", "/api/admin/prices", token).get_json()["items"] == []


def test_prices_are_validated_and_admin_only(api, owner):
    token = owner["access_token"]
    for change in ({"input_per_million": "-1"}, {"valid_from": "soon"}, {"model": ""}, {"bogus": 1}):
        response = api.call("POST", "/api/admin/prices", token, json=PRICE | change)
        assert response.status_code == 422, change
    api.call("PATCH", "/api/admin/settings", token, json={"registration_mode": "open"})
    user = api.register("user@example.com")["access_token"]
    assert api.call("POST", "/api/admin/prices", user, json=PRICE).status_code == 403
    assert api.call("GET", "/api/admin/prices", user).status_code == 403


def test_an_override_replaces_the_bundled_price_from_its_day_on(app, api, owner):
    token = owner["access_token"]
    assert api.call("POST", "/api/admin/prices", token, json=PRICE).status_code == 201
    with app.extensions["spendwatch"].db.session() as session:
        prices = load_overrides(session=session)
    before = _usage(dt.date(2026, 9, 30))
    after = _usage(dt.date(2026, 10, 1))
    # Bundled gpt-4o-mini price: $0.15/M input, $0.075/M cached input, $0.60/M output.
    assert estimate_cost("openai", before, prices) == Decimal("0.3") + Decimal("0.075") + Decimal("0.6")
    # Override: 2M plain input at $1, 1M cached at $0.10, 1M output at $4.
    assert estimate_cost("openai", after, prices) == Decimal("2") + Decimal("0.1") + Decimal("4")
    # A model genai-prices does not know gets a price only through an override.
    custom = UsageRecord(
        bucket_start=after.bucket_start, bucket_width="1d", kind="manual", model="my-llm", input_tokens=1_000_000
    )
    assert estimate_cost("manual", custom, prices) is None
    api.call("POST", "/api/admin/prices", token, json=PRICE | {"provider": "manual", "model": "my-llm"})
    with app.extensions["spendwatch"].db.session() as session:
        prices = load_overrides(session=session)
    assert estimate_cost("manual", custom, prices) == Decimal("1")


def test_ingest_prices_with_the_override(app, api, owner):
    from sqlalchemy import select

    from backend.db import set_workspace
    from backend.models import ProviderAccount
    from backend.models import UsageRecord as UsageRow
    from backend.services.ingest import ingest

    token = owner["access_token"]
    body = {"kind": "openai", "name": "o", "credentials": {"api_key": "sk-admin-override-test-000000000000"}}
    account_id = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    api.call("POST", "/api/admin/prices", token, json=PRICE)
    with app.extensions["spendwatch"].db.session() as session:
        set_workspace(session, owner["workspaces"][0]["workspace_id"])
        ingest(
            session=session, account=session.get(ProviderAccount, account_id), records=[_usage(dt.date(2026, 10, 2))]
        )
        session.commit()
        row = session.scalars(select(UsageRow)).one()
    assert (row.cost, row.cost_source) == (Decimal("6.1"), "estimate")
