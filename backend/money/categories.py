"""Default categories, the keyword map that guesses a category for a new transaction, and that guess."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Literal

from backend.money.txn import Txn, normalize_merchant

CategoryKind = Literal["expense", "income", "transfer"]

# A keyword guess is a weak signal: below a learned suggestion (≥ 0.5 on a tie, up to 0.95) and a user rule.
KEYWORD_CONFIDENCE = Decimal("0.50")


@dataclass(frozen=True)
class CategorySpec:
    """A default category; necessity 1-10 (10 = essential) ranks expenses, income and transfers carry 10."""

    key: str
    name: str
    icon: str
    color: str
    kind: CategoryKind
    necessity: int
    parent_key: str | None = None


DEFAULT_CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("food", "Food", "🍽️", "#e67e22", "expense", 8),
    CategorySpec("groceries", "Groceries", "🛒", "#d35400", "expense", 9, "food"),
    CategorySpec("restaurants", "Restaurants", "🍝", "#f39c12", "expense", 4, "food"),
    CategorySpec("coffee", "Coffee", "☕", "#a0522d", "expense", 2, "food"),
    CategorySpec("housing", "Housing", "🏠", "#2980b9", "expense", 10),
    CategorySpec("rent", "Rent", "🔑", "#1f618d", "expense", 10, "housing"),
    CategorySpec("utilities", "Utilities", "💡", "#5dade2", "expense", 10, "housing"),
    CategorySpec("internet_phone", "Internet & phone", "📶", "#3498db", "expense", 8, "housing"),
    CategorySpec("transport", "Transport", "🚗", "#16a085", "expense", 7),
    CategorySpec("fuel", "Fuel", "⛽", "#117a65", "expense", 7, "transport"),
    CategorySpec("public_transport", "Public transport", "🚆", "#1abc9c", "expense", 8, "transport"),
    CategorySpec("rideshare", "Rideshare", "🚕", "#48c9b0", "expense", 4, "transport"),
    CategorySpec("subscriptions", "Subscriptions", "🔁", "#8e44ad", "expense", 4),
    CategorySpec("software", "Software", "💻", "#6c3483", "expense", 6, "subscriptions"),
    CategorySpec("streaming", "Streaming", "📺", "#a569bd", "expense", 2, "subscriptions"),
    CategorySpec("health", "Health", "🩺", "#c0392b", "expense", 9),
    CategorySpec("pharmacy", "Pharmacy", "💊", "#e74c3c", "expense", 9, "health"),
    CategorySpec("fitness", "Fitness", "🏋️", "#f1948a", "expense", 4, "health"),
    CategorySpec("shopping", "Shopping", "🛍️", "#d4ac0d", "expense", 3),
    CategorySpec("clothing", "Clothing", "👕", "#f4d03f", "expense", 4, "shopping"),
    CategorySpec("electronics", "Electronics", "🔌", "#b7950b", "expense", 3, "shopping"),
    CategorySpec("entertainment", "Entertainment", "🎟️", "#e84393", "expense", 2),
    CategorySpec("travel", "Travel", "✈️", "#0984e3", "expense", 3),
    CategorySpec("fees", "Fees", "🏦", "#7f8c8d", "expense", 5),
    CategorySpec("income", "Income", "💰", "#27ae60", "income", 10),
    CategorySpec("salary", "Salary", "💼", "#1e8449", "income", 10, "income"),
    CategorySpec("refunds", "Refunds", "↩️", "#52be80", "income", 10, "income"),
    CategorySpec("interest", "Interest", "📈", "#82e0aa", "income", 10, "income"),
    CategorySpec("transfers", "Transfers", "🔄", "#95a5a6", "transfer", 10),
)

# Keywords are matched as whole words (not inside a longer word) against the normalized merchant and description.
# A keyword belongs to one category only; when several match, the longest keyword wins ("uber eats" over "uber").
KEYWORD_MAP: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "groceries": (
            "whole foods", "trader joe", "aldi", "lidl", "tesco", "safeway", "kroger", "sainsbury", "asda",
            "waitrose", "morrisons", "costco", "publix", "wegmans", "albertsons", "instacart", "rewe", "edeka",
            "carrefour", "grocery", "groceries", "supermarket",
        ),
        "restaurants": (
            "restaurant", "uber eats", "doordash", "grubhub", "deliveroo", "just eat", "mcdonald", "mcdonalds",
            "chipotle", "burger king", "kfc", "dominos", "domino's", "pizza hut", "taco bell", "wendy's", "pizza",
            "sushi", "diner", "bistro", "grill",
        ),
        "coffee": ("starbucks", "coffee", "cafe", "café", "dunkin", "tim hortons", "peet's", "blue bottle"),
        "rent": ("rent", "landlord", "property management"),
        "utilities": (
            "electric", "electricity", "water bill", "pg&e", "con edison", "duke energy", "british gas",
            "octopus energy", "edf energy", "utility", "utilities",
        ),
        "internet_phone": (
            "comcast", "xfinity", "verizon", "at&t", "t-mobile", "spectrum", "vodafone", "broadband", "internet",
        ),
        "fuel": (
            "shell", "chevron", "exxon", "exxonmobil", "mobil", "bp", "texaco", "arco", "valero", "sunoco",
            "gas station", "fuel", "petrol",
        ),
        "public_transport": (
            "mta", "tfl", "bart", "transit", "metro", "amtrak", "trainline", "ventra", "clipper", "deutsche bahn",
        ),
        "rideshare": ("uber", "lyft", "bolt", "taxi", "free now"),
        "software": (
            "github", "openai", "anthropic", "aws", "amazon web services", "google cloud", "digitalocean", "heroku",
            "vercel", "netlify", "jetbrains", "adobe", "dropbox", "1password", "notion", "slack", "figma",
            "atlassian", "cloudflare", "hetzner",
        ),
        "streaming": (
            "netflix", "spotify", "hulu", "disney plus", "disney+", "hbo", "youtube premium", "paramount+",
            "peacock", "audible", "crunchyroll", "prime video", "deezer", "tidal",
        ),
        "health": ("doctor", "clinic", "hospital", "dental", "dentist", "medical", "optician"),
        "pharmacy": ("pharmacy", "cvs", "walgreens", "rite aid", "boots", "chemist"),
        "fitness": ("gym", "fitness", "planet fitness", "equinox", "peloton", "classpass", "yoga", "crossfit"),
        "shopping": ("amazon", "amzn", "walmart", "target", "ebay", "etsy", "ikea", "aliexpress", "temu"),
        "clothing": ("h&m", "zara", "uniqlo", "nike", "adidas", "primark", "old navy", "shein"),
        "electronics": ("best buy", "apple store", "currys", "newegg", "micro center"),
        "entertainment": ("cinema", "ticketmaster", "eventbrite", "steam", "playstation", "xbox", "nintendo"),
        "travel": (
            "airbnb", "booking", "expedia", "hotel", "airlines", "airways", "ryanair", "easyjet", "marriott",
            "hilton", "rent-a-car", "car rental",
        ),
        "fees": ("overdraft", "atm fee", "service charge", "monthly fee", "foreign transaction fee", "late fee"),
        "salary": ("payroll", "salary", "direct dep", "wages", "gusto", "adp"),
        "refunds": ("refund", "reversal", "chargeback"),
        "interest": ("interest paid", "interest earned", "dividend"),
        "transfers": ("transfer", "xfer", "payment thank you", "credit card payment"),
    }
)  # fmt: skip


@cache
def _kinds() -> dict[str, CategoryKind]:
    return {spec.key: spec.kind for spec in DEFAULT_CATEGORIES}


@cache
def _keyword_index() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over every keyword (longest first) and the keyword → category key lookup."""
    owner = {keyword: key for key, keywords in KEYWORD_MAP.items() for keyword in keywords}
    words = sorted(owner, key=lambda w: (-len(w), w))
    # Letters or digits on either side mean the keyword sits inside a longer word ("aws" in "laws"): no match.
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![a-z0-9])")
    return pattern, owner


def keyword_category(txn: Txn) -> tuple[str, Decimal] | None:
    """The default category key a keyword in TXN's merchant or description points to, with KEYWORD_CONFIDENCE.

    Expense categories only match money out, income categories only money in, transfer keywords either way; so a
    refund from Amazon does not land in Shopping and a payment to a payroll company is not Salary.
    """
    pattern, owner = _keyword_index()
    text = f"{normalize_merchant(txn.merchant)} | {normalize_merchant(txn.description)}"
    kinds = _kinds()
    best: str | None = None
    # Every match, overlapping ones included: the alternation finds the longest keyword at each position.
    for start in range(len(text)):
        found = pattern.match(text, start)
        if found is None:
            continue
        keyword = found.group()
        kind = kinds[owner[keyword]]
        if (kind == "expense" and txn.amount >= 0) or (kind == "income" and txn.amount <= 0):
            continue
        if best is None or len(keyword) > len(best):
            best = keyword
    return None if best is None else (owner[best], KEYWORD_CONFIDENCE)
