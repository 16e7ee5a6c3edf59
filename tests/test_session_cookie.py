"""The refresh token lives only in an HttpOnly, SameSite=Strict cookie on /api/auth; refresh and cookie logout need
the CSRF header and a same-site Origin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD

REFRESH = "spendwatch_refresh"
CSRF = "spendwatch_csrf"


def _set_cookies(response: Any) -> dict[str, str]:
    """The response's Set-Cookie headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def _attributes(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login"])
def test_sign_in_body_carries_no_refresh_token(client, path):
    if path == "/api/auth/login":
        client.post("/api/auth/register", json={"email": "a@example.com", "password": PASSWORD})
    response = client.post(path, json={"email": "a@example.com", "password": PASSWORD})
    assert response.status_code in (200, 201)
    refresh_token = client.get_cookie(REFRESH, path="/api/auth").value
    assert "refresh" not in str(response.get_json().keys())
    assert refresh_token not in response.get_data(as_text=True)


def test_refresh_cookie_is_httponly_strict_and_scoped(client):
    response = client.post("/api/auth/register", json={"email": "a@example.com", "password": PASSWORD})
    cookies = _set_cookies(response)
    refresh = _attributes(cookies[REFRESH])
    assert {"httponly", "samesite=strict", "path=/api/auth", "secure"} <= refresh  # localhost: a secure context
    assert "max-age=604800" in refresh
    csrf = _attributes(cookies[CSRF])  # readable by the page (it must copy it into the header), no credential
    assert "httponly" not in csrf and {"samesite=strict", "path=/", "secure"} <= csrf


def test_cookie_is_secure_over_https_and_not_on_plain_http_elsewhere(client):
    body = {"email": "a@example.com", "password": PASSWORD}
    client.post("/api/auth/register", json=body)
    https = client.post("/api/auth/login", json=body, base_url="https://spend.example.com")
    assert "secure" in _attributes(_set_cookies(https)[REFRESH])
    # A browser drops a Secure cookie set over plain http on a non-loopback host: it would sign the user out on
    # every reload (documented: serve over HTTPS).
    lan = client.post("/api/auth/login", json=body, base_url="http://192.168.1.20:8000")
    assert "secure" not in _attributes(_set_cookies(lan)[REFRESH])


def test_refresh_without_csrf_header_is_refused_and_rotates_nothing(api, client, owner):
    refresh_token, csrf = api.session_cookies()
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        response = client.post("/api/auth/refresh", headers=headers)
        assert response.status_code == 403, headers
        assert response.get_json()["error"]["code"] == "csrf_failed"
        assert "access_token" not in response.get_json()
        assert response.headers.getlist("Set-Cookie") == []
    # Nothing was used up: the real call still works with the untouched cookie.
    assert api.session_cookies() == (refresh_token, csrf)
    assert api.refresh().status_code == 200


def test_refresh_from_another_site_is_refused(api, client, owner):
    _refresh, csrf = api.session_cookies()
    for origin in ("https://evil.example", "null", "http://localhost.evil.example"):
        response = client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf, "Origin": origin})
        assert response.status_code == 403, origin
        assert response.get_json()["error"]["code"] == "cross_site_request"
        assert response.headers.getlist("Set-Cookie") == []
    same_site = client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf, "Origin": "http://localhost"})
    assert same_site.status_code == 200
    # The configured public address (a reverse proxy may hand us another Host) counts as ours too.
    _refresh, csrf = api.session_cookies()
    public = client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf, "Origin": "http://spendwatch.test"})
    assert public.status_code == 200
    # ...and so does the admin's public address setting.
    assert (
        api.call(
            "PATCH", "/api/admin/settings", owner["access_token"], json={"base_url": "https://spend.example.com"}
        ).status_code
        == 200
    )
    _refresh, csrf = api.session_cookies()
    admin_set = client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf, "Origin": "https://spend.example.com"})
    assert admin_set.status_code == 200


def test_refresh_token_as_bearer_header_no_longer_refreshes(api, client, owner):
    refresh_token, _csrf = api.session_cookies()
    client.delete_cookie(REFRESH, path="/api/auth")
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})
    assert response.status_code == 401


def test_refresh_through_the_cookie_rotates_it(api, client, owner):
    before = api.session_cookies()
    response = api.refresh()
    assert response.status_code == 200
    assert set(response.get_json()) == {"access_token", "token_type", "expires_in"}
    after = api.session_cookies()
    assert after[0] != before[0] and after[1] != before[1]
    assert api.call("GET", "/api/auth/me", response.get_json()["access_token"]).status_code == 200


def test_logout_clears_the_cookies_and_revokes(api, client, owner):
    response = api.call("POST", "/api/auth/logout", owner["access_token"])
    assert response.status_code == 204
    cleared = _set_cookies(response)
    assert "max-age=0" in _attributes(cleared[REFRESH]) and "path=/api/auth" in _attributes(cleared[REFRESH])
    assert "max-age=0" in _attributes(cleared[CSRF])
    assert client.get_cookie(REFRESH, path="/api/auth") is None


def test_logout_by_cookie_alone_needs_the_csrf_header(api, client, owner):
    refresh_token, csrf = api.session_cookies()
    forged = client.post("/api/auth/logout")  # a page whose access token is gone: the cookie names the session
    assert forged.status_code == 403
    assert api.call("GET", "/api/auth/me", owner["access_token"]).status_code == 200

    response = client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert api.call("GET", "/api/auth/me", owner["access_token"]).status_code == 401
    client.set_cookie(REFRESH, refresh_token, path="/api/auth")
    assert client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf}).status_code == 401
