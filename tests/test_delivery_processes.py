"""A real `spendwatch worker` killed after it claimed a notification and while its webhook request is in
flight: after its lease lapses a new worker delivers it, with the same webhook-id (at-least-once)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from backend.config import Settings
from tests.channel_helpers import admin_settings, attempts, db_of, fire, notifications
from tests.conftest import Api
from tests.fakes.webhooks import WebhookReceiver
from tests.process import Worker, worker_env

T = TypeVar("T")


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[[str], Worker]]:
    started: list[Worker] = []

    def start(name: str) -> Worker:
        env = worker_env(settings, tmp_path / "var", DELIVERY_LEASE_SECONDS="3", DELIVERY_TIMEOUT_SECONDS="60")
        worker = Worker(name, env, tmp_path)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.kill()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, worker: Worker) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{worker.log()[-4000:]}")
        time.sleep(0.05)


def test_killed_worker_mid_send_is_delivered_after_restart_with_the_same_id(
    app: Any, api: Api, owner: dict[str, Any], start_worker: Callable[[str], Worker]
) -> None:
    token = owner["access_token"]
    ws = owner["workspaces"][0]["workspace_id"]
    receiver = WebhookReceiver(hold=threading.Event()).start()
    try:
        admin_settings(api, token, allow_private_webhooks=True)
        created = api.call("POST", "/api/channels", token, json={"name": "H", "kind": "webhook", "url": receiver.url})
        receiver.secrets = [created.get_json()["secret"]]
        (nid,) = fire(db_of(app), ws, [created.get_json()["id"]])

        first = start_worker("first")
        # The first worker claimed the notification and its request is in flight (the receiver holds it).
        wait_for("the first request", lambda: receiver.arrived.is_set(), 30, first)
        (claimed,) = notifications(db_of(app))
        assert claimed.status == "pending" and claimed.claimed_by is not None
        assert claimed.claimed_by.split(":")[-2] == str(first.process.pid)
        first.kill()
        held, receiver.hold = receiver.hold, None
        held.set()
        assert attempts(db_of(app)) == []  # it died before recording anything

        second = start_worker("second")
        delivered = wait_for(
            "the delivery after the restart",
            lambda: [n for n in notifications(db_of(app)) if n.status == "delivered"],
            30,
            second,
        )
        (n,) = delivered
        assert len(receiver.deliveries) == 2
        assert {d.webhook_id for d in receiver.deliveries} == {n.message_id}
        assert all(d.verified_with == receiver.secrets for d in receiver.deliveries)
        assert [(a.notification_id, a.ok, a.response_code) for a in attempts(db_of(app))] == [(nid, True, 200)]
        assert n.attempts == 1 and n.claimed_by is None
        assert "Traceback" not in second.log()
    finally:
        receiver.stop()
