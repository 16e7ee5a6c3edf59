"""Manual entries: for providers with no usage or billing API (Groq, Mistral, Together, DeepSeek…).

People record usage by hand or upload a CSV through the API (`/api/accounts/{id}/entries`); nothing is ever
fetched, so the account is never synced. The optional config `{"vendor": "groq"}` names the real provider.
"""

from __future__ import annotations

from collections.abc import Iterator

from integrations.providers.base import Capability, ConnectionResult, Provider, ProviderCategory
from integrations.records import SyncWindow, UsageBatch


class ManualProvider(Provider):
    kind = "manual"
    label = "Manual entries / CSV upload"
    description = (
        "For providers without a usage API (Groq, Mistral, Together, DeepSeek…): enter daily usage and costs "
        "by hand or upload a CSV file. Nothing to connect to, never synced. "
        'Optionally name the provider in the config, e.g. {"vendor": "groq"}.'
    )
    category = ProviderCategory.AI
    capabilities = frozenset({Capability.USAGE, Capability.COSTS})
    credential_fields = ()
    config_keys = {"vendor": str}
    syncs = False

    def test_connection(self) -> ConnectionResult:
        return ConnectionResult(ok=True, message="Manual account: nothing to connect to")

    def fetch_usage(self, window: SyncWindow) -> Iterator[UsageBatch]:
        """Nothing to fetch: the entries arrive through the API."""
        yield from ()
