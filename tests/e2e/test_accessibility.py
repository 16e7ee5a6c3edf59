"""Every main page passes axe-core's accessibility checks (labels, names, contrast, landmarks, heading order…)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, Server, User
from tests.e2e.helpers import wait_settled

# axe-core is a dev dependency of the web app (frontend/package.json): `make test-e2e` installs it with the rest.
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"

# (path, something that is there only once the page's data is shown)
PAGES = [
    ("/", ".chart-panel canvas"),
    ("/accounts", "li.account"),
    ("/usage", "canvas"),
    ("/transactions", "li.txn"),
    ("/transactions/rules", "h2"),
    ("/budgets", "#budgets-h ~ ul li"),
    ("/channels", "li.channel-card"),
    ("/admin", "form.settings-form"),
]

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it stands."""
    if not AXE.is_file():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `make test-e2e` (it installs the web app's packages)")
    # Evaluated through the DevTools protocol, not added as a <script> tag: the app's Content-Security-Policy
    # rightly refuses inline scripts, and a script tag from here would be one.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found


def test_sign_in_page_has_no_violations(server: Server, page: Page) -> None:
    """The sign-in page, as a returning visitor sees it (with no user yet it offers to create the first one)."""
    server.register("olive@example.com")
    page.goto("/signin")
    expect(page.get_by_role("heading", name="Sign in to Spendwatch")).to_be_visible()
    assert violations(page) == []


def test_main_pages_with_demo_data_have_no_violations(owner: User, page: Page) -> None:
    """An admin with the demo data loaded: each main page, fully loaded, has no axe violation of any impact."""
    page.get_by_role("button", name="Load demo data").click()
    expect(page.get_by_text("This workspace has demo data")).to_be_visible()
    found: dict[str, list[dict[str, Any]]] = {}
    for path, content in PAGES:
        page.goto(path)
        expect(page.locator(content).first).to_be_visible()
        wait_settled(page)
        if problems := violations(page):
            found[path] = problems
    assert found == {}, found
