"""The `spendwatch` command: run, api, worker, db, users, keys and jobs, built on the Flask CLI."""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click
from flask import current_app
from flask.cli import ScriptInfo

from backend.config import LOG_LEVELS, ConfigError, Settings, load_settings
from backend.extensions import get_state
from backend.logging_setup import configure_logging

log = logging.getLogger("spendwatch")


def _settings() -> Settings:
    # Log with the requested format from the first line on (settings loading may itself log).
    production = os.environ.get("APP_ENV", "").strip().lower() == "production"
    fmt = os.environ.get("LOG_FORMAT") or ("json" if production else "text")
    level = (os.environ.get("LOG_LEVEL") or "").strip().upper()
    # Until the settings are validated, fall back quietly: load_settings() reports a bad value properly.
    configure_logging(level=level if level in LOG_LEVELS else "INFO", fmt=fmt if fmt in ("json", "text") else "text")
    try:
        return load_settings()
    except ConfigError as exc:
        # A configuration problem is the operator's to fix: say what, without a traceback.
        click.echo(f"spendwatch: configuration error: {exc}", err=True)
        sys.exit(2)


def _create_app() -> Any:
    from backend.app import create_app

    settings = _settings()
    configure_logging(settings)
    return create_app(settings)


def _state() -> Any:
    return get_state(current_app)


def with_app(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an app context; commands without it (help, keys generate…) need no config.

    Flask's test CLI runner passes its app through ScriptInfo; otherwise the app is built from the environment.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        info = click.get_current_context().find_object(ScriptInfo)
        app = info.load_app() if info is not None else _create_app()
        with app.app_context():
            return func(*args, **kwargs)

    return wrapper


def _stop_on_sigterm() -> None:
    """Treat SIGTERM (docker stop, systemd) like Ctrl-C, so servers and schedulers shut down cleanly."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@click.group()
def main() -> None:
    """Spendwatch: a self-hosted spend monitor."""
    # Files Spendwatch creates (SQLite database and journals, generated secrets) are private to its user.
    os.umask(0o077)


@main.command("run")
@click.option("--host", default=None, help="Interface to listen on (default SPENDWATCH_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default SPENDWATCH_PORT or 8000).")
@click.option("--no-scheduler", is_flag=True, help="Serve the API only.")
@with_app
def run_command(host: str | None, port: int | None, no_scheduler: bool) -> None:
    """Apply migrations, then serve the API and run the scheduler in this one process."""
    from waitress import serve

    from backend import migrate
    from jobs.scheduler import build_scheduler

    state = _state()
    settings: Settings = state.settings
    migrate.upgrade(settings.database_url)
    _stop_on_sigterm()
    host = host or settings.host
    port = port or settings.port
    if not os.environ.get("BASE_URL") and (host, port) != (settings.host, settings.port):
        # Links in invites and in alert emails must point where this process listens when BASE_URL is not set:
        # set before the scheduler is built, which keeps the settings it is given (its alert links came out as
        # the default http://127.0.0.1:8000 while invitations were right).
        settings = state.settings = replace(settings, base_url=f"http://{host}:{port}")
    scheduler = None
    if not no_scheduler:
        scheduler = build_scheduler(state.db, settings, background=True)
        scheduler.start()
    log.info("Spendwatch is up at http://%s:%s (database: %s)", host, port, state.db.dialect)
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        serve(app, host=host, port=port, threads=8, ident="spendwatch")
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@main.command("api")
@click.option("--bind", default=None, help="host:port (default SPENDWATCH_HOST:SPENDWATCH_PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (default WEB_CONCURRENCY).")
def api_command(bind: str | None, workers: int | None) -> None:
    """Serve the API with gunicorn (production). The scheduler runs separately: `spendwatch worker`."""
    from gunicorn.app.base import BaseApplication

    settings = _settings()

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind or f"{settings.host}:{settings.port}")
            self.cfg.set("workers", workers or settings.web_concurrency)
            self.cfg.set("accesslog", "-")
            # Heartbeat files in RAM: a slow or full disk must not make gunicorn think workers hung.
            self.cfg.set("worker_tmp_dir", "/dev/shm" if sys.platform.startswith("linux") else None)  # noqa: S108

        def load(self) -> Any:
            return _create_app()

    _Gunicorn().run()


@main.command("worker")
@with_app
def worker_command() -> None:
    """Run the scheduler only (as many replicas as you like: work is claimed in the database)."""
    from jobs.scheduler import build_scheduler

    _stop_on_sigterm()
    state = _state()
    scheduler = build_scheduler(state.db, state.settings, background=False)
    log.info("worker started with %d job(s)", len(scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("worker stopped")


@main.group("db")
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_app
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from backend import migrate

    migrate.upgrade(_state().settings.database_url, revision)
    click.echo(f"database is at {', '.join(migrate.current_revisions(_state().db.engine)) or 'base'}")


@db_group.command("downgrade")
@click.argument("revision")
@with_app
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` empties the database)."""
    from backend import migrate

    migrate.downgrade(_state().settings.database_url, revision)
    click.echo(f"database is at {', '.join(migrate.current_revisions(_state().db.engine)) or 'base'}")


@db_group.command("current")
@with_app
def db_current() -> None:
    """Show the database's revision and the code's head."""
    from backend import migrate

    current = migrate.current_revisions(_state().db.engine)
    click.echo(f"database: {', '.join(current) or 'base'}; code head: {', '.join(migrate.head_revisions())}")


@main.group("users")
def users_group() -> None:
    """User administration."""


@users_group.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make the user an instance administrator.")
@click.option("--name", default="", help="Display name.")
@click.option("--workspace", "workspace_name", default=None, help="Name of the workspace the user will own.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_app
def users_create(email: str, admin: bool, name: str, workspace_name: str | None, password_stdin: bool) -> None:
    """Create a user who owns a new workspace."""
    from backend.errors import ApiError
    from backend.services import auth, workspaces

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _state().db.system_session() as session:
        try:
            user = auth.create_user(session=session, email=email, password=password, name=name, is_admin=admin)
            membership = workspaces.create_workspace(
                session=session, owner=user, name=workspace_name or f"{user.email.split('@')[0]}'s workspace"
            )
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(
            f"created user {user.email} (id {user.id}{', instance admin' if admin else ''}), "
            f"owner of workspace {membership.workspace.name!r} (id {membership.workspace_id})"
        )


@users_group.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    "--stdin",
    "password_stdin",
    is_flag=True,
    help="Read the password from standard input (also done when stdin is not a terminal).",
)
@with_app
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set a user's password (account recovery) and sign out all their sessions."""
    from backend.errors import ApiError
    from backend.services import auth, login_throttle

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _state().db.system_session() as session:
        user = auth.find_user(session=session, email=email)
        if user is None:
            raise click.ClickException(f"no user with the email {auth.normalize_email(email)!r}")
        try:
            auth.set_password(session=session, user=user, new=password)
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
        login_throttle.clear(session=session, email=user.email)  # a recovered admin can sign in at once
        session.commit()
        click.echo(f"password of {user.email} set; every session of this user was signed out")


@users_group.command("unlock")
@click.argument("email")
@with_app
def users_unlock(email: str) -> None:
    """Clear the sign-in throttling of an email, from every address."""
    from backend.services import auth, login_throttle

    with _state().db.system_session() as session:
        normalized = auth.normalize_email(email)
        removed = login_throttle.clear(session=session, email=normalized)
        session.commit()
        click.echo(f"cleared sign-in throttling of {normalized} ({removed} client address(es))")


@main.group("keys")
def keys_group() -> None:
    """Encryption keys of stored secrets."""


@keys_group.command("generate")
def keys_generate() -> None:
    """Print a new Fernet key (prepend it to ENCRYPTION_KEYS, restart, then run `keys rotate`)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@keys_group.command("rotate")
@with_app
def keys_rotate() -> None:
    """Re-encrypt every stored secret under the newest key (the first of ENCRYPTION_KEYS)."""
    from backend.services import keys

    with _state().db.system_session() as session:
        report = keys.rotate_all(session=session)
    tables = ", ".join(f"{t}: {n}" for t, n in sorted(report.tables.items())) or "none"
    click.echo(
        f"re-encrypted {report.rotated} secret(s) ({tables}); {report.already_current} already under the newest key"
        + (f"; {report.unreadable} under no configured key (left as they are)" if report.unreadable else "")
    )


@keys_group.command("status")
@with_app
def keys_status() -> None:
    """How many secrets are under the newest key and how many still need `keys rotate`."""
    from backend.services import keys

    with _state().db.system_session() as session:
        status = keys.key_status(session=session)
    click.echo(
        f"{status['keys']} key(s) configured; {status['secrets_current']} secret(s) under the newest key, "
        f"{status['secrets_stale']} under an older one, {status['secrets_unreadable']} under no configured key"
    )


@main.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs."""


@jobs_group.command("list")
def jobs_list() -> None:
    """List the scheduler's jobs with their schedules."""
    from backend.config import SyncSettings
    from jobs.table import JOBS

    # Settings-dependent schedules are shown with their defaults: listing needs no configuration.
    for job in JOBS:
        click.echo(f"{job.id:<16} every {job.describe_schedule(SyncSettings()):<12} {job.description}")


@jobs_group.command("run")
@click.argument("name")
@with_app
def jobs_run(name: str) -> None:
    """Run one job now, in this process."""
    from jobs.runner import run_job
    from jobs.table import JOBS_BY_ID

    job = JOBS_BY_ID.get(name)
    if job is None:
        raise click.ClickException(f"no job named {name!r}; see `spendwatch jobs list`")
    state = _state()
    try:
        result = run_job(name, lambda: job.run_once(state.db, state.settings), raise_errors=True)
    except Exception as exc:
        raise click.ClickException(f"job {name} failed: {type(exc).__name__} (details in the log above)") from None
    click.echo(f"{name}: {result}")


@main.command("demo")
@click.option("--workspace", "workspace_id", type=int, default=None, help="Workspace id (default: the only one).")
@click.option("--remove", is_flag=True, help="Remove the demo data instead of loading it.")
@with_app
def demo_command(workspace_id: int | None, remove: bool) -> None:
    """Load demo data (accounts, usage, transactions, budgets, a channel) into a workspace, or --remove it."""
    from sqlalchemy import select

    from backend.errors import ApiError
    from backend.models import Workspace
    from backend.services import demo
    from jobs.alerts import evaluate_workspace

    state = _state()
    with state.db.system_session() as session:
        workspaces = session.execute(select(Workspace.id, Workspace.name).order_by(Workspace.id)).all()
        if workspace_id is None:
            if not workspaces:
                raise click.ClickException("there is no workspace yet: sign up first, or `spendwatch users create`")
            if len(workspaces) > 1:
                listed = ", ".join(f"{w.id} ({w.name})" for w in workspaces)
                raise click.ClickException(f"several workspaces exist; choose one with --workspace: {listed}")
            workspace_id = int(workspaces[0].id)
        elif workspace_id not in {w.id for w in workspaces}:
            raise click.ClickException(f"no workspace with id {workspace_id}")
        target = workspace_id

        def evaluate() -> None:
            evaluate_workspace(state.db, state.settings, target)

        if remove:
            removed = demo.unload(session, workspace_id=target, evaluate=evaluate)
            if not removed.anything:
                click.echo(f"workspace {target} has no demo data; nothing removed")
                return
            click.echo(
                f"removed the demo data of workspace {target}: {removed.accounts} provider account(s), "
                f"{removed.bank_accounts} bank account(s), {removed.budgets} budget(s), {removed.channels} channel(s)"
            )
            return
        try:
            created = demo.load(session, workspace_id=target, evaluate=evaluate)
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(
            f"loaded demo data into workspace {target}: {len(created.account_ids)} demo provider accounts "
            f"({created.usage_records} usage records, ${created.usage_cost:.2f}), bank account "
            f"{demo.BANK_NAME!r} ({created.transactions} transactions), {len(created.budget_ids)} budgets and a "
            f"disabled webhook channel. Remove it with `spendwatch demo --remove`."
        )
