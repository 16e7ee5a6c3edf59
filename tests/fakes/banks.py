"""A fake SimpleFIN Bridge and a fake Plaid on real HTTP, for tests.

One werkzeug server (127.0.0.1, a free port, a background thread) serves both, under ``/simplefin`` and
``/plaid``, with the wire formats of /work/shared/reference/providers.md. Use it through the pytest fixture
``fake_banks`` (tests/fakes/fixtures.py: one server per session, `reset()` before every test), or::

    with FakeBanks() as fake:   # or FakeBanks().start() … .stop()
        token = fake.setup_token()

Common interface
----------------
* ``url``, ``simplefin_url`` (url + "/simplefin"), ``plaid_url`` (url + "/plaid": a Plaid client's base_url).
* ``requests`` — `LoggedRequest(bank, method, path, query, headers, body)` in arrival order; bank is "simplefin",
  "plaid" or "unknown"; path is relative to the bank's prefix ("/claim/…", "/bridge/1/accounts",
  "/transactions/sync"); header names lower-case; body is the decoded JSON (Plaid) or the text.
  ``requests_for(bank, path_contains)``.
* ``fail(bank, status, *, times=1, path_contains="", body=None, retry_after=None)`` — the next TIMES requests to
  BANK ("*" = either) whose path + "?" + query contains PATH_CONTAINS answer STATUS with that bank's error body
  (SimpleFIN ``{"errors": [...]}``, Plaid ``{"error_type", "error_code", "error_message", …}``) or BODY. Checked
  before authentication.
* ``errors`` — exceptions raised inside the fake itself (a test may assert it stays empty).
* ``reset()`` — forget every token, access, item, failure and logged request; quota and page size back to their
  defaults; the default Plaid item (``PLAID_ACCESS_TOKEN``) is created again. ``start()``, ``stop()``, context
  manager.

SimpleFIN
---------
* ``setup_token(seed=None)`` → a fresh setup token (base64 of ``<url>/simplefin/claim/<random>``). ``POST`` to it
  once → 200 text/plain ``http://<user>:<password>@127.0.0.1:PORT/simplefin/bridge/<n>`` (credentials random per
  claim); again → 403; an unknown claim → 404. ``claimed(token)`` → the access number it gave, or None.
* ``simplefin_access(seed=None)`` → a new `SimpleFinAccess` without going through a claim (``.number``, ``.url``
  the access URL, ``.accounts``, ``.errors``).
* ``GET /simplefin/bridge/<n>/accounts`` (Basic auth: missing or wrong → 403) with ``start-date``/``end-date``
  (unix seconds, end exclusive; defaults: end = ``simplefin_end``, start = end - 90 days), ``pending=1``,
  ``balances-only=1``. Two accounts (checking ``ACT-<n>-CHK`` and credit card ``ACT-<n>-CC``) whose
  transactions share ids (``TRN-0001``…: ids are unique per account only), posted over the 200 days before
  ``simplefin_end`` (UTC midnight of today, exclusive), deterministic from the seed; amounts are decimal
  strings (+ in, - out). Pending ones (``posted: 0``, ``pending: true``) only with ``pending=1``: those with a
  ``transacted_at`` when it is in the window, the one without when the window reaches ``simplefin_end``. A window
  longer than 90 days serves its last 90 days and says so in ``errors[]``; at most 1000 transactions a response.
* ``simplefin_add_errors(n, *messages)`` — strings every later response of access N carries in ``errors[]``.
* ``simplefin_quota`` (default 96 — where real bridges block) requests per access per UTC day; past it → 429
  ``{"errors": ["Too many requests…"]}``. ``simplefin_requests_today(n)``.
* ``simplefin_expected(n, start, end, *, pending=False)`` → `SimpleFinExpected(ids, total, totals, count)`: what a
  client that reads the whole [start, end) window (in ≤ 90-day requests) must find.

Plaid
-----
* Credentials ``PLAID_CLIENT_ID``, ``PLAID_SECRET``; ``PLAID_ACCESS_TOKEN`` is the default item (24 transactions
  over 60 days, 2 of them pending). ``plaid_item(transactions=24, seed=None)`` → the access token of a new item.
* ``POST /plaid/accounts/get`` and ``POST /plaid/transactions/sync`` (``{client_id, secret, access_token, cursor?,
  count}``, count 1..500, default 100). Wrong client id / secret → 400 INVALID_API_KEYS, unknown token → 400
  INVALID_ACCESS_TOKEN, item needing login → 400 ITEM_LOGIN_REQUIRED (ITEM_ERROR). Every change to an item goes to
  its change log; a cursor is an opaque signed string naming a position in it (and, mid-pagination, the page). A
  sync reports the difference between the cursor's position and now: added / modified / removed, in the order of
  each transaction's last change, ``count`` per page (``plaid_page_size`` caps it whatever the client asks). If the
  log grew since the first page, the next page answers TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION, like Plaid.
  Cursors are deterministic: syncing twice from one cursor gives the same pages.
* Scenario helpers (amounts in Plaid's sign: positive = money out):
  ``plaid_add(token, amount, *, name, merchant_name, account="checking"|"credit", date, pending, category)`` → id;
  ``plaid_post(token, pending_id, *, amount=None)`` → the posted id (the pending id is removed, the posted one
  added with ``pending_transaction_id``); ``plaid_modify(token, id, **fields)``; ``plaid_remove(token, id)``;
  ``plaid_mutation_on_page(token, page, times=1)`` (the page-th page of the next TIMES sync runs fails with
  TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION); ``plaid_login_required(token, required=True)``;
  ``plaid_rate_limit(times=1)`` (429 RATE_LIMIT_EXCEEDED).
* Expectations: ``plaid_transactions(token)`` (id → transaction as now), ``plaid_accounts(token)``,
  ``plaid_changes(token, cursor=None)`` → `PlaidChanges(upserted, removed)` since CURSOR.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import random
import secrets
import sys
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "PLAID_ACCESS_TOKEN",
    "PLAID_CLIENT_ID",
    "PLAID_SECRET",
    "FakeBanks",
    "LoggedRequest",
    "PlaidChanges",
    "SimpleFinAccess",
    "SimpleFinExpected",
]

PLAID_CLIENT_ID = "fake-plaid-client-0123456789"
PLAID_SECRET = "fake-plaid-secret-0123456789abcdef"
PLAID_ACCESS_TOKEN = "access-sandbox-fake-00000000-0000-0000-0000-000000000001"
BANKS = ("simplefin", "plaid")
DAY = 86_400
SIMPLEFIN_MAX_DAYS = 90
SIMPLEFIN_MAX_TRANSACTIONS = 1000
SIMPLEFIN_HISTORY_DAYS = 200
SIMPLEFIN_DEFAULT_QUOTA = 96
PLAID_DEFAULT_COUNT = 100
PLAID_MAX_COUNT = 500
MUTATION = "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION"
MUTATION_MESSAGE = (
    "underlying transaction data changed since the last page was fetched. please restart pagination from last update."
)

_DESCRIPTIONS = ("GROCERY MART #12", "COFFEE CORNER", "CITY TRANSIT", "ONLINE BOOKS", "FUEL STOP 44", "PHARMACY")
_PLAID_SHOPS = (
    ("Coffee Corner", "FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE"),
    ("Grocery Mart", "FOOD_AND_DRINK", "FOOD_AND_DRINK_GROCERIES"),
    ("City Transit", "TRANSPORTATION", "TRANSPORTATION_PUBLIC_TRANSIT"),
    ("Book Nook", "GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_BOOKSTORES_AND_NEWSSTANDS"),
)


class LoggedRequest(NamedTuple):
    bank: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class _Rule:
    bank: str
    status: int
    remaining: int
    path_contains: str
    body: bytes | None
    retry_after: str | None


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        """No access log: the fake records requests itself."""


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    # Decimals go out as JSON numbers (float repr of a 2-decimal amount is its exact text).
    text = json.dumps(body, default=lambda v: float(v) if isinstance(v, Decimal) else str(v))
    return Response(text, status=status, mimetype="application/json", headers=headers)


# ------------------------------------------------------------------------------------------------ SimpleFIN
@dataclass
class SimpleFinAccess:
    """One claimed SimpleFIN connection: its Basic-auth credentials and its data."""

    number: int
    user: str
    password: str
    base: str  # the server's url
    accounts: list[dict[str, Any]]  # SimpleFIN account objects, each with all its "transactions"
    errors: list[str] = field(default_factory=list)
    requests_by_day: dict[dt.date, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The Access URL, credentials included."""
        host = self.base.removeprefix("http://")
        return f"http://{self.user}:{self.password}@{host}/simplefin/bridge/{self.number}"


@dataclass(frozen=True)
class SimpleFinExpected:
    ids: frozenset[tuple[str, str]]  # (account id, transaction id)
    total: Decimal
    totals: dict[str, Decimal]  # per account id
    count: int


def _simplefin_accounts(number: int, seed: int, end: int, base: str) -> list[dict[str, Any]]:
    """Two accounts with transactions over the 200 days before END (unix), deterministic from SEED."""
    rng = random.Random(seed)
    org = {"domain": "bank.example", "sfin-url": f"{base}/simplefin", "name": "Example Bank", "id": "EXB"}
    accounts = []
    for suffix, name, balance, available in (
        ("CHK", "Everyday Checking", Decimal("2345.67"), Decimal("2300.00")),
        ("CC", "Rewards Visa", Decimal("-512.34"), Decimal("4487.66")),
    ):
        transactions: list[dict[str, Any]] = []
        for index in range(1, 61):
            posted = end - rng.randrange(1, SIMPLEFIN_HISTORY_DAYS * DAY)
            if suffix == "CHK" and index % 10 == 0:
                amount, description = Decimal("2500.00"), "PAYROLL ACME CORP"
            elif suffix == "CC" and index % 15 == 0:
                amount, description = _cents(rng, 10000, 50000), "PAYMENT THANK YOU"
            else:
                amount, description = -_cents(rng, 100, 25000), rng.choice(_DESCRIPTIONS)
            row: dict[str, Any] = {
                "id": f"TRN-{index:04d}",  # the same ids in both accounts: unique per account only
                "posted": posted,
                "amount": f"{amount:.2f}",
                "description": description,
            }
            if index % 3 == 0:
                row["transacted_at"] = posted - rng.randrange(0, 2 * DAY)
            if index % 7 == 0:
                row["extra"] = {"category": "Groceries"}
            transactions.append(row)
        for index in range(1, 3):
            transactions.append(
                {
                    "id": f"TRN-P-{index:03d}",
                    "posted": 0,
                    "amount": f"{-_cents(rng, 100, 9000):.2f}",
                    "description": f"PENDING {rng.choice(_DESCRIPTIONS)}",
                    "transacted_at": end - rng.randrange(1, 3 * DAY),
                    "pending": True,
                }
            )
        transactions.append(  # seen but not dated at all: the client picks the day
            {"id": "TRN-P-900", "posted": 0, "amount": "-1.23", "description": "PENDING UNDATED", "pending": True}
        )
        accounts.append(
            {
                "org": org,
                "id": f"ACT-{number}-{suffix}",
                "name": name,
                "currency": "USD",
                "balance": f"{balance:.2f}",
                "available-balance": f"{available:.2f}",
                "balance-date": end,
                "transactions": transactions,
            }
        )
    return accounts


def _simplefin_selected(row: dict[str, Any], start: int, end: int, pending: bool, now: int) -> bool:
    """Whether transaction ROW belongs in a response for [START, END)."""
    if row["posted"]:
        return bool(start <= row["posted"] < end)
    if not pending:
        return False
    if "transacted_at" in row:
        return bool(start <= row["transacted_at"] < end)
    return end >= now


# ------------------------------------------------------------------------------------------------ Plaid
@dataclass
class _PlaidItem:
    token: str
    item_id: str
    accounts: list[dict[str, Any]]
    log: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)  # (id, transaction or None: removed)
    login_required: bool = False
    mutation_page: int | None = None
    mutation_times: int = 0
    next_number: int = 1

    def state(self, position: int) -> dict[str, dict[str, Any]]:
        """Transactions by id after the first POSITION changes of the log."""
        found: dict[str, dict[str, Any]] = {}
        for transaction_id, row in self.log[:position]:
            if row is None:
                found.pop(transaction_id, None)
            else:
                found[transaction_id] = row
        return found

    def changes(self, base: int, upto: int) -> list[tuple[str, dict[str, Any]]]:
        """("added" | "modified" | "removed", transaction) between two log positions, in order of last change."""
        before, after = self.state(base), self.state(upto)
        last: dict[str, int] = {}
        for index, (transaction_id, _) in enumerate(self.log[base:upto]):
            last[transaction_id] = index
        found: list[tuple[str, dict[str, Any]]] = []
        for transaction_id in sorted(last, key=last.__getitem__):
            old, new = before.get(transaction_id), after.get(transaction_id)
            if old is None and new is not None:
                found.append(("added", new))
            elif old is not None and new is None:
                found.append(("removed", {"transaction_id": transaction_id, "account_id": old["account_id"]}))
            elif old is not None and new is not None and old != new:
                found.append(("modified", new))
        return found


@dataclass(frozen=True)
class PlaidChanges:
    upserted: dict[str, dict[str, Any]]  # transaction id → the transaction as it is now (Plaid's sign)
    removed: frozenset[tuple[str, str]]  # (account id, transaction id)


class _PlaidError(Exception):
    def __init__(self, status: int, error_type: str, code: str, message: str, display: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error_type, self.code, self.message, self.display = status, error_type, code, message, display


def _plaid_error_body(status: int, error_type: str, code: str, message: str, display: str | None) -> dict[str, Any]:
    return {
        "error_type": error_type,
        "error_code": code,
        "error_message": message,
        "display_message": display,
        "request_id": secrets.token_hex(8),
        "causes": [],
        "status": status,
        "documentation_url": f"https://plaid.com/docs/errors/#{code.lower()}",
        "suggested_action": None,
    }


_PLAID_DEFAULT_ERRORS = {
    400: ("INVALID_REQUEST", "INVALID_FIELD", "the request is not valid"),
    429: ("RATE_LIMIT_EXCEEDED", "RATE_LIMIT_EXCEEDED", "rate limit exceeded for this item"),
    500: ("API_ERROR", "INTERNAL_SERVER_ERROR", "an unexpected error occurred"),
}


class FakeBanks:
    """The fake server; see the module docstring for the whole interface."""

    def __init__(
        self, *, seed: int = 1, now: dt.datetime | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.host, self.port, self.seed = host, port, seed
        moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        #: The SimpleFIN data ends here (exclusive): UTC midnight of today. Plaid dates count back from its day.
        self.simplefin_end = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        self.requests: list[LoggedRequest] = []
        self.errors: list[BaseException] = []
        self.simplefin_quota: int | None = SIMPLEFIN_DEFAULT_QUOTA
        self.plaid_page_size: int | None = None
        self._rules: list[_Rule] = []
        self._claims: dict[str, int | None] = {}  # claim id → the access it gave (None: not claimed yet)
        self._claim_seeds: dict[str, int] = {}
        self._accesses: dict[int, SimpleFinAccess] = {}
        self._items: dict[str, _PlaidItem] = {}
        self._numbers = 0
        self._lock = threading.RLock()
        self._secret = secrets.token_bytes(32)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._plaid_default_item()

    # ------------------------------------------------------------------------------------ lifecycle
    def start(self) -> FakeBanks:
        if self._server is not None:
            return self
        server = make_server(self.host, self.port, self.wsgi_app, threaded=True, request_handler=_QuietHandler)
        self._server = server
        self._url = f"http://{self.host}:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-banks", daemon=True
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

    def __enter__(self) -> FakeBanks:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._rules.clear()
            self._claims.clear()
            self._claim_seeds.clear()
            self._accesses.clear()
            self._items.clear()
            self.simplefin_quota = SIMPLEFIN_DEFAULT_QUOTA
            self.plaid_page_size = None
            self._plaid_default_item()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the fake bank server is not started")
        return self._url

    @property
    def simplefin_url(self) -> str:
        return f"{self.url}/simplefin"

    @property
    def plaid_url(self) -> str:
        return f"{self.url}/plaid"

    # ---------------------------------------------------------------------------------- test controls
    def fail(
        self,
        bank: str,
        status: int,
        *,
        times: int = 1,
        path_contains: str = "",
        body: str | bytes | dict[str, Any] | None = None,
        retry_after: str | None = None,
    ) -> None:
        if bank not in (*BANKS, "*"):
            raise ValueError(f"unknown bank {bank!r}: one of {BANKS} or '*'")
        if times < 1:
            raise ValueError("times must be at least 1")
        raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
        with self._lock:
            self._rules.append(_Rule(bank, status, times, path_contains, raw, retry_after))

    def requests_for(self, bank: str | None = None, path_contains: str = "") -> list[LoggedRequest]:
        with self._lock:
            logged = list(self.requests)
        return [r for r in logged if (bank is None or r.bank == bank) and path_contains in r.path]

    # SimpleFIN ---------------------------------------------------------------------------------------
    def setup_token(self, seed: int | None = None) -> str:
        """A fresh setup token whose claim URL points at this server (SEED: the data the access will serve)."""
        claim = secrets.token_urlsafe(12)
        with self._lock:
            self._claims[claim] = None
            self._claim_seeds[claim] = self.seed if seed is None else seed
        return base64.b64encode(f"{self.simplefin_url}/claim/{claim}".encode()).decode()

    def claimed(self, token: str) -> int | None:
        """The access number TOKEN's claim gave, or None while unclaimed."""
        claim = base64.b64decode(token).decode().rsplit("/", 1)[1]
        with self._lock:
            return self._claims.get(claim)

    def simplefin_access(self, seed: int | None = None) -> SimpleFinAccess:
        """A new access (as a claim would create), its data deterministic from SEED (default: the fake's seed)."""
        with self._lock:
            self._numbers += 1
            number = self._numbers
            end = int(self.simplefin_end.timestamp())
            access = SimpleFinAccess(
                number=number,
                user=f"user{secrets.token_hex(6)}",
                password=secrets.token_urlsafe(18),
                base=self.url,
                accounts=_simplefin_accounts(number, self.seed if seed is None else seed, end, self.url),
            )
            self._accesses[number] = access
        return access

    def simplefin_add_errors(self, number: int, *messages: str) -> None:
        with self._lock:
            self._accesses[number].errors.extend(messages)

    def simplefin_requests_today(self, number: int) -> int:
        with self._lock:
            return self._accesses[number].requests_by_day.get(dt.datetime.now(dt.UTC).date(), 0)

    def simplefin_expected(
        self, number: int, start: dt.datetime, end: dt.datetime, *, pending: bool = False
    ) -> SimpleFinExpected:
        """What reading all of [START, END) of access NUMBER finds (pending ones too when PENDING)."""
        low, high, now = int(start.timestamp()), int(end.timestamp()), int(self.simplefin_end.timestamp())
        ids: set[tuple[str, str]] = set()
        totals: dict[str, Decimal] = {}
        with self._lock:
            accounts = self._accesses[number].accounts
            for account in accounts:
                totals[account["id"]] = Decimal(0)
                for row in account["transactions"]:
                    if _simplefin_selected(row, low, high, pending, now):
                        ids.add((account["id"], row["id"]))
                        totals[account["id"]] += Decimal(row["amount"])
        return SimpleFinExpected(frozenset(ids), sum(totals.values(), Decimal(0)), totals, len(ids))

    # Plaid -------------------------------------------------------------------------------------------
    def _plaid_default_item(self) -> None:
        self._new_item(PLAID_ACCESS_TOKEN, 24, self.seed)

    def plaid_item(self, transactions: int = 24, seed: int | None = None) -> str:
        """A new item with TRANSACTIONS transactions (2 of them pending when there are at least 4); its token."""
        token = f"access-sandbox-{secrets.token_hex(16)}"
        self._new_item(token, transactions, self.seed if seed is None else seed)
        return token

    def _new_item(self, token: str, transactions: int, seed: int) -> None:
        rng = random.Random(seed)
        tag = hashlib.sha256(token.encode()).hexdigest()[:10]
        accounts = [
            {
                "account_id": f"{tag}chk",
                "name": "Plaid Checking",
                "official_name": "Plaid Gold Standard 0% Interest Checking",
                "mask": "0000",
                "type": "depository",
                "subtype": "checking",
                "balances": {
                    "available": Decimal("100.00"),
                    "current": Decimal("110.00"),
                    "iso_currency_code": "USD",
                    "limit": None,
                    "unofficial_currency_code": None,
                },
            },
            {
                "account_id": f"{tag}cc",
                "name": "Plaid Credit Card",
                "official_name": "Plaid Diamond 12.5% APR Interest Credit Card",
                "mask": "3333",
                "type": "credit",
                "subtype": "credit card",
                "balances": {
                    "available": None,
                    "current": Decimal("410.00"),
                    "iso_currency_code": "USD",
                    "limit": Decimal("2000.00"),
                    "unofficial_currency_code": None,
                },
            },
        ]
        item = _PlaidItem(token=token, item_id=f"item-{tag}", accounts=accounts)
        with self._lock:
            self._items[token] = item
            for index in range(transactions):
                shop, primary, detailed = rng.choice(_PLAID_SHOPS)
                self._plaid_append(
                    item,
                    account=rng.choice(("checking", "credit")),
                    amount=_cents(rng, 100, 20000),
                    name=shop.upper(),
                    merchant_name=shop if index % 4 else None,
                    day=self._today() - dt.timedelta(days=rng.randrange(0, 60)),
                    pending=transactions >= 4 and index >= transactions - 2,
                    category=(primary, detailed),
                    authorized_datetime=index % 2 == 0,
                )

    def _today(self) -> dt.date:
        return self.simplefin_end.date()

    def _plaid_append(
        self,
        item: _PlaidItem,
        *,
        account: str,
        amount: Decimal,
        name: str,
        merchant_name: str | None,
        day: dt.date,
        pending: bool,
        category: tuple[str, str],
        authorized_datetime: bool = False,
        pending_transaction_id: str | None = None,
    ) -> str:
        account_id = item.accounts[0 if account == "checking" else 1]["account_id"]
        transaction_id = f"{item.item_id.removeprefix('item-')}-txn-{item.next_number:05d}"
        item.next_number += 1
        moment = dt.datetime.combine(day, dt.time(14, 30), dt.UTC) if authorized_datetime else None
        row = {
            "transaction_id": transaction_id,
            "account_id": account_id,
            "amount": amount,
            "iso_currency_code": "USD",
            "unofficial_currency_code": None,
            "date": day.isoformat(),
            "authorized_date": day.isoformat(),
            "authorized_datetime": moment.isoformat().replace("+00:00", "Z") if moment else None,
            "datetime": None,
            "name": name,
            "merchant_name": merchant_name,
            "pending": pending,
            "pending_transaction_id": pending_transaction_id,
            "payment_channel": "in store",
            "personal_finance_category": {"primary": category[0], "detailed": category[1], "confidence_level": "HIGH"},
            "transaction_code": None,
        }
        item.log.append((transaction_id, row))
        return transaction_id

    def _item(self, token: str) -> _PlaidItem:
        return self._items[token]

    def plaid_add(
        self,
        token: str,
        amount: Decimal | str,
        *,
        name: str = "COFFEE CORNER",
        merchant_name: str | None = "Coffee Corner",
        account: str = "checking",
        date: dt.date | None = None,
        pending: bool = False,
        category: tuple[str, str] = ("FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE"),
    ) -> str:
        """A new transaction (AMOUNT in Plaid's sign: positive = money out); its id."""
        with self._lock:
            return self._plaid_append(
                self._item(token),
                account=account,
                amount=Decimal(amount),
                name=name,
                merchant_name=merchant_name,
                day=date or self._today(),
                pending=pending,
                category=category,
            )

    def plaid_post(self, token: str, pending_id: str, *, amount: Decimal | str | None = None) -> str:
        """Post a pending transaction the way Plaid does: the pending id is removed and a new, posted one added
        with `pending_transaction_id` pointing back. Returns the posted id."""
        with self._lock:
            item = self._item(token)
            old = item.state(len(item.log))[pending_id]
            if not old["pending"]:
                raise ValueError(f"{pending_id} is not pending")
            item.log.append((pending_id, None))
            category = old["personal_finance_category"]
            return self._plaid_append(
                item,
                account="checking" if old["account_id"] == item.accounts[0]["account_id"] else "credit",
                amount=old["amount"] if amount is None else Decimal(amount),
                name=old["name"],
                merchant_name=old["merchant_name"],
                day=self._today(),
                pending=False,
                category=(category["primary"], category["detailed"]),
                pending_transaction_id=pending_id,
            )

    def plaid_modify(self, token: str, transaction_id: str, **changes: Any) -> dict[str, Any]:
        """Change fields of a transaction (e.g. amount=Decimal("9.99"), name="…"); the new version."""
        with self._lock:
            item = self._item(token)
            row = {**item.state(len(item.log))[transaction_id], **changes}
            item.log.append((transaction_id, row))
            return row

    def plaid_remove(self, token: str, transaction_id: str) -> None:
        with self._lock:
            item = self._item(token)
            if transaction_id not in item.state(len(item.log)):
                raise KeyError(transaction_id)
            item.log.append((transaction_id, None))

    def plaid_mutation_on_page(self, token: str, page: int, times: int = 1) -> None:
        """The PAGE-th page (1-based) of the next TIMES pagination runs answers MUTATION_DURING_PAGINATION."""
        with self._lock:
            item = self._item(token)
            item.mutation_page, item.mutation_times = page, times

    def plaid_login_required(self, token: str, required: bool = True) -> None:
        with self._lock:
            self._item(token).login_required = required

    def plaid_rate_limit(self, times: int = 1) -> None:
        """The next TIMES Plaid requests answer 429 RATE_LIMIT_EXCEEDED."""
        self.fail("plaid", 429, times=times)

    def plaid_transactions(self, token: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            item = self._item(token)
            return item.state(len(item.log))

    def plaid_accounts(self, token: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a) for a in self._item(token).accounts]

    def plaid_changes(self, token: str, cursor: str | None = None) -> PlaidChanges:
        """What a complete sync from CURSOR (a final next_cursor, or None for all history) must report."""
        with self._lock:
            item = self._item(token)
            base = self._read_cursor(item, cursor)[0] if cursor else 0
            changes = item.changes(base, len(item.log))
        upserted = {row["transaction_id"]: row for kind, row in changes if kind != "removed"}
        removed = frozenset((row["account_id"], row["transaction_id"]) for kind, row in changes if kind == "removed")
        return PlaidChanges(upserted, removed)

    # ------------------------------------------------------------------------------------------- WSGI
    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        bank, path = "unknown", request.path
        for name in BANKS:
            if request.path.startswith(f"/{name}/"):
                bank, path = name, request.path[len(name) + 1 :]
        text = request.get_data(as_text=True)
        try:
            body: Any = json.loads(text) if bank == "plaid" and text else text
        except ValueError:
            body = text
        logged = LoggedRequest(
            bank,
            request.method,
            path,
            request.args.to_dict(flat=False),
            {name.lower(): value for name, value in request.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(logged)
        try:
            response = self._respond(bank, path, request, body)
        except Exception as exc:  # a bug in the fake: report it loudly, never hang the client
            traceback.print_exc(file=sys.stderr)
            with self._lock:
                self.errors.append(exc)
            response = _json(500, {"errors": [f"fake bank bug: {exc!r}"]})
        return response(environ, start_response)

    def _take_rule(self, bank: str, target: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.bank in (bank, "*") and rule.path_contains in target and rule.remaining > 0:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def _respond(self, bank: str, path: str, request: Request, body: Any) -> Response:
        if bank == "unknown":
            return _json(404, {"errors": [f"no fake bank serves {request.path}"]})
        rule = self._take_rule(bank, f"{path}?{request.query_string.decode('latin-1')}")
        if rule is not None:
            response = self._failure(bank, rule.status)
            if rule.body is not None:
                response.set_data(rule.body)
            if rule.retry_after is not None:
                response.headers["Retry-After"] = rule.retry_after
            return response
        if bank == "simplefin":
            return self._simplefin(path, request)
        try:
            return self._plaid(path, request, body)
        except _PlaidError as exc:
            error = _plaid_error_body(exc.status, exc.error_type, exc.code, exc.message, exc.display)
            return _json(exc.status, error)

    @staticmethod
    def _failure(bank: str, status: int) -> Response:
        if bank == "simplefin":
            message = "Too many requests. Try again tomorrow." if status == 429 else f"Error {status}."
            return _json(status, {"errors": [message]})
        error_type, code, message = _PLAID_DEFAULT_ERRORS.get(
            status, _PLAID_DEFAULT_ERRORS[500] if status >= 500 else _PLAID_DEFAULT_ERRORS[400]
        )
        return _json(status, _plaid_error_body(status, error_type, code, message, None))

    # SimpleFIN -----------------------------------------------------------------------------------------
    def _simplefin(self, path: str, request: Request) -> Response:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "claim" and request.method == "POST":
            return self._claim(parts[1])
        if len(parts) == 3 and parts[0] == "bridge" and parts[2] == "accounts" and request.method == "GET":
            return self._accounts(parts[1], request)
        return _json(404, {"errors": [f"not found: {request.method} {path}"]})

    def _claim(self, claim: str) -> Response:
        with self._lock:
            if claim not in self._claims:
                return Response("Not found", status=404, mimetype="text/plain")
            if self._claims[claim] is not None:
                return Response("Forbidden", status=403, mimetype="text/plain")
            access = self.simplefin_access(self._claim_seeds[claim])
            self._claims[claim] = access.number
        return Response(access.url, status=200, mimetype="text/plain")

    def _accounts(self, number_text: str, request: Request) -> Response:
        forbidden = _json(403, {"errors": ["Forbidden: authentication failed."]})
        with self._lock:
            access = self._accesses.get(int(number_text)) if number_text.isdigit() else None
            if access is None:
                return forbidden
            auth = request.authorization
            if auth is None or auth.type != "basic" or (auth.username, auth.password) != (access.user, access.password):
                return forbidden
            today = dt.datetime.now(dt.UTC).date()
            used = access.requests_by_day.get(today, 0) + 1
            access.requests_by_day[today] = used
            if self.simplefin_quota is not None and used > self.simplefin_quota:
                return _json(429, {"errors": ["Too many requests. You have used today's quota; try tomorrow."]})
            accounts, extra_errors = access.accounts, list(access.errors)
        args = request.args
        now = int(self.simplefin_end.timestamp())
        try:
            end = int(args["end-date"]) if args.get("end-date") else now
            start = int(args["start-date"]) if args.get("start-date") else end - SIMPLEFIN_MAX_DAYS * DAY
        except ValueError:
            return _json(400, {"errors": ["start-date and end-date must be unix timestamps."]})
        errors: list[str] = []
        if end - start > SIMPLEFIN_MAX_DAYS * DAY:
            start = end - SIMPLEFIN_MAX_DAYS * DAY
            errors.append(
                f"Only {SIMPLEFIN_MAX_DAYS} days of transactions can be requested at once; the latest were sent."
            )
        pending = args.get("pending") == "1"
        balances_only = args.get("balances-only") == "1"
        served = 0
        out = []
        for account in accounts:
            copy = {k: v for k, v in account.items() if k != "transactions"}
            if not balances_only:
                rows = [r for r in account["transactions"] if _simplefin_selected(r, start, end, pending, now)]
                rows = rows[: max(0, SIMPLEFIN_MAX_TRANSACTIONS - served)]
                served += len(rows)
                copy["transactions"] = [dict(r) for r in rows]
            out.append(copy)
        return _json(200, {"errors": errors + extra_errors, "accounts": out})

    # Plaid ---------------------------------------------------------------------------------------------
    def _issue_cursor(self, item: _PlaidItem, base: int, snapshot: int | None, offset: int, page: int) -> str:
        payload = json.dumps([item.item_id, base, snapshot, offset, page], separators=(",", ":")).encode()
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")

    def _read_cursor(self, item: _PlaidItem, cursor: str) -> tuple[int, int | None, int, int]:
        invalid = _PlaidError(400, "INVALID_INPUT", "INVALID_FIELD", "cursor is not a valid cursor")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (ValueError, binascii.Error):
            raise invalid from None
        payload, mac = raw[:-12], raw[-12:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]):
            raise invalid
        item_id, base, snapshot, offset, page = json.loads(payload)
        if item_id != item.item_id:
            raise invalid
        return base, snapshot, offset, page

    def _plaid(self, path: str, request: Request, body: Any) -> Response:
        if request.method != "POST" or path not in ("/transactions/sync", "/accounts/get"):
            raise _PlaidError(404, "INVALID_REQUEST", "NOT_FOUND", f"unknown endpoint {path}")
        if not isinstance(body, dict):
            raise _PlaidError(400, "INVALID_REQUEST", "INVALID_BODY", "body could not be parsed as JSON")
        if body.get("client_id") != PLAID_CLIENT_ID or body.get("secret") != PLAID_SECRET:
            raise _PlaidError(400, "INVALID_INPUT", "INVALID_API_KEYS", "invalid client_id or secret provided")
        with self._lock:
            item = self._items.get(str(body.get("access_token")))
            if item is None:
                raise _PlaidError(
                    400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN", "provided access token is in an invalid format"
                )
            if item.login_required:
                raise _PlaidError(
                    400,
                    "ITEM_ERROR",
                    "ITEM_LOGIN_REQUIRED",
                    "the login details of this item have changed (credentials, MFA, or required user action) and a "
                    "user login is required to update this information. use Link's update mode to restore the item "
                    "to a good state",
                    "Please re-enter your credentials with the bank.",
                )
            accounts = [dict(a) for a in item.accounts]
            request_id = secrets.token_hex(8)
            if path == "/accounts/get":
                return _json(200, {"accounts": accounts, "item": {"item_id": item.item_id}, "request_id": request_id})
            return self._sync(item, body, accounts, request_id)

    def _sync(self, item: _PlaidItem, body: dict[str, Any], accounts: list[Any], request_id: str) -> Response:
        count = body.get("count", PLAID_DEFAULT_COUNT)
        if not isinstance(count, int) or not 1 <= count <= PLAID_MAX_COUNT:
            raise _PlaidError(400, "INVALID_REQUEST", "INVALID_FIELD", "count must be an integer from 1 to 500")
        cursor = body.get("cursor") or ""
        base, snapshot, offset, page = self._read_cursor(item, cursor) if cursor else (0, None, 0, 1)
        if snapshot is None:  # a fresh run: it reads the log as it is now
            snapshot, offset, page = len(item.log), 0, 1
        elif snapshot != len(item.log):
            raise _PlaidError(
                400,
                "TRANSACTIONS_ERROR",
                MUTATION,
                MUTATION_MESSAGE,
            )
        if item.mutation_times and item.mutation_page == page:
            item.mutation_times -= 1
            raise _PlaidError(
                400,
                "TRANSACTIONS_ERROR",
                MUTATION,
                MUTATION_MESSAGE,
            )
        changes = item.changes(base, snapshot)
        size = min(count, self.plaid_page_size) if self.plaid_page_size else count
        chosen = changes[offset : offset + size]
        has_more = offset + size < len(changes)
        next_cursor = (
            self._issue_cursor(item, base, snapshot, offset + size, page + 1)
            if has_more
            else self._issue_cursor(item, snapshot, None, 0, 1)
        )
        return _json(
            200,
            {
                "added": [row for kind, row in chosen if kind == "added"],
                "modified": [row for kind, row in chosen if kind == "modified"],
                "removed": [row for kind, row in chosen if kind == "removed"],
                "accounts": accounts,
                "next_cursor": next_cursor,
                "has_more": has_more,
                "request_id": request_id,
                "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
            },
        )
