"""Fixtures of the end-to-end browser tests: a real `spendwatch run`, a real Chromium driven by Playwright.

The e2e tests are collected only with `pytest --e2e` (`make test-e2e`); see tests/conftest.py. They need the built
web app (frontend/dist, `make frontend`) and a Chromium (Debian's `chromium`; Playwright never downloads one). When
either is missing the run FAILS with a message saying what to install: it never skips.

Fixtures (other e2e modules, e.g. benchmarks of the web app, reuse them):

* ``browser`` (module) — a headless Chromium (`CHROMIUM` env var, else `chromium` on PATH).
* ``fake_ai`` (session) — the fake OpenAI / Anthropic / OpenRouter server of tests/fakes/providers.py. Its dataset
  ends tomorrow, so "this month" has spend even on the 1st.
* ``spendwatch`` — a factory: ``spendwatch(**env)`` starts a fresh `spendwatch run` (own data dir, embedded SQLite,
  free port, scheduler inside, provider kinds pointed at ``fake_ai``, sync dispatch every second) and waits for
  /readyz; every server it started is stopped after the test. ENV adds or overrides environment variables.
* ``server`` — ``spendwatch()`` for one test: a `Server` with ``url``, ``log()``, ``http`` (an httpx client on the
  API) and ``register()`` / ``login()`` / ``headers()`` helpers.
* ``new_context`` — a factory of browser contexts (1280x800, en-US, UTC, base URL = ``server.url``) whose pages'
  console errors and uncaught exceptions are collected; the test fails at teardown if there were any.
* ``page`` — a page of a fresh ``new_context()``.
* ``owner`` — the first user (instance admin, owner of workspace 1), registered through the API, signed in on
  ``page`` through the sign-in form; a `User` with ``email``, ``password``, ``token``, ``workspace_id``.

Helpers (tests/e2e/helpers.py): ``sign_in(page, email, password)``, ``wait_settled(page)`` (no spinner, skeleton or
busy region left), ``usd(amount)`` (money as the app shows it), ``nav_link(page, name)``, ``add_openai_account``…
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from tests.conftest import PASSWORD
from tests.e2e.helpers import sign_in
from tests.fakes.dataset import Dataset
from tests.fakes.providers import FakeProviders
from tests.process import SPENDWATCH, clean_env

ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"
TIMEOUT_MS = 20_000  # generous: the machine is shared and slow at times; waits end as soon as the page is there
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root in a container, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

expect.set_options(timeout=TIMEOUT_MS)


def _chromium() -> str:
    """The Chromium to drive: $CHROMIUM, else `chromium` on PATH; fails the run (never skips) when there is none."""
    given = os.environ.get("CHROMIUM")
    found = given if given and Path(given).is_file() else shutil.which(given or "chromium")
    if not found:
        pytest.fail(
            "The e2e tests need Chromium and found none "
            f"({'CHROMIUM=' + given + ' does not exist' if given else '`chromium` is not on PATH'}). "
            "Install it (Debian/Ubuntu: apt-get install chromium) or point CHROMIUM at a Chromium binary. "
            "Playwright's own browser download is not used.",
            pytrace=False,
        )
    return found


# ------------------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium per test module. Not per session: between modules no Playwright is running, so a module
    that starts its own `sync_playwright()` (bench code run as a test) can; Playwright's sync API allows one at a time
    per thread."""
    if not DIST_INDEX.is_file():
        pytest.fail(
            f"The e2e tests need the built web app and {DIST_INDEX.relative_to(ROOT)} is missing: run `make frontend` "
            "(Node.js ^20.19 or >=22.12 and npm), or use `make test-e2e`, which builds it first.",
            pytrace=False,
        )
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleProblems:
    """Console errors and uncaught exceptions of every page of a test."""

    problems: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda web_error: self.problems.append(f"uncaught: {web_error.error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.problems.append(
                f"console.error at {message.page.url if message.page else '?'}: {message.text} {where}"
            )


@pytest.fixture
def console_problems() -> ConsoleProblems:
    return ConsoleProblems()


@pytest.fixture
def new_context(
    browser: Browser, server: Server, console_problems: ConsoleProblems
) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts (each its own cookies and localStorage: a separate user); console errors fail the test."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        settings: dict[str, Any] = {
            "base_url": server.url,
            "viewport": VIEWPORT,
            "locale": "en-US",
            "timezone_id": "UTC",
            **options,
        }
        context = browser.new_context(**settings)
        context.set_default_timeout(TIMEOUT_MS)
        console_problems.watch(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not console_problems.problems, "the browser reported errors:\n" + "\n".join(console_problems.problems)


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


# ------------------------------------------------------------------------------------------------ servers


@pytest.fixture(scope="session")
def fake_ai() -> Iterator[FakeProviders]:
    """The fake AI providers. The dataset ends tomorrow (UTC) instead of today, so the month so far has spend on any
    day of the month, the 1st included (with the default end, the 1st would have none and no budget could fire)."""
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    fake = FakeProviders(Dataset(end=tomorrow)).start()
    try:
        yield fake
    finally:
        fake.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class User:
    email: str
    password: str
    token: str
    workspace_id: int


class Server:
    """One `spendwatch run` process with its own data dir and log."""

    def __init__(self, process: subprocess.Popen[str], url: str, data_dir: Path, log_path: Path) -> None:
        self.process = process
        self.url = url
        self.data_dir = data_dir
        self.log_path = log_path
        self.http = httpx.Client(base_url=url, timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"spendwatch run exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = self.http.get("/readyz", timeout=2)
                if response.status_code == 200:
                    return
                last = response
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.2)  # polling interval of a readiness probe, not a synchronisation
        pytest.fail(f"spendwatch run: /readyz not 200 within {timeout:.0f}s (last: {last!r}):\n{self.log()}")

    @staticmethod
    def headers(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {user.token}", "X-Workspace-Id": str(user.workspace_id)}

    def register(self, email: str, password: str = PASSWORD, **extra: Any) -> User:
        """Sign up through the API (the first user becomes instance admin and owns workspace 1)."""
        response = self.http.post("/api/auth/register", json={"email": email, "password": password, **extra})
        assert response.status_code == 201, response.text
        body = response.json()
        return User(email, password, body["access_token"], body["workspaces"][0]["workspace_id"])

    def login(self, email: str, password: str = PASSWORD) -> User:
        """Sign in through the API (a token for checking what the page shows against the API)."""
        response = self.http.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        body = response.json()
        return User(email, password, body["access_token"], body["workspaces"][0]["workspace_id"])

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# The scheduler's knobs (jobs/table.py), short where there is one: "Sync now" starts within SYNC_DISPATCH_SECONDS.
# Delivery runs every second already, and the worker evaluates a workspace's alerts right after each of its syncs
# (the minute's alert tick has no knob and is not waited for).
FAST_SCHEDULER = {"SYNC_DISPATCH_SECONDS": "1"}


@pytest.fixture
def spendwatch(tmp_path_factory: pytest.TempPathFactory, fake_ai: FakeProviders) -> Iterator[Callable[..., Server]]:
    """Start fresh `spendwatch run` processes (embedded SQLite in a new data dir); all stopped after the test."""
    servers: list[Server] = []

    def start(**env: str) -> Server:
        home = tmp_path_factory.mktemp("spendwatch")
        port = _free_port()
        variables = clean_env(
            SPENDWATCH_DATA_DIR=str(home / "var"),
            SPENDWATCH_HOST="127.0.0.1",
            SPENDWATCH_PORT=str(port),
            LOG_LEVEL="INFO",
            LOG_FORMAT="text",
            SPENDWATCH_PROVIDER_URL_OPENAI=fake_ai.openai_url,
            SPENDWATCH_PROVIDER_URL_ANTHROPIC=fake_ai.anthropic_url,
            SPENDWATCH_PROVIDER_URL_OPENROUTER=fake_ai.openrouter_url,
            **FAST_SCHEDULER,
        )
        variables.update(env)
        log_path = home / "spendwatch.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [str(SPENDWATCH), "run"], env=variables, cwd=home, stdout=log, stderr=subprocess.STDOUT, text=True
            )
        server = Server(process, f"http://127.0.0.1:{port}", home / "var", log_path)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(spendwatch: Callable[..., Server], request: pytest.FixtureRequest) -> Iterator[Server]:
    """A fresh Spendwatch for this test; its log is printed when the test fails."""
    server = spendwatch()
    yield server
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        # The scheduler's "Running job …" lines every second would drown the rest.
        lines = [line for line in server.log().splitlines() if "apscheduler" not in line]
        print(f"--- spendwatch log without the scheduler's lines ({server.log_path}) ---")
        print("\n".join(lines[-300:]))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ------------------------------------------------------------------------------------------------ users


@pytest.fixture
def owner(server: Server, page: Page) -> User:
    """The first user (instance admin), signed up through the API and signed in on `page` through the form."""
    user = server.register("olive@example.com", name="Olive Owner")
    sign_in(page, user.email, user.password)
    return user
