"""Estimated costs for usage that the provider does not price itself, from genai-prices' price database."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from genai_prices import Usage, calc_price
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Conflict, NotFound
from backend.models import PriceOverride
from integrations.records import UsageRecord

log = logging.getLogger(__name__)

_PROBE = 1000  # tokens per probe: small enough to stay in a model's base price tier
# genai-prices' provider ids for our provider kinds (kinds not listed are not priced).
PRICE_PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "openrouter": "openrouter"}


@dataclass(frozen=True)
class Rates:
    """USD per token by token type, for one model on one day."""

    input: Decimal
    cache_read: Decimal
    cache_write: Decimal
    output: Decimal


@lru_cache(maxsize=4096)
def _rates(provider_id: str, model: str, day: dt.date) -> Rates | None:
    """Per-token rates, probed with a small request so long-context tiers (which switch on one request's size,
    not on a day's sum) never apply to a summed bucket."""
    when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)

    def price(**tokens: int) -> tuple[Decimal, Decimal]:
        result = calc_price(Usage(**tokens), model_ref=model, provider_id=provider_id, genai_request_timestamp=when)
        return Decimal(result.input_price), Decimal(result.output_price)

    try:
        plain_in, _ = price(input_tokens=_PROBE)
        read_in, _ = price(input_tokens=_PROBE, cache_read_tokens=_PROBE)
        write_in, _ = price(input_tokens=_PROBE, cache_write_tokens=_PROBE)
        _, out = price(output_tokens=_PROBE)
    except LookupError:
        return None
    return Rates(plain_in / _PROBE, read_in / _PROBE, write_in / _PROBE, out / _PROBE)


def estimate_cost(provider: str, record: UsageRecord, prices: PriceTable | None = None) -> Decimal | None:
    """Our estimate of RECORD's cost in USD, or None when the model has no known price.

    An admin's price override for the provider and model wins over genai-prices.
    """
    if not record.model or record.input_tokens + record.output_tokens == 0:
        return None
    day = record.bucket_start.astimezone(dt.UTC).date()
    rates = prices.rates(provider, record.model, day) if prices is not None else None
    if rates is None:
        provider_id = PRICE_PROVIDERS.get(provider)
        rates = _rates(provider_id, record.model, day) if provider_id is not None else None
    if rates is None:
        return None
    cache_write = record.cache_write_5m_tokens + record.cache_write_1h_tokens
    plain_input = max(record.input_tokens - record.cache_read_tokens - cache_write, 0)
    cost = (
        plain_input * rates.input
        + record.cache_read_tokens * rates.cache_read
        + cache_write * rates.cache_write
        + record.output_tokens * rates.output
    )
    return cost.quantize(Decimal("0.0000000001"))


@dataclass(frozen=True)
class PriceTable:
    """Admin price overrides by (provider, model): (valid_from, rates) pairs, newest first."""

    entries: dict[tuple[str, str], list[tuple[dt.date, Rates]]]

    def rates(self, provider: str, model: str, day: dt.date) -> Rates | None:
        """The override in force on DAY, if any."""
        for valid_from, rates in self.entries.get((provider, model), ()):
            if valid_from <= day:
                return rates
        return None


EMPTY_PRICES = PriceTable({})


def load_overrides(*, session: Session) -> PriceTable:
    """Every admin price override, ready for lookups (one small query per ingest call)."""
    entries: dict[tuple[str, str], list[tuple[dt.date, Rates]]] = {}
    million = Decimal(1_000_000)
    for row in session.scalars(select(PriceOverride).order_by(PriceOverride.valid_from.desc())):
        base = row.input_per_million / million
        rates = Rates(
            input=base,
            cache_read=(row.cache_read_per_million / million) if row.cache_read_per_million is not None else base,
            cache_write=(row.cache_write_per_million / million) if row.cache_write_per_million is not None else base,
            output=row.output_per_million / million,
        )
        entries.setdefault((row.provider, row.model), []).append((row.valid_from, rates))
    return PriceTable(entries)


def list_overrides(*, session: Session) -> list[PriceOverride]:
    return list(session.scalars(select(PriceOverride).order_by(PriceOverride.provider, PriceOverride.model)))


def add_override(*, session: Session, **values: Any) -> PriceOverride:
    """Add an admin price; one per (provider, model, valid_from)."""
    exists = session.scalars(
        select(PriceOverride).where(
            PriceOverride.provider == values["provider"],
            PriceOverride.model == values["model"],
            PriceOverride.valid_from == values["valid_from"],
        )
    ).first()
    if exists is not None:
        raise Conflict("A price for this provider, model and start day exists; delete it first.", code="price_exists")
    row = PriceOverride(**values)
    session.add(row)
    session.flush()
    return row


def delete_override(*, session: Session, price_id: int) -> None:
    row = session.get(PriceOverride, price_id)
    if row is None:
        raise NotFound("Price not found.")
    session.delete(row)
