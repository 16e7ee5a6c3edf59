"""Roles: a viewer invited through the Admin page signs in and cannot reach the instance settings."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server, User
from tests.e2e.helpers import nav_link, sign_in, wait_settled


def test_invited_viewer_sees_no_admin_link_and_admin_deep_link_is_refused(
    server: Server, owner: User, page: Page, new_context: Callable[..., BrowserContext]
) -> None:
    """The admin invites a viewer; the viewer accepts, signs in, finds no Admin link and /admin refuses them."""
    nav_link(page, "Admin").click()
    invite_form = page.get_by_role("form", name="Invite someone")
    invite_form.get_by_label("Email").fill("vera@example.com")
    invite_form.get_by_label("Role").select_option("viewer")
    invite_form.get_by_role("button", name="Create invitation").click()
    invitation = page.get_by_role("region", name="Invitation for vera@example.com")
    link = invitation.get_by_label("Invitation link").input_value()
    assert link.startswith(f"{server.url}/invite/"), link

    # The viewer, in a browser of their own: accept by signing up with the invitation.
    viewer = new_context().new_page()
    viewer.goto(link)
    expect(viewer.get_by_text("You are invited to join")).to_contain_text("as viewer")
    signup = viewer.get_by_role("region", name="Create an account")
    expect(signup.get_by_label("Email")).to_have_value("vera@example.com")
    signup.get_by_label("Password").fill(PASSWORD)
    signup.get_by_role("button", name="Create account").click()
    expect(viewer.get_by_text("Welcome! You joined")).to_be_visible()
    wait_settled(viewer)

    # Sign out and back in, as they would another day.
    viewer.get_by_role("button", name="Sign out").click()
    expect(viewer.get_by_text("You are signed out.")).to_be_visible()
    sign_in(viewer, "vera@example.com")

    navigation = viewer.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(navigation.get_by_role("link", name="Budgets & alerts")).to_be_visible()
    expect(navigation.get_by_role("link", name="Admin")).to_have_count(0)
    expect(viewer.get_by_text("Instance admin")).to_have_count(0)

    viewer.goto("/admin")
    expect(viewer.get_by_role("heading", name="Admins only")).to_be_visible()
    expect(viewer.get_by_text("This page is for instance administrators only")).to_be_visible()
    expect(viewer.get_by_role("heading", name="Instance settings")).to_have_count(0)
    expect(viewer.get_by_label("Allow webhooks to private network addresses")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Save settings")).to_have_count(0)

    # …while the owner still has them.
    page.reload()
    expect(page.get_by_role("heading", name="Instance settings")).to_be_visible()
