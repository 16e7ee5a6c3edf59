"""Alerting through the UI: allow a local webhook, add the channel, set a budget, sync → a signed alert arrives."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, User
from tests.e2e.helpers import add_openai_account, nav_link, sync_now, today, usd
from tests.fakes.providers import FakeProviders
from tests.fakes.webhooks import Delivery, WebhookReceiver


def wait_for_delivery(receiver: WebhookReceiver, wanted: Callable[[Any], bool], timeout: float = 90.0) -> Delivery:
    """The first delivery whose JSON body is WANTED, polling the receiver until a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            found = [d for d in receiver.deliveries if wanted(d.json)]
        if found:
            return found[0]
        receiver.arrived.wait(timeout=0.5)  # woken by the next request
        receiver.arrived.clear()
    pytest.fail(f"no such webhook within {timeout:.0f}s; the receiver got {[d.json for d in receiver.deliveries]}")


def crossed_100_percent(body: Any) -> bool:
    return body.get("type") == "budget.threshold_crossed" and body["data"]["threshold"]["value"] == "100"


def test_budget_crossed_by_synced_usage_sends_a_signed_webhook_and_shows_the_alert(
    server: Server, owner: User, page: Page, receiver: WebhookReceiver, fake_ai: FakeProviders
) -> None:
    """An admin allows local webhooks, adds a webhook channel and a budget, syncs an account, and gets the alert."""
    # Admin: webhooks to a private (here loopback) address are refused until an instance admin allows them.
    nav_link(page, "Admin").click()
    page.get_by_label("Allow webhooks to private network addresses").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    # Channels: a signed (Standard Webhooks) channel; its secret is shown once, right after saving.
    nav_link(page, "Channels").click()
    page.get_by_role("button", name="Add channel").click()
    form = page.get_by_role("form", name="Add a channel")
    form.get_by_role("radio", name="Webhook").check()
    form.get_by_label("Name").fill("Ops hook")
    form.get_by_label("URL").fill(receiver.url)
    form.get_by_role("button", name="Add channel").click()
    secret_box = page.get_by_role("region", name="Signing secret of the new webhook")
    secret = secret_box.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_"), secret
    receiver.secrets = [secret]
    secret_box.get_by_role("button", name="I have saved it — hide it").click()
    expect(secret_box).to_be_hidden()

    # Budgets: all AI spend this month, at half of what the fake billed so far: the sync will cross 100 %.
    month_spend = fake_ai.dataset.openai_cost_total(today().replace(day=1), fake_ai.dataset.end)
    assert month_spend > 0
    amount = (month_spend / 2).quantize(Decimal("0.01"))
    nav_link(page, "Budgets & alerts").click()
    page.get_by_role("button", name="New budget").click()
    budget_form = page.get_by_role("form", name="New budget")
    budget_form.get_by_label("Name").fill("AI this month")
    budget_form.get_by_label("Amount").fill(str(amount))
    budget_form.get_by_label("Ops hook").check()
    budget_form.get_by_role("button", name="Create budget").click()
    expect(page.get_by_text("Created the budget “AI this month”.")).to_be_visible()

    # The account, synced now: the worker evaluates the workspace's budgets right after the sync stores spend.
    card = add_openai_account(page, "OpenAI")
    sync_now(card)

    # The sync evaluates right after it; the minute's alert tick may also look at the workspace mid-sync (and fire a
    # lower threshold first), so wait for the 100 % one.
    delivery = wait_for_delivery(receiver, crossed_100_percent)
    assert delivery.verified_with == [secret], "the webhook's signature does not verify with the secret the UI showed"
    data = delivery.json["data"]
    assert Decimal(data["budget"]) == amount
    assert amount <= Decimal(data["spent"]) <= month_spend.quantize(Decimal("0.01"))

    # The app shows it too: the dashboard's recent alerts and the budget's history.
    nav_link(page, "Dashboard").click()
    recent = page.get_by_role("region", name="Recent alerts")
    expect(recent.get_by_role("listitem").filter(has_text="AI this month").first).to_contain_text("firing")
    nav_link(page, "Budgets & alerts").click()
    budget_card = page.locator("li.budget-card").filter(has=page.get_by_role("heading", name="AI this month"))
    expect(budget_card).to_contain_text(f"{usd(month_spend)} of {usd(amount)}")  # the whole month so far, synced
    history = page.get_by_role("table", name="Alert history, newest first")
    row = history.get_by_role("row").filter(has_text="AI this month").filter(has_text="Budget threshold crossed")
    expect(row.first).to_be_visible()
