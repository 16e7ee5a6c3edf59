"""The deterministic data behind the fake provider server (see tests/fakes/providers.py for the whole picture).

A `Dataset` is built from a seed and is the single source of truth for both sides of a test: the fake server
serves it over HTTP, and the test computes what the client should have found with the same object
(`total()`, `openai_cost_total()`, …). Nothing here is random at run time: the same (seed, days, end, scale)
always gives the same rows.

Raw rows are plain dicts, one per generated fact, with the wire field names plus:

* ``"time"`` — an aware UTC datetime: the exact moment the row counts at. Usage rows sit at a pseudo-random
  second inside their day (so 1h and 1m buckets work); cost rows and OpenRouter rows sit at the day start.
  A row belongs to a bucket (and to a `total()` range) when ``start <= time < end``.
* money as exact ``Decimal``: OpenAI cost ``"amount"`` in dollars (sent as a JSON float),
  Anthropic cost ``"amount_cents"`` in CENTS (sent as a decimal string), OpenRouter ``"usage"`` in dollars.
* Anthropic's nested wire objects flattened: ``ephemeral_5m_input_tokens``, ``ephemeral_1h_input_tokens``
  (wire: ``cache_creation.*``) and ``web_search_requests`` (wire: ``server_tool_use.*``).

Methods that return rows return fresh copies; mutate them freely.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property
from typing import Any

Row = dict[str, Any]

DAY = dt.timedelta(days=1)
DEFAULT_SEED = 1
DEFAULT_DAYS = 100
OPENROUTER_ACTIVITY_DAYS = 30
EMPTY_DAY_PERIOD = 9  # every 9th day has no usage and no cost anywhere (seed 1: 5, 14, 23 … 95 days before end)

_TEN_PLACES = Decimal("1e-10")
_MILLION = Decimal(1_000_000)
_ALNUM = string.ascii_letters + string.digits

# ---------------------------------------------------------------------------------------------- OpenAI
OPENAI_USAGE_ENDPOINTS = (
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "vector_stores",
    "code_interpreter_sessions",
)
# Served with the right envelope but never any data (the reference gives no result fields for them).
OPENAI_EMPTY_USAGE_ENDPOINTS = ("file_search_calls", "web_search_calls")

# model → (line-item label, $/1M uncached input, $/1M cached input, $/1M output, share of (day, key) pairs used)
OPENAI_CHAT_MODELS: dict[str, tuple[str, Decimal, Decimal, Decimal, float]] = {
    "gpt-4o-2024-08-06": ("gpt-4o-2024-08-06", Decimal("2.50"), Decimal("1.25"), Decimal("10.00"), 0.8),
    "gpt-4o-mini-2024-07-18": ("gpt-4o-mini-2024-07-18", Decimal("0.15"), Decimal("0.075"), Decimal("0.60"), 0.8),
    "o3-mini-2025-01-31": ("o3-mini-2025-01-31", Decimal("1.10"), Decimal("0.55"), Decimal("4.40"), 0.5),
    "ft:gpt-4o-2024-08-06:acme::AbC12345": (
        "ft-gpt-4o-2024-08-06",
        Decimal("3.75"),
        Decimal("1.875"),
        Decimal("15.00"),
        0.25,
    ),
}
OPENAI_EMBEDDING_MODELS = {"text-embedding-3-small": Decimal("0.02"), "text-embedding-3-large": Decimal("0.13")}
OPENAI_MODERATION_MODELS = ("omni-moderation-latest",)  # free: no cost rows
OPENAI_IMAGE_MODELS = {  # $ per image by size
    "dall-e-3": {"1024x1024": Decimal("0.04"), "1792x1024": Decimal("0.08")},
    "gpt-image-1": {"1024x1024": Decimal("0.042"), "1536x1024": Decimal("0.063")},
}
OPENAI_IMAGE_SOURCES = ("image.generation", "image.edit")
OPENAI_SPEECH_MODELS = {"tts-1": Decimal("15.00"), "gpt-4o-mini-tts": Decimal("12.00")}  # $ per 1M characters
OPENAI_TRANSCRIPTION_MODELS = {"whisper-1": Decimal("0.0001"), "gpt-4o-transcribe": Decimal("0.0001")}  # $ per s
OPENAI_VECTOR_STORE_PRICE = Decimal("0.10")  # $ per GB-day
OPENAI_CODE_INTERPRETER_PRICE = Decimal("0.03")  # $ per session
OPENAI_VECTOR_STORE_LINE_ITEM = "assistants api | file search"
OPENAI_CODE_INTERPRETER_LINE_ITEM = "assistants api | code interpreter"

# endpoint → (group-by dimensions in wire order, metric fields)
OPENAI_USAGE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "completions": (
        ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"),
        (
            "input_tokens",
            "input_cached_tokens",
            "input_cache_write_tokens",
            "input_uncached_tokens",
            "output_tokens",
            "input_audio_tokens",
            "output_audio_tokens",
            "num_model_requests",
        ),
    ),
    "embeddings": (("project_id", "user_id", "api_key_id", "model"), ("input_tokens", "num_model_requests")),
    "moderations": (("project_id", "user_id", "api_key_id", "model"), ("input_tokens", "num_model_requests")),
    "images": (
        ("project_id", "user_id", "api_key_id", "model", "size", "source"),
        ("images", "num_model_requests"),
    ),
    "audio_speeches": (("project_id", "user_id", "api_key_id", "model"), ("characters", "num_model_requests")),
    "audio_transcriptions": (("project_id", "user_id", "api_key_id", "model"), ("seconds", "num_model_requests")),
    "vector_stores": (("project_id",), ("usage_bytes",)),
    "code_interpreter_sessions": (("project_id",), ("num_sessions",)),
    "file_search_calls": (("project_id", "api_key_id"), ()),
    "web_search_calls": (("project_id", "api_key_id"), ()),
}
OPENAI_COST_DIMENSIONS = ("project_id", "line_item", "api_key_id")

# ------------------------------------------------------------------------------------------- Anthropic
# model → (display name, cents per 1M tokens: uncached input, output, cache read, 5m write, 1h write)
ANTHROPIC_MODELS: dict[str, tuple[str, tuple[Decimal, Decimal, Decimal, Decimal, Decimal]]] = {
    "claude-sonnet-4-20250514": (
        "Claude Sonnet 4",
        (Decimal(300), Decimal(1500), Decimal(30), Decimal(375), Decimal(600)),
    ),
    "claude-3-5-haiku-20241022": (
        "Claude Haiku 3.5",
        (Decimal(80), Decimal(400), Decimal(8), Decimal(100), Decimal(160)),
    ),
    "claude-opus-4-1-20250805": (
        "Claude Opus 4.1",
        (Decimal(1500), Decimal(7500), Decimal(150), Decimal(1875), Decimal(3000)),
    ),
}
ANTHROPIC_LONG_CONTEXT_MODEL = "claude-sonnet-4-20250514"  # the only one with a "200k-1M" context window
ANTHROPIC_WEB_SEARCH_CENTS = Decimal(1)  # per request ($10 per 1,000)
ANTHROPIC_USAGE_DIMENSIONS = ("api_key_id", "workspace_id", "model", "service_tier", "context_window")
ANTHROPIC_USAGE_METRICS = (
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "ephemeral_5m_input_tokens",
    "ephemeral_1h_input_tokens",
    "output_tokens",
    "web_search_requests",
)
ANTHROPIC_COST_DIMENSIONS = ("description", "workspace_id")
# Fields of a cost result that are only filled when grouping by description (they follow from it).
ANTHROPIC_COST_DETAILS = ("cost_type", "model", "token_type", "service_tier", "context_window")
_ANTHROPIC_TOKEN_TYPES = (
    ("uncached_input_tokens", "uncached_input_tokens", "Input Tokens"),
    ("output_tokens", "output_tokens", "Output Tokens"),
    ("cache_read_input_tokens", "cache_read_input_tokens", "Input Tokens, Cache Read"),
    ("ephemeral_5m_input_tokens", "cache_creation.ephemeral_5m_input_tokens", "Input Tokens, Cache Write (5m)"),
    ("ephemeral_1h_input_tokens", "cache_creation.ephemeral_1h_input_tokens", "Input Tokens, Cache Write (1h)"),
)

# ------------------------------------------------------------------------------------------ OpenRouter
# (model, permaslug, provider, $/1M prompt, $/1M completion, reasoning model?)
OPENROUTER_MODELS: tuple[tuple[str, str, str, Decimal, Decimal, bool], ...] = (
    ("openai/gpt-4.1", "openai/gpt-4.1-2025-04-14", "OpenAI", Decimal("2.00"), Decimal("8.00"), False),
    ("anthropic/claude-sonnet-4", "anthropic/claude-4-sonnet-20250522", "Anthropic", Decimal(3), Decimal(15), True),
    (
        "anthropic/claude-sonnet-4",
        "anthropic/claude-4-sonnet-20250522",
        "Google Vertex",
        Decimal(3),
        Decimal(15),
        True,
    ),
    ("google/gemini-2.5-flash", "google/gemini-2.5-flash", "Google AI Studio", Decimal("0.30"), Decimal("2.50"), True),
    (
        "deepseek/deepseek-chat-v3-0324",
        "deepseek/deepseek-chat-v3-0324",
        "DeepInfra",
        Decimal("0.28"),
        Decimal("0.88"),
        False,
    ),
)
OPENROUTER_KEY_LIMIT = Decimal(1000)

MONEY_FIELDS = frozenset({"amount", "amount_cents", "usage", "byok_usage_inference"})


def _ident(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


def _ten_places(value: Decimal) -> Decimal:
    return value.quantize(_TEN_PLACES, rounding=ROUND_HALF_EVEN)


def utc_datetime(value: dt.datetime | dt.date) -> dt.datetime:
    """An aware UTC datetime; a date means its midnight UTC. Naive datetimes are refused."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def decimal_text(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros ("123.45", "0.0003", "12")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class _Table:
    """Rows sorted by time with a parallel list of unix seconds, for bisecting a [start, end) slice."""

    rows: tuple[Row, ...]
    times: tuple[int, ...]

    @classmethod
    def build(cls, rows: Iterable[Row]) -> _Table:
        ordered = sorted(rows, key=lambda row: row["time"])
        return cls(tuple(ordered), tuple(int(row["time"].timestamp()) for row in ordered))

    def between(self, start: int, end: int) -> Sequence[Row]:
        return self.rows[bisect.bisect_left(self.times, start) : bisect.bisect_left(self.times, end)]


class Dataset:
    """Synthetic OpenAI, Anthropic and OpenRouter data for DAYS UTC days ending at END (exclusive).

    END defaults to today's UTC midnight, so the data covers the DAYS completed days before today. The fake
    server treats END as "now": omitted end times default to it, and OpenRouter's "last 30 completed UTC days"
    are the 30 days before it. SCALE multiplies the number of projects, workspaces and API keys (rows grow
    linearly); data is generated lazily per provider, so a big dataset costs only what is served.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        *,
        days: int = DEFAULT_DAYS,
        end: dt.date | dt.datetime | None = None,
        scale: int = 1,
    ) -> None:
        if days < 1:
            raise ValueError("days must be at least 1")
        if scale < 1:
            raise ValueError("scale must be at least 1")
        self.seed = seed
        self.days = days
        self.scale = scale
        if end is None:
            end_day = dt.datetime.now(dt.UTC).date()
        elif isinstance(end, dt.datetime):
            end_day = utc_datetime(end).date()
        else:
            end_day = end
        self.end: dt.datetime = utc_datetime(end_day)
        self.start: dt.datetime = self.end - days * DAY
        self.dates: tuple[dt.date, ...] = tuple(self.start.date() + i * DAY for i in range(days))
        self.empty_days: frozenset[dt.date] = frozenset(
            d for d in self.dates if (end_day - d).days % EMPTY_DAY_PERIOD == (seed + 4) % EMPTY_DAY_PERIOD
        )

        rng = random.Random(f"spendwatch-fake-ids:{seed}")
        self.openai_organization_id = f"org-{_ident(rng, 24)}"
        self.openai_projects: tuple[str, ...] = ()
        self.openai_api_keys: dict[str, str] = {}  # api key id → project id
        self.openai_users: tuple[str, ...] = ()
        self.anthropic_workspaces: tuple[str | None, ...] = ()  # None is the default workspace
        self.anthropic_api_keys: dict[str, str | None] = {}  # api key id → workspace id
        projects: list[str] = []
        users: list[str] = []
        workspaces: list[str | None] = []
        for block in range(scale):
            block_projects = [f"proj_{_ident(rng, 24)}" for _ in range(3)]
            projects += block_projects
            for project, key_count in zip(block_projects, (2, 1, 1), strict=True):
                for _ in range(key_count):
                    self.openai_api_keys[f"key_{_ident(rng, 16)}"] = project
            users += [f"user-{_ident(rng, 24)}" for _ in range(5)]
            first: str | None = None if block == 0 else f"wrkspc_01{_ident(rng, 22)}"
            block_workspaces = [first, f"wrkspc_01{_ident(rng, 22)}", f"wrkspc_01{_ident(rng, 22)}"]
            workspaces += block_workspaces
            for workspace, key_count in zip(block_workspaces, (1, 2, 1), strict=True):
                for _ in range(key_count):
                    self.anthropic_api_keys[f"apikey_01{_ident(rng, 22)}"] = workspace
        self.openai_projects = tuple(projects)
        self.openai_users = tuple(users)
        self.anthropic_workspaces = tuple(workspaces)
        self.openrouter_endpoint_ids = {
            (model, provider): f"{_ident(rng, 8)}-{_ident(rng, 4)}-{_ident(rng, 4)}-{_ident(rng, 12)}".lower()
            for model, _, provider, *_ in OPENROUTER_MODELS
        }

    def __repr__(self) -> str:
        return f"Dataset(seed={self.seed}, days={self.days}, end={self.end.date()}, scale={self.scale})"

    # ------------------------------------------------------------------------------------ helpers
    def usage_days(self) -> list[dt.date]:
        """The days that have data (every day of the range except `empty_days`)."""
        return [d for d in self.dates if d not in self.empty_days]

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(map(str, ("spendwatch-fake", self.seed, *parts))))

    def _moment(self, rng: random.Random, day: dt.date) -> dt.datetime:
        return utc_datetime(day) + dt.timedelta(seconds=rng.randrange(86_400))

    def openrouter_dates(self) -> list[dt.date]:
        """The dates /activity answers for: the last 30 completed UTC days before `end`."""
        first = self.end.date() - OPENROUTER_ACTIVITY_DAYS * DAY
        return [first + i * DAY for i in range(OPENROUTER_ACTIVITY_DAYS)]

    # ------------------------------------------------------------------------------- OpenAI data
    @cached_property
    def _openai_usage_tables(self) -> dict[str, _Table]:
        keys = list(self.openai_api_keys.items())
        tables: dict[str, list[Row]] = {name: [] for name in (*OPENAI_USAGE_ENDPOINTS, *OPENAI_EMPTY_USAGE_ENDPOINTS)}
        for day in self.usage_days():
            rng = self._rng("openai-usage", day)
            for key, project in keys:
                for model, (_, _, _, _, share) in OPENAI_CHAT_MODELS.items():
                    if rng.random() >= share:
                        continue
                    requests = rng.randint(1, 400)
                    input_tokens = requests * rng.randint(200, 6000)
                    cached = rng.randint(0, input_tokens // 2)
                    cache_write = rng.randint(0, (input_tokens - cached) // 4) if rng.random() < 0.5 else 0
                    tier = rng.choice(("flex", "default")) if model.startswith("o3") else "default"
                    tables["completions"].append(
                        {
                            "time": self._moment(rng, day),
                            "project_id": project,
                            "user_id": rng.choice(self.openai_users),
                            "api_key_id": key,
                            "model": model,
                            "batch": rng.random() < 0.15,
                            "service_tier": tier,
                            "input_tokens": input_tokens,
                            "input_cached_tokens": cached,
                            "input_cache_write_tokens": cache_write,
                            "input_uncached_tokens": input_tokens - cached - cache_write,
                            "output_tokens": requests * rng.randint(20, 1500),
                            "input_audio_tokens": 0,
                            "output_audio_tokens": 0,
                            "num_model_requests": requests,
                        }
                    )
                simple: list[tuple[str, Sequence[str], float, str, tuple[int, int], tuple[int, int]]] = [
                    ("embeddings", tuple(OPENAI_EMBEDDING_MODELS), 0.5, "input_tokens", (1, 200), (100, 9000)),
                    ("moderations", OPENAI_MODERATION_MODELS, 0.4, "input_tokens", (1, 100), (20, 800)),
                    ("audio_speeches", tuple(OPENAI_SPEECH_MODELS), 0.25, "characters", (1, 30), (100, 4000)),
                    ("audio_transcriptions", tuple(OPENAI_TRANSCRIPTION_MODELS), 0.25, "seconds", (1, 20), (5, 600)),
                ]
                for endpoint, models, share, metric, request_range, per_request in simple:
                    for model in models:
                        if rng.random() >= share:
                            continue
                        requests = rng.randint(*request_range)
                        tables[endpoint].append(
                            {
                                "time": self._moment(rng, day),
                                "project_id": project,
                                "user_id": rng.choice(self.openai_users),
                                "api_key_id": key,
                                "model": model,
                                metric: requests * rng.randint(*per_request),
                                "num_model_requests": requests,
                            }
                        )
                for model, sizes in OPENAI_IMAGE_MODELS.items():
                    if rng.random() >= 0.3:
                        continue
                    requests = rng.randint(1, 12)
                    tables["images"].append(
                        {
                            "time": self._moment(rng, day),
                            "project_id": project,
                            "user_id": rng.choice(self.openai_users),
                            "api_key_id": key,
                            "model": model,
                            "size": rng.choice(tuple(sizes)),
                            "source": rng.choice(OPENAI_IMAGE_SOURCES),
                            "images": requests * rng.randint(1, 4),
                            "num_model_requests": requests,
                        }
                    )
            for project in self.openai_projects:
                if rng.random() < 0.5:
                    tables["vector_stores"].append(
                        {"time": self._moment(rng, day), "project_id": project, "usage_bytes": rng.randint(1, 10**10)}
                    )
                if rng.random() < 0.3:
                    tables["code_interpreter_sessions"].append(
                        {"time": self._moment(rng, day), "project_id": project, "num_sessions": rng.randint(1, 40)}
                    )
        return {name: _Table.build(rows) for name, rows in tables.items()}

    @cached_property
    def _openai_cost_table(self) -> _Table:
        costs: dict[tuple[dt.datetime, str, str, str | None], Decimal] = {}

        def add(row: Row, line_item: str, amount: Decimal, api_key: str | None) -> None:
            if amount:
                key = (utc_datetime(row["time"].date()), row["project_id"], line_item, api_key)
                costs[key] = costs.get(key, Decimal(0)) + amount

        usage = self._openai_usage_tables
        for row in usage["completions"].rows:
            label, price_in, price_cached, price_out, _ = OPENAI_CHAT_MODELS[row["model"]]
            uncached = row["input_tokens"] - row["input_cached_tokens"]  # cache writes are billed as input
            add(row, f"{label}, input", uncached * price_in / _MILLION, row["api_key_id"])
            add(row, f"{label}, cached input", row["input_cached_tokens"] * price_cached / _MILLION, row["api_key_id"])
            add(row, f"{label}, output", row["output_tokens"] * price_out / _MILLION, row["api_key_id"])
        for row in usage["embeddings"].rows:
            price = OPENAI_EMBEDDING_MODELS[row["model"]]
            add(row, row["model"], row["input_tokens"] * price / _MILLION, row["api_key_id"])
        for row in usage["images"].rows:
            price = OPENAI_IMAGE_MODELS[row["model"]][row["size"]]
            add(row, f"{row['model']}, {row['size']}", row["images"] * price, row["api_key_id"])
        for row in usage["audio_speeches"].rows:
            price = OPENAI_SPEECH_MODELS[row["model"]]
            add(row, row["model"], row["characters"] * price / _MILLION, row["api_key_id"])
        for row in usage["audio_transcriptions"].rows:
            price = OPENAI_TRANSCRIPTION_MODELS[row["model"]]
            add(row, row["model"], row["seconds"] * price, row["api_key_id"])
        for row in usage["vector_stores"].rows:
            amount = Decimal(row["usage_bytes"]) / 10**9 * OPENAI_VECTOR_STORE_PRICE
            add(row, OPENAI_VECTOR_STORE_LINE_ITEM, amount, None)
        for row in usage["code_interpreter_sessions"].rows:
            add(row, OPENAI_CODE_INTERPRETER_LINE_ITEM, row["num_sessions"] * OPENAI_CODE_INTERPRETER_PRICE, None)
        return _Table.build(
            {
                "time": time,
                "project_id": project,
                "line_item": line_item,
                "api_key_id": api_key,
                "amount": _ten_places(amount),
            }
            for (time, project, line_item, api_key), amount in costs.items()
        )

    def openai_usage(self, endpoint: str = "completions") -> list[Row]:
        """Raw usage rows of one endpoint: one per (moment, key, model); all dimensions and metrics filled."""
        return [dict(row) for row in self.openai_table(endpoint).rows]

    def openai_costs(self) -> list[Row]:
        """Raw cost rows: one per (day, project_id, line_item, api_key_id); ``amount`` is Decimal dollars
        with up to 10 places (the wire carries it as a float; ≤ 15 significant digits, so it round-trips).
        ``api_key_id`` is None for project-level items (file search storage, code interpreter)."""
        return [dict(row) for row in self._openai_cost_table.rows]

    def openai_table(self, endpoint: str) -> _Table:
        if endpoint == "costs":
            return self._openai_cost_table
        return self._openai_usage_tables[endpoint]

    # ---------------------------------------------------------------------------- Anthropic data
    @cached_property
    def _anthropic_usage_table(self) -> _Table:
        rows: list[Row] = []
        keys = list(self.anthropic_api_keys.items())
        for day in self.usage_days():
            rng = self._rng("anthropic-usage", day)
            for key, workspace in keys:
                for model in ANTHROPIC_MODELS:
                    if rng.random() >= 0.55:
                        continue
                    scale = rng.randint(1, 300)
                    long_context = model == ANTHROPIC_LONG_CONTEXT_MODEL and rng.random() < 0.1
                    rows.append(
                        {
                            "time": self._moment(rng, day),
                            "api_key_id": key,
                            "workspace_id": workspace,
                            "model": model,
                            "service_tier": "batch" if rng.random() < 0.15 else "standard",
                            "context_window": "200k-1M" if long_context else "0-200k",
                            "uncached_input_tokens": scale * rng.randint(50, 5000),
                            "cache_read_input_tokens": scale * rng.randint(0, 8000),
                            "ephemeral_5m_input_tokens": scale * rng.randint(0, 1000),
                            "ephemeral_1h_input_tokens": scale * rng.randint(0, 500) if rng.random() < 0.3 else 0,
                            "output_tokens": scale * rng.randint(20, 1500),
                            "web_search_requests": rng.randint(1, 30) if rng.random() < 0.2 else 0,
                        }
                    )
        return _Table.build(rows)

    @staticmethod
    def anthropic_description(model: str, service_tier: str, context_window: str, token_label: str) -> str:
        name = ANTHROPIC_MODELS[model][0]
        batch = " Batch" if service_tier == "batch" else ""
        long_context = " Long Context" if context_window == "200k-1M" else ""
        return f"{name}{batch}{long_context} Usage - {token_label}"

    @cached_property
    def _anthropic_cost_table(self) -> _Table:
        costs: dict[tuple[Any, ...], Decimal] = {}
        for row in self._anthropic_usage_table.rows:
            day = utc_datetime(row["time"].date())
            prices = ANTHROPIC_MODELS[row["model"]][1]
            factor = Decimal(2) if row["context_window"] == "200k-1M" else Decimal(1)
            if row["service_tier"] == "batch":
                factor /= 2
            for (field, token_type, label), price in zip(_ANTHROPIC_TOKEN_TYPES, prices, strict=True):
                if row[field]:
                    description = self.anthropic_description(
                        row["model"], row["service_tier"], row["context_window"], label
                    )
                    key: tuple[Any, ...] = (
                        day,
                        row["workspace_id"],
                        description,
                        "tokens",
                        row["model"],
                        token_type,
                        row["service_tier"],
                        row["context_window"],
                    )
                    costs[key] = costs.get(key, Decimal(0)) + row[field] * price * factor / _MILLION
            if row["web_search_requests"]:
                key = (day, row["workspace_id"], "Web Search Usage", "web_search", None, None, None, None)
                costs[key] = costs.get(key, Decimal(0)) + row["web_search_requests"] * ANTHROPIC_WEB_SEARCH_CENTS
        return _Table.build(
            {
                "time": day,
                "workspace_id": workspace,
                "description": description,
                "cost_type": cost_type,
                "model": model,
                "token_type": token_type,
                "service_tier": tier,
                "context_window": window,
                "amount_cents": _ten_places(amount),
            }
            for (day, workspace, description, cost_type, model, token_type, tier, window), amount in costs.items()
        )

    def anthropic_usage(self) -> list[Row]:
        """Raw message-usage rows: one per (moment, api key, model), nested wire fields flattened.
        Total input = uncached + cache_read + ephemeral_5m + ephemeral_1h. workspace_id None = default workspace."""
        return [dict(row) for row in self._anthropic_usage_table.rows]

    def anthropic_costs(self) -> list[Row]:
        """Raw cost rows: one per (day, workspace, description); ``amount_cents`` is Decimal CENTS (on the wire:
        a decimal string in cents). Token rows have cost_type "tokens"; web search rows cost_type "web_search"
        with model/token_type/service_tier/context_window None."""
        return [dict(row) for row in self._anthropic_cost_table.rows]

    def anthropic_table(self, endpoint: str) -> _Table:
        return self._anthropic_cost_table if endpoint == "cost_report" else self._anthropic_usage_table

    # --------------------------------------------------------------------------- OpenRouter data
    @cached_property
    def _openrouter_table(self) -> _Table:
        rows: list[Row] = []
        for day in self.usage_days():
            rng = self._rng("openrouter-activity", day)
            for _ in range(self.scale):
                for model, permaslug, provider, price_in, price_out, reasoning in OPENROUTER_MODELS:
                    if rng.random() >= 0.6:
                        continue
                    requests = rng.randint(1, 200)
                    prompt = requests * rng.randint(50, 4000)
                    completion = requests * rng.randint(10, 1200)
                    reasoning_tokens = rng.randint(0, completion // 2) if reasoning else 0
                    usage = (prompt * price_in + completion * price_out) / _MILLION
                    rows.append(
                        {
                            "time": utc_datetime(day),
                            "date": day.isoformat(),
                            "model": model,
                            "model_permaslug": permaslug,
                            "endpoint_id": self.openrouter_endpoint_ids[(model, provider)],
                            "provider_name": provider,
                            "usage": _ten_places(usage),
                            "byok_usage_inference": Decimal(0),
                            "requests": requests,
                            "prompt_tokens": prompt,
                            "completion_tokens": completion,
                            "reasoning_tokens": reasoning_tokens,
                        }
                    )
        return _Table.build(rows)

    def openrouter_activity(self, date: dt.date | str | None = None) -> list[Row]:
        """Raw activity rows (all DAYS, not only the 30 the API serves), or those of one DATE.
        ``usage`` is Decimal dollars (a float on the wire); ``date`` is "YYYY-MM-DD"."""
        wanted = date.isoformat() if isinstance(date, dt.date) else date
        return [dict(row) for row in self._openrouter_table.rows if wanted is None or row["date"] == wanted]

    def openrouter_table(self) -> _Table:
        return self._openrouter_table

    def openrouter_total_usage(self) -> Decimal:
        """All usage of the key: the sum over every day of the dataset."""
        return sum((row["usage"] for row in self._openrouter_table.rows), Decimal(0))

    def openrouter_total_credits(self) -> Decimal:
        """Credits bought: the usage rounded up to the next $100, plus $100.50."""
        usage = self.openrouter_total_usage()
        return (usage // 100 + 1) * 100 + Decimal("100.50")

    def openrouter_credits(self) -> dict[str, float]:
        """The ``data`` object of GET /credits, as sent."""
        return {
            "total_credits": float(self.openrouter_total_credits()),
            "total_usage": float(self.openrouter_total_usage()),
        }

    def openrouter_key(self) -> dict[str, Any]:
        """The ``data`` object of GET /key, as sent. "Now" is `end` (a UTC midnight), so usage_daily is 0;
        usage_weekly counts from Monday of END's week, usage_monthly from the 1st of END's month."""
        end_day = self.end.date()
        week_start = utc_datetime(end_day - dt.timedelta(days=end_day.weekday()))
        month_start = utc_datetime(end_day.replace(day=1))
        usage = self.openrouter_total_usage()
        return {
            "label": "sk-or-v1-fak...0123",
            "limit": float(OPENROUTER_KEY_LIMIT),
            "limit_remaining": float(OPENROUTER_KEY_LIMIT - usage),
            "limit_reset": None,
            "include_byok_in_limit": False,
            "usage": float(usage),
            "usage_daily": 0.0,
            "usage_weekly": float(self.total("openrouter", "usage", week_start, self.end)),
            "usage_monthly": float(self.total("openrouter", "usage", month_start, self.end)),
            "byok_usage": 0.0,
            "byok_usage_daily": 0.0,
            "byok_usage_weekly": 0.0,
            "byok_usage_monthly": 0.0,
            "is_free_tier": False,
        }

    # ------------------------------------------------------------------------------------ totals
    def table(self, provider: str, endpoint: str | None = None) -> _Table:
        """The time-sorted raw rows behind one provider endpoint (shared: do not mutate)."""
        if provider == "openai":
            return self.openai_table(endpoint or "completions")
        if provider == "anthropic":
            if endpoint not in (None, "messages", "cost_report"):
                raise ValueError(f"unknown Anthropic endpoint {endpoint!r} (messages or cost_report)")
            return self.anthropic_table(endpoint or "messages")
        if provider == "openrouter":
            return self.openrouter_table()
        raise ValueError(f"unknown provider {provider!r}")

    def rows(
        self,
        provider: str,
        start: dt.datetime | dt.date | None = None,
        end: dt.datetime | dt.date | None = None,
        endpoint: str | None = None,
        **filters: Any,
    ) -> list[Row]:
        """Copies of the raw rows with ``start <= time < end`` whose fields equal every FILTER."""
        lo = int(utc_datetime(start).timestamp()) if start is not None else int(self.start.timestamp())
        hi = int(utc_datetime(end).timestamp()) if end is not None else int(self.end.timestamp())
        selected = self.table(provider, endpoint).between(lo, hi)
        return [dict(row) for row in selected if all(row[name] == value for name, value in filters.items())]

    def total(
        self,
        provider: str,
        field: str,
        start: dt.datetime | dt.date | None = None,
        end: dt.datetime | dt.date | None = None,
        endpoint: str | None = None,
        **filters: Any,
    ) -> int | Decimal:
        """Sum of FIELD over the rows of `rows()`: an int for counts, an exact Decimal for money fields
        (OpenAI ``amount`` in dollars, Anthropic ``amount_cents`` in cents, OpenRouter ``usage`` in dollars).

        provider "openai" (endpoint: a usage endpoint, default "completions", or "costs"), "anthropic"
        (endpoint "messages" (default) or "cost_report"), "openrouter" (activity). START/END default to the
        dataset's range; filters are exact field matches, e.g. ``model="gpt-4o-2024-08-06"``.
        """
        values = (row[field] for row in self.rows(provider, start, end, endpoint=endpoint, **filters))
        if field in MONEY_FIELDS:
            return sum(values, Decimal(0))
        return sum(values, 0)

    def openai_cost_total(self, start: dt.datetime | dt.date, end: dt.datetime | dt.date, **filters: Any) -> Decimal:
        """Dollars billed by OpenAI in [start, end) (cost rows sit at the day start)."""
        return Decimal(self.total("openai", "amount", start, end, endpoint="costs", **filters))

    def anthropic_cost_total_cents(
        self, start: dt.datetime | dt.date, end: dt.datetime | dt.date, **filters: Any
    ) -> Decimal:
        return Decimal(self.total("anthropic", "amount_cents", start, end, endpoint="cost_report", **filters))

    def anthropic_cost_total_usd(
        self, start: dt.datetime | dt.date, end: dt.datetime | dt.date, **filters: Any
    ) -> Decimal:
        """Dollars billed by Anthropic in [start, end): the cost report's cents / 100."""
        return self.anthropic_cost_total_cents(start, end, **filters) / 100

    def openrouter_usage_total(self, start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> Decimal:
        return Decimal(self.total("openrouter", "usage", start, end))
