"""The provider registry: every provider kind Spendwatch knows, by its stable `kind` string."""

from __future__ import annotations

from integrations.providers.anthropic import AnthropicProvider
from integrations.providers.base import Provider
from integrations.providers.demo import DemoProvider
from integrations.providers.manual import ManualProvider
from integrations.providers.openai import OpenAIProvider
from integrations.providers.openrouter import OpenRouterProvider
from integrations.providers.plaid import PlaidProvider
from integrations.providers.simplefin import SimpleFinProvider

# Explicit on purpose: adding a provider is one module plus one line here, and nothing registers itself.
PROVIDERS: dict[str, type[Provider]] = {
    DemoProvider.kind: DemoProvider,
    OpenAIProvider.kind: OpenAIProvider,
    AnthropicProvider.kind: AnthropicProvider,
    OpenRouterProvider.kind: OpenRouterProvider,
    ManualProvider.kind: ManualProvider,
    SimpleFinProvider.kind: SimpleFinProvider,
    PlaidProvider.kind: PlaidProvider,
}


def get_provider(kind: str) -> type[Provider] | None:
    """The provider class for KIND, or None when unknown."""
    return PROVIDERS.get(kind)
