"""End to end through the real parts: usage at the fake OpenAI crosses 80 % of a budget → the sync job stores it
and evaluates right away → the delivery job sends a signed webhook to a real receiver and an email to a real
SMTP server, both carrying the real figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backend.models import AlertEvent, Notification
from jobs.table import JOBS_BY_ID
from tests.channel_helpers import admin_settings
from tests.conftest import Api
from tests.fakes.providers import OPENAI_ADMIN_KEY, FakeProviders
from tests.fakes.smtp import FakeSmtp
from tests.fakes.webhooks import WebhookReceiver


def test_usage_crossing_80_percent_reaches_the_webhook_and_the_inbox_after_the_next_sync(
    make_app: Any, fake_providers: FakeProviders, smtp: FakeSmtp, receiver: WebhookReceiver
) -> None:
    fake = fake_providers
    app = make_app(provider_base_urls={"openai": fake.openai_url})
    state = app.extensions["spendwatch"]
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    smtp_settings = {"host": smtp.host, "port": smtp.port, "security": "none", "from_address": "alerts@example.com"}
    admin_settings(api, token, allow_private_webhooks=True, smtp=smtp_settings)

    hook = api.call("POST", "/api/channels", token, json={"name": "Hook", "kind": "webhook", "url": receiver.url})
    assert hook.status_code == 201, hook.get_json()
    receiver.secrets = [hook.get_json()["secret"]]
    mail = {"name": "Mail", "kind": "email", "recipients": ["finance@example.com"]}
    email = api.call("POST", "/api/channels", token, json=mail)
    assert email.status_code == 201, email.get_json()

    # The month so far at the fake provider (what the first sync brings) is 85 % of this budget.
    today = dt.datetime.now(dt.UTC).date()
    month_spend = fake.dataset.openai_cost_total(today.replace(day=1), today)
    assert month_spend > 0, "the fake dataset has no spend this month"
    amount = (month_spend / Decimal("0.85")).quantize(Decimal("0.01"))
    body = {
        "name": "AI spend this month",
        "period": "month",
        "amount": str(amount),
        "channels": [hook.get_json()["id"], email.get_json()["id"]],
    }
    budget = api.call("POST", "/api/budgets", token, json=body)
    assert budget.status_code == 201, budget.get_json()
    account = {"kind": "openai", "name": "OpenAI", "credentials": {"api_key": OPENAI_ADMIN_KEY}}
    assert api.call("POST", "/api/accounts", token, json=account).status_code == 201

    # One sync cycle (the job evaluates the workspace right after it), then one delivery run.
    assert JOBS_BY_ID["sync"].run_once(state.db, state.settings)["synced"] == 1
    with state.db.system_session() as session:
        [event] = session.scalars(select(AlertEvent)).all()
        assert session.query(Notification).count() == 2
    # 50 % and 80 % were crossed at once: one event, naming 80 %.
    assert (event.type, event.threshold_key) == ("budget.threshold_crossed", "actual:80%")
    JOBS_BY_ID["deliver"].run_once(state.db, state.settings)

    [delivery] = receiver.deliveries
    assert delivery.verified_with == receiver.secrets, "the signature does not verify with the channel's secret"
    sent = delivery.json
    assert sent["type"] == "budget.threshold_crossed"
    data = sent["data"]
    assert Decimal(data["spent"]) == month_spend.quantize(Decimal("0.01"))
    assert Decimal(data["budget"]) == amount
    assert data["threshold"] == {"type": "percent", "value": "80", "basis": "actual"}
    assert data["percent"] == str((month_spend * 100 / amount).quantize(Decimal("0.1")))

    [received] = smtp.messages
    message = received.message
    assert message["To"] == "finance@example.com"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"{month_spend.quantize(Decimal('0.01')):,}" in text and f"{amount:,}" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "80" in html and data["links"]["dashboard"] in html
