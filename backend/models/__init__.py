"""All models, imported here so that `Base.metadata` is complete for Alembic and the app."""

from backend.db import Base
from backend.models.accounts import ProviderAccount
from backend.models.alerts import (
    AlertEvent,
    AlertMark,
    AlertRule,
    AlertState,
    AlertSweep,
    Channel,
    DeliveryAttempt,
    Notification,
    RuleChannel,
)
from backend.models.prices import PriceOverride
from backend.models.settings import InstanceSettings
from backend.models.transactions import (
    BankAccount,
    Category,
    ImportBatch,
    ImportFormat,
    Transaction,
    TransactionRule,
)
from backend.models.usage import DailySpend, SyncRun, UsageRecord
from backend.models.users import (
    AuthSession,
    Invite,
    LoginThrottle,
    Membership,
    PendingSignup,
    RefreshToken,
    Role,
    User,
    Workspace,
)

__all__ = [
    "AlertEvent",
    "AlertMark",
    "AlertRule",
    "AlertState",
    "AlertSweep",
    "AuthSession",
    "BankAccount",
    "Base",
    "Category",
    "Channel",
    "DailySpend",
    "DeliveryAttempt",
    "ImportBatch",
    "ImportFormat",
    "InstanceSettings",
    "Invite",
    "LoginThrottle",
    "Membership",
    "Notification",
    "PendingSignup",
    "PriceOverride",
    "ProviderAccount",
    "RefreshToken",
    "Role",
    "RuleChannel",
    "SyncRun",
    "Transaction",
    "TransactionRule",
    "UsageRecord",
    "User",
    "Workspace",
    "tenant_tables",
]


def tenant_tables() -> list[str]:
    """Names of tables holding one workspace's rows (row-level security applies to each)."""
    return sorted(
        mapper.class_.__tablename__ for mapper in Base.registry.mappers if getattr(mapper.class_, "__tenant__", False)
    )
