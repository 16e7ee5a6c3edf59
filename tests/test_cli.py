"""The `spendwatch` console script, run for real as a subprocess against the test database."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update

from backend.db import utcnow
from backend.migrate import head_revisions
from backend.models import AuthSession, LoginThrottle, User
from tests.conftest import PASSWORD, Api
from tests.process import SPENDWATCH, clean_env


def run_cli(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SPENDWATCH), *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=180
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text
        assert 'File "' not in text


@pytest.fixture
def cli_env(settings, database_url, tmp_path) -> dict[str, str]:
    """The environment of a CLI process sharing this test's database and secrets with the `settings` fixture."""
    return clean_env(
        SPENDWATCH_DATA_DIR=str(tmp_path / "cli-data"),
        DATABASE_URL=database_url,
        SECRET_KEY=settings.secret_key,
        ENCRYPTION_KEYS=settings.encryption_keys[0],
    )


@pytest.fixture
def cli(cli_env, tmp_path):
    def call(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env={**cli_env, **env}, cwd=tmp_path, stdin=stdin)

    return call


def user_count(app) -> int:
    with app.extensions["spendwatch"].db.system_session() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


# --- db ---------------------------------------------------------------------------------------------


def test_db_upgrade_then_current_shows_head(cli):
    head = head_revisions()
    assert len(head) == 1

    upgraded = cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"database is at {head[0]}" in upgraded.stdout

    current = cli("db", "current")
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"database: {head[0]}; code head: {head[0]}"


def test_db_upgrade_of_a_fresh_embedded_database(tmp_path):
    """No DATABASE_URL: the embedded SQLite file in the data dir goes from base to head."""
    data = tmp_path / "data"
    env = clean_env(SPENDWATCH_DATA_DIR=str(data))
    head = head_revisions()[0]

    before = run_cli("db", "current", env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == f"database: base; code head: {head}"

    upgraded = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (data / "spendwatch.db").is_file()

    after = run_cli("db", "current", env=env, cwd=tmp_path)
    assert after.stdout.strip() == f"database: {head}; code head: {head}"


# --- users ------------------------------------------------------------------------------------------


def test_users_create_admin_then_sign_in(cli, make_app):
    result = cli("users", "create", "admin@example.com", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "admin@example.com" in result.stdout
    assert "instance admin" in result.stdout
    assert re.search(r"id \d+", result.stdout)
    assert PASSWORD not in result.stdout + result.stderr

    api = Api(make_app().test_client())
    session = api.login("admin@example.com")
    assert session["user"]["is_admin"] is True
    assert session["user"]["email"] == "admin@example.com"
    assert [w["role"] for w in session["workspaces"]] == ["owner"]
    me = api.call("GET", "/api/auth/me", session["access_token"])
    assert me.status_code == 200
    assert me.get_json()["user"]["is_admin"] is True


def test_users_create_without_admin_flag_makes_a_plain_user(cli, make_app):
    result = cli("users", "create", "plain@example.com", "--name", "Pat", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "instance admin" not in result.stdout
    session = Api(make_app().test_client()).login("plain@example.com")
    assert session["user"]["is_admin"] is False
    assert session["user"]["name"] == "Pat"


def test_users_create_same_email_twice_fails_clearly(cli, make_app):
    first = cli("users", "create", "twice@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert first.returncode == 0, first.stderr
    # Emails are case-insensitive: the second spelling is the same account.
    again = cli("users", "create", "Twice@Example.com", "--admin", "--password-stdin", stdin="another long password\n")
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert_no_traceback(again)
    app = make_app()
    assert user_count(app) == 1
    # The first account is untouched: old password works, no admin bit was granted.
    assert Api(app.test_client()).login("twice@example.com")["user"]["is_admin"] is False


def test_users_create_refuses_a_short_password(cli, make_app):
    result = cli("users", "create", "short@example.com", "--password-stdin", stdin="short\n")
    assert result.returncode != 0
    assert "at least 10 characters" in result.stderr
    assert_no_traceback(result)
    assert user_count(make_app()) == 0


def test_users_create_refuses_an_invalid_email(cli, make_app):
    """An address the sign-in form would reject must not become an account nobody can sign in to."""
    result = cli("users", "create", "not-an-email", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode != 0, result.stdout
    assert "email" in result.stderr.lower()
    assert_no_traceback(result)
    assert user_count(make_app()) == 0


def _throttle_for_ten_minutes(app, client, email: str) -> None:
    """Fail sign-in from the test client's address until it is throttled, and make the wait outlast the test."""
    for _ in range(5):
        client.post("/api/auth/login", json={"email": email, "password": "a forgotten guess"})
    with app.extensions["spendwatch"].db.session() as session:
        session.execute(update(LoginThrottle).values(blocked_until=utcnow() + dt.timedelta(minutes=10)))
        session.commit()
    assert client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 429


def test_users_set_password_recovers_a_sole_admin_and_ends_their_sessions(cli, app, client, owner):
    # The sole admin forgot the password, and someone has been guessing it from their address meanwhile.
    _throttle_for_ten_minutes(app, client, "owner@example.com")
    result = cli("users", "set-password", "Owner@Example.com", stdin="a recovered passphrase\n")  # stdin: no tty
    assert result.returncode == 0, result.stderr
    assert "owner@example.com" in result.stdout and "a recovered passphrase" not in result.stdout + result.stderr

    old_refresh = Api(client).refresh()  # the refresh cookie the sign-up left in this client's jar
    assert old_refresh.status_code == 401 and old_refresh.get_json()["error"]["code"] == "session_revoked"
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 401
    # Signed in at once, from the very address that was throttled: set-password clears the throttling too.
    assert Api(client).login("owner@example.com", "a recovered passphrase")["user"]["is_admin"] is True


def test_users_set_password_applies_the_api_rules(cli, owner):
    short = cli("users", "set-password", "owner@example.com", "--password-stdin", stdin="short\n")
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    unknown = cli("users", "set-password", "nobody@example.com", "--stdin", stdin="a long enough password\n")
    assert unknown.returncode != 0 and "no user" in unknown.stderr
    for result in (short, unknown):
        assert_no_traceback(result)


def test_users_unlock_clears_the_throttling_of_an_email(cli, app, client, owner):
    _throttle_for_ten_minutes(app, client, "owner@example.com")
    result = cli("users", "unlock", "OWNER@example.com")
    assert result.returncode == 0, result.stderr
    assert "owner@example.com (1 client address(es))" in result.stdout
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 200


# --- jobs -------------------------------------------------------------------------------------------


def test_jobs_list(cli):
    result = cli("jobs", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    [line] = [line for line in lines if line.split()[0] == "housekeeping"]
    assert "every 1h" in line


def test_jobs_run_housekeeping_deletes_expired_sessions(cli, app, api, owner):
    # Two sign-in sessions: the owner's registration session, expired long ago, and a fresh login.
    fresh = api.login("owner@example.com")
    with app.extensions["spendwatch"].db.system_session() as session:
        sessions = session.scalars(select(AuthSession.id)).all()
        assert len(sessions) == 2
        old_id = next(sid for sid in sessions if sid != _sid(app, fresh["access_token"]))
        session.execute(
            update(AuthSession).where(AuthSession.id == old_id).values(expires_at=utcnow() - dt.timedelta(days=3))
        )

    result = cli("jobs", "run", "housekeeping")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "housekeeping: {'expired_sessions_deleted': 1, 'stale_login_throttles_deleted': 0, 'spent_signups_deleted': 0}"
    )

    with app.extensions["spendwatch"].db.system_session() as session:
        assert session.scalars(select(AuthSession.id)).all() == [_sid(app, fresh["access_token"])]
    assert api.call("GET", "/api/auth/me", fresh["access_token"]).status_code == 200


def _sid(app, token: str) -> str:
    from flask_jwt_extended import decode_token

    with app.app_context():
        return str(decode_token(token)["sid"])


def test_jobs_run_unknown_job_fails_clearly(cli):
    result = cli("jobs", "run", "nope")
    assert result.returncode != 0
    assert "no job named 'nope'" in result.stderr
    assert "jobs list" in result.stderr
    assert_no_traceback(result)


def test_jobs_run_reports_a_failing_job_with_a_nonzero_exit(tmp_path):
    """A job that fails (here: the database has no tables yet) must not look like a success to cron."""
    env = clean_env(SPENDWATCH_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    result = run_cli("jobs", "run", "housekeeping", env=env, cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    assert "housekeeping" in result.stderr
    assert "fail" in result.stderr.lower()


# --- keys -------------------------------------------------------------------------------------------


def test_keys_generate_prints_a_valid_fernet_key(cli):
    first = cli("keys", "generate")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) == 44
    token = Fernet(key.encode()).encrypt(b"hello")
    assert Fernet(key.encode()).decrypt(token) == b"hello"
    second = cli("keys", "generate")
    assert second.stdout.strip() != key


def test_keys_status_and_rotate(cli, settings, make_app, api, owner):
    response = api.call(
        "POST",
        "/api/accounts",
        owner["access_token"],
        json={"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-rotate-me-1234"}},
    )
    assert response.status_code == 201, response.get_json()
    account_id = response.get_json()["id"]

    status = cli("keys", "status")
    assert status.returncode == 0, status.stderr
    match = re.fullmatch(
        r"1 key\(s\) configured; (\d+) secret\(s\) under the newest key, 0 under an older one, "
        r"0 under no configured key",
        status.stdout.strip(),
    )
    assert match, status.stdout
    secrets_total = int(match.group(1))
    assert secrets_total >= 1  # at least the demo account's credentials

    new_key = Fernet.generate_key().decode()
    keys = f"{new_key},{settings.encryption_keys[0]}"
    stale = cli("keys", "status", ENCRYPTION_KEYS=keys)
    assert stale.stdout.strip() == (
        f"2 key(s) configured; 0 secret(s) under the newest key, {secrets_total} under an older one, "
        "0 under no configured key"
    )
    rotated = cli("keys", "rotate", ENCRYPTION_KEYS=keys)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith(f"re-encrypted {secrets_total} secret(s)")
    after = cli("keys", "status", ENCRYPTION_KEYS=keys)
    assert after.stdout.strip() == (
        f"2 key(s) configured; {secrets_total} secret(s) under the newest key, 0 under an older one, "
        "0 under no configured key"
    )

    # An app that knows only the new key still reads the credentials (shown as a hint).
    fresh = Api(make_app(encryption_keys=(new_key,)).test_client())
    token = fresh.login("owner@example.com")["access_token"]
    account = fresh.call("GET", f"/api/accounts/{account_id}", token)
    assert account.status_code == 200, account.get_json()
    hint = account.get_json()["credentials"]["api_key"]
    assert hint != "demo-rotate-me-1234"
    assert hint.endswith("1234")


# --- commands that must not need the app's secrets --------------------------------------------------


@pytest.mark.parametrize("args", [("keys", "generate"), ("jobs", "list"), ("--help",)])
def test_offline_commands_work_in_production_without_secrets(tmp_path, args):
    """`keys generate` is how an operator makes ENCRYPTION_KEYS for a production container (APP_ENV=production
    is the image default); it, `jobs list` and `--help` need neither the secrets nor the database."""
    env = clean_env(APP_ENV="production", SPENDWATCH_DATA_DIR=str(tmp_path / "data"))
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "configuration error" not in result.stderr
    if args == ("keys", "generate"):
        Fernet(result.stdout.strip().encode())
    elif args == ("jobs", "list"):
        assert "housekeeping" in result.stdout
    else:
        for command in ("run", "worker", "db", "users", "keys", "jobs"):
            assert command in result.stdout
