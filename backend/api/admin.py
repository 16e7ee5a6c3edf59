"""/api/admin: instance settings, for instance administrators only."""

from __future__ import annotations

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import admin_guard, current_actor, db
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.db import rls_bypass
from backend.extensions import get_state, limiter
from backend.schemas.admin import (
    KeyStatusOut,
    PriceIn,
    PriceList,
    PriceOut,
    PricePath,
    SettingsOut,
    SettingsPatch,
    SmtpTestIn,
    SmtpTestOut,
)
from backend.services import instance_settings, keys, mail_test, pricing

bp = APIBlueprint(
    "admin",
    __name__,
    url_prefix="/api/admin",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="admin")],
    abp_security=BEARER,
)
bp.before_request(admin_guard)

# Test emails go to any address the admin types: a few a minute per admin is plenty for checking settings, and
# keeps a stolen admin session from turning the instance into a mail cannon.
TEST_EMAIL_LIMIT = "5 per minute"


def _settings_out() -> Response:
    return json_response(SettingsOut.model_validate(instance_settings.masked_view(session=db())))


@bp.get("/settings", responses={200: SettingsOut})
def get_settings() -> Response:
    """Instance settings; secret values are shown as hints."""
    return _settings_out()


@bp.patch("/settings", responses={200: SettingsOut})
def update_settings(body: SettingsPatch) -> Response:
    """Change instance settings. Send the SMTP password's hint back to keep it, '' to clear it."""
    session = db()
    changes = body.model_dump(exclude_unset=True)
    smtp_password = (changes.get("smtp") or {}).pop("password", None)
    # An explicit null means "no change" for settings that cannot be empty; base_url null means "use BASE_URL".
    for key in ("registration_mode", "allow_private_webhooks", "provider_urls"):
        if key in changes and changes[key] is None:
            del changes[key]
    # Nested partial updates: drop keys the client did not send (None means "not sent" inside smtp/intervals).
    for section in ("smtp", "sync_intervals"):
        if section in changes:
            if changes[section] is None:
                del changes[section]
            else:
                changes[section] = {k: v for k, v in changes[section].items() if v is not None}
    instance_settings.update(session=session, changes=changes, smtp_password=smtp_password)
    session.commit()
    return _settings_out()


@bp.post("/smtp/test", responses={200: SmtpTestOut})
@limiter.limit(TEST_EMAIL_LIMIT, key_func=lambda: f"smtp-test:{current_actor().user.id}")
def test_smtp(body: SmtpTestIn) -> Response:
    """Send a test email with the saved SMTP settings and say how it went.

    The answer is `ok`, or `error` with the reason (connection refused, timed out, TLS, login refused…; never the
    password). A mail server that cannot be reached is `ok: false` in a 200, not an HTTP error: the request was
    fine. With no SMTP host the message is written to the mail outbox folder instead (`via: outbox`). At most 5 a
    minute per admin (429 beyond).
    """
    session = db()
    settings = get_state(current_app).settings
    base_url = instance_settings.public_url(session=session, default=settings.base_url)
    outcome = mail_test.send_test_email(session=session, settings=settings, to=body.to, base_url=base_url)
    return json_response(SmtpTestOut(**outcome))


@bp.get("/keys", responses={200: KeyStatusOut})
def key_status() -> Response:
    """How many stored secrets are under the newest encryption key, and how many await `keys rotate`."""
    session = db()
    with rls_bypass(session):
        status = keys.key_status(session=session)
    return json_response(KeyStatusOut(**status))


@bp.get("/prices", responses={200: PriceList})
def list_prices() -> Response:
    """Admin prices that override or add to the bundled price database for cost estimates."""
    rows = pricing.list_overrides(session=db())
    return json_response(PriceList(items=[PriceOut.model_validate(r, from_attributes=True) for r in rows]))


@bp.post("/prices", responses={201: PriceOut})
def add_price(body: PriceIn) -> Response:
    """Set a model's price per million tokens from a day on. Estimates made from then on use it."""
    session = db()
    row = pricing.add_override(session=session, **body.model_dump())
    session.commit()
    return json_response(PriceOut.model_validate(row, from_attributes=True), 201)


@bp.delete("/prices/<int:price_id>", responses={204: None})
def delete_price(path: PricePath) -> Response:
    """Remove an admin price; estimates fall back to the bundled price database."""
    session = db()
    pricing.delete_override(session=session, price_id=path.price_id)
    session.commit()
    return no_content()
