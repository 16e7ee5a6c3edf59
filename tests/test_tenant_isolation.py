"""Tenant isolation: a member of workspace A gets 404 for each of workspace B's resources and cannot
write them.

The test walks `app.url_map` rather than a hand-written list of URLs: every rule under /api/ must be
classified below (probed as a tenant resource, or skipped with a reason), so a route added later fails
this test until someone decides how it is isolated.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from backend.models import AlertEvent
from tests.conftest import Api

MONEY_LISTS = (
    "/api/bank-accounts",
    "/api/bank-accounts/balances",
    "/api/transactions",
    "/api/categories",
    "/api/rules",
    "/api/imports",
    "/api/import-formats",
)
ROLE_RANK = {"viewer": 0, "member": 1, "admin": 2, "owner": 3}
ROLES = ("owner", "admin", "member", "viewer")  # the roles of A's members that probe B
MISSING_ID = 2**31 - 1  # the largest id the path schemas accept, never used by these tests
WRITE_METHODS = ("PATCH", "PUT", "POST", "DELETE")
B_ACCOUNT_NAME = "B demo"
B_SECRET = "demo-bbbbbbbbbbbb"
B_WORKSPACE_NAME = "Bravo secret workspace"


@dataclass(frozen=True)
class Probe:
    """How a tenant route that addresses a resource by id is probed with workspace B's ids."""

    min_role: str  # the role the route needs in the workspace it acts in
    body: dict[str, Any] | None = None


# Routes under /api/ that are not tenant resources, with the reason. Keys are (rule, method); rules are
# written without converters ("<account_id>", not "<int:account_id>").
SKIPPED: dict[tuple[str, str], str] = {
    ("/api/docs/swagger/<filename>", "GET"): "API docs (static files)",
    ("/api/docs/swagger", "GET"): "API docs",
    ("/api/docs/oauth2-redirect.html", "GET"): "API docs",
    ("/api/docs/static/<filename>", "GET"): "API docs (static files)",
    ("/api/docs/openapi.json", "GET"): "the OpenAPI document",
    ("/api/docs/", "GET"): "API docs",
    ("/api/openapi.json", "GET"): "the OpenAPI document",
    ("/api/auth/registration", "GET"): "instance-wide sign-up mode, no tenant data",
    ("/api/auth/register", "POST"): "sign-up (no workspace addressed)",
    ("/api/auth/register/verify", "POST"): "completes an open sign-up from its emailed link (no workspace addressed)",
    ("/api/auth/login", "POST"): "sign-in",
    ("/api/auth/refresh", "POST"): "token refresh of the caller's own session",
    ("/api/auth/logout", "POST"): "ends the caller's own session",
    ("/api/auth/me", "GET"): "the caller's own user (its workspace list is checked below)",
    ("/api/auth/password", "POST"): "the caller's own password",
    ("/api/auth/invites/accept", "POST"): "joins by secret token, not by id",
    ("/api/auth/invites/<token>", "GET"): "describes an invite to whoever holds its secret token, not by id",
    ("/api/providers", "GET"): "the provider registry (global, no tenant data)",
    ("/api/admin/settings", "GET"): "instance settings (instance admins only)",
    ("/api/admin/settings", "PATCH"): "instance settings (instance admins only)",
    ("/api/admin/keys", "GET"): "instance key status (instance admins only)",
    ("/api/admin/smtp/test", "POST"): "a test email with the instance SMTP settings (instance admins only)",
    ("/api/admin/prices", "GET"): "instance-wide price overrides (instance admins only)",
    ("/api/admin/prices", "POST"): "instance-wide price overrides (instance admins only)",
    ("/api/admin/prices/<price_id>", "DELETE"): "instance-wide price overrides (instance admins only)",
    ("/api/alert-rules/<rule_id>/mute", "GET"): "signed mute link: the token is the authority (test_budgets_api.py)",
    ("/api/alert-rules/<rule_id>/mute", "POST"): "signed mute link: the token is the authority (test_budgets_api.py)",
    (
        "/api/alert-rules/<rule_id>/unmute",
        "POST",
    ): "signed mute link: the token is the authority (test_alert_links_security.py)",
}

# Tenant routes without path parameters: checked by the list and X-Workspace-Id tests below.
COLLECTIONS: dict[tuple[str, str], str] = {
    ("/api/accounts", "GET"): "list: never shows B's account; X-Workspace-Id: B -> 404",
    ("/api/accounts", "POST"): "create: X-Workspace-Id: B -> 404, nothing created in B",
    ("/api/workspaces", "GET"): "list: never shows B's workspace",
    ("/api/workspaces", "POST"): "creates a new workspace owned by the caller; addresses nothing of B",
    ("/api/channels", "GET"): "lists the caller's workspace's channels only (test_channels.py)",
    ("/api/channels", "POST"): "creates in the caller's workspace; addresses nothing of B",
    ("/api/budgets", "GET"): "lists the caller's workspace's budgets only (test_budgets_api.py)",
    ("/api/budgets", "POST"): "creates in the caller's workspace; B's channels/accounts are 422 (test_budgets_api.py)",
    ("/api/alerts", "GET"): "the caller's workspace's alert history only (test_alerting.py)",
    ("/api/alert-rules", "GET"): "lists the caller's workspace's rules only (test_alert_rules_api.py)",
    (
        "/api/alert-rules",
        "POST",
    ): "creates in the caller's workspace; B's channels/accounts are 422 (test_alert_rules_api.py)",
    (
        "/api/usage/summary",
        "GET",
    ): "reads the caller's workspace only (test_usage_api.py::test_other_workspaces_usage_is_invisible)",
    (
        "/api/usage/records",
        "GET",
    ): "reads the caller's workspace only (test_usage_api.py::test_other_workspaces_usage_is_invisible)",
    (
        "/api/usage/export",
        "GET",
    ): "reads the caller's workspace only (test_usage_api.py::test_other_workspaces_usage_is_invisible)",
    # Money accounts: lists and creations act in the caller's workspace; ids of B in a body or filter are 422 or
    # match nothing (each module's tests), and the lists are checked below (test_lists_of_members_of_a_never_show_b).
    ("/api/bank-accounts", "GET"): "lists the caller's workspace's bank accounts only (checked below)",
    ("/api/bank-accounts", "POST"): "creates in the caller's workspace; addresses nothing of B",
    ("/api/bank-accounts/balances", "GET"): "the caller's workspace's balances only (checked below)",
    ("/api/transactions", "GET"): "the caller's workspace's transactions only; B's ids as filters match nothing",
    ("/api/transactions", "POST"): "creates in the caller's workspace; B's bank account/category are 422",
    ("/api/transactions/export", "GET"): "exports the caller's workspace's transactions only",
    ("/api/analytics/spending-by-category", "GET"): "aggregates the caller's workspace only",
    ("/api/analytics/income-expense", "GET"): "aggregates the caller's workspace only",
    ("/api/analytics/top-merchants", "GET"): "aggregates the caller's workspace only",
    ("/api/categories", "GET"): "the caller's workspace's categories only (checked below)",
    ("/api/categories", "POST"): "creates in the caller's workspace; B's parent category is 422",
    ("/api/rules", "GET"): "the caller's workspace's rules only (checked below)",
    ("/api/rules", "POST"): "creates in the caller's workspace; B's categories/accounts are 422",
    ("/api/rules/test", "POST"): "tests an unsaved rule on the caller's workspace's transactions",
    ("/api/rules/reorder", "POST"): "reorders the caller's rules; B's rule ids are 422 (test_rules_api.py)",
    ("/api/rules/apply", "POST"): "re-categorizes the caller's workspace; B's rule ids are 422 (test_rules_api.py)",
    ("/api/recurring", "GET"): "streams of the caller's workspace's transactions only",
    ("/api/recurring/upcoming", "GET"): "upcoming charges of the caller's workspace only",
    ("/api/imports", "GET"): "the caller's workspace's imports only (checked below)",
    ("/api/imports", "POST"): "imports into the caller's workspace; B's bank account is 422 (test_imports_api.py)",
    ("/api/import-formats", "GET"): "the caller's workspace's formats only (checked below)",
    ("/api/budgets/check", "POST"): "checks the caller's workspace's budgets; B's category/account is 422",
    ("/api/demo", "GET"): "acts on the caller's workspace only",
    ("/api/demo", "POST"): "acts on the caller's workspace only",
    ("/api/demo", "DELETE"): "acts on the caller's workspace only",
}

# Tenant routes that address a resource by id: each is sent with B's ids and must answer 404.
PROBES: dict[tuple[str, str], Probe] = {
    ("/api/accounts/<account_id>", "GET"): Probe("viewer"),
    ("/api/accounts/<account_id>", "PATCH"): Probe(
        "member", {"name": "hijack", "credentials": {"api_key": "sk-hijack-zzzz"}, "enabled": False}
    ),
    ("/api/accounts/<account_id>", "DELETE"): Probe("member"),
    ("/api/accounts/<account_id>/test", "POST"): Probe("member"),
    ("/api/accounts/<account_id>/sync", "POST"): Probe("member"),
    ("/api/accounts/<account_id>/syncs", "GET"): Probe("viewer"),
    ("/api/accounts/<account_id>/entries", "GET"): Probe("viewer"),
    ("/api/accounts/<account_id>/entries", "POST"): Probe(
        "member", {"entries": [{"date": "2026-01-01", "model": "m", "cost": "1"}]}
    ),
    ("/api/accounts/<account_id>/entries", "DELETE"): Probe("member"),
    ("/api/accounts/<account_id>/entries/import", "POST"): Probe("member"),
    ("/api/workspaces/<workspace_id>", "GET"): Probe("viewer"),
    ("/api/workspaces/<workspace_id>/members", "GET"): Probe("viewer"),
    ("/api/workspaces/<workspace_id>/members/<member_id>", "PATCH"): Probe("admin", {"role": "viewer"}),
    ("/api/workspaces/<workspace_id>/members/<member_id>", "DELETE"): Probe("admin"),
    ("/api/workspaces/<workspace_id>/invites", "GET"): Probe("admin"),
    ("/api/workspaces/<workspace_id>/invites", "POST"): Probe("admin", {"email": "z@example.com", "role": "member"}),
    ("/api/workspaces/<workspace_id>/invites/<invite_id>", "DELETE"): Probe("admin"),
    ("/api/channels/<channel_id>", "GET"): Probe("viewer"),
    ("/api/channels/<channel_id>", "PATCH"): Probe("member", {"name": "hijack", "enabled": False}),
    ("/api/channels/<channel_id>", "DELETE"): Probe("member"),
    ("/api/channels/<channel_id>/test", "POST"): Probe("member"),
    ("/api/channels/<channel_id>/rotate-secret", "POST"): Probe("member"),
    ("/api/channels/<channel_id>/deliveries", "GET"): Probe("viewer"),
    ("/api/notifications/<notification_id>/retry", "POST"): Probe("member"),
    ("/api/alert-rules/<rule_id>", "GET"): Probe("viewer"),
    ("/api/alert-rules/<rule_id>", "PATCH"): Probe("member", {"name": "hijack", "muted": True}),
    ("/api/alert-rules/<rule_id>", "DELETE"): Probe("member"),
    ("/api/alert-rules/<rule_id>/mute-link/rotate", "POST"): Probe("member"),
    ("/api/budgets/<rule_id>", "GET"): Probe("viewer"),
    ("/api/budgets/<rule_id>", "PATCH"): Probe("member", {"name": "hijack", "muted": True}),
    ("/api/budgets/<rule_id>", "DELETE"): Probe("member"),
    ("/api/budgets/<rule_id>/mute-link/rotate", "POST"): Probe("member"),
    ("/api/alerts/<alert_id>", "GET"): Probe("viewer"),
    ("/api/bank-accounts/<bank_account_id>", "GET"): Probe("viewer"),
    ("/api/bank-accounts/<bank_account_id>", "PATCH"): Probe("member", {"name": "hijack"}),
    ("/api/bank-accounts/<bank_account_id>", "DELETE"): Probe("member"),
    ("/api/transactions/<transaction_id>", "GET"): Probe("viewer"),
    ("/api/transactions/<transaction_id>", "PATCH"): Probe("member", {"notes": "hijack", "excluded": True}),
    ("/api/transactions/<transaction_id>", "DELETE"): Probe("member"),
    ("/api/transactions/<transaction_id>/unpair", "POST"): Probe("member"),
    ("/api/transactions/<transaction_id>/pair", "POST"): Probe("member", {"peer_id": 1}),
    ("/api/categories/<category_id>", "PATCH"): Probe("member", {"name": "hijack"}),
    ("/api/categories/<category_id>", "DELETE"): Probe("member"),
    ("/api/rules/<txn_rule_id>", "PATCH"): Probe("member", {"name": "hijack", "enabled": False}),
    ("/api/rules/<txn_rule_id>", "DELETE"): Probe("member"),
    ("/api/rules/<txn_rule_id>/test", "POST"): Probe("member"),
    ("/api/imports/<import_id>", "GET"): Probe("viewer"),
    ("/api/imports/<import_id>", "DELETE"): Probe("member"),
    ("/api/imports/<import_id>/preview", "POST"): Probe("member"),
    ("/api/imports/<import_id>/commit", "POST"): Probe("member"),
    ("/api/imports/<import_id>/undo", "POST"): Probe("member"),
    ("/api/imports/<import_id>/save-format", "POST"): Probe("member", {"name": "hijack"}),
    ("/api/import-formats/<format_id>", "PATCH"): Probe("member", {"name": "hijack"}),
    ("/api/import-formats/<format_id>", "DELETE"): Probe("member"),
}

PARAM_KINDS = (
    "account_id",
    "workspace_id",
    "member_id",
    "invite_id",
    "rule_id",
    "alert_id",
    "channel_id",
    "notification_id",
    "bank_account_id",
    "transaction_id",
    "category_id",
    "txn_rule_id",
    "import_id",
    "format_id",
)


def _plain_rule(rule: str) -> str:
    """'/api/accounts/<int:account_id>' -> '/api/accounts/<account_id>'."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"<\1>", rule)


def _fill(rule: str, values: dict[str, int]) -> str:
    return re.sub(r"<([^<>]+)>", lambda m: str(values[m.group(1)]), rule)


def _api_routes(app: Any) -> dict[tuple[str, str], set[str]]:
    """(rule, method) -> path parameter names, for every rule under /api/ (HEAD and OPTIONS aside)."""
    routes: dict[tuple[str, str], set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes[(_plain_rule(rule.rule), method)] = set(rule.arguments)
    return routes


@dataclass
class World:
    api: Api
    ws_a: int
    ws_b: int
    a_account: int
    b_token: str
    b_user: int
    b_account: int
    b_hint: str  # how the API shows B's secret
    b_member: int
    b_invite: int
    actors: dict[str, str] = field(default_factory=dict)  # role in A -> access token
    b_rule: int = 0  # a sync-health rule of B (/api/alert-rules)
    b_alert: int = 0  # an alert event of B (/api/alerts)
    b_channel: int = 0  # an email channel of B (/api/channels)
    b_notification: int = 0  # the notification of B's test send (/api/notifications)
    b_money: dict[str, int] = field(default_factory=dict)  # B's bank account, transaction, category, rule, import…

    def b_ids(self) -> dict[str, int]:
        return {
            "account_id": self.b_account,
            "workspace_id": self.ws_b,
            "member_id": self.b_member,
            "invite_id": self.b_invite,
            "rule_id": self.b_rule,
            "alert_id": self.b_alert,
            "channel_id": self.b_channel,
            "notification_id": self.b_notification,
            **self.b_money,
        }

    def b_snapshot(self) -> dict[str, Any]:
        """Everything of B that B itself can read."""
        snap: dict[str, Any] = {}
        for path in (
            "/api/accounts",
            f"/api/accounts/{self.b_account}",
            f"/api/workspaces/{self.ws_b}",
            f"/api/workspaces/{self.ws_b}/members",
            f"/api/workspaces/{self.ws_b}/invites",
            f"/api/alert-rules/{self.b_rule}",
            f"/api/channels/{self.b_channel}",
            f"/api/channels/{self.b_channel}/deliveries",
            *MONEY_LISTS,
            f"/api/transactions/{self.b_money['transaction_id']}",
            f"/api/imports/{self.b_money['import_id']}",
            "/api/workspaces",
            "/api/auth/me",
        ):
            response = self.api.call("GET", path, self.b_token)
            assert response.status_code == 200, (path, response.get_json())
            snap[path] = response.get_json()
        return snap


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _join_a(api: Api, owner_token: str, ws_a: int, email: str, role: str) -> str:
    """Invite EMAIL into A with ROLE and sign them up with the invitation; returns their access token."""
    invite = _ok(
        api.call("POST", f"/api/workspaces/{ws_a}/invites", owner_token, json={"email": email, "role": role}),
        201,
    )
    session = api.register(email, invite_token=invite["token"])
    assert [(w["workspace_id"], w["role"]) for w in session["workspaces"]] == [(ws_a, role)]
    return str(session["access_token"])


@pytest.fixture
def world(api: Api) -> World:
    a = api.register("alice@example.com", name="Alice A")
    a_token = a["access_token"]
    ws_a = a["workspaces"][0]["workspace_id"]
    assert a["user"]["is_admin"] and a["workspaces"][0]["role"] == "owner"
    settings = _ok(api.call("PATCH", "/api/admin/settings", a_token, json={"registration_mode": "open"}))
    assert settings["registration_mode"] == "open"

    # A's own rows come first, so B's ids never coincide with an id that also exists in A.
    a_account = _ok(
        api.call(
            "POST",
            "/api/accounts",
            a_token,
            json={"kind": "demo", "name": "A demo", "credentials": {"api_key": "demo-aaaaaaaaaaaa"}},
        ),
        201,
    )["id"]
    actors = {"owner": a_token}
    for role in ("admin", "member", "viewer"):
        actors[role] = _join_a(api, a_token, ws_a, f"{role}-of-a@example.com", role)

    b = api.register("bob@example.com", name="Bob B", workspace_name=B_WORKSPACE_NAME)
    b_token = b["access_token"]
    assert [m["role"] for m in b["workspaces"]] == ["owner"]
    ws_b = b["workspaces"][0]["workspace_id"]
    assert ws_b != ws_a
    b_account = _ok(
        api.call(
            "POST",
            "/api/accounts",
            b_token,
            json={"kind": "demo", "name": B_ACCOUNT_NAME, "credentials": {"api_key": B_SECRET}},
        ),
        201,
    )
    assert b_account["workspace_id"] == ws_b
    assert B_SECRET not in b_account["credentials"]["api_key"]
    b_invite = _ok(
        api.call(
            "POST",
            f"/api/workspaces/{ws_b}/invites",
            b_token,
            json={"email": "x@example.com", "role": "member"},
        ),
        201,
    )
    members = _ok(api.call("GET", f"/api/workspaces/{ws_b}/members", b_token))["items"]
    assert [(m["email"], m["role"]) for m in members] == [("bob@example.com", "owner")]

    world = World(
        api=api,
        ws_a=ws_a,
        ws_b=ws_b,
        a_account=a_account,
        b_token=b_token,
        b_user=b["user"]["id"],
        b_account=b_account["id"],
        b_hint=b_account["credentials"]["api_key"],
        b_member=members[0]["id"],
        b_invite=b_invite["id"],
        actors=actors,
    )
    # B's ids are not also ids of A's rows (else a 404 would prove less).
    a_members = {m["id"] for m in _ok(api.call("GET", f"/api/workspaces/{ws_a}/members", a_token))["items"]}
    a_invites = {i["id"] for i in _ok(api.call("GET", f"/api/workspaces/{ws_a}/invites", a_token))["items"]}
    assert world.b_account != a_account and world.b_member not in a_members and world.b_invite not in a_invites
    world.b_rule = _ok(
        api.call("POST", "/api/alert-rules", b_token, json={"name": "B health", "kind": "sync_health"}), 201
    )["id"]
    with api.client.application.extensions["spendwatch"].db.system_session() as session:
        event = AlertEvent(workspace_id=ws_b, rule_id=world.b_rule, type="account.sync_failing", state="firing")
        session.add(event)
        session.flush()
        world.b_alert = event.id
    world.b_channel = _ok(
        api.call(
            "POST", "/api/channels", b_token, json={"name": "B mail", "kind": "email", "recipients": ["x@example.com"]}
        ),
        201,
    )["id"]
    world.b_notification = _ok(api.call("POST", f"/api/channels/{world.b_channel}/test", b_token))["notification_id"]
    world.b_money = _b_money(api, b_token)
    return world


def _b_money(api: Api, b_token: str) -> dict[str, int]:
    """B's bank account, a transaction on it, a category, a rule, a committed import and a saved format."""
    bank = _ok(api.call("POST", "/api/bank-accounts", b_token, json={"name": "B bank", "currency": "USD"}), 201)["id"]
    txn = {"bank_account_id": bank, "posted_on": "2026-11-02", "amount": "-12.34", "description": "B coffee"}
    transaction = _ok(api.call("POST", "/api/transactions", b_token, json=txn), 201)["id"]
    category = _ok(api.call("POST", "/api/categories", b_token, json={"name": "B cat", "kind": "expense"}), 201)["id"]
    rule = {
        "name": "B rule",
        "conditions": [{"field": "description", "op": "contains", "value": "coffee"}],
        "actions": [{"type": "set_category", "category_id": category}],
    }
    txn_rule = _ok(api.call("POST", "/api/rules", b_token, json=rule), 201)["id"]
    statement = b"Date,Description,Amount\n2026-11-03,B groceries,-45.00\n"
    preview = api.call(
        "POST",
        "/api/imports",
        b_token,
        data={"bank_account_id": str(bank), "file": (io.BytesIO(statement), "b.csv")},
        content_type="multipart/form-data",
    )
    import_id = _ok(preview, 201)["batch"]["id"]
    fmt = _ok(api.call("POST", f"/api/imports/{import_id}/save-format", b_token, json={"name": "B format"}), 201)
    _ok(api.call("POST", f"/api/imports/{import_id}/commit", b_token))
    return {
        "bank_account_id": bank,
        "transaction_id": transaction,
        "category_id": category,
        "txn_rule_id": txn_rule,
        "import_id": import_id,
        "format_id": fmt["id"],
    }


def test_every_api_route_is_classified(app: Any) -> None:
    """A new /api/ route fails here until it is added to PROBES, COLLECTIONS or SKIPPED."""
    routes = _api_routes(app)
    classified = set(SKIPPED) | set(COLLECTIONS) | set(PROBES)
    assert not set(SKIPPED) & set(PROBES) and not set(COLLECTIONS) & set(PROBES)
    unclassified = sorted(set(routes) - classified)
    assert not unclassified, f"classify these routes in tests/test_tenant_isolation.py: {unclassified}"
    stale = sorted(classified - set(routes))
    assert not stale, f"these classified routes no longer exist: {stale}"
    for key in PROBES:
        params = routes[key]
        assert params, f"{key} has no path parameter; it belongs in COLLECTIONS"
        unknown = params - set(PARAM_KINDS)
        assert not unknown, f"{key} has path parameters this test cannot fill with B's ids: {unknown}"
    for key in COLLECTIONS:
        assert not routes[key], f"{key} takes path parameters; probe it in PROBES"


def _assert_error(response: Any, status: int, code: str, context: str, world: World) -> dict[str, Any]:
    body = response.get_json(silent=True)
    assert response.status_code == status, f"{context}: expected {status}, got {response.status_code} {body}"
    assert isinstance(body, dict) and set(body) == {"error"}, f"{context}: not the error envelope: {body}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message", "details"}, f"{context}: {body}"
    assert isinstance(error["message"], str) and error["message"], f"{context}: {body}"
    assert error["code"] == code, f"{context}: {body}"
    text = json.dumps(body, ensure_ascii=False)
    # Nothing of B in the answer: not its names, emails, secret or the secret's hint (its tail "bbbb").
    for secret in (B_ACCOUNT_NAME, B_WORKSPACE_NAME, "bob@example.com", "x@example.com", B_SECRET, "bbbb"):
        assert secret not in text, f"{context}: the error names B's data ({secret!r}): {text}"
    return body


def _send(world: World, token: str, method: str, path: str, probe: Probe, header_ws: int | None) -> Any:
    kwargs: dict[str, Any] = {}
    if probe.body is not None:
        kwargs["json"] = probe.body
    return world.api.call(method, path, token, workspace_id=header_ws, **kwargs)


def test_members_of_a_get_404_for_every_resource_of_b(app: Any, world: World) -> None:
    """Every role of A in turn (one set-up: signing five users up costs seconds of Argon2)."""
    before = world.b_snapshot()
    for role in ROLES:
        _probe_all_routes(app, world, role)
        # Nothing of B changed after each role's walk.
        assert world.b_snapshot() == before, f"{role} of A changed something of B"
    _assert_b_untouched(world, before)


def _probe_all_routes(app: Any, world: World, role: str) -> None:
    token = world.actors[role]
    routes = _api_routes(app)
    probed = 0
    for (rule, method), probe in sorted(PROBES.items()):
        params = routes[(rule, method)]
        allowed = ROLE_RANK[role] >= ROLE_RANK[probe.min_role]
        variants: list[tuple[str, dict[str, int], dict[str, int], int | None, int, str]] = []
        # 1. Every id is B's. A route whose path names the workspace acts in B, which the caller is not
        #    in: 404. A route that acts in the caller's current workspace (A) looks B's id up in A: 404
        #    too, unless the caller's role is refused first (a viewer writing) -- the same answer as for
        #    an id that never existed.
        b_ids = {k: v for k, v in world.b_ids().items() if k in params}
        missing = {k: MISSING_ID for k in params}
        in_b = "workspace_id" in params
        status, code = (404, "not_found") if in_b or allowed else (403, "forbidden")
        variants.append(("B's ids", b_ids, missing, None, status, code))
        # 2. The same, choosing B as the current workspace with X-Workspace-Id: caller not in B -> 404.
        variants.append(("B's ids + X-Workspace-Id: B", b_ids, missing, world.ws_b, 404, "not_found"))
        # 3. A's own workspace in the path with B's member/invite id: the lookup is scoped to A -> 404
        #    (or the caller's role is refused first, exactly as for an id that never existed).
        if in_b and len(params) > 1:
            own = {**b_ids, "workspace_id": world.ws_a}
            own_missing = {**missing, "workspace_id": world.ws_a}
            status, code = (404, "not_found") if allowed else (403, "forbidden")
            variants.append(("A's workspace + B's id", own, own_missing, None, status, code))

        for label, values, missing_values, header_ws, status, code in variants:
            path = _fill(rule, values)
            context = f"{role} of A: {method} {path} ({label})"
            response = _send(world, token, method, path, probe, header_ws)
            body = _assert_error(response, status, code, context, world)
            # No oracle: B's real id answers exactly like an id that does not exist at all.
            ghost = _send(world, token, method, _fill(rule, missing_values), probe, header_ws)
            assert (ghost.status_code, ghost.get_json()) == (response.status_code, body), (
                f"{context}: answers differently for an existing foreign id than for a missing one: "
                f"{body} vs {ghost.get_json()}"
            )
            probed += 1
    # Two variants per route, a third where A's own workspace can carry B's member or invite id.
    with_own_variant = sum(1 for key in PROBES if "workspace_id" in routes[key] and len(routes[key]) > 1)
    assert probed == 2 * len(PROBES) + with_own_variant

    # The collection routes cannot be pointed at B with X-Workspace-Id either.
    for method, kwargs in (
        ("GET", {}),
        (
            "POST",
            {"json": {"kind": "demo", "name": "planted", "credentials": {"api_key": "demo-planted-1234"}}},
        ),
    ):
        for ws in (world.ws_b, MISSING_ID):
            response = world.api.call(method, "/api/accounts", token, workspace_id=ws, **kwargs)
            _assert_error(
                response, 404, "not_found", f"{role} of A: {method} /api/accounts X-Workspace-Id: {ws}", world
            )


def _assert_b_untouched(world: World, before: dict[str, Any]) -> None:
    """Same account (name, credential hint, status, never tested), invite still pending, membership still
    owner, no invite or account planted."""
    after = world.b_snapshot()
    assert after == before
    account = after[f"/api/accounts/{world.b_account}"]
    assert account["name"] == B_ACCOUNT_NAME
    assert account["credentials"] == {"api_key": world.b_hint}
    assert account["status"] == "new" and account["last_tested_at"] is None and account["enabled"] is True
    assert [a["id"] for a in after["/api/accounts"]["items"]] == [world.b_account]
    invites = after[f"/api/workspaces/{world.ws_b}/invites"]["items"]
    assert [(i["id"], i["email"], i["accepted_at"], i["revoked_at"]) for i in invites] == [
        (world.b_invite, "x@example.com", None, None)
    ]
    members = after[f"/api/workspaces/{world.ws_b}/members"]["items"]
    assert [(m["id"], m["user_id"], m["role"]) for m in members] == [(world.b_member, world.b_user, "owner")]
    # And B can still use its account: the credentials were not replaced.
    tested = _ok(world.api.call("POST", f"/api/accounts/{world.b_account}/test", world.b_token))
    assert tested["ok"] is True


def test_lists_of_members_of_a_never_show_b(world: World) -> None:
    for role in ROLES:
        _assert_lists_hide_b(world, role)


def _assert_lists_hide_b(world: World, role: str) -> None:
    token = world.actors[role]
    accounts = _ok(world.api.call("GET", "/api/accounts", token))["items"]
    assert [(a["id"], a["workspace_id"]) for a in accounts] == [(world.a_account, world.ws_a)]

    workspaces = _ok(world.api.call("GET", "/api/workspaces", token))["items"]
    assert [(w["id"], w["role"]) for w in workspaces] == [(world.ws_a, role)]

    me = _ok(world.api.call("GET", "/api/auth/me", token))
    assert [m["workspace_id"] for m in me["workspaces"]] == [world.ws_a]

    for path in MONEY_LISTS:
        text = json.dumps(_ok(world.api.call("GET", path, token)))
        for name in ("B bank", "B coffee", "B cat", "B rule", "B format", "B groceries", "b.csv"):
            assert name not in text, f"{role} of A: {path} shows B's {name!r}"

    members = _ok(world.api.call("GET", f"/api/workspaces/{world.ws_a}/members", token))["items"]
    assert world.b_member not in {m["id"] for m in members}
    assert world.b_user not in {m["user_id"] for m in members}
    assert len(members) == 4

    invites = world.api.call("GET", f"/api/workspaces/{world.ws_a}/invites", token)
    if ROLE_RANK[role] >= ROLE_RANK["admin"]:
        items = _ok(invites)["items"]
        assert world.b_invite not in {i["id"] for i in items}
        assert "x@example.com" not in {i["email"] for i in items}
        assert len(items) == 3
    else:
        assert invites.status_code == 403
