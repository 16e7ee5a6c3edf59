"""/api/categories, /api/rules and /api/recurring: how transactions are categorized, and recurring charges."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS

bp = APIBlueprint(
    "categories",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="categories")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())
