"""Prices set by instance admins: they override or add to the genai-prices database for estimates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, ExactDecimal
from backend.models.base import NEVER_REUSE_IDS, IdMixin, TimestampMixin

# USD per million tokens, with room for fractions of a cent.
PerMillion = ExactDecimal(20, 10)  # exact on SQLite too, within ±922,337,203.6854775807


class PriceOverride(IdMixin, TimestampMixin, Base):
    """A model's price per million tokens from a day on (until a later override of the same model)."""

    __tablename__ = "price_overrides"
    __table_args__ = (UniqueConstraint("provider", "model", "valid_from"), NEVER_REUSE_IDS)

    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    input_per_million: Mapped[Decimal] = mapped_column(PerMillion, nullable=False)
    output_per_million: Mapped[Decimal] = mapped_column(PerMillion, nullable=False)
    cache_read_per_million: Mapped[Decimal | None] = mapped_column(PerMillion)
    cache_write_per_million: Mapped[Decimal | None] = mapped_column(PerMillion)
    note: Mapped[str] = mapped_column(String(300), default="", nullable=False)
