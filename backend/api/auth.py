"""/api/auth: sign-up (at once, or by email link in open mode), sign-in, token refresh, sign-out, the current user
and password change."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_openapi3 import APIBlueprint, Tag
from limits import parse as parse_limit

from backend.api import session_cookie
from backend.api.context import authenticate, db
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.db import rls_bypass
from backend.extensions import get_state, limiter
from backend.models import User, Workspace
from backend.schemas.auth import (
    AcceptInviteIn,
    InviteInfoOut,
    InviteTokenPath,
    LoginIn,
    MembershipOut,
    MeOut,
    PasswordChangeIn,
    RegisterIn,
    RegistrationInfoOut,
    SessionOut,
    SignupPendingOut,
    TokensOut,
    UserOut,
    VerifySignupIn,
)
from backend.services import auth, instance_settings, login_throttle, signup, workspaces

bp = APIBlueprint("auth", __name__, url_prefix="/api/auth", abp_responses=COMMON_ERRORS, abp_tags=[Tag(name="auth")])


def _auth_limit() -> str:
    return str(current_app.config["AUTH_RATE_LIMIT"])


def _refresh_limit() -> str:
    return str(current_app.config["REFRESH_RATE_LIMIT"])


# Each sign-in style endpoint has its own budget per client address (a moving window, RATELIMIT_STRATEGY in
# create_app): no limit scope, so flask-limiter keys it by endpoint. Token refresh (every open tab, every
# 15 minutes) has a larger one so an office behind one address is not locked out of refreshing.
auth_limit = limiter.limit(_auth_limit)
# Sign-up mails one address receives, from every client together; past it the answer is the same, with no mail.
SIGNUP_MAILS = parse_limit("3 per hour")
refresh_limit = limiter.shared_limit(_refresh_limit, scope="refresh")


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, is_admin=user.is_admin, created_at=user.created_at)


def memberships_out(user_id: int) -> list[MembershipOut]:
    return [
        MembershipOut(workspace_id=m.workspace_id, workspace_name=m.workspace.name, role=m.role)
        for m in workspaces.memberships_of(session=db(), user_id=user_id)
    ]


def _session_out(user: User, pair: auth.TokenPair, status: int) -> Response:
    # The refresh token travels only in the HttpOnly cookie: no script (and no XSS) ever sees it.
    response = json_response(
        SessionOut(
            access_token=pair.access_token,
            expires_in=int(auth.ACCESS_TTL.total_seconds()),
            user=user_out(user),
            workspaces=memberships_out(user.id),
        ),
        status,
    )
    session_cookie.set_session_cookies(response, pair.refresh_token, int(auth.REFRESH_TTL.total_seconds()))
    return response


@bp.get("/registration", responses={200: RegistrationInfoOut})
def registration_info() -> Response:
    """Whether sign-up is open, by invitation or closed, and whether the first account is still to be made."""
    session = db()
    return json_response(
        RegistrationInfoOut(
            mode=instance_settings.get_config(session=session).registration_mode,
            first_user=auth.user_count(session=session) == 0,
        )
    )


@bp.post("/register", responses={201: SessionOut, 202: SignupPendingOut})
@auth_limit
def register(body: RegisterIn) -> Response:
    """Create an account. The first account (the instance admin) and invitees are signed in at once (201). In
    open mode, anyone else gets 202 "check your inbox", whether the address is new or taken: a new address is
    mailed a link that completes the sign-up (POST /api/auth/register/verify), a taken one a note saying so."""
    session = db()
    if auth.sign_up_mode(session=session, invite_token=body.invite_token) == "verify":
        signup.request_signup(
            session=session,
            settings=get_state(current_app).settings,
            email=body.email,
            password=body.password,
            name=body.name,
            workspace_name=body.workspace_name,
            # Per address, whoever asks: one client may not flood someone's mailbox from many addresses.
            may_mail=lambda email: limiter.limiter.hit(SIGNUP_MAILS, "signup-mail", email),
        )
        return json_response(SignupPendingOut(), 202)
    user, _membership = auth.register(
        session=session,
        email=body.email,
        password=body.password,
        name=body.name,
        workspace_name=body.workspace_name,
        invite_token=body.invite_token,
    )
    pair = auth.start_session(session=session, user=user, user_agent=request.user_agent.string)
    session.commit()
    return _session_out(user, pair, 201)


@bp.post("/register/verify", responses={201: SessionOut})
@auth_limit
def verify_signup(body: VerifySignupIn) -> Response:
    """Complete an open-mode sign-up with the token from its email link (once, within 24 hours) and the password chosen
    when signing up, and sign in."""
    session = db()
    user, _membership = signup.complete_signup(session=session, token=body.token, password=body.password)
    pair = auth.start_session(session=session, user=user, user_agent=request.user_agent.string)
    session.commit()
    return _session_out(user, pair, 201)


@bp.post("/login", responses={200: SessionOut})
@auth_limit
def login(body: LoginIn) -> Response:
    """Sign in with email and password. Failures are throttled per email and client address: after five, that
    pair waits 2 s, then 4, 8 … up to an hour (429 with Retry-After); other addresses are not affected."""
    session = db()
    user = auth.authenticate(
        session=session,
        email=body.email,
        password=body.password,
        client=login_throttle.client_key(request.remote_addr),
    )
    pair = auth.start_session(session=session, user=user, user_agent=request.user_agent.string)
    session.commit()
    return _session_out(user, pair, 200)


@bp.post("/refresh", responses={200: TokensOut})
@refresh_limit
def refresh() -> Response:
    """Exchange the refresh cookie (sent with its X-CSRF-Token header) for a new access token and refresh cookie;
    each refresh token works once."""
    claims = session_cookie.verify_refresh_cookie()
    session = db()
    pair = auth.rotate_refresh(
        session=session, jti=claims["jti"], session_id=str(claims.get("sid", "")), user_id=int(claims["sub"])
    )
    session.commit()
    response = json_response(TokensOut(access_token=pair.access_token, expires_in=int(auth.ACCESS_TTL.total_seconds())))
    session_cookie.set_session_cookies(response, pair.refresh_token, int(auth.REFRESH_TTL.total_seconds()))
    return response


@bp.post("/logout", responses={204: None}, security=BEARER)
def logout() -> Response:
    """End this sign-in session (named by the Bearer access token, else by the refresh cookie with its CSRF header):
    its tokens stop working and the session cookies are deleted."""
    if request.headers.get("Authorization") or not session_cookie.has_refresh_cookie():
        session_id = authenticate(with_workspace=False).session_id
    else:  # the page lost its access token (expired, reloaded): the cookie names the session
        session_id = str(session_cookie.verify_refresh_cookie().get("sid", ""))
    session = db()
    auth.logout(session=session, session_id=session_id)
    session.commit()
    response = no_content()
    session_cookie.clear_session_cookies(response)
    return response


@bp.get("/me", responses={200: MeOut}, security=BEARER)
def me() -> Response:
    """The signed-in user and their workspaces with roles."""
    actor = authenticate(with_workspace=False)
    return json_response(MeOut(user=user_out(actor.user), workspaces=memberships_out(actor.user.id)))


@bp.post("/password", responses={204: None}, security=BEARER)
@auth_limit
def change_password(body: PasswordChangeIn) -> Response:
    """Change the password; every other session of this user is signed out."""
    actor = authenticate(with_workspace=False)
    session = db()
    auth.change_password(
        session=session,
        user=actor.user,
        current=body.current_password,
        new=body.new_password,
        keep_session_id=actor.session_id,
    )
    session.commit()
    return no_content()


@bp.get("/invites/<string:token>", responses={200: InviteInfoOut})
@auth_limit
def invite_info(path: InviteTokenPath) -> Response:
    """What an invitation token is for (workspace, email, role), so the sign-up page can say so."""
    session = db()
    invite = workspaces.find_open_invite(session=session, token=path.token)
    with rls_bypass(session):
        workspace = session.get(Workspace, invite.workspace_id)
    return json_response(
        InviteInfoOut(
            workspace_name=workspace.name if workspace else "",
            email=invite.email,
            role=invite.role,
            expires_at=invite.expires_at,
        )
    )


@bp.post("/invites/accept", responses={200: MeOut}, security=BEARER)
def accept_invite(body: AcceptInviteIn) -> Response:
    """Join a workspace with an invitation token, as the signed-in user."""
    actor = authenticate(with_workspace=False)
    session = db()
    invite = workspaces.find_open_invite(session=session, token=body.token)
    workspaces.accept_invite(session=session, invite=invite, user=actor.user)
    session.commit()
    return json_response(MeOut(user=user_out(actor.user), workspaces=memberships_out(actor.user.id)))
