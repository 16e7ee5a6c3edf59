"""Demo data: a filled workspace in one action, and gone again in one action.

`create()` adds to one workspace, without any network access:

- two `demo` provider accounts with their usage ingested directly (90 and 30 days up to today, the records the demo
  provider itself would sync), so the dashboard has charts at once;
- a hand-kept bank account with about three months of transactions (salary, rent, groceries, subscriptions…),
  stored through `money_ingest.store` so they are categorized like any import;
- an AI monthly budget and a Groceries budget (the Groceries one always has a threshold crossed: a big shop on the
  first of every month), both notifying a webhook channel to `https://example.invalid/demo-hook`, which is created
  **disabled** (nothing is ever sent to it: disabled channels get no notifications and the delivery job sends
  nothing to them) and given a delivery log of already-attempted history.

`load()` commits the seed, runs the alert evaluation for the workspace (its own transaction), so the budget thresholds
are firing and the alerts are in the history, then `write_delivery_log` adds the channel's history.

Everything is marked: provider accounts and the channel carry `config["demo"] = true`, budgets
`params["demo"] = true`, the bank account `external_id = "spendwatch-demo"`, names start with "Demo". `remove()`
deletes exactly those rows (and what hangs off them), plus the default categories when the demo was what created
them and nothing else uses them.

All of it is deterministic: amounts come from a hash of (date, what), dates are relative to today, so a given day
always gets the same transactions and the same usage.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.errors import Conflict
from backend.models import (
    AlertEvent,
    AlertRule,
    BankAccount,
    Category,
    Channel,
    DailySpend,
    DeliveryAttempt,
    Notification,
    ProviderAccount,
    SyncRun,
    Transaction,
    TransactionRule,
    Workspace,
)
from backend.services import alert_marks, bank_accounts, instance_settings, money_ingest, outbox, rule_channels
from backend.services.categories import ensure_defaults
from backend.services.channels import url_hint
from backend.services.ingest import ingest
from backend.services.periods import local_today
from integrations.channels.webhook import new_secret
from integrations.providers.demo import DemoProvider
from integrations.records import SyncWindow, UsageRecord

DEMO = "demo"
BANK_EXTERNAL_ID = "spendwatch-demo"
BANK_NAME = "Demo Checking"
BANK_INSTITUTION = "Demo Bank"
CURRENCY = "USD"
OPENING_BALANCE = Decimal("4200.00")
FINGERPRINT_PREFIX = "demo:"
CHANNEL_NAME = "Demo webhook"
CHANNEL_URL = "https://example.invalid/demo-hook"
CHANNEL_DISABLED_REASON = (
    "Demo channel: Spendwatch never sends to it (example.invalid does not exist). Its delivery log is sample history."
)
# Which default categories the demo created: kept on the first demo account so removal can take them back.
CATEGORIES_FLAG = "demo_created_categories"


@dataclass(frozen=True)
class DemoAccountSpec:
    name: str
    api_key: str
    days: int  # usage for this many UTC days, today included


ACCOUNTS: tuple[DemoAccountSpec, ...] = (
    DemoAccountSpec("Demo AI — Production", "demo-production", 90),
    DemoAccountSpec("Demo AI — Staging", "demo-staging", 30),
)
AI_BUDGET_NAME = "Demo AI spend"
AI_BUDGET_AMOUNT = Decimal("400")
GROCERIES_BUDGET_NAME = "Demo Groceries"
GROCERIES_BUDGET_AMOUNT = Decimal("500")
DEFAULT_THRESHOLDS = [
    {"type": "percent", "value": "50"},
    {"type": "percent", "value": "80"},
    {"type": "percent", "value": "100"},
]


# --- deterministic data ---------------------------------------------------------------------------------------------


def _hash(*parts: object) -> int:
    digest = hashlib.sha256(b"spendwatch-demo|" + "|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _cents(day: dt.date, what: str, low: str, high: str) -> Decimal:
    """A stable amount in [LOW, HIGH] (whole cents) for WHAT on DAY."""
    lo, hi = int(Decimal(low) * 100), int(Decimal(high) * 100)
    return Decimal(lo + _hash(day, what, "amount") % (hi - lo + 1)) / 100


def _chance(day: dt.date, what: str, percent: int) -> bool:
    return _hash(day, what, "chance") % 100 < percent


def usage_window(today: dt.date, days: int) -> SyncWindow:
    """DAYS whole UTC days ending with TODAY."""
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tzinfo=dt.UTC)
    return SyncWindow(start, dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))


def demo_usage(today: dt.date, spec: DemoAccountSpec) -> list[UsageRecord]:
    """The records the demo provider reports for SPEC's window (no network: it makes them up deterministically)."""
    provider = DemoProvider({"api_key": spec.api_key})
    return [record for batch in provider.fetch_usage(usage_window(today, spec.days)) for record in batch.records]


@dataclass(frozen=True)
class DemoTransaction:
    """One made-up bank transaction (amount signed: negative = money out)."""

    posted_on: dt.date
    key: str
    amount: Decimal
    description: str
    merchant: str
    pending: bool = False

    @property
    def fingerprint(self) -> str:
        return f"{FINGERPRINT_PREFIX}{self.posted_on.isoformat()}:{self.key}"


# Monthly charges: (key, day of month, description, merchant, low, high); low == high is a fixed price.
MONTHLY: tuple[tuple[str, int, str, str, str, str], ...] = (
    ("rent", 1, "RENT PAYMENT OAKWOOD PROPERTY MANAGEMENT", "Oakwood Property Management", "1850.00", "1850.00"),
    ("github", 3, "GITHUB INC SAN FRANCISCO CA", "GitHub", "4.00", "4.00"),
    ("gym", 5, "PLANET FITNESS MONTHLY DUES", "Planet Fitness", "24.99", "24.99"),
    ("netflix", 7, "NETFLIX.COM 866-579-7172 CA", "Netflix", "15.49", "15.49"),
    ("spotify", 12, "SPOTIFY USA 877-778-1161", "Spotify", "11.99", "11.99"),
    ("internet", 18, "COMCAST XFINITY INTERNET", "Comcast", "79.99", "79.99"),
    ("openai", 20, "OPENAI CHATGPT SUBSCRIPTION", "OpenAI", "20.00", "20.00"),
    ("power", 22, "PG&E WEB ONLINE ELECTRIC BILL", "PG&E", "78.00", "141.00"),
)
GROCERS = (
    ("TRADER JOE'S #552 SAN FRANCISCO CA", "Trader Joe's"),
    ("SAFEWAY #1711 SAN FRANCISCO CA", "Safeway"),
    ("ALDI 64012 DALY CITY CA", "Aldi"),
)
SALARY_ANCHOR = dt.date(2024, 1, 5)  # a payday (a Friday): pay comes every other Friday from there
SALARY = Decimal("3245.18")


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def demo_transactions(today: dt.date) -> list[DemoTransaction]:
    """About three months of a household's checking account, from the 1st of the month three months ago to TODAY.

    Every 1st brings a big grocery shop (more than half of the Groceries budget), so that budget always has a
    threshold crossed. Today's shopping order is still pending."""
    start = _months_back(today, 3)
    out: list[DemoTransaction] = []
    for day in _days(start, today):
        last_of_month = calendar.monthrange(day.year, day.month)[1]
        if (day - SALARY_ANCHOR).days % 14 == 0:
            out.append(DemoTransaction(day, "salary", SALARY, "ACME CORP PAYROLL DIRECT DEP", "Acme Corp"))
        for key, dom, description, merchant, low, high in MONTHLY:
            if day.day == min(dom, last_of_month):
                out.append(DemoTransaction(day, key, -_cents(day, key, low, high), description, merchant))
        if day.day == 1:
            out.append(
                DemoTransaction(
                    day,
                    "stock-up",
                    -_cents(day, "stock-up", "255.00", "289.00"),
                    "WHOLE FOODS MARKET #10236 SAN FRANCISCO",
                    "Whole Foods Market",
                )
            )
        elif _chance(day, "groceries", 22):
            description, merchant = GROCERS[_hash(day, "grocer") % len(GROCERS)]
            out.append(
                DemoTransaction(day, "groceries", -_cents(day, "groceries", "24.00", "86.00"), description, merchant)
            )
        if day.weekday() < 5 and _chance(day, "coffee", 35):
            out.append(
                DemoTransaction(
                    day, "coffee", -_cents(day, "coffee", "4.25", "7.85"), "STARBUCKS STORE 05412", "Starbucks"
                )
            )
        if _chance(day, "dinner", 9):
            out.append(
                DemoTransaction(
                    day, "dinner", -_cents(day, "dinner", "21.00", "64.00"), "DOORDASH*THAI BASIL", "DoorDash"
                )
            )
        if _chance(day, "ride", 6):
            out.append(
                DemoTransaction(day, "ride", -_cents(day, "ride", "9.50", "31.00"), "UBER *TRIP HELP.UBER.COM", "Uber")
            )
        if _chance(day, "fuel", 8):
            out.append(DemoTransaction(day, "fuel", -_cents(day, "fuel", "38.00", "61.00"), "SHELL OIL 57444", "Shell"))
        if day.day == last_of_month:
            out.append(
                DemoTransaction(day, "interest", _cents(day, "interest", "0.60", "1.90"), "INTEREST PAID", "Demo Bank")
            )
    out.append(
        DemoTransaction(
            today, "order", -_cents(today, "order", "12.00", "48.00"), "AMAZON MKTPLACE PMTS", "Amazon", pending=True
        )
    )
    return out


# --- what exists ----------------------------------------------------------------------------------------------------


@dataclass
class DemoRows:
    """The workspace's demo rows."""

    accounts: list[ProviderAccount] = field(default_factory=list)
    bank_accounts: list[BankAccount] = field(default_factory=list)
    budgets: list[AlertRule] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return bool(self.accounts or self.bank_accounts or self.budgets or self.channels)


def _marked(config: Any) -> bool:
    return isinstance(config, dict) and config.get(DEMO) is True


def find(session: Session, workspace_id: int) -> DemoRows:
    """The demo rows of the workspace (by their marks, never by name alone)."""
    accounts = session.scalars(
        select(ProviderAccount)
        .where(ProviderAccount.workspace_id == workspace_id, ProviderAccount.kind == DEMO)
        .order_by(ProviderAccount.id)
    )
    banks = session.scalars(
        select(BankAccount)
        .where(
            BankAccount.workspace_id == workspace_id,
            BankAccount.account_id.is_(None),
            BankAccount.external_id == BANK_EXTERNAL_ID,
        )
        .order_by(BankAccount.id)
    )
    rules = session.scalars(select(AlertRule).where(AlertRule.workspace_id == workspace_id).order_by(AlertRule.id))
    channels = session.scalars(select(Channel).where(Channel.workspace_id == workspace_id).order_by(Channel.id))
    return DemoRows(
        accounts=[a for a in accounts if _marked(a.config)],
        bank_accounts=list(banks),
        budgets=[r for r in rules if _marked(r.params)],
        channels=[c for c in channels if _marked(c.config)],
    )


# --- create ---------------------------------------------------------------------------------------------------------


@dataclass
class Created:
    """What create() stored: ids and the seeded totals (exact decimals)."""

    workspace_id: int
    account_ids: list[int]
    usage_records: int
    usage_cost: Decimal
    bank_account_id: int
    transactions: int
    transactions_total: Decimal
    balance: Decimal
    budget_ids: list[int]
    channel_id: int


def _lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialize concurrent demo requests for one workspace (PostgreSQL row lock; SQLite serializes writers)."""
    session.scalar(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())


def create(session: Session, *, workspace_id: int, now: dt.datetime | None = None) -> Created:
    """Seed the workspace (in the caller's transaction; the caller commits, evaluates the alerts, then calls
    write_delivery_log: see load()). 409 `demo_exists` when it already has demo data."""
    now = now or utcnow()
    _lock_workspace(session, workspace_id)
    if find(session, workspace_id).present:
        raise Conflict("This workspace already has the demo data. Remove it first.", code="demo_exists")
    had_categories = bool(
        session.scalar(select(func.count()).select_from(Category).where(Category.workspace_id == workspace_id))
    )
    timezone = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id)) or "UTC"
    today_utc = now.astimezone(dt.UTC).date()
    today_local = local_today(now, timezone)
    intervals = instance_settings.get_config(session=session).sync_intervals

    # AI usage: the demo provider's own records, stored the way a sync stores them.
    account_ids: list[int] = []
    usage_records = 0
    usage_cost = Decimal(0)
    for index, spec in enumerate(ACCOUNTS):
        config: dict[str, Any] = {DEMO: True}
        if index == 0 and not had_categories:
            config[CATEGORIES_FLAG] = True
        records = demo_usage(today_utc, spec)
        window = usage_window(today_utc, spec.days)
        account = ProviderAccount(
            workspace_id=workspace_id,
            kind=DEMO,
            name=spec.name,
            credentials={"api_key": spec.api_key},
            config=config,
            enabled=True,
            status="ok",
            last_tested_at=now,
            last_sync_at=now,
            last_success_at=now,
            synced_until=now,
            # Later syncs go on normally (the demo provider needs no network) and re-read the same numbers.
            next_sync_at=now + dt.timedelta(minutes=intervals.ai_minutes),
        )
        session.add(account)
        session.flush()
        usage_records += ingest(session=session, account=account, records=records)
        usage_cost += sum((r.cost or Decimal(0) for r in records), Decimal(0))
        session.add(
            SyncRun(
                workspace_id=workspace_id,
                account_id=account.id,
                trigger="manual",
                status="ok",
                started_at=now,
                finished_at=now,
                window_start=window.start,
                window_end=window.end,
                records=len(records),
                worker="demo",
            )
        )
        account_ids.append(account.id)

    # Money: a hand-kept checking account, its transactions categorized like an import's.
    items = demo_transactions(today_local)
    total = sum((t.amount for t in items), Decimal(0))
    bank = BankAccount(
        workspace_id=workspace_id,
        account_id=None,
        external_id=BANK_EXTERNAL_ID,
        name=BANK_NAME,
        institution=BANK_INSTITUTION,
        currency=CURRENCY,
        balance=OPENING_BALANCE + total,
        available_balance=None,
        balance_at=now,
    )
    session.add(bank)
    session.flush()
    stored = money_ingest.store(
        session,
        bank_account=bank,
        items=[
            money_ingest.NewTransaction(
                fingerprint=t.fingerprint,
                posted_on=t.posted_on,
                amount=t.amount,
                currency=CURRENCY,
                description=t.description,
                merchant=t.merchant,
                pending=t.pending,
                raw={"source": "Spendwatch demo data"},
            )
            for t in items
        ],
        update_existing=False,
    )
    keys = ensure_defaults(session, workspace_id)

    # The channel: disabled from birth, so neither the alert evaluation nor the delivery job ever sends to it.
    channel = Channel(
        workspace_id=workspace_id,
        name=CHANNEL_NAME,
        kind="webhook",
        config={"url_hint": url_hint(CHANNEL_URL), "format": "standard", DEMO: True},
        secrets={"secret": new_secret(), "url": CHANNEL_URL, "headers": {}},
        enabled=False,
        disabled_reason=CHANNEL_DISABLED_REASON,
    )
    session.add(channel)
    session.flush()

    budgets = [
        AlertRule(
            workspace_id=workspace_id,
            kind="budget",
            name=AI_BUDGET_NAME,
            scope_provider=DEMO,
            period="month",
            amount=AI_BUDGET_AMOUNT,
            currency=CURRENCY,
            params={"thresholds": DEFAULT_THRESHOLDS, "basis": "both", DEMO: True},
        ),
        AlertRule(
            workspace_id=workspace_id,
            kind="budget",
            name=GROCERIES_BUDGET_NAME,
            scope_category_id=keys["groceries"],
            period="month",
            amount=GROCERIES_BUDGET_AMOUNT,
            currency=CURRENCY,
            params={"thresholds": DEFAULT_THRESHOLDS, "basis": "actual", DEMO: True},
        ),
    ]
    session.add_all(budgets)
    session.flush()
    for rule in budgets:
        rule_channels.set_channels(session, rule, [channel.id])
    alert_marks.mark(session, [workspace_id])
    session.flush()
    return Created(
        workspace_id=workspace_id,
        account_ids=account_ids,
        usage_records=usage_records,
        usage_cost=usage_cost,
        bank_account_id=bank.id,
        transactions=len(stored.added),
        transactions_total=total,
        balance=OPENING_BALANCE + total,
        budget_ids=[r.id for r in budgets],
        channel_id=channel.id,
    )


def load(session: Session, *, workspace_id: int, evaluate: Callable[[], object]) -> Created:
    """The whole demo, in three steps: seed and commit; EVALUATE the workspace's alerts (its own transaction, which
    must see the seed), so the thresholds fire now; then the channel's delivery log for those alerts, committed."""
    created = create(session, workspace_id=workspace_id)
    session.commit()
    evaluate()
    write_delivery_log(session, workspace_id=workspace_id)
    session.commit()
    return created


def unload(session: Session, *, workspace_id: int, evaluate: Callable[[], object]) -> Removed:
    """Remove the demo rows and commit, then EVALUATE the workspace's alerts: its other budgets see the spend that
    went with the demo at once."""
    removed = remove(session, workspace_id=workspace_id)
    session.commit()
    if removed.anything:
        evaluate()
    return removed


def write_delivery_log(session: Session, *, workspace_id: int, now: dt.datetime | None = None) -> int:
    """The demo channel's delivery history, written as already attempted (nothing is sent): one delivered
    notification per event of a demo budget, and a test message from three days ago that got through on the second
    try. Returns the number of attempts written."""
    now = now or utcnow()
    rows = find(session, workspace_id)
    if not rows.channels:
        return 0
    channel = rows.channels[0]
    written = 0
    test = AlertEvent(
        workspace_id=workspace_id,
        rule_id=None,
        type="test",
        state="firing",
        payload={"message": f"This is a test message from Spendwatch for the channel “{channel.name}”: it works."},
        created_at=now - dt.timedelta(days=3),
    )
    session.add(test)
    session.flush()
    events = [test]
    budget_ids = [r.id for r in rows.budgets]
    if budget_ids:
        events += list(
            session.scalars(
                select(AlertEvent)
                .where(AlertEvent.workspace_id == workspace_id, AlertEvent.rule_id.in_(budget_ids))
                .order_by(AlertEvent.id)
            )
        )
    last = None
    for event in events:
        first_try = test is event
        attempts = (
            [(False, 503, "HTTP 503 Service Unavailable"), (True, 200, None)] if first_try else [(True, 200, None)]
        )
        at = event.created_at
        notification = Notification(
            workspace_id=workspace_id,
            event_id=event.id,
            channel_id=channel.id,
            message_id=outbox.new_message_id(),
            status="delivered",
            attempts=len(attempts),
            next_attempt_at=None,
            created_at=at,
        )
        session.add(notification)
        session.flush()
        for number, (ok, code, error) in enumerate(attempts):
            at = event.created_at + dt.timedelta(seconds=1 + 30 * number)
            session.add(
                DeliveryAttempt(
                    workspace_id=workspace_id,
                    notification_id=notification.id,
                    channel_id=channel.id,
                    attempted_at=at,
                    ok=ok,
                    response_code=code,
                    duration_ms=120 + _hash(event.id, number) % 240,
                    error=error,
                )
            )
            written += 1
        notification.delivered_at = at
        last = at if last is None or at > last else last
    channel.last_delivery_at = last
    session.flush()
    return written


# --- remove ---------------------------------------------------------------------------------------------------------


@dataclass
class Removed:
    accounts: int = 0
    bank_accounts: int = 0
    budgets: int = 0
    channels: int = 0
    categories: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.accounts or self.bank_accounts or self.budgets or self.channels or self.categories)


def _categories_unused(session: Session, workspace_id: int) -> bool:
    """Nothing of the workspace refers to its categories, and none was made by a person."""
    ws = workspace_id
    checks = (
        select(func.count()).select_from(Transaction).where(Transaction.workspace_id == ws),
        select(func.count()).select_from(TransactionRule).where(TransactionRule.workspace_id == ws),
        select(func.count())
        .select_from(AlertRule)
        .where(AlertRule.workspace_id == ws, AlertRule.scope_category_id.is_not(None)),
        select(func.count()).select_from(Category).where(Category.workspace_id == ws, Category.key.is_(None)),
    )
    return all(not session.scalar(check) for check in checks)


def remove(session: Session, *, workspace_id: int) -> Removed:
    """Delete the workspace's demo rows and everything hanging off them (in the caller's transaction)."""
    _lock_workspace(session, workspace_id)
    rows = find(session, workspace_id)
    removed = Removed()
    if not rows.present:
        return removed
    created_categories = any((a.config or {}).get(CATEGORIES_FLAG) for a in rows.accounts)
    budget_ids = [r.id for r in rows.budgets]
    channel_ids = [c.id for c in rows.channels]
    # The demo budgets' alerts, and the events written only for the demo channel's log (the test message); their
    # notifications and delivery attempts go with them (ON DELETE CASCADE).
    event_ids: set[int] = set()
    if budget_ids:
        event_ids |= set(
            session.scalars(
                select(AlertEvent.id).where(AlertEvent.workspace_id == workspace_id, AlertEvent.rule_id.in_(budget_ids))
            )
        )
    if channel_ids:
        event_ids |= set(
            session.scalars(
                select(AlertEvent.id)
                .join(Notification, Notification.event_id == AlertEvent.id)
                .where(
                    AlertEvent.workspace_id == workspace_id,
                    AlertEvent.rule_id.is_(None),
                    AlertEvent.type == "test",
                    Notification.channel_id.in_(channel_ids),
                )
            )
        )
    if event_ids:
        session.execute(
            delete(AlertEvent)
            .where(AlertEvent.workspace_id == workspace_id, AlertEvent.id.in_(sorted(event_ids)))
            .execution_options(synchronize_session=False)
        )
    for rule in rows.budgets:
        session.delete(rule)
        removed.budgets += 1
    for channel in rows.channels:
        session.delete(channel)
        removed.channels += 1
    session.flush()
    for bank in rows.bank_accounts:
        bank_accounts.delete_account(session=session, account=bank)
        removed.bank_accounts += 1
    account_ids = [a.id for a in rows.accounts]
    if account_ids:
        # Their usage records, daily spend and sync runs go by ON DELETE CASCADE.
        session.execute(
            delete(DailySpend)
            .where(DailySpend.account_id.in_(account_ids))
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(ProviderAccount)
            .where(ProviderAccount.workspace_id == workspace_id, ProviderAccount.id.in_(account_ids))
            .execution_options(synchronize_session=False)
        )
        removed.accounts = len(account_ids)
    session.flush()
    if created_categories and _categories_unused(session, workspace_id):
        removed.categories = int(
            session.scalar(select(func.count()).select_from(Category).where(Category.workspace_id == workspace_id)) or 0
        )
        session.execute(
            delete(Category).where(Category.workspace_id == workspace_id).execution_options(synchronize_session=False)
        )
    session.expire_all()
    alert_marks.mark(session, [workspace_id])
    session.flush()
    return removed
