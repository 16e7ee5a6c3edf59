"""Workspaces, members and roles: who may do what."""

from __future__ import annotations


def _invite(api, token, ws, email, role):
    response = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": email, "role": role})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _join(api, owner, email, role):
    ws = owner["workspaces"][0]["workspace_id"]
    invite = _invite(api, owner["access_token"], ws, email, role)
    return api.register(email, invite_token=invite["token"])


def test_members_listing_and_roles(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    _join(api, owner, "m@example.com", "member")
    members = api.call("GET", f"/api/workspaces/{ws}/members", owner["access_token"]).get_json()["items"]
    assert [(m["email"], m["role"]) for m in members] == [
        ("owner@example.com", "owner"),
        ("m@example.com", "member"),
    ]


def test_members_and_viewers_cannot_manage_people(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    for email, role in (("m@example.com", "member"), ("v@example.com", "viewer")):
        token = _join(api, owner, email, role)["access_token"]
        assert (
            api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "x@example.com"}).status_code == 403
        )
        assert api.call("GET", f"/api/workspaces/{ws}/invites", token).status_code == 403
        assert api.call("PATCH", f"/api/workspaces/{ws}/members/1", token, json={"role": "viewer"}).status_code == 403
        assert api.call("GET", f"/api/workspaces/{ws}/members", token).status_code == 200


def test_admin_invites_but_only_owner_grants_ownership(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    admin = _join(api, owner, "adm@example.com", "admin")["access_token"]
    member = _invite(api, admin, ws, "m@example.com", "member")
    assert member["role"] == "member"
    denied = api.call("POST", f"/api/workspaces/{ws}/invites", admin, json={"email": "o@example.com", "role": "owner"})
    assert denied.status_code == 403
    members = api.call("GET", f"/api/workspaces/{ws}/members", admin).get_json()["items"]
    owner_member = next(m for m in members if m["role"] == "owner")
    assert (
        api.call(
            "PATCH", f"/api/workspaces/{ws}/members/{owner_member['id']}", admin, json={"role": "member"}
        ).status_code
        == 403
    )


def test_last_owner_cannot_be_demoted_or_removed(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    token = owner["access_token"]
    me = api.call("GET", f"/api/workspaces/{ws}/members", token).get_json()["items"][0]
    demote = api.call("PATCH", f"/api/workspaces/{ws}/members/{me['id']}", token, json={"role": "admin"})
    assert demote.status_code == 409 and demote.get_json()["error"]["code"] == "last_owner"
    assert api.call("DELETE", f"/api/workspaces/{ws}/members/{me['id']}", token).status_code == 409


def test_owner_changes_roles_and_removes_members(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    token = owner["access_token"]
    joined = _join(api, owner, "m@example.com", "member")
    member_id = next(
        m["id"]
        for m in api.call("GET", f"/api/workspaces/{ws}/members", token).get_json()["items"]
        if m["email"] == "m@example.com"
    )
    changed = api.call("PATCH", f"/api/workspaces/{ws}/members/{member_id}", token, json={"role": "viewer"})
    assert changed.get_json()["role"] == "viewer"
    body = {"kind": "demo", "name": "x", "credentials": {"api_key": "demo-1"}}
    assert api.call("POST", "/api/accounts", joined["access_token"], json=body).status_code == 403
    assert api.call("DELETE", f"/api/workspaces/{ws}/members/{member_id}", token).status_code == 204
    # No longer a member of any workspace: tenant routes refuse.
    response = api.call("GET", "/api/accounts", joined["access_token"])
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "no_workspace"


def test_invalid_role_and_workspace_name_are_422(api, owner):
    ws = owner["workspaces"][0]["workspace_id"]
    token = owner["access_token"]
    assert (
        api.call(
            "POST", f"/api/workspaces/{ws}/invites", token, json={"email": "x@example.com", "role": "god"}
        ).status_code
        == 422
    )
    assert api.call("POST", "/api/workspaces", token, json={"name": ""}).status_code == 422
    assert api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "not-an-email"}).status_code == 422
