"""Screenshots of every main page at 1280x800, with the demo data loaded (README.md shows them).

They are written to $SPENDWATCH_SCREENSHOTS when set (`make screenshots` sets docs/screenshots), else to a pytest
temporary directory, so that `make test` leaves the git tree alone.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import VIEWPORT, Server, User
from tests.e2e.helpers import nav_link, wait_settled

# (file name, navigation link, the page's h1, something that is there only once the page's data is shown)
PAGES = [
    ("dashboard", "Dashboard", "Dashboard", ".chart-panel canvas"),
    ("accounts", "Accounts", "Accounts", "li.account"),
    ("usage", "Usage", "Usage", "canvas"),
    ("transactions", "Transactions", "Transactions", "li.txn"),
    ("budgets", "Budgets & alerts", "Budgets & alerts", "#budgets-h ~ ul li"),
    ("channels", "Channels", "Channels", "li.channel-card"),
    ("admin", "Admin", "Admin", "form.settings-form"),
]


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    given = os.environ.get("SPENDWATCH_SCREENSHOTS")
    directory = Path(given) if given else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def shoot(page: Page, path: Path) -> None:
    page.mouse.move(0, 0)  # no hover effect where the last click was
    page.screenshot(path=path)
    assert png_size(path) == (VIEWPORT["width"], VIEWPORT["height"])
    # A blank or half-drawn page compresses to a few kilobytes; a real page with text and a chart does not.
    assert path.stat().st_size > 15_000, f"{path.name} looks blank ({path.stat().st_size} bytes)"


def test_screenshots_of_the_main_pages_with_demo_data(
    server: Server,
    owner: User,
    page: Page,
    new_context: Callable[..., BrowserContext],
    screenshot_dir: Path,
) -> None:
    """An admin loads the demo data and visits every page; each is captured once fully loaded."""
    page.get_by_role("button", name="Load demo data").click()
    expect(page.get_by_text("This workspace has demo data")).to_be_visible()

    for name, link, heading, content in PAGES:
        nav_link(page, link).click()
        expect(page.get_by_role("heading", name=heading, level=1, exact=True)).to_be_visible()
        expect(page.locator(content).first).to_be_visible()
        if name == "dashboard":  # the demo's accounts are all of the demo provider: stacked by model shows more
            page.get_by_label("Model", exact=True).click()  # not check(): the radio follows the URL a render later
            expect(page.get_by_role("heading", name="Top models")).to_be_visible()
        wait_settled(page)
        shoot(page, screenshot_dir / f"{name}.png")
        if name == "dashboard":  # and the bank spending by category, the other half of the dashboard's chart
            page.get_by_label("Category", exact=True).click()
            expect(page.get_by_role("heading", name="Bank spending over time")).to_be_visible()
            expect(page.locator(".chart-panel canvas")).to_be_visible()
            wait_settled(page)
            shoot(page, screenshot_dir / "dashboard-categories.png")

    # The sign-in page, as a returning user sees it (a fresh browser: signed out).
    visitor = new_context().new_page()
    visitor.goto("/signin")
    expect(visitor.get_by_role("heading", name="Sign in to Spendwatch")).to_be_visible()
    wait_settled(visitor)
    shoot(visitor, screenshot_dir / "signin.png")

    for name in [*(name for name, *_ in PAGES), "dashboard-categories", "signin"]:
        assert (screenshot_dir / f"{name}.png").is_file()
