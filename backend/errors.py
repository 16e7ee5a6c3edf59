"""The one error shape of the API, `{"error": {"code", "message", "details"}}`, and its handlers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from backend.db import AmountOutOfRange

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer of the API has this shape."""

    error: ErrorBody


class ApiError(Exception):
    """An error meant for the client: status, a stable machine code and a human message."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}
        if code:
            self.code = code
        if status:
            self.status = status


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Invalid(ApiError):
    status, code = 422, "invalid"


class TooManyAttempts(ApiError):
    status, code = 429, "too_many_attempts"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class NestedTooDeep(ApiError):
    status, code = 422, "nesting_too_deep"


class NotAnObject(ApiError):
    status, code = 422, "body_not_an_object"


class Unavailable(ApiError):
    """503: the server is busy right now; the client may try again after `retry_after` seconds."""

    status, code = 503, "unavailable"

    def __init__(self, message: str, *, retry_after: int, details: Any = None, code: str | None = None):
        super().__init__(message, details=details, code=code, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


# SQLite's answers when another connection holds the lock past busy_timeout, and PostgreSQL's lock timeout,
# deadlock and serialization failures: the request may succeed when tried again.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
_POSTGRES_BUSY = frozenset({"55P03", "40P01", "40001"})
DATABASE_BUSY_RETRY_AFTER = 2


def is_database_busy(exc: OperationalError) -> bool:
    """Whether EXC is a lock the database gave up waiting for (not a broken connection or a bad statement)."""
    if getattr(exc.orig, "sqlstate", None) in _POSTGRES_BUSY:
        return True
    text = str(exc.orig).lower()
    return any(marker in text for marker in _SQLITE_BUSY)


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    return response


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the offending input (it may hold a secret)."""
    return [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def validation_error_response(exc: ValidationError) -> Response:
    """flask-openapi3's hook for request validation failures."""
    return error_response(422, "validation_error", "The request is not valid.", validation_details(exc))


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def http_error_response(exc: HTTPException) -> Response:
    """A werkzeug HTTP error (404, 405, 413, 429…) in the JSON envelope, keeping its Allow/Retry-After headers."""
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 429:
        message = f"Too many requests: limit is {exc.description}. Try again later."
    response = error_response(status, _HTTP_CODES.get(status, "http_error"), message)
    for header in ("Allow", "Retry-After"):
        value = exc.get_response().headers.get(header)
        if value:
            response.headers[header] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn every error into the JSON envelope; unexpected ones become a bare 500 with no traceback."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        response = error_response(exc.status, exc.code, exc.message, exc.details)
        response.headers.update(exc.headers)  # e.g. Retry-After of a throttled sign-in
        if "Retry-After" in exc.headers:
            g.retry_after = exc.headers["Retry-After"]  # kept over the rate limiter's own (backend/app.py)
        return response

    @app.errorhandler(OperationalError)
    def _database_error(exc: OperationalError) -> Response:
        # Flask picks this handler over _statement for OperationalError, so a SQLite SUM overflow lands here too.
        if out_of_range(exc):
            return _statement(exc)
        if not is_database_busy(exc):
            return _unexpected(exc)
        # Another writer held the lock longer than we wait (SQLite busy_timeout): nothing was written (the
        # request's transaction is rolled back at teardown), so the client may simply send it again.
        log.warning("database busy: a request gave up waiting for a lock (answered 503)")
        return _api_error(
            Unavailable(
                "The database is busy with another change; try again in a few seconds.",
                code="database_busy",
                retry_after=DATABASE_BUSY_RETRY_AFTER,
            )
        )

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return validation_error_response(exc)

    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged with the stack for operators; the client only learns that it failed.
        log.exception("unhandled error: %s", type(exc).__name__)
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")

    @app.errorhandler(StatementError)
    def _statement(exc: StatementError) -> Response:
        # Amounts are range-checked at the API boundary; these are the backstops (docs/security/data.md): a value
        # beyond its column reaching the database, or a total past SQLite's 64-bit integer SUM.
        if out_of_range(exc):
            return error_response(
                422, "amount_out_of_range", "An amount or a total is beyond what Spendwatch can store exactly."
            )
        return _unexpected(exc)


def out_of_range(exc: BaseException) -> bool:
    """Whether EXC is a money value or SUM beyond what the database column holds exactly (see ExactDecimal)."""
    if isinstance(exc, StatementError) and isinstance(exc.orig, AmountOutOfRange):
        return True
    # SQLite: SUM() of 64-bit integers past 2**63; PostgreSQL: a numeric past its column's precision. Wrapped by
    # SQLAlchemy, or raw from the driver (ingest's COPY/unnest path talks to psycopg directly).
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if not type(cause).__module__.startswith(("sqlite3", "psycopg")):
        return False
    message = str(cause).lower()
    return "integer overflow" in message or "numeric field overflow" in message
