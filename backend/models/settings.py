"""Instance-wide settings editable by instance admins (one row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer
from sqlalchemy.orm import Mapped, mapped_column

from backend.crypto import EncryptedJSON
from backend.db import Base
from backend.models.base import TimestampMixin

SETTINGS_ROW_ID = 1


class InstanceSettings(TimestampMixin, Base):
    __tablename__ = "instance_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=SETTINGS_ROW_ID)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    secrets: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict, nullable=False)
