"""Money accounts: a 100,000-row CSV statement imported (preview, then commit), and 100,000 transactions categorized
through 500 rules.

    python -m bench.money import [--scale N] [--db sqlite|postgres] [--rules R]
    python -m bench.money categorize [--scale N] [--db sqlite|postgres] [--rules R]

Both build a household's money in memory, deterministically: eight years of a checking account (a few hundred
distinct merchants — chains at several stores, local shops through Square and Toast, subscriptions, bills, payroll,
transfers to savings and card payments, Amazon and Zelle lines with their own reference numbers, a few lines the
bank exported twice), 100,000 x N rows, and R (500) rules of the kinds people write (merchant or description
contains / equals / starts with, some regexes, amount ranges, account and direction conditions, `any` rules;
mostly set_category over the default categories, some renames, notes and mark_transfer). The workspace also has a
credit card with 3,000 transactions people categorized (the learned history) whose payments, and a savings
account whose transfers, pair with the checking account's.

`import`: the checking account's statement as one CSV file (Date, Description, Amount, Balance; US dates),
through the functions the API calls — `imports.create_import` (parse, preview with duplicate lookups) and its
commit, then `imports.commit` (parse again, preview again, `money_ingest.store`: dedupe, categorize, insert,
transfer pairing) and its commit, each in a workspace-scoped session as a request has. The file is larger than
the upload limit (`imports.MAX_FILE_BYTES`, 5 MB): the bench lifts the limit for its run and says so. Prints
preview, commit and end-to-end seconds, rows/s end to end, where the commit's time goes, peak RSS and checks.

`categorize`: 100,000 x N new transactions (ORM rows, as store() has them) through `money_ingest.categorize`, the
function store() calls (rules, learned history, bank label, keywords); also the rule engine alone: the naive
`apply_rules` loop on a sample, against `RuleSet` over every row when the rule engine has one (their outcomes are
compared on the sample).

SQLite: a fresh file in a temporary directory. PostgreSQL: a throwaway cluster from tests.postgres.start_cluster(),
or BENCH_POSTGRES_URL if set (an empty database: it is migrated and filled, and not cleaned up).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import io
import json
import logging
import os
import platform
import random
import resource
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db import Database, set_workspace
from backend.migrate import upgrade
from backend.models import BankAccount, Transaction, TransactionRule, Workspace
from backend.money import rules as rules_module
from backend.money.rules import apply_rules, parse_rule, rule_to_dict
from backend.money.txn import Txn, normalize_merchant
from backend.services import imports, money_ingest, statement_parser
from backend.services.categories import ensure_defaults
from bench.postgres import postgres_url

ROWS = 100_000
RULES = 500
HISTORY_ROWS = 3_000  # the credit card's categorized transactions: the learned history
FIRST_DAY = dt.date(2017, 1, 1)
DAYS = 8 * 365
TARGET_IMPORT_ROWS_PER_S = 20_000
TARGET_CATEGORIZE_S = 2.0
NAIVE_SAMPLE = 5_000  # rows the naive apply_rules loop is timed on (it is slow: 500 rules a row)
SEED = 20261122


# --- the household's merchants -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Merchant:
    """A payee as the bank writes it. KIND: card (a card purchase at a store), square/toast (local shops through a
    processor), amazon / zelle (a reference number of their own on every line), plain (the name alone)."""

    name: str
    category: str  # default category key people would put it in
    low: int  # amount range in whole currency units, signed (money out negative)
    high: int
    weight: float  # relative frequency among everyday purchases
    kind: str = "card"
    stores: int = 1  # store numbers / locations the household goes to


CHAINS: tuple[Merchant, ...] = (
    Merchant("STARBUCKS", "coffee", -9, -3, 30, stores=4),
    Merchant("DUNKIN", "coffee", -8, -2, 8, stores=2),
    Merchant("PEETS COFFEE", "coffee", -9, -3, 5, stores=2),
    Merchant("BLUE BOTTLE COFFEE", "coffee", -12, -4, 3),
    Merchant("WHOLE FOODS MKT", "groceries", -180, -12, 12, stores=2),
    Merchant("TRADER JOE'S", "groceries", -140, -10, 14, stores=2),
    Merchant("SAFEWAY", "groceries", -160, -8, 12, stores=3),
    Merchant("KROGER", "groceries", -150, -8, 6, stores=2),
    Merchant("COSTCO WHSE", "groceries", -400, -40, 5, stores=1),
    Merchant("ALDI", "groceries", -90, -10, 4, stores=1),
    Merchant("WEGMANS", "groceries", -150, -10, 3),
    Merchant("CHIPOTLE", "restaurants", -25, -9, 8, stores=3),
    Merchant("MCDONALD'S", "restaurants", -18, -4, 6, stores=3),
    Merchant("TACO BELL", "restaurants", -16, -4, 3, stores=2),
    Merchant("PIZZA HUT", "restaurants", -40, -12, 2),
    Merchant("DOMINO'S", "restaurants", -40, -12, 3),
    Merchant("PANERA BREAD", "restaurants", -25, -7, 4, stores=2),
    Merchant("SUBWAY", "restaurants", -16, -6, 4, stores=3),
    Merchant("CHICK-FIL-A", "restaurants", -20, -6, 5, stores=2),
    Merchant("FIVE GUYS", "restaurants", -30, -10, 2),
    Merchant("SHAKE SHACK", "restaurants", -30, -10, 2),
    Merchant("SWEETGREEN", "restaurants", -18, -11, 4, stores=2),
    Merchant("UBER *EATS", "restaurants", -60, -15, 6, kind="plain"),
    Merchant("DOORDASH*DASHPASS", "restaurants", -10, -10, 1, kind="plain"),
    Merchant("GRUBHUB*ORDER", "restaurants", -55, -15, 3, kind="plain"),
    Merchant("SHELL OIL", "fuel", -90, -25, 8, stores=3),
    Merchant("CHEVRON", "fuel", -90, -25, 6, stores=2),
    Merchant("EXXONMOBIL", "fuel", -90, -25, 3, stores=2),
    Merchant("ARCO", "fuel", -80, -20, 3, stores=2),
    Merchant("UBER *TRIP", "rideshare", -45, -8, 6, kind="plain"),
    Merchant("LYFT *RIDE", "rideshare", -45, -8, 4, kind="plain"),
    Merchant("CVS/PHARMACY", "pharmacy", -60, -4, 5, stores=3),
    Merchant("WALGREENS", "pharmacy", -60, -4, 4, stores=2),
    Merchant("RITE AID", "pharmacy", -40, -4, 1),
    Merchant("TARGET", "shopping", -200, -6, 9, stores=3),
    Merchant("WALMART", "shopping", -200, -6, 6, stores=2),
    Merchant("HOME DEPOT", "shopping", -300, -8, 4, stores=2),
    Merchant("LOWE'S", "shopping", -250, -8, 2),
    Merchant("IKEA", "shopping", -600, -20, 1),
    Merchant("ETSY.COM", "shopping", -80, -10, 1, kind="plain"),
    Merchant("EBAY O*", "shopping", -150, -8, 1, kind="plain"),
    Merchant("BEST BUY", "electronics", -900, -15, 2, stores=2),
    Merchant("APPLE STORE", "electronics", -1500, -30, 1),
    Merchant("NIKE", "clothing", -180, -30, 1, stores=1),
    Merchant("UNIQLO", "clothing", -150, -20, 2),
    Merchant("ZARA", "clothing", -200, -25, 1),
    Merchant("H&M", "clothing", -120, -10, 2, stores=2),
    Merchant("OLD NAVY", "clothing", -120, -10, 2),
    Merchant("AMC THEATRES", "entertainment", -60, -12, 2, stores=2),
    Merchant("TICKETMASTER", "entertainment", -300, -40, 1, kind="plain"),
    Merchant("STEAMGAMES.COM", "entertainment", -70, -5, 1, kind="plain"),
    Merchant("DELTA AIR LINES", "travel", -900, -120, 1, kind="plain"),
    Merchant("UNITED AIRLINES", "travel", -900, -120, 1, kind="plain"),
    Merchant("MARRIOTT", "travel", -700, -120, 1, stores=3),
    Merchant("AIRBNB", "travel", -1200, -90, 1, kind="plain"),
    Merchant("PLANET FITNESS", "fitness", -25, -10, 1),
    Merchant("AMZN Mktp US", "shopping", -150, -5, 14, kind="amazon"),
    Merchant("Amazon.com", "shopping", -150, -5, 6, kind="amazon"),
    Merchant("ZELLE PAYMENT TO", "transfers", -300, -20, 3, kind="zelle"),
    Merchant("ATM WITHDRAWAL", "fees", -200, -20, 2, kind="atm"),
)
LOCAL_WORDS = (
    "GOLDEN", "BLUE DOOR", "RED ROOSTER", "OLD TOWN", "SUNSET", "MAIN ST", "CORNER", "LUCKY", "GREEN LEAF", "MAPLE",
    "HARBOR", "NORTHSIDE", "RIVERSIDE", "UPTOWN", "LITTLE", "SILVER", "CEDAR", "PARKSIDE",
)  # fmt: skip
LOCAL_SHOPS = (
    ("BAKERY", "food", -25, -4), ("DELI", "restaurants", -20, -6), ("DINER", "restaurants", -40, -10),
    ("CAFE", "coffee", -15, -4), ("TAQUERIA", "restaurants", -30, -8), ("PIZZERIA", "restaurants", -45, -12),
    ("BARBER", "shopping", -45, -20), ("DRY CLEANERS", "shopping", -60, -10), ("NAIL SPA", "shopping", -70, -25),
    ("HARDWARE", "shopping", -80, -5), ("BOOKS", "shopping", -60, -8), ("FLORIST", "shopping", -90, -20),
    ("PET SUPPLY", "shopping", -90, -10), ("WINE SHOP", "food", -120, -15), ("SUSHI", "restaurants", -90, -20),
    ("THAI KITCHEN", "restaurants", -60, -15), ("NOODLE HOUSE", "restaurants", -45, -12),
    ("BURGER BAR", "restaurants", -45, -12), ("YOGA STUDIO", "fitness", -30, -20),
    ("AUTO REPAIR", "transport", -900, -60),
)  # fmt: skip
CITIES = (
    "SEATTLE WA", "BELLEVUE WA", "PORTLAND OR", "OAKLAND CA", "SAN FRANCISCO CA", "AUSTIN TX", "DENVER CO",
    "BROOKLYN NY", "CHICAGO IL", "BOSTON MA", "MADISON WI", "BOULDER CO",
)  # fmt: skip
PEOPLE = ("JOHN SMITH", "MARIA GARCIA", "DAVID LEE", "SARAH JOHNSON", "MIKE BROWN", "EMILY DAVIS", "CHRIS WILSON")
# (description, category, day of month, amount): what happens every month.
MONTHLY: tuple[tuple[str, str, int, Decimal], ...] = (
    ("NETFLIX.COM 866-579-7172 CA", "streaming", 3, Decimal("-15.49")),
    ("SPOTIFY USA 877-778-1161 NY", "streaming", 5, Decimal("-10.99")),
    ("HULU 877-8244858 CA", "streaming", 9, Decimal("-7.99")),
    ("DISNEY PLUS 888-905-7888 CA", "streaming", 11, Decimal("-7.99")),
    ("APPLE.COM/BILL 866-712-7753 CA", "software", 14, Decimal("-2.99")),
    ("GITHUB, INC. GITHUB.COM CA", "software", 7, Decimal("-4.00")),
    ("OPENAI *CHATGPT SUBSCR OPENAI.COM CA", "software", 16, Decimal("-20.00")),
    ("DROPBOX*1A2B3C DROPBOX.COM CA", "software", 19, Decimal("-11.99")),
    ("AUDIBLE*AB12C3 AMZN.COM/BILL NJ", "streaming", 21, Decimal("-14.95")),
    ("NYTIMES 800-698-4637 NY", "subscriptions", 23, Decimal("-17.00")),
    ("PGANDE WEB ONLINE PAYMENT", "utilities", 12, Decimal("-132.40")),
    ("COMCAST XFINITY 800-266-2278 WA", "internet_phone", 15, Decimal("-89.99")),
    ("VERIZON WIRELESS PAYMENTS", "internet_phone", 18, Decimal("-124.18")),
    ("CITY OF SEATTLE WATER BILL", "utilities", 20, Decimal("-61.35")),
    ("STATE FARM RO 27 SFPP", "fees", 2, Decimal("-148.72")),
    ("PROPERTY MANAGEMENT RENT PAYMENT", "rent", 1, Decimal("-2450.00")),
    ("PLANET FITNESS CLUB FEES", "fitness", 17, Decimal("-24.99")),
    ("MONTHLY SERVICE FEE", "fees", 28, Decimal("-12.00")),
    ("INTEREST PAYMENT", "interest", 28, Decimal("0.42")),
)
PAYROLL = "ACME CORP PAYROLL PPD ID: 9876543210 DIRECT DEP"
SAVINGS_OUT = "ONLINE TRANSFER TO SAVINGS XXXXXX4821 REF #IB0{ref}"
SAVINGS_IN = "ONLINE TRANSFER FROM CHK XXXXXX1234 REF #IB0{ref}"
CARD_PAY_OUT = "CHASE CREDIT CRD AUTOPAY PPD ID: 4760039224"
CARD_PAY_IN = "AUTOMATIC PAYMENT - THANK YOU"


def _local_merchants(rng: random.Random) -> list[Merchant]:
    """About 150 local shops, reached through Square or Toast or a plain card terminal."""
    out = []
    for i, (noun, category, low, high) in enumerate(LOCAL_SHOPS):
        for j, word in enumerate(rng.sample(LOCAL_WORDS, 7 + i % 3)):
            kind = ("square", "toast", "card")[(i + j) % 3]
            out.append(Merchant(f"{word} {noun}", category, low, high, rng.uniform(0.2, 1.5), kind=kind))
    return out


@dataclass
class Line:
    """One statement line of the generated household."""

    day: dt.date
    description: str
    amount: Decimal
    category: str  # the category a person would choose (the learned history uses it)


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    lo, hi = sorted((low * 100, high * 100))
    return Decimal(rng.randint(lo, hi)).scaleb(-2)


def _describe(rng: random.Random, m: Merchant, day: dt.date, store: int) -> str:
    stable = zlib.crc32(m.name.encode())  # not hash(): it differs between processes
    city = CITIES[(stable + store) % len(CITIES)]
    if m.kind == "amazon":
        ref = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=9))
        return f"{m.name}*{ref} Amzn.com/bill WA"
    if m.kind == "zelle":
        return f"{m.name} {rng.choice(PEOPLE)} {rng.randint(10**9, 10**10 - 1)}"
    if m.kind == "atm":
        return f"ATM WITHDRAWAL #{rng.randint(100000, 999999)} {rng.randint(100, 999)} MAIN ST {city}"
    if m.kind == "square":
        return f"SQ *{m.name} {city}"
    if m.kind == "toast":
        return f"TST* {m.name} {city}"
    if m.kind == "plain":
        return f"{m.name} {('HELP.UBER.COM', 'SAN FRANCISCO CA', '800-555-0199')[store % 3]}"
    number = f"#{(stable % 9000 + 1000 + 37 * store) % 10000:04d}"
    style = rng.random()
    if style < 0.55:
        return f"POS PURCHASE {m.name} {number} {city}"
    if style < 0.85:  # some card lines carry the purchase date: many distinct texts, as real statements have
        return f"CHECKCARD {day:%m%d} {m.name} {number} {city}"
    return f"{m.name} {number} {city}"


def household(rows: int, seed: int = SEED) -> tuple[list[Line], list[Line], list[Line]]:
    """(checking lines in date order, savings lines, credit card lines): the checking account has exactly ROWS
    lines; the other two hold the transfers' other sides and the card's categorized history."""
    rng = random.Random(seed)
    everyday = [*CHAINS, *_local_merchants(rng)]
    weights = [m.weight for m in everyday]
    months = [(FIRST_DAY.year + i // 12, i % 12 + 1) for i in range(DAYS // 365 * 12)]
    checking: list[Line] = []
    savings: list[Line] = []
    card: list[Line] = []
    for n, (year, month) in enumerate(months):
        for description, category, day_of_month, amount in MONTHLY:
            checking.append(Line(dt.date(year, month, day_of_month), description, amount, category))
        for payday in (1, 15):
            pay = Decimal(rng.randint(560_000, 600_000)).scaleb(-2)
            checking.append(Line(dt.date(year, month, payday), PAYROLL, pay, "salary"))
        ref = f"{n:07d}"
        moved = Decimal(rng.choice((250, 500, 750, 1000)))
        checking.append(Line(dt.date(year, month, 16), SAVINGS_OUT.format(ref=ref), -moved, "transfers"))
        savings.append(Line(dt.date(year, month, 17), SAVINGS_IN.format(ref=ref), moved, "transfers"))
        paid = Decimal(rng.randint(40_000, 260_000)).scaleb(-2)
        checking.append(Line(dt.date(year, month, 25), CARD_PAY_OUT, -paid, "transfers"))
        card.append(Line(dt.date(year, month, 26), CARD_PAY_IN, paid, "transfers"))
    doubled = max(1, rows // 400)  # lines the bank exported twice (identical, balance included)
    wanted = rows - doubled - len(checking)
    picks = rng.choices(everyday, weights=weights, k=max(0, wanted))
    for m in picks:
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        amount = _cents(rng, m.low, m.high)
        if m.category == "shopping" and rng.random() < 0.03:  # a return
            amount, category = -amount, "refunds"
        else:
            category = m.category
        checking.append(Line(day, _describe(rng, m, day, rng.randrange(m.stores)), amount, category))
    del checking[max(0, rows - doubled) :]  # a tiny --scale: fewer lines than the monthly ones
    checking.sort(key=lambda line: line.day)
    for index in sorted(rng.sample(range(len(checking)), min(doubled, len(checking))), reverse=True):
        checking.insert(index + 1, checking[index])
    card_picks = rng.choices(everyday, weights=weights, k=max(0, HISTORY_ROWS - len(card)))
    for m in card_picks:
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        card.append(Line(day, _describe(rng, m, day, rng.randrange(m.stores)), _cents(rng, m.low, m.high), m.category))
    card.sort(key=lambda line: line.day)
    return checking, savings, card


def statement_csv(lines: Sequence[Line], opening: Decimal = Decimal("8500.00")) -> bytes:
    """The checking account's statement: Date (MM/DD/YYYY), Description, Amount, Balance (running; a line the
    bank exported twice repeats its balance)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("Date", "Description", "Amount", "Balance"))
    balance = opening
    previous: Line | None = None
    for line in lines:
        if line is not previous:
            balance += line.amount
        writer.writerow((f"{line.day:%m/%d/%Y}", line.description, f"{line.amount:.2f}", f"{balance:.2f}"))
        previous = line
    return out.getvalue().encode()


# --- rules ---------------------------------------------------------------------------------------------------------


def _keyword(name: str) -> str:
    """The words a person types for a merchant: "TRADER JOE'S" → "trader joe's", "UBER *EATS" → "uber"."""
    return name.split("*")[0].strip().lower()


def rule_definitions(
    rng: random.Random, count: int, categories: dict[str, int], checking_id: int, card_id: int
) -> list[dict[str, Any]]:
    """COUNT rules of the kinds people write, in their order. About half name merchants of the household (so
    they match); the rest name merchants it never visits (they never match, but every one is tried)."""
    local = _local_merchants(random.Random(SEED))
    known = [*CHAINS, *local]
    strangers = [f"{a} {b}" for a in LOCAL_WORDS for b in ("TAILOR", "OPTICIAN", "VET", "DENTAL", "TOYS", "MUSIC")]
    rng.shuffle(strangers)
    cat_keys = sorted(categories)

    def category(key: str) -> dict[str, Any]:
        return {"type": "set_category", "category_id": categories.get(key, categories["shopping"])}

    out: list[dict[str, Any]] = []
    # Hand-made exceptions first, as people order them: amount-bounded and account-specific rules.
    out.append(
        {
            "conditions": [
                {"field": "description", "op": "contains", "value": "amzn mktp"},
                {"field": "amount", "min": "-15", "max": "0"},
            ],
            "actions": [category("electronics"), {"type": "add_note", "text": "small Amazon order"}],
        }
    )
    out.append(
        {
            "conditions": [
                {"field": "description", "op": "regex", "value": r"^(pos purchase |checkcard \d{4} )?costco"},
                {"field": "amount", "max": "-250"},
            ],
            "actions": [category("shopping"), {"type": "add_note", "text": "big Costco run"}],
        }
    )
    out.append(
        {
            "conditions": [{"field": "description", "op": "contains", "value": "online transfer"}],
            "actions": [category("transfers")],
        }
    )
    out.append(
        {
            "match": "any",
            "conditions": [
                {"field": "description", "op": "contains", "value": "crd autopay"},
                {"field": "description", "op": "starts_with", "value": "automatic payment"},
            ],
            "actions": [{"type": "mark_transfer"}, category("transfers")],
        }
    )
    out.append(
        {
            "conditions": [{"field": "account", "value": [card_id]}, {"field": "direction", "value": "in"}],
            "actions": [{"type": "add_note", "text": "card credit"}],
        }
    )
    out.append(
        {
            "conditions": [
                {"field": "description", "op": "regex", "value": r"payroll|direct dep"},
                {"field": "direction", "value": "in"},
            ],
            "actions": [category("salary"), {"type": "rename_merchant", "name": "ACME Corp"}],
        }
    )
    ops = ("contains", "contains", "contains", "contains", "equals", "starts_with", "regex")
    i = 0
    while len(out) < count:
        i += 1
        pick = rng.random()
        if pick < 0.5:
            m = known[i % len(known)]
            word = _keyword(m.name)
            key = m.category
        else:
            word = strangers[i % len(strangers)].lower()
            key = cat_keys[i % len(cat_keys)]
        op = ops[i % len(ops)]
        field = "description" if rng.random() < 0.8 else "merchant"
        if op == "regex":
            value = r"\b" + r"\s+".join(w for w in word.replace("'", ".?").split()) + r"\b"
        elif op == "equals":
            value = word  # the merchant key: matches "… equals starbucks" only when the key is that alone
        elif op == "starts_with":
            value = f"pos purchase {word}" if rng.random() < 0.5 else word
        else:
            value = word
        conditions: list[dict[str, Any]] = [{"field": field, "op": op, "value": value}]
        extra = rng.random()
        if extra < 0.12:
            low = -rng.choice((20, 50, 100, 200))
            conditions.append({"field": "amount", "min": str(low), "max": "0"})
        elif extra < 0.18:
            conditions.append({"field": "account", "value": [checking_id] if rng.random() < 0.7 else [card_id]})
        elif extra < 0.22:
            conditions.append({"field": "direction", "value": "out"})
        rule: dict[str, Any] = {"conditions": conditions, "actions": [category(key)]}
        if extra > 0.93:  # "any" of two spellings
            other = known[(i * 7) % len(known)]
            rule["match"] = "any"
            rule["conditions"] = [
                conditions[0],
                {"field": "description", "op": "contains", "value": _keyword(other.name)},
            ]
        twist = rng.random()
        if twist < 0.06:
            rule["actions"].append({"type": "rename_merchant", "name": word.title()})
        elif twist < 0.10:
            rule["actions"].append({"type": "add_note", "text": f"{key} (rule {len(out) + 1})"})
        elif twist < 0.11:
            rule["actions"] = [{"type": "add_note", "text": "check this one"}]
        out.append(rule)
    return out[:count]


# --- the database --------------------------------------------------------------------------------------------------


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A migrated database URL: SQLite in a temporary directory, or PostgreSQL (throwaway or BENCH_POSTGRES_URL)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-money-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'money.db'}"
            upgrade(url)
            yield url
        return
    with postgres_url() as url:
        upgrade(url)
        yield url


@dataclass
class World:
    workspace_id: int
    checking_id: int
    savings_id: int
    card_id: int
    categories: dict[str, int]
    rules: int


def _store(session: Session, bank: BankAccount, lines: Sequence[Line], prefix: str) -> list[int]:
    items = [
        money_ingest.NewTransaction(
            fingerprint=f"{prefix}:{i}", posted_on=line.day, amount=line.amount, description=line.description
        )
        for i, line in enumerate(lines)
    ]
    return money_ingest.store(session, bank_account=bank, items=items, update_existing=False).added


def setup_world(db: Database, rules: int, savings: Sequence[Line], card: Sequence[Line]) -> World:
    """One workspace with its default categories, RULES stored rules, a checking account (empty: the statement
    goes there), a savings account and a credit card (stored, the card's rows categorized by a person)."""
    with db.system_session() as session:
        workspace = Workspace(name="money bench")
        session.add(workspace)
        session.flush()
        ws = workspace.id
        set_workspace(session, ws)
        categories = ensure_defaults(session, ws)
        banks = [BankAccount(workspace_id=ws, name=name, currency="USD") for name in ("Checking", "Savings", "Card")]
        session.add_all(banks)
        session.flush()
        checking, saving, credit = banks
        definitions = rule_definitions(random.Random(SEED + 1), rules, categories, checking.id, credit.id)
        for position, definition in enumerate(definitions):
            parsed = rule_to_dict(parse_rule({**definition, "position": position}))
            session.add(
                TransactionRule(
                    workspace_id=ws,
                    name=f"rule {position + 1}",
                    position=position,
                    enabled=True,
                    definition={k: parsed[k] for k in ("match", "conditions", "actions")},
                )
            )
        session.flush()
        _store(session, saving, savings, "savings")
        ids = _store(session, credit, card, "card")
        line_of = {row_id: card[i] for i, row_id in enumerate(ids)}
        # People went through the card's history and chose categories: the learned index reads those.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in session.scalars(select(Transaction).where(Transaction.id.in_(chunk))):
                row.category_id = categories[line_of[row.id].category]
                row.category_source, row.category_confidence, row.category_rule_id = "manual", None, None
        session.flush()
        return World(ws, checking.id, saving.id, credit.id, categories, rules)


class Timer:
    """Time spent in a module function, patched for the run (calls nested in an outer timed call count twice)."""

    def __init__(self, module: Any, name: str) -> None:
        self.module, self.name, self.seconds, self.calls = module, name, 0.0, 0
        self.original: Callable[..., Any] = getattr(module, name)

    def __enter__(self) -> Timer:
        original = self.original

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.original)


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- import --------------------------------------------------------------------------------------------------------


def run_import(kind: str, scale: float, rules: int) -> dict[str, Any]:
    rows = max(10, round(ROWS * scale))
    checking, savings, card = household(rows)
    data = statement_csv(checking)
    distinct = len({line.description for line in checking})
    limit = imports.MAX_FILE_BYTES
    with database(kind) as url:
        db = Database(url)
        try:
            world = setup_world(db, rules, savings, card)
            if len(data) > limit:
                imports.MAX_FILE_BYTES = len(data)
            # Past ParseLimits' row limit (100,000) the bench lifts it too, as it lifts the upload limit.
            default_limits = statement_parser.ParseLimits
            if rows > default_limits().max_rows:
                statement_parser.ParseLimits = functools.partial(default_limits, max_rows=rows)  # type: ignore[misc]
            try:
                figures = _import_pass(db, world, data)
                again = _reimport_preview(db, world, data)
            finally:
                imports.MAX_FILE_BYTES = limit
                statement_parser.ParseLimits = default_limits  # type: ignore[misc]
            checks = _import_checks(db, world)
        finally:
            db.dispose()
    end_to_end = figures["preview_s"] + figures["commit_s"]
    return {
        "bench": "money_import",
        "db": kind,
        "rows": rows,
        "rules": rules,
        "file_bytes": len(data),
        "upload_limit_bytes": limit,
        "upload_limit_lifted": len(data) > limit,
        "row_limit_lifted": rows > statement_parser.ParseLimits().max_rows,
        "distinct_descriptions": distinct,
        **figures,
        "end_to_end_s": round(end_to_end, 3),
        "rows_per_s_end_to_end": round(rows / end_to_end),
        "target_rows_per_s": TARGET_IMPORT_ROWS_PER_S,
        "meets_target": rows / end_to_end >= TARGET_IMPORT_ROWS_PER_S,
        "reimport_preview": again,
        "check": checks,
        "peak_rss_mb": _peak_rss_mb(),
        "machine": _machine(),
    }


def _import_pass(db: Database, world: World, data: bytes) -> dict[str, Any]:
    # store()'s parts: categorizing (categorize, or _categorize_new on column values), inserting, pairing.
    categorizing = "_categorize_new" if hasattr(money_ingest, "_categorize_new") else "categorize"
    timers = [
        Timer(imports, "parse"),
        Timer(imports, "build_preview"),
        Timer(money_ingest, "store"),
        Timer(money_ingest, categorizing),
        Timer(money_ingest, "pair_transfers"),
    ]
    if hasattr(money_ingest, "_insert"):
        timers.append(Timer(money_ingest, "_insert"))
    for timer in timers:
        timer.__enter__()
    try:
        session = db.session()
        set_workspace(session, world.workspace_id)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            preview = imports.create_import(
                session=session,
                workspace_id=world.workspace_id,
                bank_account_id=world.checking_id,
                filename="checking.csv",
                data=data,
                mapping=None,
                format_id=None,
            )
            new = len(preview.new_rows)
            session.commit()
            t1, c1 = time.perf_counter(), time.process_time()
            batch_id = preview.batch.id
        finally:
            session.close()
        preview_parts = {t.name: round(t.seconds, 3) for t in timers}
        for timer in timers:
            timer.seconds = 0.0
        session = db.session()
        set_workspace(session, world.workspace_id)
        try:
            t2, c2 = time.perf_counter(), time.process_time()
            batch = imports.get_import(session=session, workspace_id=world.workspace_id, import_id=batch_id)
            result = imports.commit(session=session, batch=batch, mapping=None, format_id=None)
            session.commit()
            t3, c3 = time.perf_counter(), time.process_time()
        finally:
            session.close()
        commit_parts = {t.name.lstrip("_"): round(t.seconds, 3) for t in timers}
        commit_parts["categorize"] = commit_parts.pop("categorize_new", commit_parts.get("categorize", 0.0))
    finally:
        for timer in timers:
            timer.__exit__()
    return {
        "preview_s": round(t1 - t0, 3),
        "commit_s": round(t3 - t2, 3),
        # This process's CPU time in both (PostgreSQL's own work is in its server processes).
        "client_cpu_s": round(c1 - c0 + c3 - c2, 3),
        "preview_new_rows": new,
        "added": len(result.added),
        "duplicates": len(result.duplicates),
        "transfer_pairs": result.transfers,
        "preview_parts_s": {k: v for k, v in preview_parts.items() if k in ("parse", "build_preview")},
        "commit_parts_s": {
            **commit_parts,
            "store_other": round(
                commit_parts["store"]
                - commit_parts["categorize"]
                - commit_parts["pair_transfers"]
                - commit_parts.get("insert", 0.0),
                3,
            ),
        },
    }


def _reimport_preview(db: Database, world: World, data: bytes) -> dict[str, Any]:
    """The same file uploaded again: every row is a duplicate (the preview only; discarded)."""
    limit = imports.MAX_FILE_BYTES
    imports.MAX_FILE_BYTES = max(limit, len(data))
    session = db.session()
    set_workspace(session, world.workspace_id)
    try:
        t0 = time.perf_counter()
        preview = imports.create_import(
            session=session,
            workspace_id=world.workspace_id,
            bank_account_id=world.checking_id,
            filename="checking.csv",
            data=data,
            mapping=None,
            format_id=None,
        )
        seconds = time.perf_counter() - t0
        duplicates = sum(1 for r in preview.rows if r.duplicate is not None)
        session.rollback()
    finally:
        session.close()
        imports.MAX_FILE_BYTES = limit
    return {"preview_s": round(seconds, 3), "duplicates": duplicates}


def _import_checks(db: Database, world: World) -> dict[str, Any]:
    with db.system_session() as session:
        sources = dict(
            session.execute(
                select(Transaction.category_source, func.count())
                .where(Transaction.bank_account_id == world.checking_id)
                .group_by(Transaction.category_source)
            ).all()
        )
        stored = session.scalar(
            select(func.count()).select_from(Transaction).where(Transaction.bank_account_id == world.checking_id)
        )
        transfers = session.scalar(
            select(func.count())
            .select_from(Transaction)
            .where(Transaction.workspace_id == world.workspace_id, Transaction.transfer_peer_id.is_not(None))
        )
        noted = session.scalar(
            select(func.count())
            .select_from(Transaction)
            .where(Transaction.bank_account_id == world.checking_id, Transaction.notes != "")
        )
    return {
        "stored": stored,
        "by_source": {str(k): v for k, v in sorted(sources.items(), key=lambda kv: str(kv[0]))},
        "with_notes": noted,
        "paired_rows": transfers,
    }


# --- categorize ----------------------------------------------------------------------------------------------------


def _transactions(world: World, lines: Sequence[Line]) -> list[Transaction]:
    """New, unsaved rows as store() builds them."""
    return [
        Transaction(
            workspace_id=world.workspace_id,
            bank_account_id=world.checking_id,
            fingerprint=f"bench:{i}",
            external_id="",
            posted_on=line.day,
            amount=line.amount,
            currency="USD",
            description=line.description,
            merchant="",
            pending=False,
            pending_external_id="",
            provider_category="",
            notes="",
            excluded=False,
            is_transfer=False,
            transfer_locked=False,
            raw={},
        )
        for i, line in enumerate(lines)
    ]


def _outcome_key(outcome: rules_module.Outcome) -> tuple[Any, ...]:
    return (
        outcome.category_id,
        outcome.merchant,
        outcome.is_transfer,
        tuple(outcome.notes),
        outcome.rule_id,
        tuple(outcome.matched_rule_ids),
    )


def _items(lines: Sequence[Line]) -> list[money_ingest.NewTransaction]:
    """The statement lines as an import hands them to store()."""
    return [
        money_ingest.NewTransaction(
            fingerprint=f"bench:{i}",
            posted_on=line.day,
            amount=line.amount,
            description=line.description,
            raw={"Date": f"{line.day:%m/%d/%Y}", "Description": line.description, "Amount": f"{line.amount:.2f}"},
        )
        for i, line in enumerate(lines)
    ]


def _cold_caches() -> None:
    """Forget the memoized merchant keys and cleaned texts, so that every measured pass starts alike."""
    normalize_merchant.cache_clear()
    clean = getattr(rules_module, "_clean", None)
    if clean is not None:
        clean.cache_clear()


def _categorize_pass(db: Database, world: World, lines: Sequence[Line], path: str) -> dict[str, Any]:
    """Time one categorizing pass over LINES as new transactions: "store" categorizes column values as store()
    does now (money_ingest._categorize_new), "orm" unsaved ORM rows through money_ingest.categorize()."""
    session = db.session()
    set_workspace(session, world.workspace_id)
    try:
        bank = session.get(BankAccount, world.checking_id)
        assert bank is not None
        built = time.perf_counter()
        if path == "store":
            now = dt.datetime.now(dt.UTC)
            rows: list[Any] = money_ingest.new_values(_items(lines), bank_account=bank, import_id=None, now=now)
        else:
            rows = _transactions(world, lines)
        build_s = time.perf_counter() - built
        _cold_caches()
        with Timer(money_ingest, "load_rules") as loading, Timer(money_ingest, "learned_index") as learning:
            t0, c0 = time.perf_counter(), time.process_time()
            if path == "store":
                money_ingest._categorize_new(session, world.workspace_id, rows)
            else:
                money_ingest.categorize(session, world.workspace_id, rows)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        session.rollback()
    finally:
        session.close()

    def source(row: Any) -> str:
        return str(row["category_source"] if path == "store" else row.category_source)

    sources = Counter(source(r) for r in rows)
    return {
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu, 3),  # this process's CPU time: what a busy machine does not add to
        "us_per_row": round(seconds / len(rows) * 1e6, 2),
        "rows_per_s": round(len(rows) / seconds),
        "load_rules_s": round(loading.seconds, 3),
        "learned_index_s": round(learning.seconds, 3),
        "build_rows_s": round(build_s, 3),
        "by_source": dict(sorted(sources.items())),
    }


def run_categorize(kind: str, scale: float, rules: int) -> dict[str, Any]:
    rows = max(10, round(ROWS * scale))
    checking, savings, card = household(rows)
    with database(kind) as url:
        db = Database(url)
        try:
            world = setup_world(db, rules, savings, card)
            passes = {}
            if hasattr(money_ingest, "_categorize_new"):
                passes["store"] = _categorize_pass(db, world, checking, "store")
            passes["orm"] = _categorize_pass(db, world, checking, "orm")
            with db.system_session() as session:
                parsed = money_ingest.load_rules(session, world.workspace_id)
        finally:
            db.dispose()
    main_pass = passes.get("store", passes["orm"])
    plain = [Txn(i, world.checking_id, line.day, line.amount, line.description) for i, line in enumerate(checking)]
    step = max(1, len(plain) // NAIVE_SAMPLE)
    sample = plain[::step][:NAIVE_SAMPLE]
    t0 = time.perf_counter()
    naive = [apply_rules(parsed, txn) for txn in sample]
    naive_s = time.perf_counter() - t0
    engine: dict[str, Any] = {
        "naive_apply_rules_sample_rows": len(sample),
        "naive_apply_rules_us_per_row": round(naive_s / len(sample) * 1e6, 1),
        "naive_apply_rules_s_extrapolated": round(naive_s / len(sample) * rows, 2),
    }
    rule_set_class = getattr(rules_module, "RuleSet", None)
    if rule_set_class is not None:
        _cold_caches()
        t0 = time.perf_counter()
        compiled = rule_set_class(parsed)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for txn in plain:
            compiled.apply(txn)
        fast_s = time.perf_counter() - t0
        same = all(_outcome_key(a) == _outcome_key(compiled.apply(b)) for a, b in zip(naive, sample, strict=True))
        engine.update(
            {
                "ruleset_compile_s": round(compile_s, 3),
                "ruleset_s": round(fast_s, 3),
                "ruleset_us_per_row": round(fast_s / rows * 1e6, 2),
                "ruleset_same_outcomes_on_sample": same,
            }
        )
    rule_hits = sum(1 for o in naive if o.matched_rule_ids)
    target = TARGET_CATEGORIZE_S * rows / ROWS
    return {
        "bench": "money_categorize",
        "db": kind,
        "rows": rows,
        "rules": len(parsed),
        "distinct_descriptions": len({line.description for line in checking}),
        "categorize_s": main_pass["seconds"],
        "categorize_cpu_s": main_pass["cpu_s"],
        "rows_per_s": main_pass["rows_per_s"],
        "measured": "store" if "store" in passes else "orm",
        "target_s": target,
        "meets_target": main_pass["seconds"] <= target,
        "passes": passes,
        "sample_rows_matching_a_rule": round(rule_hits / len(sample), 3),
        "rule_engine": engine,
        "peak_rss_mb": _peak_rss_mb(),
        "machine": _machine(),
    }


def run(bench: str, kind: str = "sqlite", scale: float = 1.0, rules: int = RULES) -> dict[str, Any]:
    """One bench's figures ("import" or "categorize")."""
    logging.disable(logging.WARNING)
    if bench == "import":
        return run_import(kind, scale, rules)
    return run_categorize(kind, scale, rules)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.money", description=__doc__.splitlines()[0])
    parser.add_argument("bench", choices=("import", "categorize"))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the 100,000 rows (0.1: a quick run)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rules", type=int, default=RULES, help="stored rules (500)")
    args = parser.parse_args(argv)
    report = run(args.bench, args.db, args.scale, args.rules)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
