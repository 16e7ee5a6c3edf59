"""Sign-up, sign-in with throttling, token issue and rotation with reuse detection, sign-out, password change."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from flask_jwt_extended import create_access_token, create_refresh_token, get_jti
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.errors import Conflict, Forbidden, Invalid, TooManyAttempts, Unauthorized
from backend.models import AuthSession, Membership, RefreshToken, User
from backend.services import instance_settings, login_throttle, workspaces
from backend.services.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password

ACCESS_TTL = dt.timedelta(minutes=15)
REFRESH_TTL = dt.timedelta(days=7)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    session_id: str


# Deliberately loose (one @, no spaces): the invite or sign-in mail is the real check of an address.
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, *, email: str = "") -> None:
    """Reject passwords that are too short or equal to the email."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters.",
            details=[{"loc": ["password"], "msg": "too short", "type": "password_too_short"}],
        )
    if email and password.strip().lower() == email:
        raise Invalid("Password must not be your email address.", code="weak_password")


def user_count(*, session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def find_user(*, session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


def check_new_account(*, email: str, password: str) -> None:
    """Reject a malformed (normalized) EMAIL or a weak password: checks of the input alone, no lookup."""
    if not re.fullmatch(EMAIL_PATTERN, email) or len(email) > 320:
        raise Invalid(f"{email!r} is not an email address.", code="invalid_email")
    check_password_strength(password, email=email)


def create_user(*, session: Session, email: str, password: str, name: str = "", is_admin: bool = False) -> User:
    """Create a user (no workspace); fails with 409 when the email is taken."""
    email = normalize_email(email)
    check_new_account(email=email, password=password)
    if find_user(session=session, email=email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def sign_up_mode(*, session: Session, invite_token: str | None) -> str:
    """How a sign-up proceeds: 'first' (bootstrap admin), 'invite' (the token proves the address), 'verify'
    (open mode: the address is proven by a mailed link first); refuses when the mode does not allow it."""
    if user_count(session=session) == 0:
        return "first"
    mode = instance_settings.get_config(session=session).registration_mode
    if mode == "closed":
        raise Forbidden("Sign-up is closed on this instance; ask an administrator.", code="registration_closed")
    if invite_token:
        return "invite"
    if mode == "invite":
        raise Forbidden("Sign-up on this instance needs an invitation.", code="invite_required")
    return "verify"


def register(
    *,
    session: Session,
    email: str,
    password: str,
    name: str = "",
    workspace_name: str | None = None,
    invite_token: str | None = None,
) -> tuple[User, Membership]:
    """Sign up at once: the first user (instance admin, owner of a new workspace) or an invitee. Open-mode
    sign-ups without an invitation go through backend.services.signup (a mailed link) instead."""
    how = sign_up_mode(session=session, invite_token=invite_token)
    if how == "verify":
        raise Invalid("Open sign-up is confirmed by email; use the sign-up request.", code="verification_required")
    if how == "invite":
        invite = workspaces.find_open_invite(session=session, token=invite_token or "")
        # Before the email is looked up: with someone else's invitation, "taken" would answer for any address.
        if invite.email != normalize_email(email):
            raise Forbidden("This invitation was sent to another email address.", code="invite_email_mismatch")
        user = create_user(session=session, email=email, password=password, name=name)
        return user, workspaces.accept_invite(session=session, invite=invite, user=user)
    user = create_user(session=session, email=email, password=password, name=name, is_admin=True)
    default_name = f"{name.strip() or user.email.split('@')[0]}'s workspace"
    return user, workspaces.create_workspace(session=session, owner=user, name=workspace_name or default_name)


def _wrong_credentials(status: login_throttle.Status) -> Unauthorized:
    message = "Wrong email or password."
    if status.attempts_left == 0:
        message += f" Sign-in with this email from your address now waits {status.retry_after} seconds."
    elif status.attempts_left <= 2:
        attempts = "1 attempt" if status.attempts_left == 1 else f"{status.attempts_left} attempts"
        message += f" {attempts} left before sign-in from your address is slowed down."
    details = {"attempts_left": status.attempts_left, "retry_after": status.retry_after}
    return Unauthorized(message, code="invalid_credentials", details=details)


def _throttled(retry_after: int) -> TooManyAttempts:
    return TooManyAttempts(
        f"Too many failed sign-ins with this email from your address: wait {retry_after} seconds and try again.",
        details={"attempts_left": 0, "retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def authenticate(*, session: Session, email: str, password: str, client: str) -> User:
    """Check credentials, throttled per (email, client address); unknown, wrong and throttled emails get the same
    answers as known ones (the throttle is keyed on the email as typed, and an unknown email still runs argon2)."""
    email = normalize_email(email)
    status = login_throttle.check(session=session, email=email, client=client)
    if status.retry_after:
        raise _throttled(status.retry_after)  # no password check: nothing to learn while waiting
    user = find_user(session=session, email=email)
    ok = verify_password(user.password_hash if user else None, password)  # the dummy hash when unknown
    if user is None or not ok or not user.is_active:
        status = login_throttle.record_failure(session=session, email=email, client=client)
        session.commit()  # the failure count must survive this request's error response
        raise _wrong_credentials(status)
    login_throttle.clear(session=session, email=email, client=client)
    user.last_login_at = utcnow()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(*, session: Session, user: User, new: str, keep_session_id: str | None = None) -> None:
    """Set USER's password (strength-checked) and sign out every session but KEEP_SESSION_ID."""
    check_password_strength(new, email=user.email)
    user.password_hash = hash_password(new)
    others = session.scalars(
        select(AuthSession.id).where(AuthSession.user_id == user.id, AuthSession.id != (keep_session_id or ""))
    ).all()
    _revoke(session, list(others), "password_changed")


def _issue(session: Session, user_id: int, session_id: str) -> TokenPair:
    identity = str(user_id)
    claims = {"sid": session_id}
    access = create_access_token(identity=identity, additional_claims=claims, expires_delta=ACCESS_TTL)
    refresh = create_refresh_token(identity=identity, additional_claims=claims, expires_delta=REFRESH_TTL)
    now = utcnow()
    session.add(RefreshToken(jti=get_jti(refresh), session_id=session_id, issued_at=now, expires_at=now + REFRESH_TTL))
    return TokenPair(access_token=access, refresh_token=refresh, session_id=session_id)


def start_session(*, session: Session, user: User, user_agent: str = "") -> TokenPair:
    """Open a sign-in session for USER and issue its first access + refresh pair."""
    auth_session = AuthSession(
        id=str(uuid.uuid4()), user_id=user.id, expires_at=utcnow() + REFRESH_TTL, user_agent=user_agent[:255]
    )
    session.add(auth_session)
    session.flush()
    return _issue(session, user.id, auth_session.id)


def session_is_active(*, session: Session, session_id: str | None, user_id: int) -> bool:
    """True while the sign-in session behind a token is neither revoked nor expired."""
    if not session_id:
        return False
    row = session.get(AuthSession, session_id)
    return row is not None and row.user_id == user_id and row.revoked_at is None and row.expires_at > utcnow()


def _revoke(session: Session, session_ids: list[str], reason: str) -> None:
    if session_ids:
        session.execute(
            update(AuthSession)
            .where(AuthSession.id.in_(session_ids), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )


def rotate_refresh(*, session: Session, jti: str, session_id: str, user_id: int) -> TokenPair:
    """Exchange a refresh token for a new pair. A token presented twice revokes its whole family."""
    token = session.get(RefreshToken, jti)
    if (
        token is None
        or token.session_id != session_id
        or not session_is_active(session=session, session_id=session_id, user_id=user_id)
    ):
        raise Unauthorized("This session has ended; sign in again.", code="session_revoked")
    # Conditional update: of two concurrent refreshes with the same token exactly one wins.
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == jti, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        _revoke(session, [session_id], "refresh_token_reused")
        session.commit()  # the revocation must stick even though this request fails
        raise Unauthorized(
            "This refresh token was already used; the session has been revoked. Sign in again.",
            code="refresh_token_reused",
        )
    return _issue(session, user_id, session_id)


def logout(*, session: Session, session_id: str) -> None:
    """End one sign-in session (its refresh tokens and access tokens stop working)."""
    _revoke(session, [session_id], "logout")


def change_password(*, session: Session, user: User, current: str, new: str, keep_session_id: str) -> None:
    """Change USER's password and sign out every other session."""
    if not verify_password(user.password_hash, current):
        raise Forbidden("The current password is wrong.", code="wrong_password")
    set_password(session=session, user=user, new=new, keep_session_id=keep_session_id)


def purge_expired(*, session: Session) -> int:
    """Delete sign-in sessions that expired more than a day ago (their tokens cascade)."""
    cutoff = utcnow() - dt.timedelta(days=1)
    stale = session.scalars(select(AuthSession).where(AuthSession.expires_at < cutoff)).all()
    for row in stale:
        session.delete(row)
    return len(stale)
