"""/api/usage: spend summaries from the daily rollup, usage records page by page, and exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response
from backend.csv_safe import csv_chunks
from backend.schemas.usage import (
    ExportQuery,
    RecordOut,
    RecordPage,
    RecordsQuery,
    SummaryItem,
    SummaryOut,
    SummaryQuery,
)
from backend.services import usage

bp = APIBlueprint(
    "usage",
    __name__,
    url_prefix="/api/usage",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="usage")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())


def _filters(query: Any) -> dict[str, Any]:
    return {
        "provider": query.provider,
        "account_id": query.account_id,
        "model": query.model,
        "project": query.project,
        "kind": getattr(query, "kind", None),
    }


@bp.get("/summary", responses={200: SummaryOut})
def summary(query: SummaryQuery) -> Response:
    """Spend over a range of UTC days, grouped by one or two of day, provider, account, model, project."""
    group_by = query.group_by.split(",")
    items, totals = usage.summary(
        session=db(),
        workspace_id=current_actor().workspace_id,
        start=query.from_,
        end=query.to,
        group_by=group_by,
        filters=_filters(query),
    )
    out = SummaryOut(
        from_=query.from_,
        to=query.to,
        group_by=group_by,
        totals=totals,
        items=[SummaryItem(**item) for item in items],
    )
    return json_response(out)


@bp.get("/records", responses={200: RecordPage})
def records(query: RecordsQuery) -> Response:
    """Usage records, newest first; pass `next_cursor` back as `cursor` for the next page."""
    rows, next_cursor = usage.records_page(
        session=db(),
        workspace_id=current_actor().workspace_id,
        start=query.from_,
        end=query.to,
        filters=_filters(query),
        limit=query.limit,
        cursor=query.cursor,
    )
    items = [RecordOut.model_validate(r, from_attributes=True) for r in rows]
    return json_response(RecordPage(items=items, next_cursor=next_cursor))


def _json_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps({k: (str(v) if v is not None and not isinstance(v, int | str) else v) for k, v in row.items()})
        yield "\n"


@bp.get("/export", responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}})
def export(query: ExportQuery) -> Response:
    """Every matching usage record, streamed as CSV or as JSON lines (one object per line)."""
    actor = current_actor()
    session = db()
    rows = usage.export_rows(
        session=session, workspace_id=actor.workspace_id, start=query.from_, end=query.to, filters=_filters(query)
    )
    name = f"spendwatch-usage-{query.from_}-{query.to}"
    if query.format == "csv":
        body, mimetype, name = csv_chunks(rows, usage.EXPORT_COLUMNS), "text/csv", name + ".csv"
    else:
        body, mimetype, name = _json_lines(rows), "application/x-ndjson", name + ".jsonl"

    def stream() -> Iterator[str]:
        try:
            yield from body
        finally:
            # End the read transaction as soon as the last row is out, not when the response object is collected.
            session.close()

    response = Response(stream_with_context(stream()), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
