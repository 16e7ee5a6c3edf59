"""Shared column helpers: primary keys, timestamps and the tenant mixin."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from backend.db import UTCDateTime, utcnow

# Table options of every table whose integer ids the API shows (in URLs, payloads, signed links). SQLite without
# AUTOINCREMENT hands a deleted row's id (the highest) to the next insert, so a link or bookmark made for the
# deleted row would name a new row, perhaps another workspace's. PostgreSQL identities never reuse ids anyway.
# Migration 0008 rebuilt the existing tables with it: a new table with such ids needs it too (see test_migrations).
NEVER_REUSE_IDS: dict[str, bool] = {"sqlite_autoincrement": True}


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class TenantMixin:
    """A row that belongs to one workspace. Tenant tables get PostgreSQL row-level security."""

    __tenant__ = True

    @declared_attr
    def workspace_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True, nullable=False)
