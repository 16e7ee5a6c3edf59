"""Schemas of /api/auth."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from backend.schemas.common import Email, Name, Password, RequestModel


class RegisterIn(RequestModel):
    email: Email
    password: Password
    name: str = Field("", max_length=200)
    workspace_name: Name | None = None
    invite_token: str | None = Field(None, max_length=200)


class VerifySignupIn(RequestModel):
    token: str = Field(min_length=1, max_length=200)
    # The password chosen at sign-up, again: anyone may start a sign-up for any address, so the link alone must not
    # finish it with a password its mailbox owner never chose.
    password: Password


class SignupPendingOut(BaseModel):
    status: Literal["check_inbox"] = "check_inbox"
    message: str = (
        "Check your inbox: we sent a message to this address. Open its link within 24 hours to finish signing up."
    )


class LoginIn(RequestModel):
    email: Email
    password: Password


class PasswordChangeIn(RequestModel):
    current_password: Password
    new_password: Password


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    is_admin: bool
    created_at: dt.datetime


class MembershipOut(BaseModel):
    workspace_id: int
    workspace_name: str
    role: Literal["owner", "admin", "member", "viewer"]


class TokensOut(BaseModel):
    """The access token; the refresh token is set as the HttpOnly `spendwatch_refresh` cookie, never in a body."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class SessionOut(TokensOut):
    user: UserOut
    workspaces: list[MembershipOut]


class MeOut(BaseModel):
    user: UserOut
    workspaces: list[MembershipOut]


class RegistrationInfoOut(BaseModel):
    mode: Literal["open", "invite", "closed"]
    first_user: bool = Field(description="True until the first account exists (it becomes the instance admin)")


class AcceptInviteIn(RequestModel):
    token: str = Field(min_length=1, max_length=200)


class InviteTokenPath(RequestModel):
    token: str = Field(min_length=1, max_length=200)


class InviteInfoOut(BaseModel):
    workspace_name: str
    email: str
    role: Literal["owner", "admin", "member", "viewer"]
    expires_at: dt.datetime
