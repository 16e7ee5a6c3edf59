"""Workspaces, memberships and invitations."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db import rls_bypass, set_workspace, utcnow
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.models import Invite, Membership, Role, User, Workspace

INVITE_TTL = dt.timedelta(days=7)


def create_workspace(*, session: Session, owner: User, name: str) -> Membership:
    """Create a workspace with OWNER as its owner."""
    workspace = Workspace(name=name.strip() or "My workspace")
    session.add(workspace)
    session.flush()
    membership = Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.OWNER.value)
    membership.workspace = workspace
    session.add(membership)
    session.flush()
    return membership


def memberships_of(*, session: Session, user_id: int) -> list[Membership]:
    """The user's memberships, oldest first (the first is the default workspace)."""
    stmt = select(Membership).where(Membership.user_id == user_id).order_by(Membership.id)
    return list(session.scalars(stmt))


def resolve_membership(*, session: Session, user_id: int, workspace_id: int | None) -> Membership:
    """The membership a request acts through: the named workspace, else the user's first one."""
    stmt = select(Membership).where(Membership.user_id == user_id)
    if workspace_id is not None:
        stmt = stmt.where(Membership.workspace_id == workspace_id)
    membership = session.scalars(stmt.order_by(Membership.id).limit(1)).first()
    if membership is None:
        if workspace_id is not None:
            # 404, not 403: a workspace the user is not in is indistinguishable from one that doesn't exist.
            raise NotFound("Workspace not found.")
        raise Forbidden("You are not a member of any workspace.", code="no_workspace")
    set_workspace(session, membership.workspace_id)
    return membership


def list_members(*, session: Session, workspace_id: int) -> list[Membership]:
    stmt = select(Membership).where(Membership.workspace_id == workspace_id).order_by(Membership.id)
    return list(session.scalars(stmt))


def _owner_count(session: Session, workspace_id: int) -> int:
    stmt = select(func.count()).where(Membership.workspace_id == workspace_id, Membership.role == Role.OWNER.value)
    return int(session.scalar(stmt) or 0)


def change_role(*, session: Session, actor: Membership, member_id: int, role: Role) -> Membership:
    """Change a member's role; only owners grant or take away ownership, and the last owner stays."""
    member = session.scalars(
        select(Membership).where(Membership.id == member_id, Membership.workspace_id == actor.workspace_id)
    ).first()
    if member is None:
        raise NotFound("Member not found.")
    touches_owner = role == Role.OWNER or member.role == Role.OWNER.value
    if touches_owner and Role(actor.role) != Role.OWNER:
        raise Forbidden("Only an owner can grant or remove the owner role.")
    if member.role == Role.OWNER.value and role != Role.OWNER and _owner_count(session, actor.workspace_id) == 1:
        raise Conflict("A workspace keeps at least one owner.", code="last_owner")
    member.role = role.value
    return member


def remove_member(*, session: Session, actor: Membership, member_id: int) -> None:
    """Remove a member from the workspace (not the last owner)."""
    member = session.scalars(
        select(Membership).where(Membership.id == member_id, Membership.workspace_id == actor.workspace_id)
    ).first()
    if member is None:
        raise NotFound("Member not found.")
    if member.role == Role.OWNER.value:
        if Role(actor.role) != Role.OWNER:
            raise Forbidden("Only an owner can remove an owner.")
        if _owner_count(session, actor.workspace_id) == 1:
            raise Conflict("A workspace keeps at least one owner.", code="last_owner")
    session.delete(member)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(*, session: Session, actor: Membership, email: str, role: Role) -> tuple[Invite, str]:
    """Invite EMAIL with ROLE; returns the invite and its token (shown once, stored hashed)."""
    if role == Role.OWNER and Role(actor.role) != Role.OWNER:
        raise Forbidden("Only an owner can invite another owner.")
    token = secrets.token_urlsafe(32)
    invite = Invite(
        workspace_id=actor.workspace_id,
        email=email.strip().lower(),
        role=role.value,
        token_hash=_hash_token(token),
        invited_by_id=actor.user_id,
        expires_at=utcnow() + INVITE_TTL,
    )
    session.add(invite)
    session.flush()
    return invite, token


def list_invites(*, session: Session, workspace_id: int) -> list[Invite]:
    stmt = select(Invite).where(Invite.workspace_id == workspace_id).order_by(Invite.id.desc())
    return list(session.scalars(stmt))


def revoke_invite(*, session: Session, workspace_id: int, invite_id: int) -> None:
    invite = session.scalars(select(Invite).where(Invite.id == invite_id, Invite.workspace_id == workspace_id)).first()
    if invite is None:
        raise NotFound("Invite not found.")
    if invite.accepted_at is None:
        invite.revoked_at = utcnow()


def find_open_invite(*, session: Session, token: str) -> Invite:
    """The pending invite for TOKEN (the invitee is not in that workspace yet, so RLS is lifted for it)."""
    with rls_bypass(session):
        invite = session.scalars(select(Invite).where(Invite.token_hash == _hash_token(token))).first()
    now = utcnow()
    if invite is None or invite.revoked_at is not None or invite.accepted_at is not None or invite.expires_at < now:
        raise Invalid("This invitation is not valid (unknown, used, revoked or expired).", code="invalid_invite")
    return invite


def accept_invite(*, session: Session, invite: Invite, user: User) -> Membership:
    """Make USER a member through INVITE; the invite's email must be the user's."""
    if invite.email != user.email:
        raise Forbidden("This invitation was sent to another email address.", code="invite_email_mismatch")
    # The invitee is joining this workspace: act inside it so row-level security lets us mark the invite used.
    set_workspace(session, invite.workspace_id)
    existing = session.scalars(
        select(Membership).where(Membership.workspace_id == invite.workspace_id, Membership.user_id == user.id)
    ).first()
    invite.accepted_at = utcnow()
    if existing is not None:
        return existing
    membership = Membership(workspace_id=invite.workspace_id, user_id=user.id, role=invite.role)
    session.add(membership)
    session.flush()
    return membership
