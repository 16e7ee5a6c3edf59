"""Schemas of /api/accounts/{account_id}/entries: manual usage entries and CSV imports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from flask_openapi3 import FileStorage
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator
from werkzeug.datastructures import FileStorage as WerkzeugFileStorage

from backend.schemas.common import RequestModel
from backend.services import manual_usage

MAX_ENTRIES = 1000

Model = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=manual_usage.MAX_TEXT)]
Project = Annotated[str, StringConstraints(strip_whitespace=True, max_length=manual_usage.MAX_TEXT)]
Count = Annotated[int, Field(ge=0, le=manual_usage.MAX_COUNT)]


class EntryIn(RequestModel):
    date: dt.date = Field(description="The UTC day of the usage, YYYY-MM-DD (from 2000-01-01 up to tomorrow)")
    model: Model
    project: Project = ""
    input_tokens: Count = 0
    output_tokens: Count = 0
    requests: Count = 0
    cost: Decimal = Field(
        description='What the day cost, as a decimal string such as "12.34" (at most 10 decimal places); '
        "it counts as the provider's own cost"
    )
    currency: str = Field("USD", min_length=3, max_length=3, description="Three-letter currency code")

    @field_validator("date")
    @classmethod
    def _date(cls, value: dt.date) -> dt.date:
        return manual_usage.check_day(value)

    @field_validator("cost")
    @classmethod
    def _cost(cls, value: Decimal) -> Decimal:
        return manual_usage.check_cost(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return manual_usage.parse_currency(value) if value.strip() else "USD"


class EntriesIn(RequestModel):
    entries: list[EntryIn] = Field(
        min_length=1,
        max_length=MAX_ENTRIES,
        description="An entry with the date, model and project of a stored one replaces it",
    )


class EntriesStored(BaseModel):
    stored: int = Field(description="Entries stored (new or replacing one with the same date, model and project)")


class EntriesQuery(RequestModel):
    from_: dt.date | None = Field(None, alias="from", description="First UTC day, inclusive")
    to: dt.date | None = Field(None, description="Last UTC day, inclusive")
    limit: int = Field(1000, ge=1, le=5000)
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")

    @model_validator(mode="after")
    def _range(self) -> EntriesQuery:
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self


class EntryKeyQuery(RequestModel):
    date: dt.date
    model: Model
    project: Project = ""


class EntryOut(BaseModel):
    date: dt.date
    model: str
    project: str
    input_tokens: int
    output_tokens: int
    requests: int
    cost: Decimal | None
    currency: str
    updated_at: dt.datetime


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class ImportForm(RequestModel):
    file: FileStorage = Field(
        description="The CSV file (UTF-8, with or without BOM): a header row, then one row per day, model and "
        "project; columns date, model, project, input_tokens, output_tokens, requests, cost, currency"
    )
    dry_run: bool = Field(False, description="Check the file and report, without storing anything")

    @field_validator("file", mode="after")
    @classmethod
    def _is_upload(cls, value: Any) -> Any:
        if not isinstance(value, WerkzeugFileStorage):
            raise ValueError("must be a file upload (multipart/form-data)")
        return value


class RowErrorOut(BaseModel):
    row: int | None = Field(
        description="Row number as a spreadsheet shows it (the header is row 1); null for the file as a whole"
    )
    column: str | None
    message: str


class ImportReportOut(BaseModel):
    rows: int = Field(description="Data rows read (blank lines aside)")
    stored: int = Field(description="Entries stored: every row, or none when any row has an error or on a dry run")
    dry_run: bool
    errors: list[RowErrorOut]
    errors_not_shown: int = Field(0, description="Further errors beyond the first 100 listed")
