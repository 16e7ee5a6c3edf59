"""Users, workspaces, memberships, login sessions (refresh-token families) and invites."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, UTCDateTime, utcnow
from backend.models.base import NEVER_REUSE_IDS, IdMixin, TenantMixin, TimestampMixin


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "member": 1, "admin": 2, "owner": 3}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS

    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Workspace(IdMixin, TimestampMixin, Base):
    __tablename__ = "workspaces"
    __table_args__ = NEVER_REUSE_IDS

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", nullable=False)


class Membership(IdMixin, TimestampMixin, Base):
    """A user's role in a workspace. An identity table: read by user id, not tenant-scoped by RLS."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"), NEVER_REUSE_IDS)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    workspace: Mapped[Workspace] = relationship()


class AuthSession(TimestampMixin, Base):
    """One sign-in: the family of refresh tokens that descend from it. Revoking it logs that device out."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(255), default="", nullable=False)


class RefreshToken(Base):
    """A refresh token by its JWT id; `rotated_at` set once it has been exchanged for a new pair."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True, nullable=False
    )
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Invite(IdMixin, TenantMixin, TimestampMixin, Base):
    """An invitation to join a workspace; only the SHA-256 of its token is stored."""

    __tablename__ = "invites"
    __table_args__ = NEVER_REUSE_IDS

    email: Mapped[str] = mapped_column(String(320), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(IdMixin, Base):
    """Failed sign-ins of one email from one client address (IPv6: its /64), and how long that pair must wait.

    Keyed on the email as typed (normalized), whether or not an account has it: unknown and known emails are
    throttled alike, so the throttle reveals nothing. The same email from another address has its own row."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("email", "client"),)

    email: Mapped[str] = mapped_column(String(320), nullable=False)
    client: Mapped[str] = mapped_column(String(64), nullable=False)
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True, nullable=False)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PendingSignup(IdMixin, Base):
    """An open-mode sign-up waiting for its email link; only the SHA-256 of the link's token is stored."""

    __tablename__ = "pending_signups"

    email: Mapped[str] = mapped_column(String(320), index=True, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    workspace_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True, nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
