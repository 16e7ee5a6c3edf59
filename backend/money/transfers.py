"""Transfer pairing: money leaving one account and the same amount arriving on another within a few days."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from backend.money.txn import Txn


def find_transfers(txns: Iterable[Txn], window_days: int = 5) -> list[tuple[int, int]]:
    """Pairs (out_id, in_id): out.amount == -in.amount exactly, different accounts, posted ≤ window_days apart.

    Transactions already marked as transfers, pending ones and zero amounts are left out. Greedy: among all
    candidate pairs, the closest in days is taken first (ties: lower out id, then lower in id), and each
    transaction ends up in at most one pair; so the result does not depend on the input order. Sorted by
    (out_id, in_id).
    """
    if window_days < 0:
        raise ValueError("window_days must be >= 0")
    by_amount: dict[Decimal, tuple[list[Txn], list[Txn]]] = defaultdict(lambda: ([], []))
    for txn in txns:
        if txn.is_transfer or txn.pending or txn.amount == 0:
            continue
        # Decimal equality and hashing are numeric: 10.5 and 10.50 land in the same group.
        outs, ins = by_amount[abs(txn.amount)]
        (outs if txn.amount < 0 else ins).append(txn)

    candidates: list[tuple[int, int, int]] = []
    for outs, ins in by_amount.values():
        if not outs or not ins:
            continue
        ins.sort(key=lambda t: t.posted_on.toordinal())
        days = [t.posted_on.toordinal() for t in ins]
        for out in outs:
            day = out.posted_on.toordinal()
            # Only the incoming transactions inside the window: O(log n) to find, not a scan of the group.
            for incoming in ins[bisect_left(days, day - window_days) : bisect_right(days, day + window_days)]:
                if incoming.account_id != out.account_id:
                    candidates.append((abs(incoming.posted_on.toordinal() - day), out.id, incoming.id))

    candidates.sort()
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, out_id, in_id in candidates:
        if out_id in used or in_id in used:
            continue
        used.update((out_id, in_id))
        pairs.append((out_id, in_id))
    return sorted(pairs)
