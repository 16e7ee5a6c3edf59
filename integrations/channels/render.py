"""Alert messages as text: subject, plain text and HTML from the Jinja2 templates in backend/templates/email/."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, TemplateNotFound, Undefined, select_autoescape

from integrations.channels.base import Message

# Event types with their own templates; any other type falls back to "generic".
EVENT_TYPES = (
    "budget.threshold_crossed",
    "budget.forecast_exceeded",
    "budget.resolved",
    "usage.anomaly",
    "account.sync_failing",
    "account.recovered",
    "test",
    "signup.verify",  # account mails (backend/services/signup.py), sent through the same email channel
    "signup.taken",
)
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Undefined | bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value: Any, currency: Any = "USD") -> str:
    """'412.5', 'USD' -> '$412.50'; amounts under a cent keep their digits; non-numbers are shown as they are."""
    number = _decimal(value)
    if number is None:
        return "" if value is None or isinstance(value, Undefined) else str(value)
    code = str(currency) if currency and not isinstance(currency, Undefined) else ""
    shown = number.quantize(Decimal("0.01")) if number == 0 or abs(number) >= Decimal("0.01") else number.normalize()
    text = f"{shown:,f}"
    symbol = CURRENCY_SYMBOLS.get(code.upper())
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return f"{text} {code}".strip()


def percent(value: Any) -> str:
    """'82.456' -> '82.5%'."""
    number = _decimal(value)
    if number is None:
        return "" if value is None or isinstance(value, Undefined) else str(value)
    return f"{number.quantize(Decimal('0.1')).normalize():f}%"


def number(value: Any) -> str:
    """A plain figure such as a z-score, with at most two decimals."""
    parsed = _decimal(value)
    if parsed is None:
        return "" if value is None or isinstance(value, Undefined) else str(value)
    return f"{parsed.quantize(Decimal('0.01')).normalize():f}"


@functools.cache
def environment() -> Environment:
    """The template environment (built on first use): HTML autoescaped, missing payload keys render empty."""
    env = Environment(
        loader=PackageLoader("backend", "templates/email"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=ChainableUndefined,  # a missing key (or a key of a missing key) renders as nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(money=money, percent=percent, number=number)
    return env


def _template_base(event_type: str) -> str:
    return event_type if event_type in EVENT_TYPES else "generic"


def render(message: Message) -> Rendered:
    """Subject, text and HTML of MESSAGE from its type's templates."""
    env = environment()
    payload = message.payload if isinstance(message.payload, dict) else {}
    context = {
        "event": {
            "id": message.event_id,
            "type": message.event_type,
            "state": message.event_state,
            "created_at": message.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
        "p": payload,
        "links": payload.get("links") if isinstance(payload.get("links"), dict) else {},
    }
    base = _template_base(message.event_type)
    parts = []
    for suffix in ("subject.txt", "text.txt", "html"):
        try:
            template = env.get_template(f"{base}.{suffix}")
        except TemplateNotFound:
            template = env.get_template(f"generic.{suffix}")
        parts.append(template.render(context))
    # A subject is one header line: no CR/LF (header injection), collapsed spaces.
    subject = re.sub(r"\s+", " ", parts[0]).strip()[:200] or "Spendwatch alert"
    return Rendered(subject=subject, text=parts[1], html=parts[2])
