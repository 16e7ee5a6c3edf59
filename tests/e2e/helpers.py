"""Small helpers the e2e tests share: money as the web app shows it, today's periods, common UI steps."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD
from tests.fakes.providers import OPENAI_ADMIN_KEY


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would, and wait for the signed-in app."""
    page.goto("/signin")
    form = page.get_by_role("region", name="Sign in")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def wait_settled(page: Page) -> None:
    """Wait until nothing on the page is loading: no spinner, skeleton, lazy chart placeholder or busy region."""
    busy = page.locator(".loading, .skeleton, .chart-loading, .spinner, [aria-busy='true']")
    expect(busy).to_have_count(0)
    # The dashboard marks itself when all of its data is in (data-loaded="true"); other pages have no marker.
    expect(page.locator("[data-loaded]:not([data-loaded='true'])")).to_have_count(0)


def usd(amount: Decimal | str) -> str:
    """An amount as the web app formats US dollars in an en-US browser (frontend/src/lib/format.ts formatMoney):
    rounded half away from zero to cents, grouped thousands, "$1,234.56"."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def today() -> dt.date:
    """Today as the browser sees it (the contexts run in UTC)."""
    return dt.datetime.now(dt.UTC).date()


def nav_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def add_openai_account(page: Page, name: str) -> Locator:
    """Add an OpenAI account with the fake's admin key through the Accounts page form; return its card."""
    nav_link(page, "Accounts").click()
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    wait_settled(page)  # the list is in: an empty workspace has opened the form by itself
    form = page.get_by_role("form", name="Add a provider account")
    if not form.is_visible():
        page.get_by_role("button", name="Add account").click()
    expect(form).to_be_visible()
    form.get_by_label("Provider").select_option(label="OpenAI")
    form.get_by_label("Account name").fill(name)
    form.get_by_label("Admin key").fill(OPENAI_ADMIN_KEY)
    form.get_by_role("button", name="Add account").click()
    card = page.locator("li.account").filter(has=page.get_by_role("heading", name=name, level=3))
    expect(card.get_by_text("Account added.")).to_be_visible()
    return card


def sync_now(card: Locator) -> None:
    """Press "Sync now" on an account card and wait for the worker inside `spendwatch run` to finish the sync."""
    card.get_by_role("button", name="Sync now").click()
    # The first sync reads 90 days from the fake: allow a minute and a half on a busy machine.
    expect(card.get_by_role("status")).to_contain_text("Sync finished", timeout=90_000)
