"""/api/imports and /api/import-formats: statement files, previewed then committed, undoable."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS

bp = APIBlueprint(
    "imports",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="imports")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())
