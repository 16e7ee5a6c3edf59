"""Schemas of /api/imports and /api/import-formats: statement files previewed, committed and undone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from flask_openapi3 import FileStorage
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator
from werkzeug.datastructures import FileStorage as WerkzeugFileStorage

from backend.schemas.common import PositiveId, RequestModel

FormatName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Status = Literal["preview", "committed", "undone"]
MAPPING_DOC = (
    "A CSV column mapping (the `mapping` of a preview, edited): date_column, description_columns, amount_column "
    "or debit_column and credit_column, date_format, encoding, delimiter, header_row, sign (signed | inverted), "
    "decimal, and optional id, status, balance, merchant, currency, pending and fee columns"
)


class ImportForm(RequestModel):
    file: FileStorage = Field(description="The statement: a CSV export or an OFX/QFX file, at most 5 MB")
    bank_account_id: PositiveId = Field(description="The bank account of the workspace the statement belongs to")
    format_id: PositiveId | None = Field(None, description="A saved import format whose mapping to apply")
    mapping: dict[str, Any] | None = Field(
        None, description=f"JSON text of a mapping, instead of the detected layout. {MAPPING_DOC}"
    )

    @field_validator("file", mode="after")
    @classmethod
    def _is_upload(cls, value: Any) -> Any:
        if not isinstance(value, WerkzeugFileStorage):
            raise ValueError("must be a file upload (multipart/form-data)")
        return value


class MappingIn(RequestModel):
    """Either a mapping or a saved format's id; neither keeps the import's current mapping."""

    mapping: dict[str, Any] | None = Field(None, description=MAPPING_DOC)
    format_id: PositiveId | None = Field(None, description="A saved import format whose mapping to apply")

    @model_validator(mode="before")
    @classmethod
    def _no_body(cls, data: Any) -> Any:
        return {} if data is None else data  # the body is optional


class ImportPath(BaseModel):
    import_id: PositiveId


class FormatPath(BaseModel):
    format_id: PositiveId


class ImportsQuery(RequestModel):
    bank_account_id: PositiveId | None = Field(None, description="Only the imports into this bank account")
    limit: int = Field(100, ge=1, le=500)
    before: PositiveId | None = Field(None, description="next_before of the previous page")


class FormatIn(RequestModel):
    name: FormatName


class FormatPatch(RequestModel):
    name: FormatName | None = None
    mapping: dict[str, Any] | None = Field(None, description=MAPPING_DOC)


class ImportOut(BaseModel):
    id: int
    bank_account_id: int
    filename: str
    format: str = Field(description="csv | ofx")
    status: Status
    mapping: dict[str, Any] | None = Field(description="The CSV mapping used (null for OFX)")
    statement_fingerprint: str = Field(description="sha256 of the file's bytes")
    rows_added: int
    rows_duplicate: int
    rows_skipped: int
    created_at: dt.datetime
    committed_at: dt.datetime | None
    undone_at: dt.datetime | None


class ImportList(BaseModel):
    items: list[ImportOut]
    next_before: int | None


class RowOut(BaseModel):
    line: int = Field(description="1-based line of the file where the row starts")
    date: dt.date
    amount: Decimal = Field(description="Signed: negative = money out")
    currency: str
    description: str
    merchant: str
    external_id: str
    pending: bool
    balance: Decimal | None
    fingerprint: str = Field(description='The key duplicates are found by: "id:<bank id>" or a content hash')
    raw: dict[str, str]
    duplicate: str | None = Field(description="Why this row will not be added; null: it is new")


class SkippedOut(BaseModel):
    line: int
    reason: str
    raw: dict[str, str]


class CountsOut(BaseModel):
    rows: int = Field(description="Transactions understood from the file")
    new: int = Field(description="Rows that committing adds")
    duplicates: int = Field(description="Rows already stored in the bank account")
    skipped: int = Field(description="Rows read but not transactions (declined, totals, unreadable)")


class TotalsOut(BaseModel):
    total: Decimal
    by_month: dict[str, Decimal] = Field(description='Per calendar month ("YYYY-MM"), oldest first')


class PreviewOut(BaseModel):
    batch: ImportOut
    format: str = Field(description="csv | ofx")
    mapping: dict[str, Any] | None = Field(description="The CSV mapping detected or given; edit it and preview again")
    account_hint: str | None = Field(description="The OFX account number, masked to its last 4 characters")
    currency: str = Field(description='The rows\' single currency ("" when none or mixed)')
    closing_balance: Decimal | None = Field(description="The OFX ledger balance")
    warnings: list[str]
    counts: CountsOut
    totals: TotalsOut = Field(description="Of the new rows: what committing adds")
    statement_totals: TotalsOut = Field(description="Of every row of the file, duplicates included")
    rows: list[RowOut]
    skipped: list[SkippedOut]


class FormatOut(BaseModel):
    id: int
    name: str
    mapping: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class FormatList(BaseModel):
    items: list[FormatOut]


class UndoOut(ImportOut):
    rows_removed: int = Field(description="Transactions this undo deleted")
