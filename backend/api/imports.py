"""/api/imports and /api/import-formats: statement files, previewed then committed, undoable.

The addressed import or format is looked up (404) before the request's input is validated, so the answer for
another workspace's id never depends on the input.
"""

from __future__ import annotations

from flask import Response, current_app, g, request
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import MAX_ID, current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.extensions import get_state
from backend.models import ImportBatch, ImportFormat
from backend.schemas.imports import (
    CountsOut,
    FormatIn,
    FormatList,
    FormatOut,
    FormatPatch,
    FormatPath,
    ImportForm,
    ImportList,
    ImportOut,
    ImportPath,
    ImportsQuery,
    MappingIn,
    PreviewOut,
    RowOut,
    SkippedOut,
    TotalsOut,
    UndoOut,
)
from backend.services import imports

bp = APIBlueprint(
    "imports",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="imports", description="Bank statement files (CSV, OFX/QFX) imported as transactions")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())


@bp.before_request
def _load_addressed() -> None:
    """After the tenant guard: the addressed import or format must exist in the workspace (404)."""
    if request.method == "OPTIONS":
        return
    args = request.view_args or {}
    import_id, format_id = args.get("import_id"), args.get("format_id")
    workspace_id = current_actor().workspace_id
    if isinstance(import_id, int) and 1 <= import_id <= MAX_ID:
        g.import_batch = imports.get_import(session=db(), workspace_id=workspace_id, import_id=import_id)
    if isinstance(format_id, int) and 1 <= format_id <= MAX_ID:
        g.import_format = imports.get_format(session=db(), workspace_id=workspace_id, format_id=format_id)
    # Out-of-range ids: the path schema answers 422.


def _batch(import_id: int) -> ImportBatch:
    batch: ImportBatch | None = g.get("import_batch")
    if batch is None or batch.id != import_id:
        batch = imports.get_import(session=db(), workspace_id=current_actor().workspace_id, import_id=import_id)
    return batch


def _format(format_id: int) -> ImportFormat:
    saved: ImportFormat | None = g.get("import_format")
    if saved is None or saved.id != format_id:
        saved = imports.get_format(session=db(), workspace_id=current_actor().workspace_id, format_id=format_id)
    return saved


def import_out(batch: ImportBatch) -> ImportOut:
    return ImportOut(
        id=batch.id,
        bank_account_id=batch.bank_account_id,
        filename=batch.filename,
        format=batch.format,
        status=batch.status,
        mapping=batch.mapping,
        statement_fingerprint=batch.statement_fingerprint,
        rows_added=batch.rows_added,
        rows_duplicate=batch.rows_duplicate,
        rows_skipped=batch.rows_skipped,
        created_at=batch.created_at,
        committed_at=batch.committed_at,
        undone_at=batch.undone_at,
    )


def preview_out(preview: imports.Preview) -> PreviewOut:
    statement = preview.statement
    rows = [
        RowOut(
            line=item.row.line,
            date=item.row.date,
            amount=item.row.amount,
            currency=item.row.currency,
            description=item.row.description,
            merchant=item.row.merchant,
            external_id=item.row.external_id,
            pending=item.row.pending,
            balance=item.row.balance,
            fingerprint=item.fingerprint,
            raw=dict(item.row.raw),
            duplicate=item.duplicate,
        )
        for item in preview.rows
    ]
    new = len(preview.new_rows)
    return PreviewOut(
        batch=import_out(preview.batch),
        format=statement.format,
        mapping=None if statement.mapping is None else statement.mapping.to_dict(),
        account_hint=statement.account_hint,
        currency=statement.currency,
        closing_balance=statement.closing_balance,
        warnings=list(preview.warnings),
        counts=CountsOut(rows=len(rows), new=new, duplicates=len(rows) - new, skipped=len(preview.skipped)),
        totals=TotalsOut(total=preview.total(new_only=True), by_month=preview.by_month(new_only=True)),
        statement_totals=TotalsOut(total=preview.total(new_only=False), by_month=preview.by_month(new_only=False)),
        rows=rows,
        skipped=[SkippedOut(line=s.line, reason=s.reason, raw=dict(s.raw)) for s in preview.skipped],
    )


def format_out(saved: ImportFormat) -> FormatOut:
    return FormatOut(
        id=saved.id,
        name=saved.name,
        mapping=saved.mapping,
        created_at=saved.created_at,
        updated_at=saved.updated_at,
    )


# --- /api/imports -----------------------------------------------------------------------------------------------


@bp.post("/imports", responses={201: PreviewOut})
def create_import(form: ImportForm) -> Response:
    """Upload a statement (multipart/form-data: `file`, `bank_account_id`, optionally `format_id` or `mapping`):
    it is parsed and kept as an import in preview; the answer lists every row, duplicates marked. Nothing is
    added to the account until the import is committed. An unreadable file is a 422 and nothing is stored."""
    session = db()
    preview = imports.create_import(
        session=session,
        workspace_id=current_actor().workspace_id,
        bank_account_id=form.bank_account_id,
        filename=form.file.filename,
        data=form.file.read(imports.MAX_FILE_BYTES + 1),
        mapping=form.mapping,
        format_id=form.format_id,
        parser=get_state(current_app).statements,
    )
    session.commit()
    return json_response(preview_out(preview), 201)


@bp.get("/imports", responses={200: ImportList})
def list_imports(query: ImportsQuery) -> Response:
    """The workspace's imports, newest first; pass `next_before` back as `before` for the next page."""
    items = imports.list_imports(
        session=db(),
        workspace_id=current_actor().workspace_id,
        bank_account_id=query.bank_account_id,
        limit=query.limit,
        before=query.before,
    )
    next_before = items[-1].id if len(items) == query.limit else None
    return json_response(ImportList(items=[import_out(b) for b in items], next_before=next_before))


@bp.get("/imports/<int:import_id>", responses={200: ImportOut})
def get_import(path: ImportPath) -> Response:
    """One import: its status, mapping and counts."""
    return json_response(import_out(_batch(path.import_id)))


@bp.delete("/imports/<int:import_id>", responses={204: None})
def discard_import(path: ImportPath) -> Response:
    """Discard an import in preview (its file with it); a committed import is undone instead (409)."""
    session = db()
    imports.discard(session=session, batch=_batch(path.import_id))
    session.commit()
    return no_content()


@bp.post("/imports/<int:import_id>/preview", responses={200: PreviewOut})
def preview_import(path: ImportPath, body: MappingIn) -> Response:
    """Parse the import's file again with a corrected `mapping` (or a saved format's, `format_id`), which the
    import keeps for its commit; with neither, the current mapping (duplicates are looked up anew)."""
    session = db()
    preview = imports.repreview(
        session=session,
        batch=_batch(path.import_id),
        mapping=body.mapping,
        format_id=body.format_id,
        parser=get_state(current_app).statements,
    )
    session.commit()
    return json_response(preview_out(preview))


@bp.post("/imports/<int:import_id>/commit", responses={200: ImportOut})
def commit_import(path: ImportPath, body: MappingIn) -> Response:
    """Add the import's new rows to its bank account (categorized, transfers paired), all or nothing; the body
    is optional (`mapping` or `format_id` to commit with a corrected mapping). The file is dropped. Committing
    twice is a 409."""
    session = db()
    batch = _batch(path.import_id)
    imports.commit(
        session=session,
        batch=batch,
        mapping=body.mapping,
        format_id=body.format_id,
        parser=get_state(current_app).statements,
    )
    session.commit()
    return json_response(import_out(batch))


@bp.post("/imports/<int:import_id>/undo", responses={200: UndoOut})
def undo_import(path: ImportPath) -> Response:
    """Delete every transaction the import added; the import stays, as undone, and the file may be imported
    again. Undoing an import in preview or an undone one is a 409."""
    session = db()
    batch = _batch(path.import_id)
    removed = imports.undo(session=session, batch=batch)
    session.commit()
    return json_response(UndoOut(**import_out(batch).model_dump(), rows_removed=removed))


@bp.post("/imports/<int:import_id>/save-format", responses={201: FormatOut})
def save_format(path: ImportPath, body: FormatIn) -> Response:
    """Save the import's CSV mapping as a named format, to apply to the next statement of that bank (`format_id`).
    A name the workspace already uses is a 409."""
    session = db()
    saved = imports.save_format(session=session, batch=_batch(path.import_id), name=body.name)
    session.commit()
    return json_response(format_out(saved), 201)


# --- /api/import-formats ----------------------------------------------------------------------------------------


@bp.get("/import-formats", responses={200: FormatList})
def list_formats() -> Response:
    """The workspace's saved import formats, by name."""
    items = imports.list_formats(session=db(), workspace_id=current_actor().workspace_id)
    return json_response(FormatList(items=[format_out(f) for f in items]))


@bp.patch("/import-formats/<int:format_id>", responses={200: FormatOut})
def update_format(path: FormatPath, body: FormatPatch) -> Response:
    """Rename a saved format and/or replace its mapping (checked: an invalid mapping is a 422)."""
    session = db()
    saved = imports.update_format(
        session=session, saved=_format(path.format_id), changes=body.model_dump(exclude_unset=True)
    )
    session.commit()
    return json_response(format_out(saved))


@bp.delete("/import-formats/<int:format_id>", responses={204: None})
def delete_format(path: FormatPath) -> Response:
    """Delete a saved format; imports made with it keep their mapping."""
    session = db()
    imports.delete_format(session=session, saved=_format(path.format_id))
    session.commit()
    return no_content()
