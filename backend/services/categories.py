"""A workspace's categories: the default set copied in on first use, and the bank's own labels mapped onto it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Category
from backend.money.categories import DEFAULT_CATEGORIES

# Plaid's personal_finance_category (detailed first, then primary) → a default category key.
PROVIDER_CATEGORY_KEYS: dict[str, str] = {
    "FOOD_AND_DRINK_GROCERIES": "groceries",
    "FOOD_AND_DRINK_COFFEE": "coffee",
    "FOOD_AND_DRINK_RESTAURANT": "restaurants",
    "FOOD_AND_DRINK_FAST_FOOD": "restaurants",
    "FOOD_AND_DRINK": "food",
    "RENT_AND_UTILITIES_RENT": "rent",
    "RENT_AND_UTILITIES_INTERNET_AND_CABLE": "internet_phone",
    "RENT_AND_UTILITIES_TELEPHONE": "internet_phone",
    "RENT_AND_UTILITIES": "utilities",
    "TRANSPORTATION_GAS": "fuel",
    "TRANSPORTATION_PUBLIC_TRANSIT": "public_transport",
    "TRANSPORTATION_TAXIS_AND_RIDE_SHARES": "rideshare",
    "TRANSPORTATION": "transport",
    "TRAVEL": "travel",
    "MEDICAL_PHARMACIES_AND_SUPPLEMENTS": "pharmacy",
    "MEDICAL": "health",
    "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS": "fitness",
    "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES": "clothing",
    "GENERAL_MERCHANDISE_ELECTRONICS": "electronics",
    "GENERAL_MERCHANDISE": "shopping",
    "ENTERTAINMENT_TV_AND_MOVIES": "streaming",
    "ENTERTAINMENT": "entertainment",
    "BANK_FEES": "fees",
    "INCOME_WAGES": "salary",
    "INCOME_INTEREST_EARNED": "interest",
    "INCOME": "income",
    "TRANSFER_IN": "transfers",
    "TRANSFER_OUT": "transfers",
}


def ensure_defaults(session: Session, workspace_id: int) -> dict[str, int]:
    """The workspace's category ids by default key, creating the default set the first time (caller commits)."""
    rows = session.execute(
        select(Category.key, Category.id).where(Category.workspace_id == workspace_id, Category.key.is_not(None))
    ).all()
    ids = {str(key): int(cid) for key, cid in rows}
    missing = [spec for spec in DEFAULT_CATEGORIES if spec.key not in ids]
    # Parents first, so children can point at them.
    for spec in sorted(missing, key=lambda s: s.parent_key is not None):
        category = Category(
            workspace_id=workspace_id,
            key=spec.key,
            name=spec.name,
            icon=spec.icon,
            color=spec.color,
            kind=spec.kind,
            necessity=spec.necessity,
            parent_id=ids.get(spec.parent_key) if spec.parent_key else None,
        )
        session.add(category)
        session.flush()
        ids[spec.key] = category.id
    return ids


def provider_category_key(label: str) -> str | None:
    """The default category key for a bank's label ("FOOD_AND_DRINK_COFFEE"), trying ever shorter prefixes."""
    label = label.strip().upper()
    while label:
        if label in PROVIDER_CATEGORY_KEYS:
            return PROVIDER_CATEGORY_KEYS[label]
        label = label.rpartition("_")[0]
    return None
