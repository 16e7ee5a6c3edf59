"""/api/channels and /api/notifications: where alerts are delivered, and the delivery log."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS

bp = APIBlueprint(
    "channels",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="channels")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())
