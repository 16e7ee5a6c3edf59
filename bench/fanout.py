"""Fan-out: one sync cycle over many accounts against the fake provider server with added latency.

`python -m bench.fanout [--scale N]` — 1,000 OpenRouter accounts (x N) in steady state (synced up to now, so each
sync re-reads a 3-day lookback: exactly 3 requests of 100 ms), global bound 64, on a throwaway PostgreSQL.
Prints one JSON line: wall time of the cycle, requests, the fake server's highest concurrency (must not exceed
the bound), and accounts synced (must be all).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from backend.config import Settings, SyncSettings
from backend.crypto import Keyring, configure_keyring
from backend.db import Database, utcnow
from backend.migrate import upgrade
from backend.models import ProviderAccount, SyncRun, Workspace
from bench.postgres import postgres_url
from jobs.sync import SyncDispatcher
from tests.fakes.providers import account_key

ACCOUNTS = 1000
BOUND = 64
LATENCY = 0.1


def _start_fake() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.providers", "--latency", str(LATENCY)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("URL "):
        proc.kill()
        raise RuntimeError(f"the fake server did not start: {line!r}")
    return proc, line.removeprefix("URL ")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(scale: float = 1.0) -> dict[str, object]:
    """Create the accounts, run one full cycle, and check the bound and that none was skipped."""
    with postgres_url() as url:
        return _run(url, scale)


def _run(url: str, scale: float) -> dict[str, object]:
    accounts = max(1, int(ACCOUNTS * scale))
    key = Fernet.generate_key().decode()
    configure_keyring(Keyring((key,)))
    fake, fake_url = _start_fake()
    try:
        upgrade(url)
        sync = SyncSettings(max_workers=BOUND, lookback_days=3, lease_seconds=300)
        settings = Settings(
            app_env="test",
            data_dir=Path("."),
            database_url=url,
            secret_key="bench-fanout-secret-key-000000000000",
            encryption_keys=(key,),
            base_url="http://bench",
            provider_base_urls={"openrouter": f"{fake_url}/openrouter/api/v1"},
            sync=sync,
        )
        db = Database(url, pool_size=BOUND + 8)
        now = utcnow()
        with db.system_session() as session:
            workspace = Workspace(name="fanout")
            session.add(workspace)
            session.flush()
            session.execute(
                insert(ProviderAccount),
                [
                    {
                        "workspace_id": workspace.id,
                        "kind": "openrouter",
                        "name": f"acct {n}",
                        "credentials": {"api_key": account_key("openrouter", n)},
                        "config": {},
                        "status": "ok",
                        "synced_until": now,
                        "next_sync_at": now,
                    }
                    for n in range(accounts)
                ],
            )
        httpx.post(f"{fake_url}/_fake/reset", params={"latency": LATENCY})
        dispatcher = SyncDispatcher(db, replace(settings, sync=sync))
        fake_cpu_before = _cpu_seconds(fake.pid)
        cpu_before = time.process_time()
        started = time.perf_counter()
        result = dispatcher(wait_for_completion=True)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        fake_cpu = _cpu_seconds(fake.pid) - fake_cpu_before
        dispatcher.shutdown()
        stats = httpx.get(f"{fake_url}/_fake/stats").json()
        with db.system_session() as session:
            ok = session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "ok"))
            failed = session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status != "ok"))
        db.dispose()
        return {
            "bench": "fanout",
            "accounts": accounts,
            "bound": BOUND,
            "latency_s": LATENCY,
            "wall_s": round(wall, 3),
            "floor_s": round(stats["requests"] * LATENCY / BOUND, 3),
            "requests": stats["requests"],
            "requests_per_account": round(stats["requests"] / accounts, 2),
            "max_in_flight": stats["max_in_flight"],
            # Where the time goes on a small machine: the worker's own CPU (its Python threads share one GIL)
            # and the fake server's, which runs on the same cores.
            "worker_cpu_s": round(cpu, 3),
            "worker_cpu_ms_per_account": round(cpu * 1000 / accounts, 2),
            "fake_server_cpu_s": round(fake_cpu, 3),
            "bound_respected": stats["max_in_flight"] <= BOUND,
            "synced_ok": ok,
            "failed": failed,
            "none_skipped": ok == accounts and result["synced"] == accounts,
        }
    finally:
        fake.kill()
        fake.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of accounts")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(json.dumps(run(args.scale)))


if __name__ == "__main__":
    main()
