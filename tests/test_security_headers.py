"""Security headers on every kind of response, a docs page without inline script, HSTS only over HTTPS."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from backend.security_headers import CONTENT_SECURITY_POLICY, HSTS

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[tuple[str, str]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline.append((self._open, data.strip()))


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _assert_headers(response: Any) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.request.path)
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for name, value in (("frame-ancestors", "'none'"), ("object-src", "'none'"), ("base-uri", "'none'")):
        assert directives[name] == value
    assert directives["form-action"] == "'self'"
    permissions = response.headers["Permissions-Policy"]
    assert "camera=()" in permissions and "geolocation=()" in permissions and "payment=()" in permissions
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_every_kind_of_response_carries_the_headers(client, owner):
    index = client.get("/")
    script = next(a["src"] for tag, a in _parse(index.get_data(as_text=True)).tags if tag == "script" and a.get("src"))
    responses = [
        index,
        client.get("/invite/some-token"),  # a client-side route: the index again
        client.get(str(script)),  # the app's own script
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {owner['access_token']}"}),
        client.get("/api/accounts"),  # 401
        client.get("/api/nothing-here"),  # 404
        client.post("/api/auth/login", json={"email": 5}),  # 422
        client.get("/api/docs/"),
        client.get("/api/docs/swagger"),
        client.get("/api/docs/swagger/js/swagger-ui-bundle.js"),
        client.get("/static/docs/api-docs.js"),
        client.get("/api/openapi.json"),
        client.get("/healthz"),
    ]
    assert [r.status_code for r in responses[4:7]] == [401, 404, 422]
    for response in responses:
        _assert_headers(response)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/swagger"])
def test_docs_page_runs_no_inline_script_or_style(client, path):
    page = client.get(path)
    assert page.status_code == 200
    html = _parse(page.get_data(as_text=True))
    scripts = [attrs for tag, attrs in html.tags if tag == "script"]
    assert scripts and all(attrs.get("src") for attrs in scripts)
    assert html.inline == []  # no <script> or <style> body
    assert not [t for t, attrs in html.tags if "style" in attrs or any(a.startswith("on") for a in attrs)]
    for tag, attrs in html.tags:  # everything it loads is served here, with the same headers
        url = attrs.get("src") or (attrs.get("href") if tag == "link" else None)
        if url:
            loaded = client.get(url)
            assert loaded.status_code == 200, url
            _assert_headers(loaded)


def test_swagger_oauth_redirect_page_with_inline_script_is_gone(client):
    assert client.get("/api/docs/oauth2-redirect.html").status_code == 404


def test_hsts_only_over_https(make_app):
    client = make_app().test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert client.get("/", base_url="https://spend.example.com").headers["Strict-Transport-Security"] == HSTS
    assert client.get("/api/nothing", base_url="https://spend.example.com").headers["Strict-Transport-Security"]
    # Without TRUSTED_PROXIES anyone can send X-Forwarded-Proto: it is not believed.
    forged = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


def test_hsts_behind_a_trusted_tls_proxy(make_app):
    client = make_app(trusted_proxies=1).test_client()
    proxied = client.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert proxied.headers["Strict-Transport-Security"] == HSTS
    plain = client.get("/", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in plain.headers
