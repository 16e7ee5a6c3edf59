"""Helpers that turn pydantic models into JSON responses, and the error responses every route documents."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3.types import ResponseDict
from pydantic import BaseModel

from backend.errors import ErrorResponse


def json_response(model: BaseModel, status: int = 200) -> Response:
    response = jsonify(model.model_dump(mode="json", by_alias=True))
    response.status_code = status
    return response


def no_content() -> Response:
    return Response(status=204)


# Errors any route may answer with; documented once on the app so every operation carries them.
COMMON_ERRORS: ResponseDict = {code: ErrorResponse for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)}

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
