"""Attacks on the links in alert messages (issue 12, items 2, 3, 14, 15): a deleted rule's mute link replayed at
another workspace's rule, a mail scanner opening the link, a rotated or expired token, a token naming another
workspace, and links built by the worker pointing at the wrong host."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select, update

from backend.models import AlertEvent, AlertRule, ProviderAccount
from backend.services.alert_links import MUTE_SALT, mute_token
from backend.services.ingest import ingest
from integrations.records import UsageRecord
from jobs.table import JOBS_BY_ID
from tests.channel_helpers import admin_settings
from tests.conftest import Api
from tests.fakes.smtp import FakeSmtp
from tests.fakes.webhooks import WebhookReceiver

SECRET = "test-secret-key-that-is-long-enough-for-hs256"
SHA256 = {"digest_method": hashlib.sha256}  # as the mute tokens are signed
AS_JSON = {"Accept": "application/json"}
VIEWER_INVITE = {"email": "v@x.io", "role": "viewer"}
AS_BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@dataclass(frozen=True)
class Named:
    """Whatever a token should claim (the signer takes anything with these attributes)."""

    id: int
    workspace_id: int
    link_nonce: str


@pytest.fixture
def world(app: Any, api: Api, settings: Any) -> dict[str, Any]:
    """Workspace A (alice, instance admin, with a demo account) and workspace B (bob, signed up on his own)."""
    a = api.register("alice@example.com")
    admin_settings(api, a["access_token"], registration_mode="open")
    b = api.register("bob@example.com")
    body = {"kind": "demo", "name": "A demo", "credentials": {"api_key": "demo-aaaaaaaaaaaa"}}
    account = api.call("POST", "/api/accounts", a["access_token"], json=body).get_json()["id"]
    return {
        "a": a["access_token"],
        "ws_a": a["workspaces"][0]["workspace_id"],
        "b": b["access_token"],
        "ws_b": b["workspaces"][0]["workspace_id"],
        "account": account,
        "state": app.extensions["spendwatch"],
        "settings": settings,
    }


def _spend(state: Any, account_id: int, cost: str) -> None:
    day = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with state.db.system_session() as s:
        record = UsageRecord(bucket_start=day, bucket_width="1d", kind="cost", model="gpt-x", cost=Decimal(cost))
        ingest(session=s, account=s.get(ProviderAccount, account_id), records=[record])


def _fired_mute_link(state: Any, rule_id: int) -> str:
    """The mute link of the newest alert RULE_ID fired, as the worker put it in the message payload."""
    with state.db.system_session() as s:
        event = s.scalars(
            select(AlertEvent).where(AlertEvent.rule_id == rule_id).order_by(AlertEvent.id.desc())
        ).first()
        assert event is not None, "the budget did not fire"
        return str(event.payload["links"]["mute"])


def _budget(api: Api, token: str, name: str, amount: str = "1", **extra: Any) -> int:
    r = api.call("POST", "/api/budgets", token, json={"name": name, "amount": amount, **extra})
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def _muted(api: Api, token: str, rule_id: int) -> bool:
    return bool(api.call("GET", f"/api/budgets/{rule_id}", token).get_json()["muted"])


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


def _rule(state: Any, rule_id: int) -> Named:
    with state.db.system_session() as s:
        rule = s.get(AlertRule, rule_id)
        assert rule is not None
        return Named(rule.id, rule.workspace_id, rule.link_nonce)


def test_a_deleted_budgets_mute_link_never_mutes_another_workspaces_budget(api: Api, world: dict[str, Any]) -> None:
    """The reproduction: A keeps the mute link of its deleted budget; B's next budget must not answer to it."""
    state = world["state"]
    a_rule = _budget(api, world["a"], "Alpha budget")
    _spend(state, world["account"], "5.00")
    JOBS_BY_ID["alerts"].run_once(state.db, state.settings)
    link = _fired_mute_link(state, a_rule)
    assert urlsplit(link).path == f"/api/alert-rules/{a_rule}/mute"
    assert api.call("DELETE", f"/api/budgets/{a_rule}", world["a"]).status_code == 204

    b_rule = _budget(api, world["b"], "Bravo secret budget")
    assert b_rule > a_rule  # ids are never reused (SQLite AUTOINCREMENT; PostgreSQL identities)

    def replay(path: str, b_now: int) -> None:
        for method in ("GET", "POST"):
            for headers in (AS_BROWSER, AS_JSON):
                r = api.client.open(path, method=method, headers=headers)
                assert r.status_code == 403, (method, path, r.status_code)
                assert b"Bravo" not in r.data and b"Alpha" not in r.data
        assert _muted(api, world["b"], b_now) is False

    replay(_path(link), b_rule)
    replay(f"/api/alert-rules/{b_rule}/mute?token={_token(link)}", b_rule)
    # Even if B's budget had A's old id (a database from before ids were never reused), the token names
    # workspace A and the deleted rule's nonce: still refused, B's budget untouched and unnamed.
    with state.db.system_session() as s:
        s.execute(update(AlertRule).where(AlertRule.id == b_rule).values(id=a_rule))
    replay(_path(link), a_rule)
    assert api.call("GET", f"/api/budgets/{a_rule}", world["b"]).get_json()["name"] == "Bravo secret budget"


def test_a_token_naming_another_workspace_or_rule_is_refused(api: Api, world: dict[str, Any]) -> None:
    state = world["state"]
    a_rule, b_rule = _budget(api, world["a"], "Alpha budget"), _budget(api, world["b"], "Bravo budget")
    a, b = _rule(state, a_rule), _rule(state, b_rule)
    forged = [
        Named(a.id, b.workspace_id, a.link_nonce),  # A's rule, B's workspace
        Named(b.id, a.workspace_id, b.link_nonce),  # B's rule, A's workspace
        Named(b.id, b.workspace_id, a.link_nonce),  # B's rule with A's nonce
    ]
    for claim in forged:
        r = api.client.post(f"/api/alert-rules/{claim.id}/mute?token={mute_token(claim, SECRET)}", headers=AS_JSON)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "bad_token"
    assert not _muted(api, world["a"], a_rule) and not _muted(api, world["b"], b_rule)
    # The genuine token works, for its own rule only.
    ok = api.client.post(f"/api/alert-rules/{b_rule}/mute?token={mute_token(b, SECRET)}", headers=AS_JSON)
    assert ok.status_code == 200 and _muted(api, world["b"], b_rule) and not _muted(api, world["a"], a_rule)


def test_get_shows_a_confirmation_page_and_only_post_mutes(api: Api, world: dict[str, Any]) -> None:
    state = world["state"]
    rule_id = _budget(api, world["a"], '<b>Ops & "AI"</b>')
    token = mute_token(_rule(state, rule_id), SECRET)
    link = f"/api/alert-rules/{rule_id}/mute?token={token}"

    for _ in range(2):  # a mail scanner, then the person: opening the link changes nothing
        page = api.client.get(link, headers=AS_BROWSER)
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert _muted(api, world["a"], rule_id) is False
    html = page.get_data(as_text=True)
    assert "&lt;b&gt;Ops &amp; &#34;AI&#34;&lt;/b&gt;" in html and "<b>Ops" not in html
    assert f'<form method="post" action="{link}">' in html and ">Mute</button>" in html
    assert "Muting stops every alert message" in html
    # Served under a strict CSP (default-src 'self'): no inline script or style, the CSS is a file of ours.
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert '<link rel="stylesheet" href="/static/links.css">' in html
    css = api.client.get("/static/links.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert 'href="http://spendwatch.test/budgets"' in html  # the way back into the app

    # JSON clients get the state without a change too.
    state_now = api.client.get(link, headers=AS_JSON).get_json()
    assert state_now["muted"] is False and state_now["rule_id"] == rule_id

    done = api.client.post(link, headers=AS_BROWSER)  # the Mute button
    assert done.status_code == 200 and _muted(api, world["a"], rule_id) is True
    html = done.get_data(as_text=True)
    unmute = f"/api/alert-rules/{rule_id}/unmute?token={token}"
    assert f'<form method="post" action="{unmute}">' in html and ">Unmute</button>" in html
    back = api.client.post(unmute, headers=AS_BROWSER)  # the Unmute button, same token
    assert back.status_code == 200 and _muted(api, world["a"], rule_id) is False
    assert ">Mute</button>" in back.get_data(as_text=True)
    assert api.client.get(f"/api/alert-rules/{rule_id}/unmute?token={token}").status_code == 405


def test_rotating_the_nonce_revokes_links_already_sent(api: Api, world: dict[str, Any]) -> None:
    state = world["state"]
    rule_id = _budget(api, world["a"], "Alpha budget")
    old = mute_token(_rule(state, rule_id), SECRET)
    # A viewer may not revoke; a member may.
    invite = api.call(
        "POST", f"/api/workspaces/{world['ws_a']}/invites", world["a"], json={"email": "v@x.io", "role": "viewer"}
    )
    viewer = api.register("v@x.io", invite_token=invite.get_json()["token"])["access_token"]
    assert api.call("POST", f"/api/budgets/{rule_id}/mute-link/rotate", viewer).status_code == 403
    assert api.call("POST", f"/api/budgets/{rule_id}/mute-link/rotate", world["a"]).status_code == 204

    for method in ("GET", "POST"):
        r = api.client.open(f"/api/alert-rules/{rule_id}/mute?token={old}", method=method, headers=AS_BROWSER)
        assert r.status_code == 403 and b"Alpha" not in r.data
        assert "This link is not valid or has expired" in r.get_data(as_text=True)
    assert _muted(api, world["a"], rule_id) is False
    new = mute_token(_rule(state, rule_id), SECRET)
    assert api.client.post(f"/api/alert-rules/{rule_id}/mute?token={new}").status_code == 200
    assert _muted(api, world["a"], rule_id) is True


def test_expired_and_undated_tokens_are_refused(api: Api, world: dict[str, Any]) -> None:
    state = world["state"]
    rule_id = _budget(api, world["a"], "Alpha budget")
    rule = _rule(state, rule_id)
    now = dt.datetime.now(dt.UTC)
    claims = {"w": rule.workspace_id, "r": rule.id, "n": rule.link_nonce}
    refused = [
        mute_token(rule, SECRET, issued_at=now - dt.timedelta(days=31)),  # expired
        mute_token(rule, SECRET, issued_at=now + dt.timedelta(days=1)),  # from the future
        URLSafeSerializer(SECRET, salt=MUTE_SALT, signer_kwargs=SHA256).dumps(claims),  # no time at all
        URLSafeSerializer(SECRET, salt="spendwatch.alert-rule.mute").dumps({"rule": rule.id}),  # the old format
    ]
    for token in refused:
        r = api.client.post(f"/api/alert-rules/{rule_id}/mute?token={token}", headers=AS_JSON)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "bad_token", token
    assert _muted(api, world["a"], rule_id) is False
    fresh = mute_token(rule, SECRET, issued_at=now - dt.timedelta(days=29))
    assert api.client.post(f"/api/alert-rules/{rule_id}/mute?token={fresh}", headers=AS_JSON).status_code == 200


def test_links_built_by_the_worker_use_the_public_url(make_app: Any, smtp: FakeSmtp, receiver: WebhookReceiver) -> None:
    """The worker's links (email and webhook) and invitations share one public URL: BASE_URL, else the admin's."""
    app = make_app(base_url="https://spend.example.org/")
    state = app.extensions["spendwatch"]
    api = Api(app.test_client())
    token = api.register("alice@example.com")["access_token"]
    smtp_settings = {"host": smtp.host, "port": smtp.port, "security": "none", "from_address": "alerts@example.com"}
    admin_settings(api, token, allow_private_webhooks=True, smtp=smtp_settings)
    hook = api.call("POST", "/api/channels", token, json={"name": "Hook", "kind": "webhook", "url": receiver.url})
    receiver.secrets = [hook.get_json()["secret"]]
    mail = api.call("POST", "/api/channels", token, json={"name": "M", "kind": "email", "recipients": ["f@x.io"]})
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-aaaaaaaaaaaa"}}
    account = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    channels = [hook.get_json()["id"], mail.get_json()["id"]]

    def fire_and_deliver(name: str, cost: str) -> tuple[dict[str, Any], Any]:
        rule_id = _budget(api, token, name, channels=channels)
        _spend(state, account, cost)
        JOBS_BY_ID["alerts"].run_once(state.db, state.settings)
        JOBS_BY_ID["deliver"].run_once(state.db, state.settings)
        hooked = next(d.json for d in receiver.deliveries if d.json["data"]["rule"]["id"] == rule_id)
        mailed = next(m.message for m in smtp.messages if name in m.message["Subject"])
        return hooked["data"]["links"], mailed

    links, message = fire_and_deliver("First", "5.00")
    assert links["dashboard"] == "https://spend.example.org/"
    assert links["mute"].startswith("https://spend.example.org/api/alert-rules/")
    assert message["List-Unsubscribe"] == f"<{links['mute']}>"
    assert links["mute"] in message.get_body(preferencelist=("plain",)).get_content()

    # The admin's public URL setting wins, for invitations and for the worker alike.
    admin_settings(api, token, base_url="https://admin.example.net")
    invite = api.call("POST", "/api/workspaces/1/invites", token, json={"email": "m@x.io", "role": "member"}).get_json()
    assert invite["url"] == f"https://admin.example.net/invite/{invite['token']}"
    links, message = fire_and_deliver("Second", "50.00")
    assert links["mute"].startswith("https://admin.example.net/api/alert-rules/")
    assert message["List-Unsubscribe"] == f"<{links['mute']}>"
    # The link the worker sent works against this server (the RFC 8058 one-click POST of a mail client).
    assert api.client.post(_path(links["mute"]), data={"List-Unsubscribe": "One-Click"}).status_code == 200


def test_a_viewer_does_not_get_the_mute_link_from_the_alert_history(api: Api, world: dict[str, Any]) -> None:
    """Viewers may not mute (PATCH is 403): the history must not hand them the signed link that would."""
    state = world["state"]
    rule_id = _budget(api, world["a"], "Alpha budget")
    _spend(state, world["account"], "5.00")
    JOBS_BY_ID["alerts"].run_once(state.db, state.settings)
    invite = api.call("POST", f"/api/workspaces/{world['ws_a']}/invites", world["a"], json=VIEWER_INVITE)
    viewer = api.register("v@x.io", invite_token=invite.get_json()["token"])["access_token"]
    [alert] = api.call("GET", f"/api/alerts?rule_id={rule_id}", viewer).get_json()["items"]
    seen = api.call("GET", f"/api/alerts/{alert['id']}", viewer).get_json()["payload"]
    assert seen["links"]["mute"] is None and seen["links"]["dashboard"] == "http://spendwatch.test/"
    owner = api.call("GET", f"/api/alerts/{alert['id']}", world["a"]).get_json()["payload"]
    assert owner["links"]["mute"] == _fired_mute_link(state, rule_id)
