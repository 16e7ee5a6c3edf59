"""Alert latency: from the end of a sync that crosses a budget threshold to the webhook receiver holding the event.

`python -m bench.latency [--scale N]` — 50 x N runs on a throwaway PostgreSQL with the default job intervals
(sync dispatch every 5 s, delivery every 1 s, the minute's alert tick), the scheduler running in this process
as under `spendwatch run`. Each run adds a demo account with no due sync and a budget of $0.01 on it that
notifies a webhook channel (a real receiver on loopback that verifies signatures), then makes the account
due: its first sync brings the spend that crosses 100 %. Latency is the receiver's arrival time minus the sync
run's `finished_at`. Prints one JSON line: median, p90 and max seconds, and whether max ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select, update

from backend.app import create_app
from backend.config import Settings
from backend.db import utcnow
from backend.migrate import upgrade
from backend.models import ProviderAccount, SyncRun
from backend.services import accounts
from bench.postgres import postgres_url
from jobs.scheduler import build_scheduler
from tests.fakes.webhooks import WebhookReceiver

RUNS = 50
TARGET_S = 2.0


def _wait(condition: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise TimeoutError("the alert did not arrive")


def run(scale: float = 1.0) -> dict[str, Any]:
    """Measure RUNS x SCALE sync-to-webhook latencies with the default job intervals."""
    with postgres_url() as url:
        return _run(url, scale)


def _run(url: str, scale: float) -> dict[str, Any]:
    runs = max(3, int(RUNS * scale))
    receiver = WebhookReceiver().start()
    try:
        upgrade(url)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                app_env="test",
                data_dir=Path(tmp),
                database_url=url,
                secret_key="bench-latency-secret-key-0000000000",
                encryption_keys=(Fernet.generate_key().decode(),),
                base_url="http://bench",
            )
            app = create_app(settings)
            db = app.extensions["spendwatch"].db
            client = app.test_client()
            registered = client.post(
                "/api/auth/register", json={"email": "bench@example.com", "password": "bench password 123"}
            ).get_json()
            headers = {"Authorization": f"Bearer {registered['access_token']}"}
            workspace_id = registered["workspaces"][0]["workspace_id"]
            client.patch("/api/admin/settings", json={"allow_private_webhooks": True}, headers=headers)
            hook = client.post(
                "/api/channels", json={"name": "Hook", "kind": "webhook", "url": receiver.url}, headers=headers
            ).get_json()
            receiver.secrets = [hook["secret"]]
            scheduler = build_scheduler(db, settings, background=True)
            scheduler.start()
            latencies: list[float] = []
            try:
                for n in range(runs):
                    with db.system_session() as session:
                        account = accounts.create_account(
                            session=session,
                            workspace_id=workspace_id,
                            kind="demo",
                            name=f"demo {n}",
                            credentials={"api_key": f"demo-latency-{n:04d}-" + "k" * 24},
                        )
                        account.next_sync_at = None  # not due until its budget exists
                        session.flush()
                        account_id = account.id
                    budget = {
                        "name": f"budget {n}",
                        "amount": "0.01",
                        "scope": {"account_id": account_id},
                        "channels": [hook["id"]],
                    }
                    assert client.post("/api/budgets", json=budget, headers=headers).status_code == 201
                    before = len(receiver.deliveries)
                    with db.system_session() as session:
                        session.execute(
                            update(ProviderAccount)
                            .where(ProviderAccount.id == account_id)
                            .values(next_sync_at=utcnow())
                        )
                    delivery = _wait(
                        lambda b=before: receiver.deliveries[b] if len(receiver.deliveries) > b else None, 60
                    )
                    with db.system_session() as session:
                        finished = session.scalar(
                            select(SyncRun.finished_at).where(SyncRun.account_id == account_id, SyncRun.status == "ok")
                        )
                    assert finished is not None and delivery.verified_with == receiver.secrets
                    assert delivery.json["data"]["rule"]["name"] == f"budget {n}"
                    latencies.append(delivery.received_at - finished.timestamp())
            finally:
                scheduler.shutdown(wait=True)
                db.dispose()
    finally:
        receiver.stop()
    ordered = sorted(latencies)
    return {
        "bench": "latency",
        "runs": runs,
        "median_s": round(statistics.median(ordered), 3),
        "p90_s": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "max_s": round(ordered[-1], 3),
        "min_s": round(ordered[0], 3),
        "target_max_s": TARGET_S,
        "target_met": ordered[-1] <= TARGET_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of runs")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(json.dumps(run(args.scale)))


if __name__ == "__main__":
    main()
