"""The JSON API: one blueprint per resource, registered by `register_api`."""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from backend.api import (
    accounts,
    admin,
    auth,
    budgets,
    categories,
    channels,
    demo,
    imports,
    manual_usage,
    mute_links,
    ops,
    transactions,
    usage,
    workspaces,
)


def register_api(app: OpenAPI) -> None:
    """Register every API blueprint on APP."""
    for module in (
        auth,
        workspaces,
        accounts,
        manual_usage,
        usage,
        admin,
        budgets,
        channels,
        transactions,
        categories,
        imports,
        demo,
    ):
        app.register_api(module.bp)
    app.register_api(accounts.providers_bp)
    app.register_api(mute_links.bp)
    app.register_blueprint(ops.bp)
