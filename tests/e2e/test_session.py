"""The browser session: the refresh token only in an HttpOnly cookie, a reload resumes the session through it,
sign-out deletes it; the strict Content-Security-Policy breaks neither the app nor the API docs page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import sign_in, wait_settled


def _cookies(page: Page) -> dict[str, dict[str, Any]]:
    return {c["name"]: dict(c) for c in page.context.cookies()}


def test_reload_resumes_the_session_through_the_httponly_cookie(server: Server, page: Page) -> None:
    user = server.register("olive@example.com", name="Olive Owner")
    violations: list[str] = []
    page.context.expose_binding("cspViolation", lambda _source, text: violations.append(text))
    page.context.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.cspViolation(e.violatedDirective + ' ' + e.blockedURI));"
    )
    sign_in(page, user.email, user.password)
    wait_settled(page)

    cookies = _cookies(page)
    refresh = cookies["spendwatch_refresh"]
    # Chromium keeps a Secure cookie on http://127.0.0.1 (a potentially trustworthy origin).
    assert (refresh["httpOnly"], refresh["secure"], refresh["sameSite"], refresh["path"]) == (
        True,
        True,
        "Strict",
        "/api/auth",
    )
    assert page.evaluate("document.cookie").find(refresh["value"]) == -1  # no script can read it
    storage = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert refresh["value"] not in storage and "eyJ" not in storage  # no token of any kind in localStorage

    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    wait_settled(page)
    expect(page).not_to_have_url("**/signin**")
    assert _cookies(page)["spendwatch_refresh"]["value"] != refresh["value"]  # the reload's refresh rotated it

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("region", name="Sign in")).to_be_visible()
    assert "spendwatch_refresh" not in _cookies(page) and "spendwatch_csrf" not in _cookies(page)
    page.reload()
    expect(page.get_by_role("region", name="Sign in")).to_be_visible()
    assert violations == []


def test_api_docs_page_runs_under_the_csp(server: Server, page: Page) -> None:
    response = page.goto("/api/docs/")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Spendwatch API")).to_be_visible()
    expect(page.get_by_text("/api/auth/refresh").first).to_be_visible()
