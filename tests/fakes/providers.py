"""A fake OpenAI / Anthropic / OpenRouter server on real HTTP, for tests and benchmarks.

It serves the wire formats of /work/shared/reference/providers.md from a deterministic `Dataset`
(tests/fakes/dataset.py) on 127.0.0.1, a free port, in a background thread (werkzeug's threaded server:
one thread per connection, HTTP/1.1 keep-alive, listen backlog 128 — fine for 64+ concurrent clients).

Use it through the pytest fixture (tests/fakes/fixtures.py): a test takes ``fake_providers``; the server is
started once per session and `reset()` before every test. Outside pytest (bench)::

    with FakeProviders(Dataset(seed=2, scale=10)) as fake:   # or FakeProviders().start() … .stop()
        ...  # point a provider client at fake.openai_url with OPENAI_ADMIN_KEY

or as its own process (no GIL shared with the code under test): ``python -m tests.fakes.providers [--seed N]
[--days N] [--end YYYY-MM-DD] [--scale N] [--latency S] [--page-cap N] [--no-log] [--port P]`` prints
``URL http://127.0.0.1:PORT`` and serves until killed; ``GET /_fake/stats`` → {"requests", "max_in_flight",
"in_flight"}, ``POST /_fake/reset[?latency=S&page_cap=N]`` (control paths are neither logged nor counted).

Data: see tests/fakes/dataset.py. The default ``Dataset()`` (seed 1) covers the 100 UTC days before today
(``end`` = today 00:00 UTC, exclusive, and the fake's "now"); every 9th day — 5, 14, 23, … 95 days before
``end`` — has no usage and no cost anywhere. Expectations come from the dataset: ``total()``, ``rows()``,
``openai_cost_total()``, ``anthropic_cost_total_usd()``, ``openrouter_usage_total()``…

Interface
---------
Keys: ``OPENAI_ADMIN_KEY``, ``ANTHROPIC_ADMIN_KEY``, ``OPENROUTER_KEY``; ``account_key(provider, n)`` gives the
n-th extra valid key of a provider (for many accounts: every valid key sees the same data unless
``fake.key_datasets[key] = Dataset(...)`` gives that key its own).

``FakeProviders(dataset=None, *, host="127.0.0.1", port=0)``

* ``url`` ("http://127.0.0.1:PORT"), ``openai_url`` (url + "/openai/v1"), ``anthropic_url`` (url + "/anthropic"),
  ``openrouter_url`` (url + "/openrouter/api/v1") — the base URLs a client is configured with.
* ``dataset`` — the data served (assignable); ``key_datasets`` — per-key overrides.
* ``latency`` (seconds added to every response), ``page_cap`` (None, or the most buckets a page holds whatever
  ``limit`` asked for: a server may return fewer; clients must follow ``has_more``).
* ``max_in_flight`` / ``in_flight`` — highest / current number of requests being handled at once.
* ``requests`` — `LoggedRequest(provider, method, path, query, headers)` in arrival order: provider is
  "openai" | "anthropic" | "openrouter" | "unknown"; path is relative to the provider base
  ("/organization/costs", "/v1/organizations/cost_report", "/activity"); query maps each name as sent
  ("group_by[]") to its list of values; header names are lower-case. ``requests_for(provider, path_contains)``.
* ``fail(provider, status, *, times=1, retry_after=None, path_contains="", body=None)`` — the next TIMES requests
  to PROVIDER ("*" = any) whose full path + "?" + query string contains PATH_CONTAINS (e.g. "costs", "page=")
  get STATUS with that provider's documented error body (or BODY) and a ``Retry-After: RETRY_AFTER`` header when
  given. Checked before auth and validation. Error types: OpenAI 429 type "requests" code
  "rate_limit_exceeded", 5xx "server_error", other 4xx "invalid_request_error"; Anthropic 400
  invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error, 429
  rate_limit_error, 500 api_error, 529 overloaded_error (other 5xx api_error); OpenRouter {"code": STATUS}.
* ``malformed(provider, *, times=1, path_contains="", body=None)`` — same matching; answers 200
  ``application/json`` with a truncated, non-JSON body (or BODY).
* ``errors`` — exceptions raised inside the fake itself (a test may assert it stays empty).
* ``record_requests`` (default True) — switch the request log off for long benchmark runs.
* ``reset()`` — clears failures, log, counters, errors, key_datasets; latency 0, page_cap None, dataset back to
  the one given at construction (default ``Dataset()``). ``start()`` (returns self), ``stop()``, context manager.

Behaviour
---------
OpenAI (``Authorization: Bearer``; no key / unknown key → 401, a ``sk-proj-…`` key → 403, bodies
``{"error": {"message", "type", "param", "code"}}``). ``GET /organization/usage/<endpoint>`` for completions,
embeddings, moderations, images, audio_speeches, audio_transcriptions, vector_stores, code_interpreter_sessions
(file_search_calls and web_search_calls answer with empty buckets) and ``GET /organization/costs``.
``start_time`` required (unix s, inclusive) else 400; ``end_time`` exclusive (must be > start_time; default: the
dataset's ``end``); ``bucket_width`` 1d (default) | 1h | 1m, costs 1d only; ``limit`` 1d 7/31, 1h 24/168,
1m 60/1440, costs 7/180 (default/max; outside 1..max → 400); ``group_by`` and the filters ``project_ids``,
``user_ids``, ``api_key_ids``, ``models``, ``sizes``, ``sources`` accept ``name[]=x`` and repeated ``name=x``;
``batch=true|false``. An unknown group_by field → 400. Buckets: the first starts at start_time as given
(unaligned), later ones on width boundaries, the last is cut at end_time; every bucket appears, empty ones with
``results: []``. One result per group (ungrouped fields null); completions results carry
``input_cache_write_tokens`` and ``input_uncached_tokens`` (= input - cached - cache write) only when the
group's cache-write tokens are non-zero. Costs results: ``amount.value`` float dollars (exactly the Decimal sum,
≤ 15 significant digits), ``currency`` "usd", ``line_item``/``project_id``/``api_key_id`` (null unless grouped),
``quantity``/``quantity_unit`` null, and ``organization_id``.

Anthropic (``x-api-key``: missing/unknown → 401 authentication_error, an ``sk-ant-api…`` workspace key → 403
permission_error; ``anthropic-version: 2023-06-01`` required, else 400 invalid_request_error; bodies
``{"type": "error", "error": {"type", "message"}, "request_id"}`` plus a ``request-id`` header).
``GET /v1/organizations/usage_report/messages`` and ``/v1/organizations/cost_report``: ``starting_at`` RFC 3339
with offset (required), ``ending_at`` (default: dataset ``end``); buckets snap: starting_at down and ending_at
up to the bucket width; ``bucket_width`` 1d|1h|1m (cost: 1d only), limits as OpenAI (cost 7/31); group_by
(messages: api_key_id, workspace_id, model, service_tier, context_window; cost: description, workspace_id);
filters ``api_key_ids``, ``workspace_ids``, ``models``, ``service_tiers``, ``context_window`` (both encodings).
Envelope ``{"data": [{"starting_at", "ending_at", "results"}], "has_more", "next_page"}``. Cost amounts are
decimal strings in CENTS, currency "USD"; cost_type/model/token_type/service_tier/context_window are filled only
when grouped by description.

OpenRouter (``Authorization: Bearer``; bad key → 401 ``{"error": {"code", "message"}}``): ``GET /activity``
(optional ``date=YYYY-MM-DD``, which must be one of the last 30 completed UTC days before the dataset's ``end``,
else 400; without it all 30 days), ``GET /credits``, ``GET /key``.

Paging: ``next_page`` is an opaque, HMAC-signed cursor ("page_…", random per response) bound to the provider,
path, resolved start/end and width; a forged or foreign cursor → 400. It is null when ``has_more`` is false.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from werkzeug.datastructures import MultiDict
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.dataset import (
    ANTHROPIC_COST_DETAILS,
    ANTHROPIC_COST_DIMENSIONS,
    ANTHROPIC_USAGE_DIMENSIONS,
    ANTHROPIC_USAGE_METRICS,
    OPENAI_COST_DIMENSIONS,
    OPENAI_USAGE_FIELDS,
    Dataset,
    Row,
    decimal_text,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "ANTHROPIC_ADMIN_KEY",
    "ANTHROPIC_VERSION",
    "OPENAI_ADMIN_KEY",
    "OPENROUTER_KEY",
    "PROVIDERS",
    "Dataset",
    "FakeProviders",
    "LoggedRequest",
    "account_key",
]

OPENAI_ADMIN_KEY = "sk-admin-fake-openai-0123456789abcdef0123"
ANTHROPIC_ADMIN_KEY = "sk-ant-admin01-fake-anthropic-0123456789abcdef"
OPENROUTER_KEY = "sk-or-v1-fake-openrouter-0123456789abcdef0123"
ANTHROPIC_VERSION = "2023-06-01"
PROVIDERS = ("openai", "anthropic", "openrouter")

_MAIN_KEYS = {"openai": OPENAI_ADMIN_KEY, "anthropic": ANTHROPIC_ADMIN_KEY, "openrouter": OPENROUTER_KEY}
_ACCOUNT_KEY_PREFIXES = {
    "openai": "sk-admin-fake-openai-acct",
    "anthropic": "sk-ant-admin01-fake-anthropic-acct",
    "openrouter": "sk-or-v1-fake-openrouter-acct",
}
_ACCOUNT_KEY_PATTERNS = {
    name: re.compile(re.escape(prefix) + r"\d{6,}") for name, prefix in _ACCOUNT_KEY_PREFIXES.items()
}
_BASE_PATHS = (("openai", "/openai/v1"), ("anthropic", "/anthropic"), ("openrouter", "/openrouter/api/v1"))

WIDTHS = {"1m": 60, "1h": 3600, "1d": 86_400}
USAGE_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}  # width → (default, maximum)
OPENAI_COST_LIMITS = (7, 180)
ANTHROPIC_COST_LIMITS = (7, 31)

_OPENAI_FILTERS = {
    "project_ids": "project_id",
    "user_ids": "user_id",
    "api_key_ids": "api_key_id",
    "models": "model",
    "sizes": "size",
    "sources": "source",
}
_ANTHROPIC_FILTERS = {
    "api_key_ids": "api_key_id",
    "workspace_ids": "workspace_id",
    "models": "model",
    "service_tiers": "service_tier",
    "context_window": "context_window",
}
_OPENAI_ERROR_TYPES = {429: ("requests", "rate_limit_exceeded")}
_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_DEFAULT_MESSAGES = {
    400: "Bad request.",
    401: "Invalid authentication.",
    403: "Permission denied.",
    404: "Not found.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request.",
    502: "Bad gateway.",
    503: "The server is overloaded or not ready yet.",
    529: "Overloaded.",
}
_BUCKET_CACHE_SIZE = 20_000
CONTROL_PATH = "/_fake/"
MALFORMED_BODY = b'{"object": "page", "data": [{"object": "bucket", "start_time": 17'


class LoggedRequest(NamedTuple):
    provider: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


def account_key(provider: str, number: int) -> str:
    """The NUMBER-th extra valid key of PROVIDER (same data as the main key unless `key_datasets` says otherwise)."""
    return f"{_ACCOUNT_KEY_PREFIXES[provider]}{number:06d}"


@dataclass
class _Rule:
    provider: str
    status: int
    remaining: int
    retry_after: str | None
    path_contains: str
    body: bytes | None
    malformed: bool


class _HttpError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        """No access log: the fake records requests itself."""


def _values(args: MultiDict[str, str], name: str) -> list[str]:
    """An array parameter sent as ``name[]=x`` (official SDKs) or as repeated ``name=x`` (others)."""
    return args.getlist(name) + args.getlist(f"{name}[]")


def _int_param(args: MultiDict[str, str], name: str) -> int | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _HttpError(400, f"Invalid value for '{name}': expected an integer.", param=name) from None


def _limit(args: MultiDict[str, str], default: int, maximum: int) -> int:
    limit = _int_param(args, "limit")
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise _HttpError(400, f"Invalid value for 'limit': must be between 1 and {maximum}.", param="limit")
    return limit


def _group_by(args: MultiDict[str, str], allowed: Sequence[str]) -> set[str]:
    fields = set(_values(args, "group_by"))
    unknown = sorted(fields - set(allowed))
    if unknown:
        raise _HttpError(
            400,
            f"Invalid group_by value '{unknown[0]}': allowed values are {', '.join(allowed)}.",
            param="group_by",
        )
    return fields


def _filters(args: MultiDict[str, str], names: dict[str, str], dims: Sequence[str]) -> dict[str, set[Any]]:
    chosen: dict[str, set[Any]] = {}
    for name, dim in names.items():
        values = _values(args, name)
        if values and dim in dims:
            chosen[dim] = set(values)
    return chosen


def _bucket_count(first: int, end: int, width: int) -> int:
    """Buckets [first, aligned+w), [aligned+w, aligned+2w), … cut at END."""
    if end <= first:
        return 0
    base = first - first % width
    return -(-(end - base) // width)


def _bucket_bounds(first: int, end: int, width: int, index: int) -> tuple[int, int]:
    base = first - first % width
    low = first if index == 0 else base + index * width
    return low, min(base + (index + 1) * width, end)


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is not None, str(value)) for value in key)


def _aggregate(
    rows: Iterable[Row],
    dims: Sequence[str],
    grouped: set[str],
    metrics: Sequence[str],
    filters: dict[str, set[Any]],
) -> list[tuple[dict[str, Any], Row, dict[str, Any]]]:
    """Sum METRICS per group: (dimension values, nulls where not grouped), the group's first row, the sums."""
    groups: dict[tuple[Any, ...], tuple[Row, dict[str, Any]]] = {}
    for row in rows:
        if any(row[dim] not in allowed for dim, allowed in filters.items()):
            continue
        key = tuple(row[dim] if dim in grouped else None for dim in dims)
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = (row, dict.fromkeys(metrics, 0))
        sums = entry[1]
        for metric in metrics:
            sums[metric] += row[metric]
    return [(dict(zip(dims, key, strict=True)), *groups[key]) for key in sorted(groups, key=_sort_key)]


def _freeze(filters: dict[str, set[Any]]) -> tuple[tuple[str, frozenset[Any]], ...]:
    return tuple(sorted((dim, frozenset(values)) for dim, values in filters.items()))


def _page_tail(next_page: str | None) -> str:
    return f'"has_more": {json.dumps(next_page is not None)}, "next_page": {json.dumps(next_page)}'


def _rfc3339(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_rfc3339(args: MultiDict[str, str], name: str) -> int | None:
    value = args.get(name)
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _HttpError(400, f"{name}: invalid RFC 3339 date-time {value!r}.", param=name) from None
    if moment.tzinfo is None:
        raise _HttpError(400, f"{name}: the date-time must include a time zone offset.", param=name)
    return int(moment.timestamp() // 1)


class FakeProviders:
    """The fake server; see the module docstring for the whole interface."""

    def __init__(self, dataset: Dataset | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._initial_dataset = dataset or Dataset()
        self.dataset: Dataset = self._initial_dataset
        self.key_datasets: dict[str, Dataset] = {}
        self.latency: float = 0.0
        self.page_cap: int | None = None
        self.max_in_flight = 0
        self.in_flight = 0
        self.requests: list[LoggedRequest] = []
        self.record_requests = True  # the bench may switch the log off
        self.errors: list[BaseException] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._bucket_cache: dict[tuple[Any, ...], str] = {}

    # ------------------------------------------------------------------------------- lifecycle
    def start(self) -> FakeProviders:
        if self._server is not None:
            return self
        server = make_server(self.host, self.port, self.wsgi_app, threaded=True, request_handler=_QuietHandler)
        self._server = server
        self._url = f"http://{self.host}:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-providers", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self.requests.clear()
            self.errors.clear()
            self.key_datasets.clear()
            self.max_in_flight = 0
            self.latency = 0.0
            self.page_cap = None
            self.dataset = self._initial_dataset

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the fake provider server is not started")
        return self._url

    @property
    def openai_url(self) -> str:
        return f"{self.url}/openai/v1"

    @property
    def anthropic_url(self) -> str:
        return f"{self.url}/anthropic"

    @property
    def openrouter_url(self) -> str:
        return f"{self.url}/openrouter/api/v1"

    # ----------------------------------------------------------------------------- test controls
    def fail(
        self,
        provider: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        path_contains: str = "",
        body: str | bytes | None = None,
    ) -> None:
        self._add_rule(provider, status, times, retry_after, path_contains, body, malformed=False)

    def malformed(
        self, provider: str, *, times: int = 1, path_contains: str = "", body: str | bytes | None = None
    ) -> None:
        self._add_rule(provider, 200, times, None, path_contains, body, malformed=True)

    def _add_rule(
        self,
        provider: str,
        status: int,
        times: int,
        retry_after: str | None,
        path_contains: str,
        body: str | bytes | None,
        *,
        malformed: bool,
    ) -> None:
        if provider not in (*PROVIDERS, "*"):
            raise ValueError(f"unknown provider {provider!r}: one of {PROVIDERS} or '*'")
        if times < 1:
            raise ValueError("times must be at least 1")
        raw = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._rules.append(_Rule(provider, status, times, retry_after, path_contains, raw, malformed))

    def requests_for(self, provider: str | None = None, path_contains: str = "") -> list[LoggedRequest]:
        with self._lock:
            logged = list(self.requests)
        return [r for r in logged if (provider is None or r.provider == provider) and path_contains in r.path]

    # ------------------------------------------------------------------------------------- WSGI
    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONTROL_PATH):
            return self._control(request)(environ, start_response)
        provider, path = self._route(request.path)
        logged = LoggedRequest(
            provider,
            request.method,
            path,
            request.args.to_dict(flat=False),
            {name.lower(): value for name, value in request.headers.items()},
        )
        with self._lock:
            if self.record_requests:
                self.requests.append(logged)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            response = self._respond(provider, path, request)
        except Exception as exc:  # a bug in the fake: report it loudly, never hang the client
            traceback.print_exc(file=sys.stderr)
            with self._lock:
                self.errors.append(exc)
            response = self._json(500, {"error": {"message": f"fake provider bug: {exc!r}"}})
        finally:
            with self._lock:
                self.in_flight -= 1
        return response(environ, start_response)

    def _control(self, request: Request) -> Response:
        """GET /_fake/stats (request count, max_in_flight, in_flight) and POST /_fake/reset, for a fake run as
        its own process (``python -m tests.fakes.providers``); never logged nor counted."""
        if request.path == f"{CONTROL_PATH}stats" and request.method == "GET":
            with self._lock:
                stats = {
                    "requests": len(self.requests),
                    "max_in_flight": self.max_in_flight,
                    "in_flight": self.in_flight,
                }
            return self._json(200, stats)
        if request.path == f"{CONTROL_PATH}reset" and request.method == "POST":
            self.reset()  # then ?latency=…&page_cap=… (both optional) set those again
            latency, page_cap = request.args.get("latency"), request.args.get("page_cap")
            self.latency = float(latency) if latency else 0.0
            self.page_cap = int(page_cap) if page_cap else None
            return self._json(200, {"reset": True, "latency": self.latency, "page_cap": self.page_cap})
        return self._json(404, {"error": {"message": "control endpoints: GET /_fake/stats, POST /_fake/reset"}})

    @staticmethod
    def _route(path: str) -> tuple[str, str]:
        for provider, base in _BASE_PATHS:
            if path == base or path.startswith(base + "/"):
                return provider, path[len(base) :] or "/"
        return "unknown", path

    def _take_rule(self, provider: str, target: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.provider in (provider, "*") and rule.path_contains in target and rule.remaining > 0:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def _respond(self, provider: str, path: str, request: Request) -> Response:
        if provider == "unknown":
            return self._json(404, {"error": {"message": f"no fake provider serves {request.path}"}})
        query = request.query_string.decode("latin-1")
        rule = self._take_rule(provider, f"{request.path}?{query}")
        if rule is not None:
            if rule.malformed:
                return Response(rule.body or MALFORMED_BODY, status=200, mimetype="application/json")
            response = self._error(provider, rule.status, _DEFAULT_MESSAGES.get(rule.status, "Error."))
            if rule.body is not None:
                response.set_data(rule.body)
            if rule.retry_after is not None:
                response.headers["Retry-After"] = rule.retry_after
            return response
        try:
            if provider == "openai":
                return self._openai(path, request)
            if provider == "anthropic":
                return self._anthropic(path, request)
            return self._openrouter(path, request)
        except _HttpError as exc:
            return self._error(provider, exc.status, exc.message, param=exc.param, code=exc.code)

    # ---------------------------------------------------------------------------- responses
    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)

    @staticmethod
    def _raw_json(body: str, headers: dict[str, str]) -> Response:
        return Response(body, status=200, mimetype="application/json", headers=headers)

    def _bucket_json(
        self, cache_key: tuple[Any, ...], low: int, high: int, build: Callable[[int, int], dict[str, Any]]
    ) -> str:
        """One bucket as JSON text, memoised: datasets never change, and the bench asks the same pages a lot."""
        key = (*cache_key, low, high)
        text = self._bucket_cache.get(key)
        if text is None:
            text = json.dumps(build(low, high))
            if len(self._bucket_cache) >= _BUCKET_CACHE_SIZE:
                self._bucket_cache.clear()
            self._bucket_cache[key] = text
        return text

    def _error(
        self, provider: str, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> Response:
        if provider == "openai":
            kind, default_code = _OPENAI_ERROR_TYPES.get(
                status, ("server_error" if status >= 500 else "invalid_request_error", None)
            )
            error = {"message": message, "type": kind, "param": param, "code": code or default_code}
            return self._json(status, {"error": error}, {"x-request-id": f"req_{secrets.token_hex(16)}"})
        if provider == "anthropic":
            kind = _ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
            request_id = f"req_{secrets.token_hex(12)}"
            body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
            return self._json(status, body, {"request-id": request_id})
        return self._json(status, {"error": {"code": status, "message": message}})

    # ------------------------------------------------------------------------------------ paging
    def _issue_cursor(self, binding: str, offset: int) -> str:
        payload = offset.to_bytes(8, "big") + secrets.token_bytes(8)
        mac = hmac.new(self._secret, payload + binding.encode(), hashlib.sha256).digest()[:16]
        return "page_" + base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")

    def _read_cursor(self, binding: str, token: str) -> int:
        invalid = _HttpError(
            400, "Invalid page cursor: pass the next_page value of the previous response.", param="page"
        )
        text = token.removeprefix("page_")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (ValueError, binascii.Error):
            raise invalid from None
        if len(raw) != 32:
            raise invalid
        payload, mac = raw[:16], raw[16:]
        expected = hmac.new(self._secret, payload + binding.encode(), hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(mac, expected):
            raise invalid
        return int.from_bytes(payload[:8], "big")

    def _page(
        self, request: Request, binding: str, first: int, end: int, width: int, limit: int
    ) -> tuple[list[tuple[int, int]], str | None]:
        """The buckets of this page and the cursor of the next one (None on the last page)."""
        token = request.args.get("page")
        offset = self._read_cursor(binding, token) if token else 0
        count = _bucket_count(first, end, width)
        size = min(limit, self.page_cap) if self.page_cap else limit
        stop = min(offset + size, count)
        bounds = [_bucket_bounds(first, end, width, index) for index in range(offset, stop)]
        return bounds, (self._issue_cursor(binding, stop) if stop < count else None)

    # ------------------------------------------------------------------------------------ keys
    def _key_valid(self, provider: str, key: str) -> bool:
        return (
            key == _MAIN_KEYS[provider]
            or key in self.key_datasets
            or _ACCOUNT_KEY_PATTERNS[provider].fullmatch(key) is not None
        )

    def _dataset_for(self, key: str) -> Dataset:
        return self.key_datasets.get(key) or self.dataset

    @staticmethod
    def _bearer(request: Request) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""

    # ------------------------------------------------------------------------------------ OpenAI
    def _openai(self, path: str, request: Request) -> Response:
        if path == "/organization/costs":
            endpoint = "costs"
        elif path.startswith("/organization/usage/") and path.rsplit("/", 1)[1] in OPENAI_USAGE_FIELDS:
            endpoint = path.rsplit("/", 1)[1]
        else:
            raise _HttpError(404, f"Invalid URL ({request.method} /v1{path})", code="unknown_url")
        key = self._bearer(request)
        if not key:
            raise _HttpError(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if key.startswith("sk-proj-"):
            raise _HttpError(
                403, "You have insufficient permissions for this operation. Missing scopes: api.usage.read."
            )
        if not self._key_valid("openai", key):
            raise _HttpError(401, "Incorrect API key provided.", code="invalid_api_key")
        if request.method != "GET":
            raise _HttpError(405, f"Method {request.method} not allowed.")
        dataset = self._dataset_for(key)
        args = request.args

        start = _int_param(args, "start_time")
        if start is None:
            raise _HttpError(400, "Missing required parameter: 'start_time'.", param="start_time")
        end = _int_param(args, "end_time")
        if end is None:
            end = max(int(dataset.end.timestamp()), start)
        elif end <= start:
            raise _HttpError(400, "Invalid value for 'end_time': must be after 'start_time'.", param="end_time")
        width_name = args.get("bucket_width", "1d")
        if width_name not in WIDTHS or (endpoint == "costs" and width_name != "1d"):
            allowed = "1d" if endpoint == "costs" else "1m, 1h, 1d"
            raise _HttpError(400, f"Invalid value for 'bucket_width': must be one of {allowed}.", param="bucket_width")
        limit = _limit(args, *(OPENAI_COST_LIMITS if endpoint == "costs" else USAGE_LIMITS[width_name]))
        if endpoint == "costs":
            dims: Sequence[str] = OPENAI_COST_DIMENSIONS
            metrics: Sequence[str] = ("amount",)
        else:
            dims, metrics = OPENAI_USAGE_FIELDS[endpoint]
        grouped = _group_by(args, dims)
        filters = _filters(args, _OPENAI_FILTERS, dims)
        batch = args.get("batch")
        if batch is not None and "batch" in dims:
            if batch not in ("true", "false"):
                raise _HttpError(400, "Invalid value for 'batch': expected true or false.", param="batch")
            filters["batch"] = {batch == "true"}

        binding = f"openai|{path}|{start}|{end}|{width_name}"
        bounds, next_page = self._page(request, binding, start, end, WIDTHS[width_name], limit)
        table = dataset.openai_table(endpoint)

        def bucket(low: int, high: int) -> dict[str, Any]:
            groups = _aggregate(table.between(low, high), dims, grouped, metrics, filters)
            if endpoint == "costs":
                results = [self._openai_cost_result(dataset, values, sums) for values, _, sums in groups]
            else:
                results = [self._openai_usage_result(endpoint, values, sums) for values, _, sums in groups]
            return {"object": "bucket", "start_time": low, "end_time": high, "results": results}

        cache_key = (dataset, "openai", endpoint, frozenset(grouped), _freeze(filters))
        data = ", ".join(self._bucket_json(cache_key, low, high, bucket) for low, high in bounds)
        body = f'{{"object": "page", "data": [{data}], {_page_tail(next_page)}}}'
        return self._raw_json(body, {"x-request-id": f"req_{secrets.token_hex(16)}"})

    @staticmethod
    def _openai_usage_result(endpoint: str, values: dict[str, Any], sums: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {"object": f"organization.usage.{endpoint}.result"}
        for metric, total in sums.items():
            if metric in ("input_cache_write_tokens", "input_uncached_tokens") and not sums["input_cache_write_tokens"]:
                continue
            result[metric] = total
        result.update(values)
        return result

    @staticmethod
    def _openai_cost_result(dataset: Dataset, values: dict[str, Any], sums: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "organization.costs.result",
            "amount": {"value": float(Decimal(sums["amount"])), "currency": "usd"},
            "line_item": values["line_item"],
            "project_id": values["project_id"],
            "api_key_id": values["api_key_id"],
            "organization_id": dataset.openai_organization_id,
            "quantity": None,
            "quantity_unit": None,
        }

    # --------------------------------------------------------------------------------- Anthropic
    def _anthropic(self, path: str, request: Request) -> Response:
        routes = {"/v1/organizations/usage_report/messages": "messages", "/v1/organizations/cost_report": "cost_report"}
        endpoint = routes.get(path)
        if endpoint is None:
            raise _HttpError(404, f"Not found: {path}")
        key = request.headers.get("x-api-key", "")
        if not key:
            raise _HttpError(401, "x-api-key header is required")
        if key.startswith("sk-ant-api"):
            raise _HttpError(403, "This endpoint requires an Admin API key (sk-ant-admin…).")
        if not self._key_valid("anthropic", key):
            raise _HttpError(401, "invalid x-api-key")
        version = request.headers.get("anthropic-version")
        if not version:
            raise _HttpError(400, "anthropic-version: header is required")
        if version != ANTHROPIC_VERSION:
            raise _HttpError(400, f"anthropic-version: unsupported version {version!r}")
        if request.method != "GET":
            raise _HttpError(405, f"Method {request.method} not allowed.")
        dataset = self._dataset_for(key)
        args = request.args

        starting_at = _parse_rfc3339(args, "starting_at")
        if starting_at is None:
            raise _HttpError(400, "starting_at: Field required", param="starting_at")
        ending_at = _parse_rfc3339(args, "ending_at")
        if ending_at is not None and ending_at <= starting_at:
            raise _HttpError(400, "ending_at: must be after starting_at", param="ending_at")
        if ending_at is None:
            ending_at = max(int(dataset.end.timestamp()), starting_at)
        width_name = args.get("bucket_width", "1d")
        if width_name not in WIDTHS or (endpoint == "cost_report" and width_name != "1d"):
            allowed = "1d" if endpoint == "cost_report" else "1d, 1h, 1m"
            raise _HttpError(400, f"bucket_width: must be one of {allowed}", param="bucket_width")
        width = WIDTHS[width_name]
        limit = _limit(args, *(ANTHROPIC_COST_LIMITS if endpoint == "cost_report" else USAGE_LIMITS[width_name]))
        dims = ANTHROPIC_COST_DIMENSIONS if endpoint == "cost_report" else ANTHROPIC_USAGE_DIMENSIONS
        grouped = _group_by(args, dims)
        filters = _filters(args, _ANTHROPIC_FILTERS, dims)
        first = starting_at - starting_at % width
        end = -(-ending_at // width) * width

        binding = f"anthropic|{path}|{first}|{end}|{width_name}"
        bounds, next_page = self._page(request, binding, first, end, width, limit)
        table = dataset.anthropic_table(endpoint)
        metrics = ("amount_cents",) if endpoint == "cost_report" else ANTHROPIC_USAGE_METRICS

        def bucket(low: int, high: int) -> dict[str, Any]:
            groups = _aggregate(table.between(low, high), dims, grouped, metrics, filters)
            if endpoint == "cost_report":
                by_description = "description" in grouped
                results = [self._anthropic_cost_result(v, row, s, by_description) for v, row, s in groups]
            else:
                results = [self._anthropic_usage_result(values, sums) for values, _, sums in groups]
            return {"starting_at": _rfc3339(low), "ending_at": _rfc3339(high), "results": results}

        cache_key = (dataset, "anthropic", endpoint, frozenset(grouped), _freeze(filters))
        data = ", ".join(self._bucket_json(cache_key, low, high, bucket) for low, high in bounds)
        body = f'{{"data": [{data}], {_page_tail(next_page)}}}'
        return self._raw_json(body, {"request-id": f"req_{secrets.token_hex(12)}"})

    @staticmethod
    def _anthropic_usage_result(values: dict[str, Any], sums: dict[str, Any]) -> dict[str, Any]:
        return {
            "uncached_input_tokens": sums["uncached_input_tokens"],
            "cache_creation": {
                "ephemeral_5m_input_tokens": sums["ephemeral_5m_input_tokens"],
                "ephemeral_1h_input_tokens": sums["ephemeral_1h_input_tokens"],
            },
            "cache_read_input_tokens": sums["cache_read_input_tokens"],
            "output_tokens": sums["output_tokens"],
            "server_tool_use": {"web_search_requests": sums["web_search_requests"]},
            **values,
        }

    @staticmethod
    def _anthropic_cost_result(
        values: dict[str, Any], first_row: Row, sums: dict[str, Any], by_description: bool
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"currency": "USD", "amount": decimal_text(Decimal(sums["amount_cents"]))}
        result["workspace_id"] = values["workspace_id"]
        result["description"] = values["description"]
        for detail in ANTHROPIC_COST_DETAILS:
            result[detail] = first_row[detail] if by_description else None
        return result

    # -------------------------------------------------------------------------------- OpenRouter
    def _openrouter(self, path: str, request: Request) -> Response:
        if path not in ("/activity", "/credits", "/key"):
            raise _HttpError(404, "Not Found")
        key = self._bearer(request)
        if not key:
            raise _HttpError(401, "No auth credentials found")
        if not self._key_valid("openrouter", key):
            raise _HttpError(401, "User not found.")
        if request.method != "GET":
            raise _HttpError(405, "Method Not Allowed")
        dataset = self._dataset_for(key)
        if path == "/credits":
            return self._json(200, {"data": dataset.openrouter_credits()})
        if path == "/key":
            return self._json(200, {"data": dataset.openrouter_key()})
        allowed = [day.isoformat() for day in dataset.openrouter_dates()]
        wanted = request.args.get("date")
        if wanted is not None:
            try:
                dt.date.fromisoformat(wanted)
            except ValueError:
                raise _HttpError(400, "Invalid date: expected YYYY-MM-DD") from None
            if wanted not in allowed:
                raise _HttpError(400, "Date must be within the last 30 (completed) UTC days")
        dates = {wanted} if wanted is not None else set(allowed)
        rows = []
        for row in dataset.openrouter_table().rows:
            if row["date"] in dates:
                wire = {name: value for name, value in row.items() if name != "time"}
                wire["usage"] = float(row["usage"])
                wire["byok_usage_inference"] = float(row["byok_usage_inference"])
                rows.append(wire)
        return self._json(200, {"data": rows})


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the fake as its own process (so a benchmark's client does not share a GIL with it).

    Prints ``URL http://127.0.0.1:PORT`` on the first line of stdout, then serves until interrupted.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.fakes.providers", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today UTC)")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--page-cap", type=int, default=None)
    parser.add_argument("--no-log", action="store_true", help="do not keep the request log")
    options = parser.parse_args(argv)
    fake = FakeProviders(
        Dataset(options.seed, days=options.days, end=options.end, scale=options.scale),
        host=options.host,
        port=options.port,
    )
    fake.start()
    fake.latency, fake.page_cap, fake.record_requests = options.latency, options.page_cap, not options.no_log
    print(f"URL {fake.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
