"""Connecting a provider: add an OpenAI account in the Accounts page, sync it now, find its spend in Usage."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, User
from tests.e2e.helpers import add_openai_account, nav_link, sync_now, today, usd, wait_settled
from tests.fakes.providers import FakeProviders


def test_added_openai_account_syncs_and_its_usage_shows(
    server: Server, owner: User, page: Page, fake_ai: FakeProviders
) -> None:
    """A user adds an OpenAI account with an admin key, presses "Sync now" and sees the fake's spend in Usage."""
    card = add_openai_account(page, "OpenAI production")
    sync_now(card)

    # Usage opens on the last 30 days (today included): what the fake billed over those days, to the cent.
    start, end = today() - dt.timedelta(days=29), today() + dt.timedelta(days=1)
    billed = fake_ai.dataset.openai_cost_total(start, end)
    assert billed > 0
    nav_link(page, "Usage").click()
    expect(page.get_by_role("heading", name="Usage", level=1)).to_be_visible()
    wait_settled(page)
    expect(page.locator(".usage-total")).to_have_text(f"Total: {usd(billed)}")
    table = page.get_by_role("table", name="Usage grouped by day")
    expect(table.get_by_role("row", name="Total")).to_contain_text(usd(billed))
    expect(page.locator("canvas")).to_be_visible()

    # The account's sync history lists the run as OK.
    nav_link(page, "Accounts").click()
    card.get_by_role("button", name="Sync history").click()
    history = card.get_by_role("table", name="Recent sync runs, newest first")
    expect(history.get_by_role("cell", name="OK").first).to_be_visible()
