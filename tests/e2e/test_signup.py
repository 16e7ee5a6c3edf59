"""Open sign-up in the browser: "check your inbox", then the mailed link creates the account and signs in."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy

from playwright.sync_api import BrowserContext, expect

from tests.conftest import PASSWORD, SIGNUP_LINK
from tests.e2e.conftest import Server, User
from tests.e2e.helpers import wait_settled


def test_open_sign_up_by_the_emailed_link(
    server: Server, owner: User, new_context: Callable[..., BrowserContext]
) -> None:
    settings = server.http.patch(
        "/api/admin/settings", headers=server.headers(owner), json={"registration_mode": "open"}
    )
    assert settings.status_code == 200, settings.text

    visitor = new_context().new_page()
    visitor.goto("/signin")
    signup = visitor.get_by_role("region", name="Create an account")
    signup.get_by_label("Email").fill("nia@example.com")
    signup.get_by_label("Password").fill(PASSWORD)
    signup.get_by_role("button", name="Create account").click()
    expect(visitor.get_by_role("heading", name="Check your inbox")).to_be_visible()

    # No SMTP host is set: the mail is in the outbox folder (the answer was sent after it was written).
    [mail] = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in (server.data_dir / "mail-outbox").glob("*.eml")
    ]
    assert mail["To"] == "nia@example.com"
    match = SIGNUP_LINK.search(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert match, mail

    visitor.goto(f"/verify-email#token={match.group(1)}")
    visitor.get_by_label("Password").fill(PASSWORD)  # the one chosen above: a link alone finishes nothing
    visitor.get_by_role("button", name="Create my account").click()
    expect(visitor.get_by_text("your account is ready")).to_be_visible()
    wait_settled(visitor)
    expect(visitor.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")).to_be_visible()
