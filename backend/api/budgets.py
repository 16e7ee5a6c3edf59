"""/api/budgets, /api/alert-rules and /api/alerts: budgets and other alert rules, and the alerts they fired."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS

bp = APIBlueprint(
    "budgets",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="budgets and alerts")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())
