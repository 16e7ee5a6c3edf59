"""Category suggestions learned from the workspace's own categorized history, by merchant key and direction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from backend.money.txn import Txn, merchant_key

# Even a unanimous history is not certainty: the merchant may sell more than one kind of thing.
MAX_CONFIDENCE = Decimal("0.95")
_CENT = Decimal("0.01")

_Key = tuple[str, Literal["in", "out"]]


def _key(txn: Txn) -> _Key | None:
    merchant = merchant_key(txn)
    if not merchant or txn.amount == 0:
        return None
    # Money in and out of the same payee are different things: a refund from a shop, a salary from a client.
    return merchant, "in" if txn.amount > 0 else "out"


class LearnedIndex:
    """Merchant key and direction → votes per category id, built once from the history: suggest() is O(1)."""

    def __init__(self, history: Iterable[Txn] = ()) -> None:
        self._votes: dict[_Key, Counter[int]] = {}
        # Per key and category, the latest example (posted_on, id): breaks a tie in favour of the recent choice.
        self._latest: dict[_Key, dict[int, tuple[date, int]]] = {}
        for txn in history:
            self.add(txn)

    def add(self, txn: Txn) -> None:
        """Count TXN's category as a vote for its merchant key and direction (no category or no key: ignored)."""
        key = _key(txn)
        if key is None or txn.category_id is None:
            return
        self._votes.setdefault(key, Counter())[txn.category_id] += 1
        latest = self._latest.setdefault(key, {})
        seen = (txn.posted_on, txn.id)
        if txn.category_id not in latest or seen > latest[txn.category_id]:
            latest[txn.category_id] = seen

    def suggest(self, txn: Txn) -> tuple[int, Decimal] | None:
        """The majority category of TXN's merchant key and direction with confidence votes/total (≤ 0.95)."""
        key = _key(txn)
        votes = self._votes.get(key) if key is not None else None
        if not votes or key is None:
            return None
        latest = self._latest[key]
        category_id = max(votes, key=lambda c: (votes[c], latest[c]))
        share = Decimal(votes[category_id]) / Decimal(votes.total())
        return category_id, min(share, MAX_CONFIDENCE).quantize(_CENT, rounding=ROUND_HALF_UP)


def suggest_from_history(history: Iterable[Txn], txn: Txn) -> tuple[int, Decimal] | None:
    """LearnedIndex(history).suggest(txn): for one transaction; build a LearnedIndex once for many."""
    return LearnedIndex(history).suggest(txn)
