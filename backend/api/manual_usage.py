"""/api/accounts/{account_id}/entries: usage typed in or uploaded as CSV for manual accounts.

The account is looked up (404) and checked to be a manual one (409) before the request's input is validated,
so the answer for another workspace's account, or for a synced one, never depends on the input.
"""

from __future__ import annotations

from flask import Response, g, request
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import MAX_ID, current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.errors import Invalid
from backend.models import ProviderAccount
from backend.schemas.accounts import AccountPath
from backend.schemas.manual_usage import (
    EntriesIn,
    EntriesQuery,
    EntriesStored,
    EntryKeyQuery,
    EntryOut,
    EntryPage,
    ImportForm,
    ImportReportOut,
    RowErrorOut,
)
from backend.services import accounts, manual_usage

bp = APIBlueprint(
    "manual_usage",
    __name__,
    url_prefix="/api/accounts",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="manual entries", description="Usage and costs entered by hand or uploaded as CSV")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())


@bp.before_request
def _load_account() -> None:
    """After the tenant guard: the addressed account must exist in the workspace and be a manual one."""
    if request.method == "OPTIONS":
        return
    account_id = (request.view_args or {}).get("account_id")
    if not isinstance(account_id, int) or not 1 <= account_id <= MAX_ID:
        return  # the path schema answers 422
    account = accounts.get_account(session=db(), workspace_id=current_actor().workspace_id, account_id=account_id)
    g.manual_account = manual_usage.require_manual(account)


def _account(account_id: int) -> ProviderAccount:
    account: ProviderAccount | None = g.get("manual_account")
    if account is None or account.id != account_id:
        found = accounts.get_account(session=db(), workspace_id=current_actor().workspace_id, account_id=account_id)
        account = manual_usage.require_manual(found)
    return account


@bp.post("/<int:account_id>/entries", responses={201: EntriesStored})
def add_entries(path: AccountPath, body: EntriesIn) -> Response:
    """Store up to 1000 entries, one per UTC day, model and project. An entry with the date, model and
    project of a stored entry replaces it; the same key twice in one request is an error."""
    session = db()
    account = _account(path.account_id)
    entries = [
        manual_usage.Entry(
            date=e.date,
            model=e.model,
            project=e.project,
            input_tokens=e.input_tokens,
            output_tokens=e.output_tokens,
            requests=e.requests,
            cost=e.cost,
            currency=e.currency,
        )
        for e in body.entries
    ]
    stored = manual_usage.store_entries(session=session, account=account, entries=entries)
    session.commit()
    return json_response(EntriesStored(stored=stored), 201)


@bp.get("/<int:account_id>/entries", responses={200: EntryPage})
def list_entries(path: AccountPath, query: EntriesQuery) -> Response:
    """The account's entries, newest day first; pass `next_cursor` back as `cursor` for the next page."""
    rows, next_cursor = manual_usage.list_entries(
        session=db(),
        account=_account(path.account_id),
        start=query.from_,
        end=query.to,
        limit=query.limit,
        cursor=query.cursor,
    )
    items = [
        EntryOut(
            date=r.bucket_start.date(),
            model=r.model,
            project=r.project,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            requests=r.requests,
            cost=r.cost,
            currency=r.currency,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    return json_response(EntryPage(items=items, next_cursor=next_cursor))


@bp.delete("/<int:account_id>/entries", responses={204: None})
def delete_entry(path: AccountPath, query: EntryKeyQuery) -> Response:
    """Delete the entry of one date, model and project (`project` defaults to empty)."""
    session = db()
    manual_usage.delete_entry(
        session=session, account=_account(path.account_id), day=query.date, model=query.model, project=query.project
    )
    session.commit()
    return no_content()


def _report_out(report: manual_usage.ImportReport) -> ImportReportOut:
    shown = report.errors[: manual_usage.MAX_REPORTED_ERRORS]
    return ImportReportOut(
        rows=report.rows,
        stored=report.stored,
        dry_run=report.dry_run,
        errors=[RowErrorOut(row=e.row, column=e.column, message=e.message) for e in shown],
        errors_not_shown=len(report.errors) - len(shown),
    )


@bp.post("/<int:account_id>/entries/import", responses={200: ImportReportOut, 201: ImportReportOut})
def import_entries(path: AccountPath, form: ImportForm) -> Response:
    """Upload a CSV file of entries (multipart/form-data, field `file`). All or nothing: when any row has an
    error, nothing is stored and the answer is 422 with the per-row report in `error.details`. With
    `dry_run=true` the file is only checked: 200 with the report, errors included, and nothing stored."""
    session = db()
    account = _account(path.account_id)
    report = manual_usage.import_csv(session=session, account=account, data=form.file.read(), dry_run=form.dry_run)
    out = _report_out(report)
    if report.dry_run:
        return json_response(out)
    if not report.ok:
        session.rollback()
        count = len(report.errors)
        raise Invalid(
            f"The file has {count} error{'s' if count != 1 else ''}; nothing was stored. "
            "Fix the rows listed in details.errors and upload the whole file again.",
            code=report.code or "csv_invalid",
            details=out.model_dump(mode="json"),
        )
    session.commit()
    return json_response(out, 201)
