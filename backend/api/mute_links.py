"""The signed mute link of alert messages: no sign-in, the token is the authority (docs/security/links.md).

GET never changes anything (mail scanners open links): it shows a confirmation page with a Mute button that POSTs.
POST mutes (also RFC 8058 one-click unsubscribe, which POSTs to the List-Unsubscribe URL); the result page offers
Unmute, a POST with the same token. Browsers get small server-rendered pages; a client that asks for JSON
(Accept: application/json) gets JSON.
"""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import db
from backend.api.responses import COMMON_ERRORS, json_response
from backend.errors import error_response
from backend.extensions import get_state
from backend.models import AlertRule
from backend.schemas.budgets import BudgetPath, MuteOut, MuteQuery, MuteRefused
from backend.services import mute_links
from backend.services.alert_links import mute_path, read_mute_token
from backend.services.instance_settings import public_url

bp = APIBlueprint(
    "alert_mute", __name__, url_prefix="/api", abp_responses=COMMON_ERRORS, abp_tags=[Tag(name="budgets and alerts")]
)

# One answer for every refused link (bad signature, expired, revoked, another rule, deleted): nothing about the rule.
INVALID = "This link is not valid or has expired. Open Spendwatch to mute or unmute the rule."


def _wants_json() -> bool:
    # Browsers send text/html (or */*, which also picks HTML here); API clients ask for JSON explicitly.
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _private(response: Response) -> Response:
    """The page's URL holds the token: not cached, not sent on as a Referer, not indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, status: int = 200, **context: object) -> Response:
    base = get_state(current_app).settings.base_url
    app_url = public_url(session=db(), default=base, path="/budgets")
    response = Response(render_template(template, app_url=app_url, **context), status=status, mimetype="text/html")
    return _private(response)


def _refused() -> Response:
    if _wants_json():
        return _private(error_response(403, "bad_token", INVALID))
    return _page("links/invalid.html", 403, message=INVALID)


def _rule(rule_id: int, token: str) -> AlertRule | None:
    claim = read_mute_token(token, get_state(current_app).settings.secret_key)
    if claim is None:
        return None
    return mute_links.rule_for_link(session=db(), claim=claim, rule_id=rule_id)


def _answer(rule: AlertRule, token: str, *, done: bool) -> Response:
    """The rule's state: JSON, or the page (a confirmation before anything is done, else the result)."""
    if rule.muted:
        message = f"Muted \u201c{rule.name}\u201d: no more alerts from it."
    else:
        message = f"\u201c{rule.name}\u201d is not muted: its alerts are sent."
    if _wants_json():
        return _private(json_response(MuteOut(rule_id=rule.id, name=rule.name, muted=rule.muted, message=message)))
    return _page(
        "links/mute.html",
        name=rule.name,
        muted=rule.muted,
        done=done,
        mute_action=f"{mute_path(rule.id)}?token={token}",
        unmute_action=f"{mute_path(rule.id, 'unmute')}?token={token}",
    )


def _set(rule_id: int, token: str, *, muted: bool) -> Response:
    rule = _rule(rule_id, token)
    if rule is None:
        return _refused()
    mute_links.set_muted(session=db(), rule=rule, muted=muted)
    db().commit()
    return _answer(rule, token, done=True)


@bp.get("/alert-rules/<int:rule_id>/mute", responses={200: MuteOut, 403: MuteRefused})
def confirm_mute(path: BudgetPath, query: MuteQuery) -> Response:
    """The signed mute link of alert messages: shows the rule and a Mute button; changes nothing (scanners open
    links). JSON clients get the rule's current state. 403 `bad_token` for a link that is invalid, expired or
    revoked, whatever the reason."""
    rule = _rule(path.rule_id, query.token)
    return _refused() if rule is None else _answer(rule, query.token, done=False)


@bp.post("/alert-rules/<int:rule_id>/mute", responses={200: MuteOut, 403: MuteRefused})
def mute_rule(path: BudgetPath, query: MuteQuery) -> Response:
    """Mute the rule of a signed mute link (the confirmation page's button, and RFC 8058 one-click unsubscribe)."""
    return _set(path.rule_id, query.token, muted=True)


@bp.post("/alert-rules/<int:rule_id>/unmute", responses={200: MuteOut, 403: MuteRefused})
def unmute_rule(path: BudgetPath, query: MuteQuery) -> Response:
    """Undo a mute with the same signed link (the result page's Unmute button)."""
    return _set(path.rule_id, query.token, muted=False)
