"""Fixtures: a migrated database (SQLite by default, PostgreSQL with --db=postgres), the app and its client."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from backend.app import create_app
from backend.config import Settings
from backend.migrate import upgrade
from backend.models import Base
from tests.fakes.fixtures import (  # noqa: F401
    fake_banks,
    fake_banks_server,
    fake_providers,
    fake_providers_server,
    receiver,
    smtp,
)
from tests.postgres import url_or_cluster

PASSWORD = "correct horse battery"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("SPENDWATCH_TEST_DB", "sqlite"),
        help="database to run the tests on (postgres starts a throwaway cluster, or uses "
        "SPENDWATCH_TEST_POSTGRES_URL when set)",
    )
    parser.addoption(
        "--e2e",
        action="store_true",
        default=False,
        help="collect the end-to-end browser tests in tests/e2e (a real `spendwatch run` driven by Chromium; "
        "`make test-e2e`); without it they are not collected, so the --db runs do not repeat them",
    )


E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/e2e and everything in it is collected only with --e2e (it does not depend on --db: run it once)."""
    if not config.getoption("--e2e") and collection_path.resolve().is_relative_to(E2E_DIR):
        return True
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    e2e = "collected" if config.getoption("--e2e") else "not collected (add --e2e, or run `make test-e2e`)"
    return [f"spendwatch test database: {config.getoption('--db')}", f"spendwatch e2e browser tests: {e2e}"]


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def postgres_url(db_kind: str) -> Iterator[str | None]:
    if db_kind != "postgres":
        yield None
        return
    with url_or_cluster("SPENDWATCH_TEST_POSTGRES_URL") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory, postgres_url: str | None) -> str:
    """Migrate once per run: a template SQLite file to copy, or the PostgreSQL database itself."""
    if postgres_url:
        upgrade(postgres_url)
        return postgres_url
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_template: str, postgres_url: str | None, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    if postgres_url:
        _truncate_postgres(postgres_url)
        return postgres_url
    target = tmp_path / "spendwatch.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, encryption_key: str) -> Settings:
    return Settings(
        app_env="test",
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        encryption_keys=(encryption_key,),
        base_url="http://spendwatch.test",
        auth_rate_limit="1000 per minute",
        refresh_rate_limit="1000 per minute",
    )


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Any]:
    """Build apps on this test's database, optionally with changed settings; all disposed afterwards."""
    apps: list[Any] = []

    def build(**changes: Any) -> Any:
        app = create_app(replace(settings, **changes))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["spendwatch"].db.dispose()


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


SIGNUP_LINK = re.compile(r"/verify-email#token=([A-Za-z0-9_-]+)")


def signup_token_from_outbox(app: Any, email: str) -> str:
    """The token of the newest sign-up link mailed to EMAIL, read from the mail outbox folder (no SMTP host set)."""
    outbox = app.extensions["spendwatch"].settings.data_dir / "mail-outbox"
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        if str(mail["To"]).lower() == email.lower():
            match = SIGNUP_LINK.search(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            if match:
                return match.group(1)
    raise AssertionError(f"no sign-up link for {email} in {outbox}")


class Api:
    """A small client wrapper: signs up users and sends authenticated JSON requests."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def register(self, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        """Sign up as a user would: the first user and invitees at once; in open mode by the emailed link."""
        response = self.client.post("/api/auth/register", json={"email": email, "password": password, **extra})
        if response.status_code == 202:
            token = signup_token_from_outbox(self.client.application, email)
            response = self.client.post("/api/auth/register/verify", json={"token": token, "password": password})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def session_cookies(self) -> tuple[str, str]:
        """The refresh cookie and its CSRF value that the last sign-in or refresh left in this client's cookie jar."""
        refresh = self.client.get_cookie("spendwatch_refresh", path="/api/auth")
        csrf = self.client.get_cookie("spendwatch_csrf")
        assert refresh is not None and csrf is not None, "no session cookies: sign in first"
        return refresh.value, csrf.value

    def refresh(self) -> Any:
        """POST /api/auth/refresh as the web app does: the refresh cookie from the jar plus the CSRF header."""
        _refresh, csrf = self.session_cookies()
        return self.client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})

    @staticmethod
    def headers(token: str, workspace_id: int | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if workspace_id is not None:
            headers["X-Workspace-Id"] = str(workspace_id)
        return headers

    def call(self, method: str, path: str, token: str, workspace_id: int | None = None, **kwargs: Any) -> Any:
        return self.client.open(path, method=method, headers=self.headers(token, workspace_id), **kwargs)


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def owner(api: Api) -> dict[str, Any]:
    """The first user: instance admin and owner of workspace 1."""
    return api.register("owner@example.com", name="Olive Owner")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests about one database only are deselected, not skipped, on the other run: PostgreSQL-only ones (row-level
    security…) on SQLite, SQLite-only ones (its write lock) on PostgreSQL."""
    other = "sqlite_only" if config.getoption("--db") == "postgres" else "postgres_only"
    keep = [item for item in items if item.get_closest_marker(other) is None]
    dropped = [item for item in items if item.get_closest_marker(other) is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
