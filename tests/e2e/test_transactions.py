"""Bank statements: import a CSV through the Transactions page (upload → preview → commit) and find its rows."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, User
from tests.e2e.helpers import nav_link, usd

STATEMENT = Path(__file__).resolve().parents[1] / "data" / "statements" / "chase_checking.csv"


def test_csv_statement_is_previewed_committed_and_listed(server: Server, owner: User, page: Page) -> None:
    """A user adds a hand-kept bank account, previews a Chase CSV export, adds its rows and sees them listed."""
    with STATEMENT.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    total = sum((Decimal(r["Amount"]) for r in rows), Decimal(0))

    nav_link(page, "Transactions").click()
    sections = page.get_by_role("navigation", name="Transactions sections")
    sections.get_by_role("link", name="Bank accounts").click()
    page.get_by_role("button", name="Add a hand-kept account").click()
    form = page.get_by_role("form", name="Add a hand-kept account")
    form.get_by_label("Name").fill("Chase checking")
    form.get_by_label("Bank").fill("Chase")
    form.get_by_role("button", name="Add account").click()
    expect(page.get_by_text("Added “Chase checking”.")).to_be_visible()

    sections.get_by_role("link", name="Import").click()
    upload = page.get_by_role("form", name="Import a statement")
    expect(upload.get_by_label("Into the account")).to_have_value(re.compile(r"\d+"))
    upload.get_by_label("Statement file").set_input_files(STATEMENT)
    upload.get_by_role("button", name="Preview").click()

    preview = page.get_by_role("region", name="Preview of chase_checking.csv")
    expect(preview).to_be_visible()
    counts = preview.locator("dl.import-counts")
    expect(counts.locator("div").filter(has_text="Rows read")).to_contain_text(str(len(rows)))
    expect(counts.locator("div").filter(has_text="New")).to_contain_text(str(len(rows)))
    expect(counts.locator("div").filter(has_text="Adds up to")).to_contain_text(usd(total).lstrip("-"))
    expect(page.get_by_role("table", name="The statement's transactions").get_by_role("row")).to_have_count(
        len(rows) + 1  # the header row
    )
    page.get_by_role("button", name=f"Add {len(rows)} transactions").click()

    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.get_by_text(f"Added {len(rows)} transactions to Chase checking")).to_be_visible()
    page.get_by_role("link", name="See the transactions").click()

    listed = page.locator("li.txn")
    expect(listed).to_have_count(len(rows))
    expect(listed.filter(has_text=re.compile("check 1042", re.I))).to_have_count(1)
    expect(listed.filter(has_text=re.compile("payroll", re.I))).to_have_count(2)
