"""The first visit: sign up as the first user, load the demo data from the dashboard, see the chart and the totals."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server
from tests.e2e.helpers import today, usd, wait_settled


def test_first_user_signs_up_loads_demo_data_and_sees_the_chart_and_totals(server: Server, page: Page) -> None:
    """A new admin creates the first account on the sign-in page, loads the demo data and reads the month's spend."""
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome to Spendwatch")).to_be_visible()
    signup = page.get_by_role("region", name="Create the first account (you become the instance admin)")
    signup.get_by_label("Email").fill("first@example.com")
    signup.get_by_label("Your name").fill("First Admin")
    signup.get_by_label("Password").fill(PASSWORD)
    signup.get_by_role("button", name="Create the admin account").click()

    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_text("Instance admin")).to_be_visible()
    expect(page.get_by_role("heading", name="Connect your first provider account")).to_be_visible()
    page.get_by_role("button", name="Load demo data").click()

    chart = page.locator(".chart-panel canvas")
    expect(chart).to_be_visible()
    wait_settled(page)
    expect(page.get_by_text("This workspace has demo data")).to_be_visible()

    # What the page must show is what the API says for the same period: this month so far (UTC, like the browser).
    user = server.login("first@example.com", PASSWORD)
    first = today().replace(day=1)
    summary = server.http.get("/api/usage/summary", params={"from": first, "to": today()}, headers=server.headers(user))
    assert summary.status_code == 200, summary.text
    totals = summary.json()["totals"]
    assert list(totals) == ["USD"], totals
    assert float(totals["USD"]) > 0, "the demo data has no spend this month"

    spend = page.get_by_role("region", name="Key figures").locator(".stat").filter(has_text="Spend, this month")
    expect(spend.locator(".stat-value")).to_have_text(usd(totals["USD"]))
    # The chart is drawn, not just present: the canvas has a real size.
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100, box
