"""The transaction every money function works on, and the merchant key that groups transactions by payee."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache


@dataclass(frozen=True)
class Txn:
    """A bank transaction: amount > 0 is money in, amount < 0 is money out."""

    id: int
    account_id: int
    posted_on: date
    amount: Decimal
    description: str
    merchant: str = ""
    category_id: int | None = None
    is_transfer: bool = False
    pending: bool = False


# Card-processor prefixes in front of the real merchant: "POS ", "POS PURCHASE ", "SQ *" (Square), "TST* " (Toast),
# "PAYPAL *", "PP*" (PayPal). Applied repeatedly, so "POS SQ *BLUE BOTTLE" loses both.
_PREFIX = re.compile(r"^(?:pos(?:\s+(?:purchase|debit))?\s+|(?:sq|tst|paypal|pp)\s*\*\s*)")
# "#1234", "# 12", "#A1234": a store or reference number.
_HASH_REF = re.compile(r"#\s*[a-z]*\d[\w-]*")
# A token without letters holding 4+ digits: phone numbers, dates like 01/15/24, card suffixes, references.
_DIGIT_TOKEN = re.compile(r"(?<!\S)[^a-z\s]*\d[^a-z\s]*(?!\S)")
# 6+ digits glued to letters ("ref123456789") are references too; shorter runs ("7-eleven", "24 hour") are names.
_LONG_DIGITS = re.compile(r"\d{6,}")
_DOT_COM = re.compile(r"\.com\b")
_EDGE_PUNCT = " *#.,;:-_/|"


# Rules test every transaction against every rule, each normalizing the same few texts: memoize.
@lru_cache(maxsize=8192)
def normalize_merchant(text: str) -> str:
    """The merchant key of a merchant or description text: lowercase, processor prefixes and reference numbers gone.

    Modest on purpose: city and state suffixes ("SEATTLE WA") are kept, since telling them from merchant words
    needs a gazetteer; a bank's merchant field, when it has one, usually carries no location anyway.
    """
    key = " ".join(text.lower().split())
    while True:
        stripped = _PREFIX.sub("", key, count=1)
        if stripped == key:
            break
        key = stripped
    key = _HASH_REF.sub(" ", key)
    key = _DIGIT_TOKEN.sub(lambda m: " " if sum(c.isdigit() for c in m.group()) >= 4 else m.group(), key)
    key = _LONG_DIGITS.sub(" ", key)
    key = _DOT_COM.sub("", key)
    return " ".join(key.split()).strip(_EDGE_PUNCT)


def merchant_key(txn: Txn) -> str:
    """The key grouping TXN by payee: its normalized merchant, else its normalized description."""
    return normalize_merchant(txn.merchant) or normalize_merchant(txn.description)
