"""API-wide conventions: one JSON error envelope with the right 4xx, tokens, CORS, the OpenAPI document, the UI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from tests.conftest import PASSWORD

ACCOUNT = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-key-1234"}}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """RESPONSE is the JSON error envelope with STATUS (and CODE); it never carries a traceback."""
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert 'File "' not in text
    assert response.status_code == status, text
    assert response.is_json, (response.content_type, text[:200])
    body = response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def locs(error: dict[str, Any]) -> list[list[str]]:
    assert isinstance(error["details"], list), error
    return [d["loc"] for d in error["details"]]


# --- 404 / 405 / 413 --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nonexistent", "/api/accounts/abc", "/api/auth/nope", "/api/", "/api"])
def test_unknown_api_route_is_json_404(client, path):
    assert_error(client.get(path), 404, "not_found")
    assert_error(client.get(path, headers={"Accept": "text/html"}), 404, "not_found")


def test_unknown_api_route_with_post_is_json_404(client):
    assert_error(client.post("/api/nonexistent", json={"a": 1}), 404)


def test_missing_resource_is_json_404(api, owner):
    assert_error(api.call("GET", "/api/accounts/4242", owner["access_token"]), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/api/auth/login"), ("PUT", "/api/accounts"), ("GET", "/api/auth/register"), ("POST", "/healthz")],
)
def test_wrong_method_is_json_405_with_allow(client, method, path):
    response = client.open(path, method=method)
    assert_error(response, 405, "method_not_allowed")
    assert "Allow" in response.headers
    assert method not in {m.strip() for m in response.headers["Allow"].split(",")}


def test_body_over_the_limit_is_json_413(make_app):
    client = make_app(max_request_bytes=1024).test_client()
    body = json.dumps({"email": "big@example.com", "password": "x" * 4096})
    assert len(body) > 4000
    response = client.post("/api/auth/register", data=body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    # Nothing was stored: the first real sign-up is still the first user.
    info = client.get("/api/auth/registration").get_json()
    assert info["first_user"] is True


def test_body_under_the_limit_is_accepted(make_app):
    client = make_app(max_request_bytes=1024).test_client()
    response = client.post("/api/auth/register", json={"email": "small@example.com", "password": PASSWORD})
    assert response.status_code == 201, response.get_json()


# --- 422 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    ["{bad json", "", "[1, 2]", '"just a string"', "null", '{"email": "x@example.com", "password": "x"'],
)
def test_malformed_json_is_422(client, data):
    response = client.post("/api/auth/register", data=data, content_type="application/json")
    error = assert_error(response, 422)
    assert isinstance(error["details"], list) and error["details"]


def test_form_body_instead_of_json_is_4xx(client):
    response = client.post("/api/auth/register", data={"email": "x@example.com", "password": PASSWORD})
    assert_error(response, response.status_code)
    assert response.status_code in (415, 422)


def test_unknown_field_is_422_naming_it(client):
    response = client.post("/api/auth/register", json={"email": "x@example.com", "password": PASSWORD, "bogus": 1})
    error = assert_error(response, 422, "validation_error")
    assert ["bogus"] in locs(error)
    # Nothing was created.
    assert client.get("/api/auth/registration").get_json()["first_user"] is True


def test_wrong_types_are_422_naming_each_field(client):
    response = client.post("/api/auth/register", json={"email": 123, "password": ["a"], "name": {"x": 1}})
    error = assert_error(response, 422, "validation_error")
    found = locs(error)
    for field in ("email", "password", "name"):
        assert [field] in found, found
    for detail in error["details"]:
        assert detail["msg"] and detail["type"]


def test_missing_required_fields_are_422(client):
    error = assert_error(client.post("/api/auth/register", json={}), 422, "validation_error")
    assert ["email"] in locs(error) and ["password"] in locs(error)


def test_validation_errors_do_not_echo_the_input(client):
    secret = "sk-live-this-must-not-come-back"
    response = client.post("/api/auth/login", json={"email": secret, "password": 12345})
    assert_error(response, 422)
    assert secret not in response.get_data(as_text=True)
    assert "12345" not in response.get_data(as_text=True)


def test_wrong_types_in_an_authenticated_body_are_422(api, owner):
    response = api.call(
        "POST",
        "/api/accounts",
        owner["access_token"],
        json={"kind": "demo", "name": "x", "credentials": "not-a-dict", "sync_interval_minutes": "soon"},
    )
    error = assert_error(response, 422)
    found = locs(error)
    assert ["credentials"] in found and ["sync_interval_minutes"] in found


@pytest.mark.parametrize("account_id", ["0", "2147483648", "99999999999999999999"])
def test_out_of_range_path_ids_are_4xx(api, owner, account_id):
    response = api.call("GET", f"/api/accounts/{account_id}", owner["access_token"])
    assert_error(response, response.status_code)
    assert response.status_code in (404, 422)


def test_nul_characters_in_strings_are_rejected(api, owner):
    """PostgreSQL text cannot hold U+0000; the API must say so with a 422, not fail with a 500."""
    body = '{"kind": "demo", "name": "bad\\u0000name", "credentials": {"api_key": "demo-key-1234"}}'
    response = api.call("POST", "/api/accounts", owner["access_token"], data=body, content_type="application/json")
    assert_error(response, 422)
    assert api.call("GET", "/api/accounts", owner["access_token"]).get_json()["items"] == []


def test_nul_character_in_login_email_is_4xx(client, owner):
    body = '{"email": "owner\\u0000@example.com", "password": "correct horse battery"}'
    response = client.post("/api/auth/login", data=body, content_type="application/json")
    assert_error(response, response.status_code)
    assert 400 <= response.status_code < 500


# --- workspace header -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "1.0", "1; DROP TABLE users", "0x1"])
def test_non_integer_workspace_header_is_4xx(client, owner, value):
    headers = {"Authorization": f"Bearer {owner['access_token']}", "X-Workspace-Id": value}
    response = client.get("/api/accounts", headers=headers)
    assert_error(response, response.status_code)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("value", ["0", "-1", "2147483648", "99999999999999999999"])
def test_out_of_range_workspace_header_is_4xx(client, owner, value):
    headers = {"Authorization": f"Bearer {owner['access_token']}", "X-Workspace-Id": value}
    response = client.get("/api/accounts", headers=headers)
    assert_error(response, response.status_code)
    assert 400 <= response.status_code < 500


def test_other_workspace_header_is_404(api, owner):
    response = api.call("GET", "/api/accounts", owner["access_token"], workspace_id=999)
    assert_error(response, response.status_code)
    assert response.status_code in (403, 404)


# --- 401 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer garbage", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "garbage"],
)
@pytest.mark.parametrize("path", ["/api/accounts", "/api/auth/me", "/api/admin/settings", "/api/providers"])
def test_missing_or_garbage_token_is_401(client, authorization, path):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_error(client.get(path, headers=headers), 401)


def test_expired_access_token_is_401(app, client, owner):
    with app.app_context():
        token = create_access_token(identity="1", expires_delta=dt.timedelta(seconds=-1))
    response = client.get("/api/accounts", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "token_expired")


def test_expired_refresh_token_is_401(app, client, owner):
    with app.app_context():
        token = create_refresh_token(identity="1", expires_delta=dt.timedelta(seconds=-1))
    client.set_cookie("spendwatch_refresh", token, path="/api/auth")
    with app.app_context():  # the CSRF header must repeat the expired token's own claim
        csrf = decode_token(token, allow_expired=True)["csrf"]
    response = client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert_error(response, 401, "token_expired")


def test_token_signed_with_another_secret_is_401(make_app, client, owner):
    other = make_app(secret_key="a-completely-different-secret-for-signing-tokens")
    with other.app_context():
        token = create_access_token(identity="1", additional_claims={"sid": "x"})
    assert_error(client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_token_without_session_or_with_odd_subject_is_401(app, client, owner):
    with app.app_context():
        tokens = [
            create_access_token(identity="1"),  # no session id
            create_access_token(identity="abc", additional_claims={"sid": "x"}),
            create_access_token(identity="99999999999999999999", additional_claims={"sid": "x"}),
        ]
    for token in tokens:
        assert_error(client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_access_token_where_refresh_is_expected_is_401(app, client, owner):
    client.set_cookie("spendwatch_refresh", owner["access_token"], path="/api/auth")
    with app.app_context():
        csrf = decode_token(owner["access_token"])["csrf"]
    response = client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert_error(response, 401)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/auth/me"), ("GET", "/api/accounts"), ("POST", "/api/auth/logout"), ("GET", "/api/admin/settings")],
)
def test_refresh_token_where_access_is_expected_is_401(api, client, owner, method, path):
    refresh_token, _csrf = api.session_cookies()
    response = client.open(path, method=method, headers={"Authorization": f"Bearer {refresh_token}"})
    assert_error(response, 401)
    # ...and it did nothing: the access token still works (logout did not end the session).
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {owner['access_token']}"})
    assert me.status_code == 200


def test_unexpected_errors_are_a_bare_500_envelope(make_app):
    app = make_app()

    def boom() -> None:
        raise RuntimeError("internal detail: password=hunter2 at /srv/secret/path")

    app.add_url_rule("/api/_boom", "boom", boom)
    response = app.test_client().get("/api/_boom")
    error = assert_error(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "RuntimeError" not in text and "/srv/secret" not in text
    assert error["details"] is None


# --- CORS -------------------------------------------------------------------------------------------


def _preflight(client, origin: str, path: str = "/api/accounts") -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-workspace-id",
        },
    )


def test_cors_allows_the_configured_origin(make_app, owner):
    client = make_app(cors_origins=("https://ui.example",)).test_client()
    preflight = _preflight(client, "https://ui.example")
    assert preflight.status_code < 300
    assert preflight.headers.get("Access-Control-Allow-Origin") == "https://ui.example"
    allowed_headers = preflight.headers.get("Access-Control-Allow-Headers", "").lower()
    for header in ("authorization", "content-type", "x-workspace-id"):
        assert header in allowed_headers
    assert "POST" in preflight.headers.get("Access-Control-Allow-Methods", "")

    get = client.get("/api/auth/registration", headers={"Origin": "https://ui.example"})
    assert get.status_code == 200
    assert get.headers.get("Access-Control-Allow-Origin") == "https://ui.example"
    # Error responses carry it too, so the browser app can read the error.
    denied = client.get("/api/accounts", headers={"Origin": "https://ui.example"})
    assert_error(denied, 401)
    assert denied.headers.get("Access-Control-Allow-Origin") == "https://ui.example"
    # The authenticated request itself works cross-origin.
    ok = client.get(
        "/api/accounts", headers={"Origin": "https://ui.example", "Authorization": f"Bearer {owner['access_token']}"}
    )
    assert ok.status_code == 200
    assert ok.headers.get("Access-Control-Allow-Origin") == "https://ui.example"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://ui.example", "https://ui.example.evil.test"])
def test_cors_refuses_other_origins(make_app, origin):
    client = make_app(cors_origins=("https://ui.example",)).test_client()
    assert "Access-Control-Allow-Origin" not in _preflight(client, origin).headers
    assert "Access-Control-Allow-Origin" not in client.get("/api/auth/registration", headers={"Origin": origin}).headers


def test_no_cors_headers_without_configuration(client):
    assert "Access-Control-Allow-Origin" not in _preflight(client, "https://ui.example").headers
    response = client.get("/api/auth/registration", headers={"Origin": "https://ui.example"})
    assert response.status_code == 200
    assert not any(h.lower().startswith("access-control-") for h, _ in response.headers.items())


# --- OpenAPI and docs -------------------------------------------------------------------------------


@pytest.fixture
def openapi(client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def test_openapi_document(openapi):
    assert openapi["openapi"].startswith("3.")
    assert openapi["info"]["title"]
    assert openapi["info"]["version"]
    schemes = openapi["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(
        iter(s for s in schemes.values() if s.get("scheme") == "bearer")
    ).items()
    for path in (
        "/api/accounts",
        "/api/accounts/{account_id}",
        "/api/accounts/{account_id}/test",
        "/api/auth/login",
        "/api/admin/settings",
    ):
        assert path in openapi["paths"], sorted(openapi["paths"])
    assert {"get", "post"} <= set(openapi["paths"]["/api/accounts"])
    assert {"get", "patch", "delete"} <= set(openapi["paths"]["/api/accounts/{account_id}"])
    # Protected operations declare the bearer scheme; sign-in does not need it.
    scheme_name = next(n for n, s in openapi["components"]["securitySchemes"].items() if s.get("scheme") == "bearer")
    assert {scheme_name: []} in openapi["paths"]["/api/accounts"]["get"]["security"]
    assert {scheme_name: []} in openapi["paths"]["/api/admin/settings"]["get"]["security"]
    assert not openapi["paths"]["/api/auth/login"]["post"].get("security")
    # Operational and UI routes are not API operations.
    assert not any(p in openapi["paths"] for p in ("/healthz", "/readyz", "/metrics", "/", "/{path}"))


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def test_openapi_documents_errors_as_the_envelope(openapi):
    """Clients generated from the document must parse the 4xx bodies the API really sends."""
    wrong = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            for status in ("401", "422"):
                if status == "401" and not operation.get("security"):
                    continue
                response = operation.get("responses", {}).get(status)
                schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
                if "error" not in _resolve(openapi, schema).get("properties", {}):
                    wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == [], wrong


def test_openapi_is_also_under_the_docs_prefix(client, openapi):
    response = client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["paths"].keys() == openapi["paths"].keys()


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/swagger"])
def test_docs_pages_are_html(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True).lower()


def test_swagger_assets_are_served_locally(client):
    # Offline hosts: the UI's assets come from the app, not a CDN.
    html = client.get("/api/docs/swagger").get_data(as_text=True)
    assert "swagger/css/swagger-ui.css" in html
    assert "cdn" not in html.lower()
    css = client.get("/api/docs/swagger/css/swagger-ui.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"


# --- the web UI -------------------------------------------------------------------------------------


def test_web_index_is_html(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("path", ["/invite/sometoken", "/accounts/12", "/settings"])
def test_client_side_routes_get_the_index(client, path):
    index = client.get("/").get_data()
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data() == index


@pytest.mark.parametrize("path", ["/..%2fconfig.py", "/../backend/config.py", "/%2e%2e/%2e%2e/etc/passwd"])
def test_path_traversal_does_not_leak_files(client, path):
    response = client.get(path)
    text = response.get_data(as_text=True)
    assert "load_settings" not in text
    assert "root:" not in text


def test_api_paths_never_get_the_index(client):
    index = client.get("/").get_data()
    for path in ("/api/nonexistent", "/api/invite/sometoken", "/api/docs/nothing-here"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert_error(response, 404)
        assert response.get_data() != index
