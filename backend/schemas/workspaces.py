"""Schemas of /api/workspaces."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from backend.schemas.common import Email, Name, PositiveId, RequestModel

RoleName = Literal["owner", "admin", "member", "viewer"]


class WorkspaceIn(RequestModel):
    name: Name
    timezone: str = Field("UTC", max_length=64)


class WorkspaceOut(BaseModel):
    id: int
    name: str
    timezone: str
    role: RoleName
    created_at: dt.datetime


class WorkspaceList(BaseModel):
    items: list[WorkspaceOut]


class WorkspacePath(BaseModel):
    workspace_id: PositiveId


class MemberPath(BaseModel):
    workspace_id: PositiveId
    member_id: PositiveId


class InvitePath(BaseModel):
    workspace_id: PositiveId
    invite_id: PositiveId


class MemberOut(BaseModel):
    id: int
    user_id: int
    email: str
    name: str
    role: RoleName


class MemberList(BaseModel):
    items: list[MemberOut]


class MemberPatch(RequestModel):
    role: RoleName


class InviteIn(RequestModel):
    email: Email
    role: Literal["admin", "member", "viewer", "owner"] = "member"


class InviteOut(BaseModel):
    id: int
    email: str
    role: RoleName
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None


class InviteCreated(InviteOut):
    token: str = Field(description="Shown once; the invitee signs up or accepts with it")
    url: str


class InviteList(BaseModel):
    items: list[InviteOut]
