"""Property-based fuzzing of the JSON API from its own OpenAPI document (Schemathesis).

Every operation of /api/openapi.json is called with generated (valid and invalid) input, as a signed-up
owner whose workspace has a demo account and a pending invitation, so the small ids Hypothesis favours
(1, 2, ...) hit real rows. No answer may be a 5xx, use an undocumented status code or content type, or
have a body that does not match the documented schema. Then every write operation of the document gets
the bodies generation does not reach: nested thousands deep, and larger than the limit.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.limits import MAX_JSON_DEPTH
from tests.conftest import Api

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OWNER_EMAIL = "fuzz-owner@example.com"
DEMO_ACCOUNT = {"kind": "demo", "name": "Fuzz demo", "credentials": {"api_key": "demo-fuzzfuzzfuzz"}}

# These operations end or rotate the session they are called with, so each of their cases gets a session
# of its own (a fresh sign-in) instead of the shared one the other cases use.
OWN_SESSION_OPERATIONS = {("POST", "/api/auth/logout"), ("POST", "/api/auth/refresh")}
# Every case carries the owner's real Bearer token: Schemathesis must not generate (or drop, in negative
# cases) the Authorization header itself. The file's settings are explicit, not read from a schemathesis.toml.
FUZZ_CONFIG = {"generation": {"with-security-parameters": False}}


@dataclass
class Tenant:
    """The signed-up owner the generated cases act as, and the rows they can hit."""

    api: Api
    access_token: str
    workspace_id: int
    account_id: int  # the demo account created at set-up
    invite_id: int
    member_id: int
    live_account_id: int = 0  # the demo account now (re-created when a generated DELETE removed it)

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def fresh_session(self) -> dict[str, str]:
        """A new sign-in's credentials as a browser sends them: the Bearer access token, the refresh cookie and
        its CSRF header."""
        access = self.api.login(OWNER_EMAIL)["access_token"]
        refresh, csrf = self.api.session_cookies()
        return {**self.bearer(access), "Cookie": f"spendwatch_refresh={refresh}", "X-CSRF-Token": csrf}

    def aim_at_live_account(self, case: Any) -> None:
        """Re-create the demo account when a generated DELETE removed it, and send cases aimed at the
        set-up account's id to the live one, so later operations still hit a real row."""
        if not self.live_account_id:
            self.live_account_id = self.account_id
        response = self.api.call("GET", f"/api/accounts/{self.live_account_id}", self.access_token)
        if response.status_code == 404:
            created = self.api.call("POST", "/api/accounts", self.access_token, json=DEMO_ACCOUNT)
            assert created.status_code == 201, created.get_json()
            self.live_account_id = created.get_json()["id"]
        else:
            assert response.status_code == 200, response.get_json()
        if case.path_parameters.get("account_id") == self.account_id:
            case.path_parameters["account_id"] = self.live_account_id


@pytest.fixture
def tenant(api: Api) -> Tenant:
    session = api.register(OWNER_EMAIL, name="Fuzz Owner")
    assert session["user"]["is_admin"] is True
    token = session["access_token"]
    workspace_id = session["workspaces"][0]["workspace_id"]
    account = api.call("POST", "/api/accounts", token, json=DEMO_ACCOUNT)
    assert account.status_code == 201, account.get_json()
    invite = api.call(
        "POST", f"/api/workspaces/{workspace_id}/invites", token, json={"email": "guest@example.com", "role": "member"}
    )
    assert invite.status_code == 201, invite.get_json()
    members = api.call("GET", f"/api/workspaces/{workspace_id}/members", token)
    assert members.status_code == 200, members.get_json()
    return Tenant(
        api=api,
        access_token=token,
        workspace_id=workspace_id,
        account_id=account.get_json()["id"],
        invite_id=invite.get_json()["id"],
        member_id=members.get_json()["items"][0]["id"],
    )


@pytest.fixture
def api_schema(request: pytest.FixtureRequest, app: Any, tenant: Tenant) -> Any:
    """The app's own OpenAPI document, loaded from the app the tenant lives in."""
    # Schemathesis 4.32's from_fixture reads and rewrites `node._nodeid`, which pytest 9.2 no longer has
    # (node ids became `NodeId` objects behind the `nodeid` property); give it the attribute it expects.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    config = SchemathesisConfig.from_dict(FUZZ_CONFIG)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case: Any, tenant: Tenant) -> None:
    headers = tenant.bearer(tenant.access_token)
    if (case.method.upper(), case.path) in OWN_SESSION_OPERATIONS:
        headers = tenant.fresh_session()
    elif case.path.startswith("/api/accounts/{account_id}"):
        tenant.aim_at_live_account(case)
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)


def test_fuzz_identity_has_real_rows_at_small_ids(tenant: Tenant) -> None:
    """The fuzzed ids are worth something only if the rows they aim at exist (fresh database: ids start at 1)."""
    assert (tenant.workspace_id, tenant.account_id, tenant.invite_id, tenant.member_id) == (1, 1, 1, 1)
    me = tenant.api.call("GET", "/api/auth/me", tenant.access_token)
    assert me.status_code == 200
    assert me.get_json()["user"]["email"] == OWNER_EMAIL


# Nesting the json module handles (50), that broke serialization (500) and that broke the parser (5,000).
DEEP = [
    opener * depth + "1" + closer * depth
    for depth in (50, 500, 5000)
    for opener, closer in (("[", "]"), ('{"a":', "}"))
]


def _write_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every POST, PUT and PATCH operation: (method, path with each id set to 1, its multipart form or {})."""
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method in ("post", "put", "patch"):
                content = operation.get("requestBody", {}).get("content", {})
                ref = content.get("multipart/form-data", {}).get("schema", {}).get("$ref", "")
                form = document["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else {}
                operations.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path), form))
    return operations


def _form(form: dict[str, Any], text: str, file: bytes = b"date,amount\n") -> dict[str, Any]:
    """A multipart body for FORM: a small file in each file field, TEXT in every other field."""
    return {
        name: (io.BytesIO(file), "x.csv") if field.get("format") == "binary" else text
        for name, field in form["properties"].items()
    }


def test_every_write_route_refuses_deep_and_oversized_bodies(app: Any, tenant: Tenant) -> None:
    """Deep bodies were a 500 with a traceback on every POST/PATCH route; now every one is refused before parsing."""
    operations = _write_operations(app.api_doc)
    assert len(operations) >= 50 and sum(bool(form) for _, _, form in operations) == 2
    assert MAX_JSON_DEPTH < 50  # the shallowest body of DEEP is over the limit
    settings = app.extensions["spendwatch"].settings
    headers = tenant.bearer(tenant.access_token)
    # The manual-entries upload reads its form only for a manual account (it answers 409 for the demo one).
    manual = {"kind": "manual", "name": "Manual", "credentials": {}, "config": {"vendor": "groq"}}
    manual_id = tenant.api.call("POST", "/api/accounts", tenant.access_token, json=manual).get_json()["id"]
    for method, path, form in operations:
        if form:
            path = path.replace("/api/accounts/1/", f"/api/accounts/{manual_id}/")
        for text in DEEP:
            kwargs = {"data": _form(form, text)} if form else {"data": text, "content_type": "application/json"}
            response = tenant.api.client.open(path, method=method, headers=headers, **kwargs)
            assert response.status_code == 422, (method, path, text[:10], response.get_data(as_text=True))
            assert response.get_json()["error"]["code"] == "nesting_too_deep", (method, path)
        if form:
            big = _form(form, "1", file=b"x" * settings.max_request_bytes)
            response = tenant.api.client.open(path, method=method, headers=headers, data=big)
        else:
            big_json = '{"name": "' + "x" * settings.max_json_bytes + '"}'
            response = tenant.api.client.open(
                path, method=method, headers=headers, data=big_json, content_type="application/json"
            )
        assert response.status_code == 413, (method, path, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "payload_too_large"
    # None of it was stored or ended the session: the owner still reads the demo and the manual account only.
    accounts = tenant.api.call("GET", "/api/accounts", tenant.access_token)
    assert accounts.status_code == 200 and len(accounts.get_json()["items"]) == 2
