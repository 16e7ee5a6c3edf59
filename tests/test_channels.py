"""/api/channels: CRUD with validation (SSRF rule included), secrets shown once and masked headers, secret
rotation with two signatures, the test send, the delivery log, retry, and a 410 that disables a channel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import Channel
from tests.channel_helpers import admin_settings, attempts, db_of, deliver, fire, notifications, with_schedule
from tests.conftest import Api
from tests.fakes.webhooks import WebhookReceiver


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


def _channels_stored(app: Any) -> int:
    with db_of(app).system_session() as session:
        return int(session.scalar(select(func.count()).select_from(Channel)) or 0)


def _create(api: Api, token: str, **body: Any) -> Any:
    return api.call("POST", "/api/channels", token, json=body)


def test_email_channel_crud(api: Api, token: str) -> None:
    created = _create(api, token, name="Ops mail", kind="email", recipients=["ops@example.com", "cfo@example.com"])
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["kind"] == "email" and body["recipients"] == ["ops@example.com", "cfo@example.com"]
    assert body["secret"] is None and body["url"] is None and body["enabled"] is True
    cid = body["id"]

    patched = api.call("PATCH", f"/api/channels/{cid}", token, json={"recipients": ["a@example.com"], "name": "A"})
    assert patched.status_code == 200 and patched.get_json()["recipients"] == ["a@example.com"]
    listed = api.call("GET", "/api/channels", token).get_json()["items"]
    assert [(c["id"], c["name"]) for c in listed] == [(cid, "A")]
    # A webhook-only field on an email channel is refused, and nothing changes.
    wrong = api.call("PATCH", f"/api/channels/{cid}", token, json={"url": "https://example.com/x"})
    assert wrong.status_code == 422
    assert api.call("DELETE", f"/api/channels/{cid}", token).status_code == 204
    assert api.call("GET", f"/api/channels/{cid}", token).status_code == 404


def test_webhook_secret_is_shown_once_and_headers_are_masked(app: Any, api: Api, token: str) -> None:
    created = _create(
        api,
        token,
        name="Hook",
        kind="webhook",
        url="https://1.1.1.1/hooks",
        headers={"Authorization": "Bearer top-secret-token-1234"},
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) >= len("whsec_") + 32
    assert body["format"] == "standard" and body["headers"] == {"Authorization": "…1234"}
    shown = api.call("GET", f"/api/channels/{body['id']}", token).get_json()
    text = str(shown) + str(api.call("GET", "/api/channels", token).get_json())
    assert secret not in text and "top-secret-token" not in text and "secret" not in shown
    # Sending the hint back keeps the stored value.
    api.call("PATCH", f"/api/channels/{body['id']}", token, json={"headers": {"Authorization": "…1234"}})
    with db_of(app).system_session() as session:
        channel = session.get(Channel, body["id"])
        assert channel is not None
        assert channel.secrets["headers"] == {"Authorization": "Bearer top-secret-token-1234"}
        assert channel.secrets["secret"] == secret


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"kind": "webhook", "url": "not a url"}, "http"),
        ({"kind": "webhook", "url": "ftp://example.com/x"}, "http"),
        ({"kind": "webhook", "url": "http://169.254.169.254/latest/meta-data"}, "link-local"),
        ({"kind": "webhook", "url": "http://127.0.0.1:9/x"}, "loopback"),
        ({"kind": "webhook", "url": "http://localhost/x"}, "loopback"),
        ({"kind": "webhook", "url": "http://10.1.2.3/x"}, "private"),
        ({"kind": "webhook", "url": "http://[fd00::1]/x"}, "private"),
        ({"kind": "webhook", "url": "http://0.0.0.0/x"}, "unspecified"),
        ({"kind": "webhook", "url": "https://user:pw@example.com/x"}, "password"),
        ({"kind": "webhook", "url": "https://1.1.1.1/x", "format": "teams"}, ""),
        ({"kind": "webhook", "url": "https://1.1.1.1/x", "headers": {"webhook-signature": "x"}}, ""),
        ({"kind": "webhook", "url": "https://1.1.1.1/x", "headers": {"X-A": "a\r\nX-B: b"}}, ""),
        ({"kind": "webhook"}, ""),
        ({"kind": "discord", "url": "https://1.1.1.1/x"}, ""),
        ({"kind": "email", "recipients": []}, ""),
        ({"kind": "email", "recipients": ["not-an-email"]}, ""),
        ({"kind": "email", "recipients": [f"u{i}@example.com" for i in range(21)]}, ""),
        ({"kind": "email", "recipients": ["a@example.com"], "url": "https://1.1.1.1/"}, ""),
        ({"kind": "email", "recipients": ["a@example.com"], "colour": "red"}, ""),
    ],
)
def test_bad_input_is_422_and_stores_nothing(
    app: Any, api: Api, token: str, body: dict[str, Any], fragment: str
) -> None:
    response = _create(api, token, name="Bad", **body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert fragment in (error["message"] + str(error["details"])).lower()
    assert _channels_stored(app) == 0


def test_private_urls_are_allowed_only_when_the_admin_allows_them(app: Any, api: Api, token: str) -> None:
    url = "http://127.0.0.1:9/hook"
    assert _create(api, token, name="H", kind="webhook", url=url).status_code == 422
    admin_settings(api, token, allow_private_webhooks=True)
    assert _create(api, token, name="H", kind="webhook", url=url).status_code == 201
    # The metadata address is link-local: allowed with the switch on, refused again once it is off.
    admin_settings(api, token, allow_private_webhooks=False)
    assert _create(api, token, name="H", kind="webhook", url="http://169.254.169.254/").status_code == 422
    assert _channels_stored(app) == 1


def test_viewers_read_members_write(api: Api, token: str, owner: dict[str, Any]) -> None:
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "v@example.com", "role": "viewer"})
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]
    created = _create(api, token, name="Mail", kind="email", recipients=["a@example.com"]).get_json()
    assert api.call("GET", f"/api/channels/{created['id']}", viewer).status_code == 200
    denied = _create(api, viewer, name="Mail", kind="email", recipients=["a@example.com"])
    assert denied.status_code == 403
    assert api.call("POST", f"/api/channels/{created['id']}/test", viewer).status_code == 403


def test_test_send_to_the_mail_outbox_is_logged(app: Any, api: Api, token: str, settings: Any) -> None:
    created = _create(api, token, name="Mail", kind="email", recipients=["a@example.com"]).get_json()
    outcome = api.call("POST", f"/api/channels/{created['id']}/test", token).get_json()
    assert outcome["ok"] is True and outcome["error"] is None and "mail outbox" in outcome["note"]
    files = sorted((settings.data_dir / "mail-outbox").glob("*.eml"))
    assert [f.name for f in files] == [f"{outcome['message_id']}.eml"]
    assert b"Test message" in files[0].read_bytes()
    log = api.call("GET", f"/api/channels/{created['id']}/deliveries", token).get_json()
    assert [(d["ok"], d["event_type"], d["notification_status"]) for d in log["items"]] == [(True, "test", "delivered")]
    channel = api.call("GET", f"/api/channels/{created['id']}", token).get_json()
    assert channel["last_delivery_at"] is not None and channel["last_error"] is None
    # The delivery job never sends the test a second time.
    assert deliver(db_of(app), settings).claimed == 0


def test_rotation_sends_both_signatures_for_a_day(api: Api, token: str, receiver: WebhookReceiver) -> None:
    admin_settings(api, token, allow_private_webhooks=True)
    created = _create(api, token, name="Hook", kind="webhook", url=receiver.url).get_json()
    old = created["secret"]
    rotated = api.call("POST", f"/api/channels/{created['id']}/rotate-secret", token).get_json()
    new = rotated["secret"]
    assert new.startswith("whsec_") and new != old
    shown = api.call("GET", f"/api/channels/{created['id']}", token).get_json()
    assert shown["previous_secret_valid_until"] == rotated["previous_secret_valid_until"]
    assert new not in str(shown)
    receiver.secrets = [old, new]
    outcome = api.call("POST", f"/api/channels/{created['id']}/test", token).get_json()
    assert outcome["ok"] is True and outcome["status_code"] == 200
    (got,) = receiver.deliveries
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verified_with == [old, new]
    assert got.json["type"] == "test" and got.json["version"] == 1 and got.webhook_id == outcome["message_id"]
    # A test send is not an alert: the history leaves it out unless asked for by type.
    assert api.call("GET", "/api/alerts", token).get_json()["items"] == []
    tests = api.call("GET", "/api/alerts?type=test", token).get_json()["items"]
    assert [t["type"] for t in tests] == ["test"]


def test_a_410_disables_the_channel_and_says_why(
    app: Any, api: Api, token: str, owner: dict[str, Any], receiver: WebhookReceiver, settings: Any
) -> None:
    admin_settings(api, token, allow_private_webhooks=True)
    created = _create(api, token, name="Hook", kind="webhook", url=receiver.url).get_json()
    receiver.secrets = [created["secret"]]
    receiver.respond(410)
    ws = owner["workspaces"][0]["workspace_id"]
    first, second = fire(db_of(app), ws, [created["id"]]) + fire(db_of(app), ws, [created["id"]])
    run = deliver(db_of(app), with_schedule(settings, 0, 5, 300))
    assert run.claimed == 2 and run.delivered == 0
    # Only one request: the 410 disabled the channel, and the other notification ended dead unsent.
    assert len(receiver.deliveries) == 1
    channel = api.call("GET", f"/api/channels/{created['id']}", token).get_json()
    assert channel["enabled"] is False and "410 Gone" in channel["disabled_reason"]
    assert "410" in channel["last_error"]
    assert {n.id: n.status for n in notifications(db_of(app))} == {first: "dead", second: "dead"}
    assert [(a.ok, a.response_code) for a in attempts(db_of(app))] == [(False, 410)]
    # Retrying (or a test send) needs the channel back on; then it is delivered.
    assert api.call("POST", f"/api/notifications/{first}/retry", token).status_code == 409
    assert api.call("POST", f"/api/channels/{created['id']}/test", token).status_code == 409
    enabled = api.call("PATCH", f"/api/channels/{created['id']}", token, json={"enabled": True}).get_json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    retried = api.call("POST", f"/api/notifications/{first}/retry", token).get_json()
    assert retried["status"] == "pending" and retried["attempts"] == 0
    assert deliver(db_of(app), settings).delivered == 1
    assert [d.status for d in receiver.deliveries] == [410, 200]
    assert receiver.deliveries[1].verified_with == [created["secret"]]


def test_deliveries_page_newest_first(app: Any, api: Api, token: str, owner: dict[str, Any], settings: Any) -> None:
    created = _create(api, token, name="Mail", kind="email", recipients=["a@example.com"]).get_json()
    ids = fire(db_of(app), owner["workspaces"][0]["workspace_id"], [created["id"]] * 1)
    ids += fire(db_of(app), owner["workspaces"][0]["workspace_id"], [created["id"]])
    ids += fire(db_of(app), owner["workspaces"][0]["workspace_id"], [created["id"]])
    assert deliver(db_of(app), settings).delivered == 3
    page = api.call("GET", f"/api/channels/{created['id']}/deliveries?limit=2", token).get_json()
    assert [d["notification_id"] for d in page["items"]] == [ids[2], ids[1]]
    rest = api.call(
        "GET", f"/api/channels/{created['id']}/deliveries?limit=2&before={page['next_before']}", token
    ).get_json()
    assert [d["notification_id"] for d in rest["items"]] == [ids[0]] and rest["next_before"] is None
    assert api.call("GET", f"/api/channels/{created['id']}/deliveries?limit=0", token).status_code == 422


def test_retry_of_another_workspaces_notification_is_404(app: Any, api: Api, token: str, settings: Any) -> None:
    admin_settings(api, token, registration_mode="open")
    other = api.register("eve@example.com")
    other_ws = other["workspaces"][0]["workspace_id"]
    channel = _create(api, other["access_token"], name="M", kind="email", recipients=["e@example.com"]).get_json()
    (nid,) = fire(db_of(app), other_ws, [channel["id"]])
    assert api.call("POST", f"/api/notifications/{nid}/retry", token).status_code == 404
    assert api.call("GET", f"/api/channels/{channel['id']}/deliveries", token).status_code == 404
    assert api.call("POST", f"/api/notifications/{nid}/retry", other["access_token"]).status_code == 200


def test_a_webhook_url_is_a_secret_shown_as_a_hint(app: Any, api: Api, token: str) -> None:
    slack = "https://1.1.1.1/services/T000/B000/XXXXsecretTOKENabcd"
    created = _create(api, token, name="Slack", kind="webhook", url=slack, format="slack").get_json()
    assert created["url"] == "https://1.1.1.1/services/…abcd"
    listed = api.call("GET", "/api/channels", token).get_json()
    assert slack not in json.dumps(listed) and "secretTOKEN" not in json.dumps(listed)
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        channel = s.get(Channel, created["id"])
        assert channel.secrets["url"] == slack and "url" not in channel.config
    # The hint sent back keeps the URL; a new URL replaces it.
    same = api.call("PATCH", f"/api/channels/{created['id']}", token, json={"url": created["url"], "name": "S"})
    assert same.status_code == 200 and same.get_json()["url"] == created["url"]
    with db.system_session() as s:
        assert s.get(Channel, created["id"]).secrets["url"] == slack
    moved = api.call("PATCH", f"/api/channels/{created['id']}", token, json={"url": "https://1.1.1.1/h"})
    assert moved.get_json()["url"] == "https://1.1.1.1/h"
    with db.system_session() as s:
        assert s.get(Channel, created["id"]).secrets["url"] == "https://1.1.1.1/h"
