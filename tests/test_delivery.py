"""The delivery outbox against real servers: an aiosmtpd SMTP server that goes down and comes back, and an
HTTP receiver that verifies Standard Webhooks signatures and fails on purpose."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from backend.config import load_settings
from integrations.channels.base import Message
from integrations.channels.render import render
from tests.channel_helpers import (
    BUDGET_PAYLOAD,
    admin_settings,
    attempts,
    db_of,
    deliver,
    fire,
    make_due,
    notifications,
    with_schedule,
)
from tests.conftest import Api
from tests.fakes.smtp import FakeSmtp
from tests.fakes.webhooks import WebhookReceiver


@pytest.fixture
def ws(owner: dict[str, Any]) -> int:
    return int(owner["workspaces"][0]["workspace_id"])


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


def _smtp_on(api: Api, token: str, smtp: FakeSmtp) -> None:
    admin_settings(
        api,
        token,
        smtp={"host": smtp.host, "port": smtp.port, "security": "none", "from_address": "alerts@spendwatch.test"},
    )


def _email_channel(api: Api, token: str, *recipients: str) -> int:
    response = api.call(
        "POST", "/api/channels", token, json={"name": "Mail", "kind": "email", "recipients": recipients}
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def _webhook_channel(api: Api, token: str, receiver: WebhookReceiver, **extra: Any) -> int:
    admin_settings(api, token, allow_private_webhooks=True)
    body = {"name": "Hook", "kind": "webhook", "url": receiver.url, **extra}
    response = api.call("POST", "/api/channels", token, json=body)
    assert response.status_code == 201, response.get_json()
    receiver.secrets = [response.get_json()["secret"]]
    return int(response.get_json()["id"])


def test_email_arrives_multipart_with_the_figures(
    app: Any, api: Api, token: str, ws: int, smtp: FakeSmtp, settings: Any
) -> None:
    _smtp_on(api, token, smtp)
    channel = _email_channel(api, token, "ops@example.com", "cfo@example.com")
    fire(db_of(app), ws, [channel])
    assert deliver(db_of(app), settings).delivered == 1
    (got,) = smtp.messages
    assert sorted(got.rcpt_tos) == ["cfo@example.com", "ops@example.com"]
    mail = got.message
    (notification,) = notifications(db_of(app))
    assert mail["Subject"] == "[Spendwatch] AI spend this month: $412.50 spent, 82.5% of $500.00"
    assert mail["Message-ID"] == f"<{notification.message_id}@spendwatch.test>"
    assert mail["List-Unsubscribe"] == "<http://spendwatch.test/budgets/7/mute>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058: clients POST, never GET
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "$412.50" in part and "$500.00" in part and "82.5%" in part and "$611.20" in part
        assert "gpt-4o" in part and "$301.12" in part and "http://spendwatch.test/budgets/7" in part
    assert "Threshold: 80% of actual spend" in text
    assert notification.status == "delivered" and notification.attempts == 1
    assert [(a.ok, a.response_code) for a in attempts(db_of(app))] == [(True, 250)]


def test_smtp_down_then_back_loses_nothing_and_sends_each_once(
    app: Any, api: Api, token: str, ws: int, smtp: FakeSmtp, settings: Any
) -> None:
    _smtp_on(api, token, smtp)
    channel = _email_channel(api, token, "ops@example.com")
    smtp.stop()
    ids = [fire(db_of(app), ws, [channel])[0] for _ in range(3)]
    fast = with_schedule(settings, 0, 60, 60)
    run = deliver(db_of(app), fast)
    assert (run.claimed, run.delivered, run.failed) == (3, 0, 3)
    failed = attempts(db_of(app))
    assert [a.notification_id for a in failed] == ids and not any(a.ok for a in failed)
    assert all("could not reach the mail server" in (a.error or "") for a in failed)
    assert all(n.status == "pending" and n.attempts == 1 for n in notifications(db_of(app)))
    # Not yet due (60 s): nothing is tried early.
    assert deliver(db_of(app), fast).claimed == 0
    smtp.start()
    make_due(db_of(app))
    assert deliver(db_of(app), fast).delivered == 3
    make_due(db_of(app))
    assert deliver(db_of(app), fast).claimed == 0
    message_ids = sorted(m.message["Message-ID"] for m in smtp.messages)
    assert len(smtp.messages) == 3 and len(set(message_ids)) == 3
    assert message_ids == sorted(f"<{n.message_id}@spendwatch.test>" for n in notifications(db_of(app)))
    assert [n.status for n in notifications(db_of(app))] == ["delivered"] * 3
    assert len(attempts(db_of(app))) == 6


def test_smtp_4xx_retries_and_5xx_is_permanent(
    app: Any, api: Api, token: str, ws: int, smtp: FakeSmtp, settings: Any
) -> None:
    _smtp_on(api, token, smtp)
    channel = _email_channel(api, token, "ops@example.com")
    fast = with_schedule(settings, 0, 0, 0)
    smtp.reject_with = "450 mailbox busy, try later"
    fire(db_of(app), ws, [channel])
    deliver(db_of(app), fast)
    (n,) = notifications(db_of(app))
    assert (n.status, n.attempts) == ("pending", 1) and attempts(db_of(app))[0].response_code == 450
    smtp.reject_with = "550 no such user"
    deliver(db_of(app), fast)
    (n,) = notifications(db_of(app))
    assert n.status == "dead" and n.attempts == 2 and "SMTP 550" in (n.last_error or "")
    assert [a.response_code for a in attempts(db_of(app))] == [450, 550]
    assert smtp.messages == []


def test_webhook_500_500_200_is_delivered_with_one_id_and_valid_signatures(
    app: Any, api: Api, token: str, ws: int, receiver: WebhookReceiver, settings: Any
) -> None:
    channel = _webhook_channel(api, token, receiver, headers={"X-Team": "finance-team-key"})
    receiver.respond(500, 500, 200)
    (nid,) = fire(db_of(app), ws, [channel])
    fast = with_schedule(settings, 0, 0, 0, 0)
    for _ in range(3):
        deliver(db_of(app), fast)
    (n,) = notifications(db_of(app))
    assert n.status == "delivered" and n.attempts == 3
    assert [(a.ok, a.response_code) for a in attempts(db_of(app), nid)] == [(False, 500), (False, 500), (True, 200)]
    assert [d.status for d in receiver.deliveries] == [500, 500, 200]
    assert {d.webhook_id for d in receiver.deliveries} == {n.message_id}
    assert all(d.verified_with == receiver.secrets for d in receiver.deliveries)
    body = receiver.deliveries[-1].json
    assert body["type"] == "budget.threshold_crossed" and body["version"] == 1
    assert Decimal(body["data"]["spent"]) == Decimal("412.5") and Decimal(body["data"]["budget"]) == Decimal("500")
    assert body["data"]["currency"] == "USD"
    assert receiver.deliveries[-1].headers["x-team"] == "finance-team-key"
    assert receiver.deliveries[-1].headers["content-type"] == "application/json"
    log = api.call("GET", f"/api/channels/{channel}/deliveries", token).get_json()["items"]
    assert [d["response_code"] for d in log] == [200, 500, 500]


def test_a_run_gives_back_what_it_could_not_send_within_half_its_lease(
    app: Any, api: Api, token: str, ws: int, receiver: WebhookReceiver, settings: Any
) -> None:
    channel = _webhook_channel(api, token, receiver)
    ids = fire(db_of(app), ws, [channel]) + fire(db_of(app), ws, [channel]) + fire(db_of(app), ws, [channel])
    receiver.hold = threading.Event()
    receiver.arrived.clear()

    def release_late(hold: threading.Event) -> None:
        # Counted from the first send's arrival, not from the test's start: however slow the machine, that send
        # then takes at least 1.5 s, past half of a 2 s lease (a lower bound only, never an upper one).
        receiver.arrived.wait(timeout=60)
        time.sleep(1.5)
        hold.set()

    threading.Thread(target=release_late, args=(receiver.hold,), daemon=True).start()
    run = deliver(db_of(app), with_schedule(settings, 0, 60, lease=2))
    assert (run.claimed, run.delivered, run.released) == (3, 1, 2)
    by_id = {n.id: n for n in notifications(db_of(app))}
    assert by_id[ids[0]].status == "delivered"
    for nid in ids[1:]:  # back in the queue: unsent, unclaimed, no attempt recorded
        assert (by_id[nid].status, by_id[nid].claimed_by, by_id[nid].attempts) == ("pending", None, 0)
        assert attempts(db_of(app), nid) == []
    receiver.hold = None
    assert deliver(db_of(app), with_schedule(settings, 0, 60)).delivered == 2
    assert len({d.webhook_id for d in receiver.deliveries}) == 3 == len(receiver.deliveries)


def test_schedule_runs_out_into_dead_and_retry_revives(
    app: Any, api: Api, token: str, ws: int, receiver: WebhookReceiver, settings: Any
) -> None:
    channel = _webhook_channel(api, token, receiver)
    receiver.default = 503
    (nid,) = fire(db_of(app), ws, [channel])
    fast = with_schedule(settings, 0, 0)
    deliver(db_of(app), fast)
    deliver(db_of(app), fast)
    (n,) = notifications(db_of(app))
    assert n.status == "dead" and n.attempts == 2 and "503" in (n.last_error or "")
    assert deliver(db_of(app), fast).claimed == 0
    receiver.default = 204
    assert api.call("POST", f"/api/notifications/{nid}/retry", token).get_json()["status"] == "pending"
    assert deliver(db_of(app), fast).delivered == 1
    assert {d.webhook_id for d in receiver.deliveries} == {n.message_id}
    assert api.call("POST", f"/api/notifications/{nid}/retry", token).status_code == 409


def test_next_attempt_follows_the_schedule(
    app: Any, api: Api, token: str, ws: int, receiver: WebhookReceiver, settings: Any
) -> None:
    channel = _webhook_channel(api, token, receiver)
    receiver.default = 500
    fire(db_of(app), ws, [channel])
    before = dt.datetime.now(dt.UTC)
    deliver(db_of(app), settings)  # the default schedule: the second attempt 5 s after the first
    (n,) = notifications(db_of(app))
    assert n.next_attempt_at is not None
    assert dt.timedelta(seconds=4) < n.next_attempt_at - before < dt.timedelta(seconds=7)
    make_due(db_of(app))
    deliver(db_of(app), settings)
    (n,) = notifications(db_of(app))
    assert n.next_attempt_at is not None
    assert dt.timedelta(seconds=299) < n.next_attempt_at - before < dt.timedelta(seconds=310)


def test_a_url_refused_at_send_time_is_permanent(
    app: Any, api: Api, token: str, ws: int, receiver: WebhookReceiver, settings: Any
) -> None:
    channel = _webhook_channel(api, token, receiver)
    admin_settings(api, token, allow_private_webhooks=False)  # the loopback receiver is no longer allowed
    fire(db_of(app), ws, [channel])
    deliver(db_of(app), settings)
    (n,) = notifications(db_of(app))
    assert n.status == "dead" and "loopback" in (n.last_error or "") and receiver.deliveries == []


def test_slack_format_is_a_slack_message_with_the_figures(
    app: Any, api: Api, token: str, ws: int, receiver: WebhookReceiver, settings: Any
) -> None:
    channel = _webhook_channel(api, token, receiver, format="slack")
    fire(db_of(app), ws, [channel])
    assert deliver(db_of(app), settings).delivered == 1
    (got,) = receiver.deliveries
    assert "webhook-signature" not in got.headers
    body = got.json
    assert body["text"] == "[Spendwatch] AI spend this month: $412.50 spent, 82.5% of $500.00"
    section = next(b for b in body["blocks"] if b["type"] == "section")["text"]["text"]
    assert "$611.20" in section and "gpt-4o" in section


def test_one_bad_channel_does_not_stop_the_others(
    app: Any, api: Api, token: str, ws: int, receiver: WebhookReceiver, smtp: FakeSmtp, settings: Any
) -> None:
    _smtp_on(api, token, smtp)
    mail = _email_channel(api, token, "ops@example.com")
    hook = _webhook_channel(api, token, receiver)
    receiver.default = 500
    fire(db_of(app), ws, [hook, mail])
    run = deliver(db_of(app), settings)
    assert (run.delivered, run.failed) == (1, 1) and len(smtp.messages) == 1


@pytest.mark.parametrize(
    "event_type",
    [
        "budget.threshold_crossed",
        "budget.forecast_exceeded",
        "budget.resolved",
        "usage.anomaly",
        "account.sync_failing",
        "account.recovered",
        "test",
        "something.new",
    ],
)
@pytest.mark.parametrize("payload", [{}, BUDGET_PAYLOAD, {"links": "nope", "top_contributors": [{}], "spent": "x"}])
def test_every_type_renders_whatever_the_payload(event_type: str, payload: dict[str, Any]) -> None:
    rendered = render(Message("msg_x", 1, event_type, "firing", dt.datetime.now(dt.UTC), payload))
    assert rendered.subject.startswith("[Spendwatch]") and "\n" not in rendered.subject
    assert rendered.text.strip() and rendered.html.startswith("<!doctype html>")


def test_html_is_escaped() -> None:
    payload = {**BUDGET_PAYLOAD, "rule": {"name": "<script>alert(1)</script>"}}
    rendered = render(Message("msg_x", 1, "budget.threshold_crossed", "firing", dt.datetime.now(dt.UTC), payload))
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


def test_retry_schedule_setting(tmp_path: Any) -> None:
    base = {"SPENDWATCH_DATA_DIR": str(tmp_path)}
    assert load_settings(base).delivery.retry_schedule[:3] == (0, 5, 300)
    assert load_settings({**base, "DELIVERY_RETRY_SCHEDULE": "0, 1,2"}).delivery.retry_schedule == (0, 1, 2)
    with pytest.raises(Exception, match="DELIVERY_RETRY_SCHEDULE"):
        load_settings({**base, "DELIVERY_RETRY_SCHEDULE": "0,5m"})
