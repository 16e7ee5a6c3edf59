"""Database engine, sessions, the declarative base and the per-transaction workspace context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, MetaData, Numeric, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

# Stable constraint names make Alembic autogenerate and SQLite batch migrations deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC, we re-attach the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class AmountOutOfRange(ValueError):
    """A decimal value beyond what its ExactDecimal column can hold (the API answers 422 amount_out_of_range)."""


INT64_MAX = 2**63 - 1


class ExactDecimal(TypeDecorator[Decimal]):
    """Exact decimals on every backend: NUMERIC(PRECISION, SCALE) on PostgreSQL; on SQLite (whose NUMERIC is a
    float past 15 digits) an INTEGER holding value * 10**SCALE. Values round half away from zero to SCALE (as
    PostgreSQL's numeric does); beyond LIMIT they are refused on both backends, so both accept the same values."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self.quantum = Decimal(1).scaleb(-scale)
        # The largest magnitude both backends hold: PostgreSQL's PRECISION digits and SQLite's signed 64-bit integer.
        self.limit = min(Decimal(10) ** (precision - scale) - self.quantum, Decimal(INT64_MAX).scaleb(-scale))

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def exact(self, value: Decimal | int | str) -> Decimal:
        """VALUE rounded to the column's scale; AmountOutOfRange if it is not finite or beyond the limit."""
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            raise AmountOutOfRange(f"{value!s:.40} is not a number") from None
        # Checked before rounding: quantize() itself fails past 28 digits.
        if not number.is_finite() or abs(number) >= self.limit + self.quantum / 2:
            raise AmountOutOfRange(f"{value!s:.40} is beyond ±{self.limit}")
        return number.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def clamp(self, value: Decimal) -> Decimal:
        """VALUE limited to what the column holds: for figures the server computes (never for input)."""
        return max(-self.limit, min(self.limit, value))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        rounded = self.exact(value)
        return int(rounded.scaleb(self.scale)) if dialect.name == "sqlite" else rounded

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or dialect.name != "sqlite":
            return value if value is None or isinstance(value, Decimal) else Decimal(str(value))
        # SQL over these columns (SUM, MIN, MAX, CASE, COALESCE, unary minus) keeps the scaled integers, and
        # inherits this type, so its results come back here too. Never divide or multiply them in SQL.
        return Decimal(int(value)).scaleb(-self.scale).quantize(self.quantum)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Session.info keys for the row-level-security context (see set_workspace / system_context).
WORKSPACE_KEY = "spendwatch.workspace_id"
BYPASS_KEY = "spendwatch.rls_bypass"


def _apply_rls_context(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    """At the start of every transaction, tell PostgreSQL whose rows this transaction may see."""
    if connection.dialect.name != "postgresql":
        return
    workspace_id = session.info.get(WORKSPACE_KEY)
    bypass = session.info.get(BYPASS_KEY, False)
    # is_local=true: the setting ends with the transaction, so a pooled connection never leaks it.
    connection.execute(
        text("SELECT set_config('app.workspace_id', :ws, true), set_config('app.rls_bypass', :bypass, true)"),
        {"ws": "" if workspace_id is None else str(workspace_id), "bypass": "on" if bypass else "off"},
    )


def set_workspace(session: Session, workspace_id: int | None) -> None:
    """Scope SESSION's PostgreSQL row-level security to WORKSPACE_ID (also for the open transaction)."""
    session.info[WORKSPACE_KEY] = workspace_id
    if session.in_transaction():
        bind = session.connection()
        if bind.dialect.name == "postgresql":
            bind.execute(
                text("SELECT set_config('app.workspace_id', :ws, true)"),
                {"ws": "" if workspace_id is None else str(workspace_id)},
            )


def _set_bypass(session: Session, on: bool) -> None:
    session.info[BYPASS_KEY] = on
    if session.in_transaction():
        bind = session.connection()
        if bind.dialect.name == "postgresql":
            bind.execute(text("SELECT set_config('app.rls_bypass', :v, true)"), {"v": "on" if on else "off"})


def enable_rls_bypass(session: Session) -> None:
    """Let SESSION see every workspace's rows: for jobs and CLI commands that work across tenants."""
    _set_bypass(session, True)


@contextmanager
def rls_bypass(session: Session) -> Iterator[None]:
    """Lift row-level security for the statements inside the block only (e.g. an invite lookup by token)."""
    before = bool(session.info.get(BYPASS_KEY, False))
    _set_bypass(session, True)
    try:
        yield
    finally:
        _set_bypass(session, before)


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    # WAL: readers never wait for the writer. busy_timeout: a write waits this long for another writer's lock
    # (SQLite retries with sleeps) before "database is locked", which the API answers as 503 database_busy.
    # pysqlite (legacy transaction control) sends BEGIN just before a transaction's first INSERT/UPDATE/DELETE,
    # so a request's reads run before it and its first write is the first statement of the write transaction:
    # that wait applies (a read transaction upgrading to write would get SQLITE_BUSY at once, without waiting).
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # A 32 MB page cache (SQLite's default is 2 MB; pages are allocated as used): a 100,000-row import's
        # INSERT updates six B-trees, and held the write lock a quarter longer with the default.
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()

    return pragmas


class Database:
    """One engine and session factory for a process; built by create_app() or the worker entry."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5, busy_timeout_ms: int = 5000) -> None:
        self.url = url
        # hide_parameters: bound values (possibly secrets) never appear in error messages or logs.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_pre_ping"] = True
        if kwargs.get("poolclass") is None:
            # One connection per thread that may hold one at once (request threads, sync threads), plus slack.
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = max(10, pool_size // 2)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        event.listen(self.sessionmaker, "after_begin", _apply_rls_context)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessionmaker()

    @contextmanager
    def system_session(self) -> Iterator[Session]:
        """A session that may see all workspaces (jobs, CLI); commits on success, rolls back on error."""
        session = self.sessionmaker()
        enable_rls_bypass(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
