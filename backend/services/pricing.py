"""Estimated costs for usage that the provider does not price itself, from genai-prices' price database."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from genai_prices import Usage, calc_price

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


def estimate_cost(provider: str, record: UsageRecord) -> Decimal | None:
    """Our estimate of RECORD's cost in USD, or None when the model or provider has no known price."""
    provider_id = PRICE_PROVIDERS.get(provider)
    if provider_id is None or not record.model:
        return None
    tokens = record.input_tokens + record.output_tokens
    if tokens == 0:
        return None
    rates = _rates(provider_id, record.model, record.bucket_start.astimezone(dt.UTC).date())
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
