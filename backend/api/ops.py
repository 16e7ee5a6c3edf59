"""Operational endpoints outside the API document: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.extensions import get_state
from backend.migrate import current_revisions

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive (no dependency is checked)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to serve: the database answers and its schema is at the migrations' head."""
    state = get_state(current_app)
    checks: dict[str, str] = {}
    try:
        with state.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current = current_revisions(state.db.engine)
        expected = current_app.config["MIGRATION_HEADS"]
        checks["migrations"] = "ok" if set(current) == set(expected) else f"at {current or 'none'}, expected {expected}"
    except SQLAlchemyError as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    ready = all(v == "ok" for v in checks.values()) and len(checks) == 2
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks}), 200 if ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of this process's metrics."""
    registry = get_state(current_app).metrics.registry
    # The classic 0.0.4 text format, set as a whole header (mimetype= would append a second charset).
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)
