"""A provider that needs no network: deterministic synthetic usage, for trying Spendwatch out and for tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from decimal import Decimal

from integrations.providers.base import (
    Capability,
    ConnectionResult,
    CredentialField,
    Provider,
    ProviderAuthError,
)
from integrations.records import SyncWindow, UsageBatch, UsageRecord

# (model, $ per 1M input tokens, $ per 1M output tokens): plausible, fixed, not any provider's price list.
_MODELS = (
    ("demo-large", Decimal("2.50"), Decimal("10.00")),
    ("demo-small", Decimal("0.15"), Decimal("0.60")),
    ("demo-embed", Decimal("0.02"), Decimal("0")),
)
_PROJECTS = ("web-app", "batch-jobs")
_MILLION = Decimal(1_000_000)


def _units(*parts: object) -> int:
    """A stable pseudo-random integer in [0, 1000) derived from PARTS."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 1000


class DemoProvider(Provider):
    kind = "demo"
    label = "Demo (synthetic data)"
    description = "Deterministic made-up usage for trying Spendwatch out. Keys must start with demo-."
    capabilities = frozenset({Capability.USAGE, Capability.COSTS})
    credential_fields = (
        CredentialField("api_key", "API key", secret=True, placeholder="demo-…", help="Any value starting with demo-"),
    )
    # The markers the demo data set puts on the accounts it creates (backend/services/demo.py).
    config_keys = {"demo": bool, "demo_created_categories": bool}

    def test_connection(self) -> ConnectionResult:
        """Accept keys that start with `demo-`, like a real provider that knows its own key format."""
        key = str(self.credentials.get("api_key", ""))
        if not key.startswith("demo-"):
            raise ProviderAuthError("The demo provider rejected this key: demo keys start with 'demo-'.")
        return ConnectionResult(ok=True, message="Connected to the demo provider.")

    def fetch_usage(self, window: SyncWindow) -> Iterator[UsageBatch]:
        """One batch per day: a record per (model, project) with fixed-rate costs."""
        self.test_connection()
        day = window.start.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < window.end:
            batch: list[UsageRecord] = []
            for model, price_in, price_out in _MODELS:
                for project in _PROJECTS:
                    seed = _units(day.date(), model, project)
                    input_tokens = (seed + 50) * 1_000
                    output_tokens = 0 if price_out == 0 else (seed // 4 + 10) * 1_000
                    cost = (input_tokens * price_in + output_tokens * price_out) / _MILLION
                    batch.append(
                        UsageRecord(
                            bucket_start=day,
                            bucket_width="1d",
                            kind="embeddings" if model.endswith("embed") else "completions",
                            model=model,
                            project=project,
                            input_tokens=input_tokens,
                            output_tokens=output_tokens,
                            requests=seed // 10 + 1,
                            cost=cost.quantize(Decimal("0.0000000001")),
                        )
                    )
            day += dt.timedelta(days=1)
            yield UsageBatch(records=batch, complete_until=min(day, window.end))
