"""Open-mode sign-up by email link: the same answer for a new and a taken address, and the mail tells them apart.

A new address gets a link that creates the account and signs in; a taken one gets a note that someone tried to
sign up with it. Both requests hash the password and send one mail, so neither the answer nor the work differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db import utcnow
from backend.errors import Conflict, Forbidden, Invalid
from backend.models import Membership, PendingSignup, User
from backend.services import auth, instance_settings, workspaces
from backend.services.delivery import send_context
from backend.services.outbox import new_message_id
from backend.services.passwords import hash_password, verify_password
from integrations.channels import registry
from integrations.channels.base import Message, Target

log = logging.getLogger(__name__)

SIGNUP_TTL = dt.timedelta(hours=24)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_signup(
    *,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    name: str = "",
    workspace_name: str | None,
    may_mail: Callable[[str], bool] = lambda _email: True,
) -> None:
    """Check the input, then mail a completion link to a new address or a 'someone tried' note to a taken one;
    nothing is stored or sent when MAY_MAIL(address) says this address has had its share of sign-up mails."""
    email = auth.normalize_email(email)
    auth.check_new_account(email=email, password=password)  # input errors only: they say nothing about the address
    password_hash = hash_password(password)  # on both paths: a taken address must not answer faster
    if not may_mail(email):
        # Same answer either way (the caller still says "check your inbox"): only the flood of mails to one
        # address, which anyone could start, stops here.
        log.info("sign-up mail not sent: this address had its share of sign-up mails this hour")
        return
    base_url = instance_settings.public_url(session=session, default=settings.base_url)
    taken = auth.find_user(session=session, email=email) is not None
    if taken:
        kind, links = "signup.taken", {"signin": f"{base_url}/signin", "dashboard": None}
    else:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        session.add(
            PendingSignup(
                email=email,
                token_hash=_hash_token(token),
                password_hash=password_hash,
                name=name.strip(),
                workspace_name=workspace_name,
                created_at=now,
                expires_at=now + SIGNUP_TTL,
            )
        )
        # In the fragment, not the query: the token stays out of server logs and Referer headers.
        kind, links = "signup.verify", {"verify": f"{base_url}/verify-email#token={token}", "dashboard": None}
    context = send_context(session=session, settings=settings)
    session.commit()  # store the pending sign-up before the mail (talking to the mail server may take a while)
    message = Message(
        message_id=new_message_id(),
        event_id=0,  # not an alert event
        event_type=kind,
        event_state="firing",
        created_at=utcnow(),
        payload={"email": email, "hours": int(SIGNUP_TTL.total_seconds() // 3600), "links": links},
    )
    result = registry.send(message, Target(kind="email", config={"recipients": [email]}, secrets={}), context)
    if not result.ok:
        # Not the caller's business (and telling would differ per path): the operator sees it in the log.
        log.warning("sign-up mail could not be sent: %s", result.error)


def complete_signup(*, session: Session, token: str, password: str) -> tuple[User, Membership]:
    """Create the account of a pending sign-up from its link (single use, 24 hours) and the password chosen when
    signing up, with its own workspace."""
    now = utcnow()
    pending = session.scalars(select(PendingSignup).where(PendingSignup.token_hash == _hash_token(token))).first()
    if pending is None or pending.used_at is not None or pending.expires_at < now:
        raise Invalid("This sign-up link is not valid (unknown, used or expired); sign up again.", code="invalid_link")
    # Anyone may start a sign-up for any address with a password of their own: the mailbox owner who clicks such a
    # link must not end up with an account whose password someone else knows. The link stays usable for a retry.
    if not verify_password(pending.password_hash, password):
        raise Invalid(
            "This is not the password chosen when this sign-up was started. If you did not start it, someone else "
            "did: sign up again to get a link of your own.",
            code="signup_password_mismatch",
        )
    if instance_settings.get_config(session=session).registration_mode != "open":
        raise Forbidden("Sign-up is no longer open on this instance; ask an administrator.", code="registration_closed")
    # Conditional update: of two clicks on the same link exactly one creates the account.
    claimed = session.execute(
        update(PendingSignup)
        .where(PendingSignup.id == pending.id, PendingSignup.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Invalid("This sign-up link is not valid (unknown, used or expired); sign up again.", code="invalid_link")
    if auth.find_user(session=session, email=pending.email) is not None:
        # Only the mailbox's owner gets here (the link was mailed to it), so saying so reveals nothing new.
        raise Conflict("This address already has an account: sign in instead.", code="email_taken")
    user = User(email=pending.email, name=pending.name, password_hash=pending.password_hash, is_admin=False)
    session.add(user)
    session.flush()
    default_name = f"{pending.name or user.email.split('@')[0]}'s workspace"
    membership = workspaces.create_workspace(session=session, owner=user, name=pending.workspace_name or default_name)
    return user, membership


def purge_expired(*, session: Session) -> int:
    """Delete pending sign-ups that are used or expired."""
    result = session.execute(
        delete(PendingSignup)
        .where((PendingSignup.expires_at < utcnow()) | PendingSignup.used_at.is_not(None))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
