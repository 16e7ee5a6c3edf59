"""Request limits: bodies nested too deep or too large are refused before they are parsed, on every route."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from backend.limits import MAX_JSON_DEPTH, json_too_deep, upload_endpoints
from backend.models import ProviderAccount
from tests.conftest import Api
from tests.test_imports_api import DATA, error, make_bank_account

DEMO = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-abcdefgh"}}


def nested(depth: int, inner: str = "1") -> str:
    """A JSON object DEPTH levels deep: {"a": {"a": ... INNER ...}}."""
    return '{"a":' * depth + inner + "}" * depth


def with_config(depth: int) -> str:
    """An account body whose config makes the whole body DEPTH levels deep."""
    return json.dumps(DEMO)[:-1] + ', "config": ' + nested(depth - 1) + "}"


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, False),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), True),
        (nested(MAX_JSON_DEPTH + 1), True),
        # Brackets in strings are text, escaped quotes included; an escaped backslash ends no string.
        (json.dumps({"name": "[{" * 100 + '\\"' + "[" * 100}), False),
        ("[" * 20 + '"\\\\"' + "[" * 20 + "]" * 40, True),
        ('"' + "[" * 5000, False),  # one unterminated string: the parser stops there without nesting
        ("[" * 5000, True),  # unclosed: the parser would recurse into every one
        (json.dumps([["ü" * 10] * 3] * 100, ensure_ascii=False).encode(), False),  # UTF-8 bytes, 2 deep
        (("[" * 40 + "]" * 40).encode("utf-16"), True),  # json.loads reads UTF-16 too
    ],
)
def test_the_depth_check_counts_the_brackets_a_parser_nests_into(text: str | bytes, too_deep: bool) -> None:
    assert json_too_deep(text) is too_deep


def test_a_deep_account_config_is_refused_and_the_account_list_keeps_working(api: Api, token: str) -> None:
    """The attack: a config nested 400 deep was stored, then GET /api/accounts answered 500 for everyone."""
    headers = api.headers(token)
    created = api.client.post("/api/accounts", json=DEMO, headers=headers)
    assert created.status_code == 201, created.get_json()
    account_id = created.get_json()["id"]
    for depth in (MAX_JSON_DEPTH + 1, 400, 900, 5000):
        body = with_config(depth)
        posted = api.client.post("/api/accounts", data=body, content_type="application/json", headers=headers)
        err = error(posted, 422, "nesting_too_deep")
        assert err["details"] == {"limit": MAX_JSON_DEPTH} and "Traceback" not in err["message"]
        patch = '{"config": ' + nested(depth - 1) + "}"
        patched = api.client.patch(
            f"/api/accounts/{account_id}", data=patch, content_type="application/json", headers=headers
        )
        error(patched, 422, "nesting_too_deep")
    listed = api.call("GET", "/api/accounts", token)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.get_json()["items"]] == [account_id]
    # At the limit the depth check lets the body through (whatever the route then makes of it).
    at_limit = api.client.post(
        "/api/accounts", data=with_config(MAX_JSON_DEPTH), content_type="application/json", headers=headers
    )
    assert at_limit.status_code < 500
    assert at_limit.get_json().get("error", {}).get("code") != "nesting_too_deep"


def test_a_json_string_body_cannot_smuggle_nested_json_past_the_depth_check(api: Api, token: str) -> None:
    # flask-openapi3 parses a body that is a JSON *string* as JSON again; its brackets are text to the depth scan.
    smuggled = json.dumps(json.dumps({"email": "a@example.com", "password": nested(200, '"x"')}))
    for body, headers in (
        (smuggled, {}),
        (smuggled.encode("utf-16"), {}),
        (json.dumps(nested(MAX_JSON_DEPTH + 5)), {"Authorization": f"Bearer {token}"}),
    ):
        response = api.client.post("/api/auth/login", data=body, content_type="application/json", headers=headers)
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["code"] == "body_not_an_object"


def test_a_config_stored_before_the_limit_does_not_break_the_account_list(app: Any, api: Api, token: str) -> None:
    """A row stored before the fix (nested 400 deep) is shown with an empty config; saving a new one mends it."""
    ids = [api.call("POST", "/api/accounts", token, json={**DEMO, "name": n}).get_json()["id"] for n in "AB"]
    with app.extensions["spendwatch"].db.system_session() as session:
        session.get(ProviderAccount, ids[0]).config = json.loads(nested(400))
    listed = api.call("GET", "/api/accounts", token)
    assert listed.status_code == 200, listed.get_json()
    assert [(a["id"], a["config"]) for a in listed.get_json()["items"]] == [(ids[0], {}), (ids[1], {})]
    assert api.call("GET", f"/api/accounts/{ids[0]}", token).get_json()["config"] == {}
    mended = api.call("PATCH", f"/api/accounts/{ids[0]}", token, json={"config": {}})
    assert mended.status_code == 200, mended.get_json()
    with app.extensions["spendwatch"].db.system_session() as session:
        assert session.get(ProviderAccount, ids[0]).config == {}


def test_a_deep_form_field_is_refused_before_it_is_decoded(app: Any, api: Api, token: str) -> None:
    """flask-openapi3 runs json.loads on every form field: the import's `mapping` 5,000 deep was a RecursionError."""
    bank = make_bank_account(app)
    for depth in (5000, MAX_JSON_DEPTH + 1):
        fields = {
            "file": (io.BytesIO((DATA / "chase_checking.csv").read_bytes()), "chase.csv"),
            "bank_account_id": str(bank),
            "mapping": "[" * depth + "]" * depth,
        }
        response = api.call("POST", "/api/imports", token, data=fields, content_type="multipart/form-data")
        error(response, 422, "nesting_too_deep")
    # The form is read when the route reads it, after the sign-in check: an anonymous upload is not parsed at all.
    fields = {"file": (io.BytesIO(b"x"), "x.csv"), "bank_account_id": str(bank), "mapping": "[" * 5000}
    error(api.client.post("/api/imports", data=fields, content_type="multipart/form-data"), 401)


def test_json_bodies_and_uploads_have_their_own_size_limits(make_app: Any) -> None:
    """A JSON body over its limit is a 413 before it is read; a statement upload larger than that still works."""
    app = make_app(max_json_bytes=4096, max_request_bytes=64 * 1024)
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    big_json = json.dumps({**DEMO, "name": "x" * 5000})
    err = error(api.call("POST", "/api/accounts", token, data=big_json, content_type="application/json"), 413)
    assert err["code"] == "payload_too_large" and err["details"] == {"limit": 4096} and "4 KiB" in err["message"]
    # The same bytes as multipart on a JSON route get the JSON limit too, not the upload one.
    as_form = api.call("POST", "/api/accounts", token, data={"name": "x" * 5000}, content_type="multipart/form-data")
    error(as_form, 413, "payload_too_large")
    assert api.call("GET", "/api/accounts", token).get_json()["items"] == []

    bank = make_bank_account(app)
    statement = (DATA / "chase_checking.csv").read_bytes()
    statement += b"\n" * (3 * 4096 - len(statement))  # over the JSON limit, within the upload limit
    fields = {"file": (io.BytesIO(statement), "chase.csv"), "bank_account_id": str(bank)}
    uploaded = api.call("POST", "/api/imports", token, data=fields, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    fields = {"file": (io.BytesIO(statement * 6), "chase.csv"), "bank_account_id": str(bank)}
    too_big = api.call("POST", "/api/imports", token, data=fields, content_type="multipart/form-data")
    assert "64 KiB" in error(too_big, 413, "payload_too_large")["message"]


def test_a_body_without_content_length_is_cut_at_the_limit(make_app: Any) -> None:
    """A chunked body (no Content-Length) is read only up to the limit, then refused."""
    app = make_app(max_json_bytes=4096)
    body = json.dumps({"email": "big@example.com", "password": "x" * 8000}).encode()
    response = app.test_client().post(
        "/api/auth/register",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    error(response, 413, "payload_too_large")


def test_the_upload_routes_are_the_multipart_operations_of_the_openapi_document(app: Any) -> None:
    """The larger limit goes to exactly the routes that document a file upload."""
    multipart = set()
    for path, operations in app.api_doc["paths"].items():
        for method, operation in operations.items():
            if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
                multipart.add((method.upper(), path))
    assert len(multipart) == len(upload_endpoints(app)) == 2, multipart
    adapter = app.url_map.bind("localhost")
    for method, path in multipart:
        endpoint, _ = adapter.match(re.sub(r"\{[^}]+\}", "1", path), method=method)
        assert endpoint in upload_endpoints(app)
