"""/api/workspaces: the user's workspaces, members and invitations."""

from __future__ import annotations

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import authenticate, current_actor, db, require_role, user_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.extensions import get_state
from backend.models import Invite, Membership, Role
from backend.schemas.workspaces import (
    InviteCreated,
    InviteIn,
    InviteList,
    InviteOut,
    InvitePath,
    MemberList,
    MemberOut,
    MemberPatch,
    MemberPath,
    WorkspaceIn,
    WorkspaceList,
    WorkspaceOut,
    WorkspacePath,
)
from backend.services import instance_settings, workspaces

bp = APIBlueprint(
    "workspaces",
    __name__,
    url_prefix="/api/workspaces",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="workspaces")],
    abp_security=BEARER,
)
bp.before_request(user_guard)


def _workspace_out(m: Membership) -> WorkspaceOut:
    w = m.workspace
    return WorkspaceOut(id=w.id, name=w.name, timezone=w.timezone, role=m.role, created_at=w.created_at)


def _member_out(m: Membership) -> MemberOut:
    return MemberOut(id=m.id, user_id=m.user_id, email=m.user.email, name=m.user.name, role=m.role)


def _invite_out(i: Invite) -> InviteOut:
    return InviteOut(
        id=i.id,
        email=i.email,
        role=i.role,
        expires_at=i.expires_at,
        accepted_at=i.accepted_at,
        revoked_at=i.revoked_at,
    )


def _acting_in(workspace_id: int, role: Role) -> Membership:
    """The caller's membership in WORKSPACE_ID (404 when not a member), checked against ROLE."""
    actor = authenticate(with_workspace=False)
    actor.membership = workspaces.resolve_membership(session=db(), user_id=actor.user.id, workspace_id=workspace_id)
    require_role(role)
    return actor.membership


@bp.get("", responses={200: WorkspaceList})
def list_workspaces() -> Response:
    """Workspaces the signed-in user belongs to, with their role in each."""
    items = workspaces.memberships_of(session=db(), user_id=current_actor().user.id)
    return json_response(WorkspaceList(items=[_workspace_out(m) for m in items]))


@bp.post("", responses={201: WorkspaceOut})
def create_workspace(body: WorkspaceIn) -> Response:
    """Create a workspace; the caller becomes its owner."""
    session = db()
    membership = workspaces.create_workspace(session=session, owner=current_actor().user, name=body.name)
    membership.workspace.timezone = body.timezone
    session.commit()
    return json_response(_workspace_out(membership), 201)


@bp.get("/<int:workspace_id>", responses={200: WorkspaceOut})
def get_workspace(path: WorkspacePath) -> Response:
    """One workspace the caller belongs to."""
    return json_response(_workspace_out(_acting_in(path.workspace_id, Role.VIEWER)))


@bp.get("/<int:workspace_id>/members", responses={200: MemberList})
def list_members(path: WorkspacePath) -> Response:
    """Members of the workspace and their roles."""
    membership = _acting_in(path.workspace_id, Role.VIEWER)
    items = workspaces.list_members(session=db(), workspace_id=membership.workspace_id)
    return json_response(MemberList(items=[_member_out(m) for m in items]))


@bp.patch("/<int:workspace_id>/members/<int:member_id>", responses={200: MemberOut})
def change_member_role(path: MemberPath, body: MemberPatch) -> Response:
    """Change a member's role (admins and owners; only owners touch the owner role)."""
    actor = _acting_in(path.workspace_id, Role.ADMIN)
    session = db()
    member = workspaces.change_role(session=session, actor=actor, member_id=path.member_id, role=Role(body.role))
    session.commit()
    return json_response(_member_out(member))


@bp.delete("/<int:workspace_id>/members/<int:member_id>", responses={204: None})
def remove_member(path: MemberPath) -> Response:
    """Remove a member from the workspace."""
    actor = _acting_in(path.workspace_id, Role.ADMIN)
    session = db()
    workspaces.remove_member(session=session, actor=actor, member_id=path.member_id)
    session.commit()
    return no_content()


@bp.get("/<int:workspace_id>/invites", responses={200: InviteList})
def list_invites(path: WorkspacePath) -> Response:
    """Invitations of the workspace (tokens are never shown again)."""
    actor = _acting_in(path.workspace_id, Role.ADMIN)
    items = workspaces.list_invites(session=db(), workspace_id=actor.workspace_id)
    return json_response(InviteList(items=[_invite_out(i) for i in items]))


@bp.post("/<int:workspace_id>/invites", responses={201: InviteCreated})
def create_invite(path: WorkspacePath, body: InviteIn) -> Response:
    """Invite someone by email; the token in the answer is shown once."""
    actor = _acting_in(path.workspace_id, Role.ADMIN)
    session = db()
    invite, token = workspaces.create_invite(session=session, actor=actor, email=body.email, role=Role(body.role))
    session.commit()
    url = instance_settings.public_url(
        session=session, default=get_state(current_app).settings.base_url, path=f"/invite/{token}"
    )
    out = InviteCreated(**_invite_out(invite).model_dump(), token=token, url=url)
    return json_response(out, 201)


@bp.delete("/<int:workspace_id>/invites/<int:invite_id>", responses={204: None})
def revoke_invite(path: InvitePath) -> Response:
    """Revoke a pending invitation."""
    actor = _acting_in(path.workspace_id, Role.ADMIN)
    session = db()
    workspaces.revoke_invite(session=session, workspace_id=actor.workspace_id, invite_id=path.invite_id)
    session.commit()
    return no_content()
