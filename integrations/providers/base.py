"""The provider contract: what a provider kind declares and the two things it can do."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from integrations.records import SyncWindow, TransactionSync, UsageBatch

if TYPE_CHECKING:
    from integrations.http import OutboundPolicy, RetryPolicy


#: The longest string an account config value may be (config holds names and switches, never documents).
CONFIG_STRING_LENGTH = 200


class Capability(enum.StrEnum):
    USAGE = "usage"
    COSTS = "costs"
    TRANSACTIONS = "transactions"
    BALANCES = "balances"


class ProviderCategory(enum.StrEnum):
    AI = "ai"
    MONEY = "money"


@dataclass(frozen=True)
class CredentialField:
    """One input of a provider's credential form; secret fields are encrypted and shown only as hints."""

    name: str
    label: str
    secret: bool = True
    required: bool = True
    help: str = ""
    placeholder: str = ""


class ProviderError(Exception):
    """A provider call failed; the message is safe to show (it never contains a credential)."""

    #: "auth" → needs attention, no retry until credentials change; "transient" → retry later with backoff;
    #: "malformed" → the response could not be understood; "request" → the provider refused our request.
    kind: ClassVar[str] = "transient"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderAuthError(ProviderError):
    kind = "auth"


class ProviderTransientError(ProviderError):
    kind = "transient"


class ProviderMalformedError(ProviderError):
    kind = "malformed"


class ProviderRequestError(ProviderError):
    """The provider rejected our request for a reason other than credentials (400, 404…)."""

    kind = "request"


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


class Provider:
    """Base class: subclasses set the class attributes and implement test_connection / fetch_usage."""

    kind: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[ProviderCategory] = ProviderCategory.AI
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    default_base_url: ClassVar[str | None] = None
    #: True for kinds with a fixed API address that the operator or the instance admin may replace (a proxy).
    address_overridable: ClassVar[bool] = False
    description: ClassVar[str] = ""
    #: The keys an account's `config` may hold and their types: anything else is refused (422) when the account is
    #: saved. Never a connection target: base URLs come from server configuration only.
    config_keys: ClassVar[Mapping[str, type]] = {}
    #: False for kinds whose data is entered by people (manual entries, uploads): the sync worker never claims
    #: their accounts (they are created with no next_sync_at and a sync cannot be requested).
    syncs: ClassVar[bool] = True

    def __init__(
        self,
        credentials: Mapping[str, Any],
        *,
        base_url: str | None = None,
        config: Mapping[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        allow_private: bool = False,
    ) -> None:
        """BASE_URL replaces the kind's API address: only ever the operator's (server configuration), so it is
        trusted by the outbound-address policy; every other destination may reach private networks only when
        ALLOW_PRIVATE (the instance admin's allow_private_webhooks)."""
        from integrations.http import OutboundPolicy  # integrations.http imports this module

        self.credentials = dict(credentials)
        self.base_url = (base_url or self.default_base_url or "").rstrip("/")
        self.config = dict(config or {})
        self.transport = transport
        self.retry = retry
        self.outbound: OutboundPolicy = OutboundPolicy(allow_private=allow_private).trusting(base_url)

    def __repr__(self) -> str:  # never show credentials, even in a debugger or a log of the object
        return f"<{type(self).__name__} kind={self.kind}>"

    def require_credential(self, name: str, missing: str) -> str:
        """The credential NAME, stripped; a ProviderAuthError with MISSING when it is not configured."""
        value = str(self.credentials.get(name) or "").strip()
        if not value:
            raise ProviderAuthError(missing)
        return value

    @classmethod
    def validate_credentials(cls, credentials: Mapping[str, Any]) -> dict[str, str]:
        """Check the credential form: required fields present, unknown fields rejected. Returns field errors."""
        errors: dict[str, str] = {}
        known = {f.name for f in cls.credential_fields}
        for name in credentials:
            if name not in known:
                errors[name] = "unknown field for this provider"
        for f in cls.credential_fields:
            value = credentials.get(f.name)
            if value is not None and not isinstance(value, str):
                errors[f.name] = "must be a string"
            elif f.required and not (value or "").strip():
                errors[f.name] = "is required"
        return errors

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, str]:
        """Check an account's config against config_keys: known keys of the declared type only. Field errors."""
        errors: dict[str, str] = {}
        for name, value in config.items():
            expected = cls.config_keys.get(name)
            if expected is None:
                errors[str(name)[:64]] = "unknown setting for this provider"
            elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                errors[name] = f"must be a {'boolean' if expected is bool else expected.__name__}"
            elif isinstance(value, str) and len(value) > CONFIG_STRING_LENGTH:
                errors[name] = f"must be at most {CONFIG_STRING_LENGTH} characters"
        return errors

    def test_connection(self) -> ConnectionResult:
        """Check the credentials against the provider; raise ProviderError on failure."""
        raise NotImplementedError

    def fetch_usage(self, window: SyncWindow) -> Iterator[UsageBatch]:
        """Yield WINDOW's usage in batches, in time order; each batch says up to when the data is complete."""
        raise NotImplementedError

    def exchange_credentials(self, *, allow_private: bool = False) -> dict[str, str]:
        """The credentials to store, from the ones the user typed: by default the same; a kind whose form takes a
        one-time token (SimpleFIN's setup token) trades it here for the lasting secret, refusing URLs that reach
        private networks unless ALLOW_PRIVATE. Raises ProviderError."""
        return {k: str(v) for k, v in self.credentials.items()}

    def fetch_transactions(self, window: SyncWindow, cursor: str | None) -> TransactionSync:
        """Money accounts: the accounts and transactions of WINDOW (or since CURSOR, for cursor-based sources)."""
        raise NotImplementedError


class Unavailable(Provider):
    """Stands in for an account's provider that cannot be built (its credentials cannot be read): every call
    raises ERROR, so the sync and the connection test report it like any other provider failure."""

    kind = "unavailable"
    label = "Unavailable"

    def __init__(self, error: ProviderError) -> None:
        super().__init__({})
        self.error = error

    def test_connection(self) -> ConnectionResult:
        raise self.error

    def fetch_usage(self, window: SyncWindow) -> Iterator[UsageBatch]:
        raise self.error

    def fetch_transactions(self, window: SyncWindow, cursor: str | None) -> TransactionSync:
        raise self.error
