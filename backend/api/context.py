"""Per-request plumbing: the database session, the authenticated actor and role checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from sqlalchemy.orm import Session

from backend.errors import Forbidden, Invalid, Unauthorized
from backend.extensions import get_state
from backend.models import Membership, Role, User
from backend.services import workspaces

WORKSPACE_HEADER = "X-Workspace-Id"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns on every backend


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = get_state(current_app).db.session()
    session: Session = g.db_session
    return session


def close_db(exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


@dataclass
class Actor:
    user: User
    session_id: str
    membership: Membership | None = None

    @property
    def workspace_id(self) -> int:
        if self.membership is None:
            raise Forbidden("This request needs a workspace.", code="no_workspace")
        return self.membership.workspace_id

    @property
    def role(self) -> Role:
        return Role(self.membership.role) if self.membership else Role.VIEWER


def current_actor() -> Actor:
    actor: Actor | None = g.get("actor")
    if actor is None:
        raise Unauthorized("Sign in first.")
    return actor


def _workspace_from_header() -> int | None:
    raw = request.headers.get(WORKSPACE_HEADER)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ID:
        raise Invalid(f"{WORKSPACE_HEADER} must be a workspace id (a positive integer).", code="bad_workspace")
    return value


def authenticate(*, with_workspace: bool) -> Actor:
    """Verify the access token, load the user and (optionally) the workspace membership."""
    verify_jwt_in_request()
    claims = get_jwt()
    session = db()
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.is_active:
        raise Unauthorized("This account no longer exists or is disabled.")
    actor = Actor(user=user, session_id=str(claims.get("sid", "")))
    if with_workspace:
        actor.membership = workspaces.resolve_membership(
            session=session, user_id=user.id, workspace_id=_workspace_from_header()
        )
    g.actor = actor
    return actor


def require_role(role: Role) -> Actor:
    """The current actor, or 403 when their role in the workspace is below ROLE."""
    actor = current_actor()
    if not actor.role.at_least(role):
        raise Forbidden(f"This needs the {role.value} role in the workspace (you are {actor.role.value}).")
    return actor


def tenant_guard(*, write_role: Role = Role.MEMBER) -> Callable[[], None]:
    """A before_request hook: authenticate, pick the workspace, and keep viewers (below WRITE_ROLE) read-only."""

    def guard() -> None:
        if request.method == "OPTIONS":
            return
        authenticate(with_workspace=True)
        if request.method not in READ_METHODS:
            require_role(write_role)

    return guard


def user_guard() -> None:
    """A before_request hook for routes about the signed-in user rather than a workspace."""
    if request.method != "OPTIONS":
        authenticate(with_workspace=False)


def admin_guard() -> None:
    """A before_request hook for instance-admin routes."""
    if request.method == "OPTIONS":
        return
    actor = authenticate(with_workspace=False)
    if not actor.user.is_admin:
        raise Forbidden("Only instance administrators can do this.", code="admin_only")
