"""The PostgreSQL upsert variants the ingest bench compares. `auto` is what backend.services.ingest uses:
COPY through a staging table for big batches, one unnest() INSERT for small ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from backend.services import ingest as ingest_module

Upsert = Callable[[Session, Iterable[tuple[Any, ...]]], None]
COLUMNS = ingest_module.COLUMNS
_COLS = ", ".join(COLUMNS)
_CONFLICT = f"ON CONFLICT ({', '.join(ingest_module.NATURAL_KEY)}) DO UPDATE SET " + ", ".join(
    f"{name} = EXCLUDED.{name}" for name in ingest_module.MEASURES
)


def _driver(session: Session) -> Any:
    return session.connection().connection.driver_connection


def _copy_text_drop(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """Text-format COPY into an ON COMMIT DROP temp table, then INSERT … SELECT … ON CONFLICT."""
    with _driver(session).cursor() as cursor:
        cursor.execute(ingest_module._CREATE_STAGE)
        with cursor.copy(f"COPY {ingest_module._STAGE} ({_COLS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(ingest_module._MERGE_STAGE)
        cursor.execute(f"DROP TABLE {ingest_module._STAGE}")


def _copy_binary_reuse(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """Binary COPY into a session-lifetime temp table, reused and emptied (TRUNCATE) on every call."""
    stage = "ingest_usage_stage_reused"
    with _driver(session).cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {_COLS} FROM usage_records WITH NO DATA")
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.copy(f"COPY {stage} ({_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(ingest_module.PG_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO usage_records ({_COLS}) SELECT {_COLS} FROM {stage} {_CONFLICT}")


_CHANGED = " WHERE ({}) IS DISTINCT FROM ({})".format(
    ", ".join(f"usage_records.{name}" for name in ingest_module.MEASURES if name != "updated_at"),
    ", ".join(f"EXCLUDED.{name}" for name in ingest_module.MEASURES if name != "updated_at"),
)


def _copy_skip_unchanged(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """Like `copy`, but a conflicting row whose measures are unchanged is left alone (its updated_at too):
    not kept, because it changes what updated_at means; measured to show what re-syncs would gain."""
    with _driver(session).cursor() as cursor:
        cursor.execute(ingest_module._CREATE_STAGE)
        with cursor.copy(f"COPY {ingest_module._STAGE} ({_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(ingest_module.PG_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(ingest_module._MERGE_STAGE + _CHANGED)
        cursor.execute(f"DROP TABLE {ingest_module._STAGE}")


METHODS: dict[str, Upsert] = {
    "copy_skip_unchanged": _copy_skip_unchanged,
    "copy": ingest_module._upsert_copy,
    "auto": ingest_module._upsert_postgres,
    "copy_text": _copy_text_drop,
    "copy_reuse": _copy_binary_reuse,
    "unnest": ingest_module._upsert_unnest,
    "executemany": ingest_module._upsert_executemany,
}
DEFAULT = "auto"


def use(method: str) -> None:
    """Make ingest() upsert on PostgreSQL with METHOD."""
    ingest_module.UPSERTS["postgresql"] = METHODS[method]
