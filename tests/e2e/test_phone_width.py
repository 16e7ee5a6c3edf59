"""At a phone's width (390 px) every main page fits: nothing makes the page itself scroll sideways."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import User
from tests.e2e.helpers import wait_settled

PHONE = {"width": 390, "height": 844}

# (path, something that is there only once the page's data is shown)
PAGES = [
    ("/", ".chart-panel canvas"),
    ("/?by=category", ".chart-panel canvas"),
    ("/accounts", "li.account"),
    ("/usage", "canvas"),
    ("/transactions", "li.txn"),
    ("/budgets", "#budgets-h ~ ul li"),
    ("/channels", "li.channel-card"),
    ("/admin", "form.settings-form"),
]


def test_every_page_fits_a_phone_with_demo_data(owner: User, page: Page) -> None:
    """With the demo data loaded, each page at 390 px is no wider than the screen."""
    page.get_by_role("button", name="Load demo data").click()
    expect(page.get_by_text("This workspace has demo data")).to_be_visible()
    page.set_viewport_size(PHONE)
    too_wide = {}
    for path, content in PAGES:
        page.goto(path)
        expect(page.locator(content).first).to_be_visible()
        wait_settled(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}, f"pages wider than {PHONE['width']} px: {too_wide}"
