"""Web app: the dashboard loaded in Chromium by a signed-in user, on 10,000,000 usage rows in PostgreSQL.

    python -m bench.frontend [--scale N] [--loads L] [--warmups W] [--until auto|marker|fallback]

Builds bench.summary's dataset (10,000,000 x N usage rows; the measured workspace is the largest tenant) in a
throwaway PostgreSQL, or in the database at BENCH_POSTGRES_URL (reused when it already holds the bench's user
and rows for this scale), starts a real `spendwatch run --no-scheduler` on it serving frontend/dist, and gives
the workspace four budgets and the alerts they fire (the real evaluation). Then, in Chromium at 1280x800, it
signs in once through the sign-in form and loads the dashboard for the dataset's last month W + L times, each
a fresh navigation with the HTTP cache a returning user has. A load lasts from navigation start to "data on
screen": the dashboard's `[data-loaded="true"]` marker, or (`fallback`, while the dashboard has no marker) the
chart drawn with no skeleton or loading indicator left in <main>; the time is taken in the page by a
MutationObserver, when the DOM changes, not by Playwright's polling. Each load's /api/ requests are counted.
A last load in a new browser context (empty cache) gives the JS and CSS a first visit downloads, gzipped.
Prints one JSON line: median, p90 and max of the loads, the warm-ups, calls per load, bundle size, the
targets, where the time goes (the browser's resource timings and the server's own time per route from
/metrics), and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import text

from backend.config import load_settings
from backend.crypto import Keyring, configure_keyring
from backend.db import Database
from backend.migrate import upgrade
from bench import summary
from bench.postgres import postgres_url

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "frontend" / "dist"
SPENDWATCH = Path(sys.executable).parent / "spendwatch"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
WIDTH, HEIGHT = 1280, 800
LOADS = 10
WARMUPS = 2
LOAD_TIMEOUT_MS = 60_000
TARGET_MS = 1000.0
# The dashboard's own calls. A page load also restores the session first (refresh, then me): the app's boot, the
# same on every page and once per page load, not repeated when one navigates to the dashboard inside the app.
TARGET_CALLS = 4
TARGET_BUNDLE_KB = 300.0
EMAIL = "bench@example.com"
# The dataset's last month (bench.summary's measured month), as a custom range: the default period, this
# month, would depend on the day the bench runs and may hold no data.
DASHBOARD = f"/?period=custom&from={summary.MONTH[0]}&to={summary.MONTH[1]}"

# The accounts' credentials are fake; one fixed encryption key (derived, not random) keeps a reused database's
# accounts readable by the next run's server.
ENCRYPTION_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"spendwatch bench.frontend").digest()).decode()

# (name, scope, period, share of the amount already spent): each amount is set from the budget's spend so far,
# so that thresholds (the default 50, 80 and 100 %) fire at any scale; None keeps the amount at 1,000.
BUDGETS: tuple[tuple[str, dict[str, str], str, float | None], ...] = (
    ("All AI spend", {}, "year", 0.9),
    ("OpenAI", {"provider": "openai"}, "quarter", 1.1),
    ("OpenRouter", {"provider": "openrouter"}, "year", 0.6),
    ("Anthropic", {"provider": "anthropic"}, "month", None),
)

# Installed in every page before its own scripts. It records performance.now() (milliseconds since the
# navigation started) when the dashboard's marker appears and when the fallback condition first holds,
# from a MutationObserver: its callback runs right after the task that changed the DOM.
OBSERVER = """
(() => {
  const state = { marker: null, markerFrame: null, fallback: null, longTasks: [], shown: {}, gone: {} };
  Object.defineProperty(window, "__bench", { value: state });
  const BUSY = 'main [aria-busy="true"], main .skeleton, main .loading, main .chart-loading';
  // Chart.js sizes its canvas (inline style) when it creates and draws the chart: an empty <canvas> is no chart.
  const chartDrawn = () => {
    const canvas = document.querySelector("main canvas");
    return canvas !== null && canvas.style.height !== "";
  };
  const check = () => {
    const now = performance.now();
    if (state.marker === null && document.querySelector('[data-loaded="true"]')) {
      state.marker = now;
      requestAnimationFrame(() => { state.markerFrame = performance.now(); });
    }
    if (state.fallback === null && chartDrawn() && document.querySelector(BUSY) === null) state.fallback = now;
    // When React's Suspense placeholders of the lazy page and of the lazy chart come and go (for the analysis).
    const loading = [...document.querySelectorAll("main .loading")];
    const page = loading.some((e) => e.textContent.includes("Loading the page"));
    const chart = document.querySelector("main .chart-loading") !== null;
    for (const [name, present] of [["page", page], ["chart", chart]]) {
      if (present && state.shown[name] === undefined) state.shown[name] = now;
      if (!present && state.shown[name] !== undefined && state.gone[name] === undefined) state.gone[name] = now;
    }
  };
  const all = { subtree: true, childList: true, attributes: true, characterData: true };
  new MutationObserver(check).observe(document, all);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) state.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
})();
"""

# What one load left in the page: the observer's times, the navigation and resource timings, what is shown.
COLLECT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource").map((e) => ({
    url: e.name, start: e.startTime, requestStart: e.requestStart, responseStart: e.responseStart,
    end: e.responseEnd, transfer: e.transferSize, body: e.encodedBodySize,
  }));
  const stat = document.querySelector("main .stat-value");
  return {
    bench: window.__bench,
    nav: { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd },
    res,
    total: stat ? stat.textContent : null,
    gauges: document.querySelectorAll("main .budget").length,
    alerts: document.querySelectorAll("main .alert-list li").length,
    errors: document.querySelectorAll('main [role="alert"]').length,
  };
}
"""


def _free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_dist() -> None:
    """Fail early and clearly when the web app is not built."""
    if not (DIST / "index.html").is_file() or not (DIST / ".vite" / "manifest.json").is_file():
        raise SystemExit(f"bench.frontend: {DIST} is missing or incomplete: run make frontend")


def _chromium() -> str:
    """The Chromium to drive, as the e2e tests find it: $CHROMIUM, else `chromium` on PATH (never a download)."""
    given = os.environ.get("CHROMIUM")
    found = given if given and Path(given).is_file() else shutil.which(given or "chromium")
    if not found:
        raise SystemExit("bench.frontend: no Chromium found: apt-get install chromium, or set CHROMIUM to its path")
    return found


def _dist_stamp() -> bytes:
    """What frontend/dist's index.html says now (it names the hashed assets): other builds replace it."""
    try:
        return (DIST / "index.html").read_bytes()
    except OSError:
        return b""


def _dist_has_marker() -> bool:
    """Does the built dashboard set the data-loaded marker?"""
    return any("data-loaded" in path.read_text(errors="replace") for path in (DIST / "assets").glob("*.js"))


def _http(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request to the API; returns (status, decoded body)."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    is_json = raw[:1] in (b"{", b"[")
    return status, json.loads(raw) if is_json else raw.decode(errors="replace")


@contextlib.contextmanager
def _server(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """A real `spendwatch run --no-scheduler` on a free port; yields its base URL, stops it with SIGTERM."""
    port = _free_port()
    log_path = workdir / "spendwatch.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(SPENDWATCH), "run", "--no-scheduler", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"spendwatch exited with {process.returncode}:\n{log_path.read_text()}")
            with contextlib.suppress(OSError):
                if _http(base, "GET", "/readyz")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"spendwatch did not become ready in 60 s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _login(base: str, register: bool = False) -> str:
    """An access token of the bench user (registered first if REGISTER and it does not exist yet)."""
    credentials = {"email": EMAIL, "password": summary.PASSWORD}
    status, body = _http(base, "POST", "/api/auth/login", credentials)
    if status == 401 and register:
        status, body = _http(base, "POST", "/api/auth/register", credentials)
    if status not in (200, 201):
        raise RuntimeError(f"could not sign in (or register) the bench user: {status} {body}")
    return str(body["access_token"])


def _workspace(base: str, db: Database, scale: float) -> tuple[int, dict[str, Any]]:
    """Sign the bench user up on a fresh database and make sure its workspace holds the dataset for SCALE;
    returns the workspace id and how the data came to be."""
    _, me = _http(base, "GET", "/api/auth/me", token=_login(base, register=True))
    workspace_id = int(me["workspaces"][0]["workspace_id"])
    expected = sum(rows for ws, *_, rows in summary._plan(scale) if ws == 0)
    with db.system_session() as session:
        present = session.execute(
            text("SELECT count(*) FROM usage_records WHERE workspace_id = :w"), {"w": workspace_id}
        ).scalar_one()
    if present == expected:
        return workspace_id, {"dataset": "reused"}
    if present:
        raise RuntimeError(
            f"the database holds {present} usage rows for the bench's workspace, not the {expected} of "
            f"--scale {scale}: use an empty database"
        )
    started = time.perf_counter()
    loaded = summary._load(db, workspace_id, scale)
    seconds_vacuum = summary._vacuum(db)
    timings = {k: v for k, v in loaded.items() if k.startswith("seconds")}
    timings["seconds_vacuum"] = round(seconds_vacuum, 1)
    return workspace_id, {"dataset": "built", "load_s": round(time.perf_counter() - started, 1), **timings}


def _content(base: str, db: Database, env: dict[str, str], workspace_id: int) -> dict[str, int]:
    """Four budgets (amounts set from their spend so far, so thresholds fire) and the alerts the real
    evaluation raises for them; nothing is added when the budgets already exist (a reused database)."""
    from jobs.alerts import evaluate_workspace

    token = _login(base)  # a fresh token: loading the full dataset takes minutes
    _, existing = _http(base, "GET", "/api/budgets", token=token)
    names = {budget["name"] for budget in existing["items"]}
    for name, scope, period, share in BUDGETS:
        if name in names:
            continue
        status, created = _http(
            base, "POST", "/api/budgets", {"name": name, "scope": scope, "period": period, "amount": "1000"}, token
        )
        assert status == 201, created
        spent = Decimal(created["status"]["spent"])
        if share is not None and spent > 0:
            amount = max(Decimal("1.00"), (spent / Decimal(str(share))).quantize(Decimal("0.01")))
            status, patched = _http(base, "PATCH", f"/api/budgets/{created['id']}", {"amount": str(amount)}, token)
            assert status == 200, patched
    evaluate_workspace(db, load_settings(env), workspace_id)
    _, budgets = _http(base, "GET", "/api/budgets", token=token)
    _, alerts = _http(base, "GET", "/api/alerts?limit=100", token=token)
    return {"budgets": len(budgets["items"]), "alerts": len(alerts["items"])}


def _expected_total(db: Database, workspace_id: int) -> str:
    """The month's spend from the rollup, as the dashboard writes it in en-US ($1,234.56)."""
    with db.system_session() as session:
        total = session.execute(
            text("SELECT COALESCE(SUM(cost), 0) FROM daily_spend WHERE workspace_id = :w AND day BETWEEN :a AND :b"),
            {"w": workspace_id, "a": summary.MONTH[0], "b": summary.MONTH[1]},
        ).scalar_one()
    return f"${Decimal(total).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def _server_seconds(base: str) -> dict[str, tuple[float, int]]:
    """The server's own time per route so far (sum of seconds, count), from its Prometheus metrics."""
    _, body = _http(base, "GET", "/metrics")
    out: dict[str, tuple[float, int]] = {}
    metric = "spendwatch_http_request_duration_seconds"
    pattern = re.compile(metric + r'_(sum|count)\{method="(\w+)",route="([^"]+)"\} (\S+)')
    for line in str(body).splitlines():
        match = pattern.match(line)
        if match:
            kind, method, route, value = match.groups()
            total, count = out.get(f"{method} {route}", (0.0, 0))
            out[f"{method} {route}"] = (total + float(value), count) if kind == "sum" else (total, int(float(value)))
    return out


def _kind(path: str) -> str:
    """What an /api/ request of a dashboard load is for."""
    path = path.split("?")[0]
    if path.startswith("/api/auth/"):
        return "session"
    if re.fullmatch(r"/api/budgets/\d+", path):
        return "budget_gauges"
    if path in ("/api/usage/summary", "/api/accounts", "/api/budgets", "/api/alerts"):
        return "dashboard"
    return "other"


def _rounded(value: float | None) -> float | None:
    """VALUE to 0.1 ms, or None."""
    return None if value is None else round(value, 1)


def _phases(collected: dict[str, Any], time_ms: float) -> dict[str, float | None]:
    """Milestones of one load in ms since navigation start, from its resource timings (cache hits included)."""
    res = collected["res"]

    def find(pattern: str) -> list[dict[str, Any]]:
        """The resources whose URL matches PATTERN."""
        return [r for r in res if re.search(pattern, r["url"])]

    def end(pattern: str) -> float | None:
        """When the last of them ended."""
        found = find(pattern)
        return round(max(r["end"] for r in found), 1) if found else None

    def start(pattern: str) -> float | None:
        """When the first of them started."""
        found = find(pattern)
        return round(min(r["start"] for r in found), 1) if found else None

    data = r"/api/(usage/summary|accounts|budgets|alerts)(\?|$)"
    me_end, data_start = end(r"/api/auth/me$"), start(data)
    page_js = [
        r["end"]
        for r in find(r"/assets/.*\.js$")
        if me_end is not None and data_start is not None and me_end <= r["start"] <= data_start
    ]
    page_js_end = round(max(page_js), 1) if page_js else None
    long_tasks = [d for s, d in collected["bench"]["longTasks"] if s < time_ms]
    return {
        "html_end": round(collected["nav"]["responseEnd"], 1),
        "entry_js_end": end(r"/assets/index-[^/]*\.js$"),
        "dom_content_loaded": round(collected["nav"]["domContentLoaded"], 1),
        "refresh_start": start(r"/api/auth/refresh$"),
        "refresh_end": end(r"/api/auth/refresh$"),
        "me_start": start(r"/api/auth/me$"),
        "me_end": me_end,
        "dashboard_js_start": start(r"/assets/Dashboard-[^/]*\.js$"),
        "dashboard_js_end": end(r"/assets/Dashboard-[^/]*\.js$"),
        # The page's lazy chunk and the chunks it imports: what the route waits for before the page renders.
        "page_js_end": page_js_end,
        "data_calls_start": data_start,
        "data_calls_end": end(data),
        "summary_end": end(r"/api/usage/summary\?"),
        "accounts_end": end(r"/api/accounts$"),
        "budgets_end": end(r"/api/budgets$"),
        "alerts_end": end(r"/api/alerts\?"),
        "chart_js_start": start(r"/assets/StackedBarChart-[^/]*\.js$"),
        "chart_js_end": end(r"/assets/StackedBarChart-[^/]*\.js$"),
        "data_on_screen": round(time_ms, 1),
        "budget_gauges_end": end(r"/api/budgets/\d+$"),
        "page_placeholder_shown": _rounded(collected["bench"]["shown"].get("page")),
        "page_placeholder_gone": _rounded(collected["bench"]["gone"].get("page")),
        "chart_placeholder_shown": _rounded(collected["bench"]["shown"].get("chart")),
        "chart_placeholder_gone": _rounded(collected["bench"]["gone"].get("chart")),
        "long_tasks_before_ms": round(sum(long_tasks), 1),
    }


def _api_timings(collected: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per /api/ call of one load: queued (start), time to first byte (request to response start), end."""
    out = {}
    for r in collected["res"]:
        match = re.search(r"(/api/[^?]*)", r["url"])
        if match:
            out[match.group(1)] = {
                "start": round(r["start"], 1),
                "ttfb": round(r["responseStart"] - r["requestStart"], 1),
                "end": round(r["end"], 1),
            }
    return out


def _waterfall(collected: dict[str, Any]) -> list[list[Any]]:
    """Every request of one load in start order: short name, start, end (ms), and how it was served (cache: no
    request; 304: revalidated, headers only; 200: body downloaded)."""
    rows = [["document", 0.0, round(collected["nav"]["responseEnd"], 1), ""]]
    for r in sorted(collected["res"], key=lambda r: r["start"]):
        served = "cache" if r["transfer"] == 0 else "304" if r["transfer"] < r["body"] or r["body"] == 0 else "200"
        name = r["url"].split("/", 3)[-1]
        name = name if name.startswith("api/") else name.split("?")[0]
        rows.append([name, round(r["start"], 1), round(r["end"], 1), served])
    return rows


def _sequential(base: str, paths: list[tuple[str, str]], rounds: int = 5) -> dict[str, float]:
    """Median wall time of each GET of a load sent alone, one after the other (no concurrency): the server's
    cost of the call without the browser and without the other calls competing for the interpreter."""
    token = _login(base)
    out = {}
    for method, path in paths:
        if method != "GET":
            continue
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            status, _ = _http(base, method, path, token=token)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200, (path, status)
        out[path] = round(statistics.median(samples), 1)
    return out


def _gzipped(contents: list[bytes]) -> tuple[int, int]:
    """Raw and gzipped (level 9, as `npm run size`) bytes of these files."""
    raw = sum(len(content) for content in contents)
    return raw, sum(len(gzip.compress(content, compresslevel=9, mtime=0)) for content in contents)


def _entry_files() -> list[str]:
    """`npm run size`'s first page: the entry chunks, what they import statically, and their CSS."""
    manifest = json.loads((DIST / ".vite" / "manifest.json").read_text())
    files: list[str] = []

    def visit(key: str) -> None:
        """Add chunk KEY, its CSS and, recursively, its static imports."""
        chunk = manifest.get(key)
        if not chunk or chunk["file"] in files:
            return
        files.append(chunk["file"])
        files.extend(css for css in chunk.get("css", []) if css not in files)
        for imported in chunk.get("imports", []):
            visit(imported)

    for key, chunk in manifest.items():
        if chunk.get("isEntry"):
            visit(key)
    return sorted(files)


def _browse(base: str, loads: int, warmups: int, until: str) -> dict[str, Any]:
    """Sign in through the form, then time WARMUPS + LOADS dashboard loads and one cold load."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    stamp = _dist_stamp()
    key = "marker" if until == "marker" else "fallback"
    ready = f"() => window.__bench && window.__bench.{key} !== null"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=list(CHROMIUM_ARGS))
        context = browser.new_context(
            viewport={"width": WIDTH, "height": HEIGHT}, locale="en-US", timezone_id="UTC", base_url=base
        )
        context.add_init_script(OBSERVER)
        page = context.new_page()
        api: list[tuple[str, str]] = []
        page.on(
            "request",
            lambda r: api.append((r.method, r.url.split(base, 1)[-1])) if r.url.startswith(base + "/api/") else None,
        )
        console_errors: list[str] = []
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

        page.goto(f"/signin?next={urllib.parse.quote(DASHBOARD, safe='')}")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(summary.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_function(ready, timeout=LOAD_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")

        def load(target: Any) -> dict[str, Any]:
            """One dashboard load in page TARGET: its time, calls, timings and what it showed."""
            api.clear()
            target.goto(DASHBOARD, wait_until="commit")
            try:
                target.wait_for_function(ready, timeout=LOAD_TIMEOUT_MS)
            except PlaywrightError as exc:
                shown = " ".join((target.text_content("body") or "").split())[:300]
                rebuilt = " frontend/dist was rebuilt during the run: run again." if _dist_stamp() != stamp else ""
                why = exc.message.splitlines()[0]
                raise RuntimeError(f"the dashboard did not load ({why}); it shows: {shown!r}.{rebuilt}") from exc
            # Requests still running once the data is on screen (e.g. the budget gauges' own calls, in builds where
            # they fetched their figures after first paint) end before the next load: each load starts from the
            # same state and all its calls are counted. This wait is not part of the time.
            target.wait_for_load_state("networkidle")
            collected = target.evaluate(COLLECT)
            ms = collected["bench"][key]
            return {
                "ms": ms,
                "marker_ms": collected["bench"]["marker"],
                "marker_frame_ms": collected["bench"]["markerFrame"],
                "fallback_ms": collected["bench"]["fallback"],
                "api": list(api),
                "phases": _phases(collected, ms),
                "api_timings": _api_timings(collected),
                "waterfall": _waterfall(collected),
                "total": collected["total"],
                "gauges": collected["gauges"],
                "alerts": collected["alerts"],
                "errors": collected["errors"],
            }

        warm = [load(page) for _ in range(warmups)]
        server_before = _server_seconds(base)
        load_before = os.getloadavg()
        timed = [load(page) for _ in range(loads)]
        load_after = os.getloadavg()
        server_after = _server_seconds(base)

        # A first visit of a signed-in user: a new context (empty cache) with the session of this one. It takes
        # over the refresh token, so it comes last.
        state = context.storage_state()
        context.close()
        cold_context = browser.new_context(
            viewport={"width": WIDTH, "height": HEIGHT},
            locale="en-US",
            timezone_id="UTC",
            base_url=base,
            storage_state=state,
        )
        cold_context.add_init_script(OBSERVER)
        cold_page = cold_context.new_page()
        responses: list[Any] = []

        def on_response(response: Any) -> None:
            """Keep the JS and CSS the cold load downloads."""
            if response.request.resource_type in ("script", "stylesheet") and "/assets/" in response.url:
                responses.append(response)

        cold_page.on("response", on_response)
        cold_page.on("pageerror", lambda e: console_errors.append(str(e)))
        cold_page.on(
            "request",
            lambda r: api.append((r.method, r.url.split(base, 1)[-1])) if r.url.startswith(base + "/api/") else None,
        )
        cold = load(cold_page)
        # What was downloaded, as served (frontend/dist may be rebuilt meanwhile by someone else).
        assets = {r.url.split("/assets/", 1)[1].split("?")[0]: r.body() for r in responses}
        encodings = {r.headers.get("content-encoding", "identity") for r in responses}
        version = browser.version
        sequential = _sequential(base, timed[0]["api"])
        cold_context.close()
        browser.close()

    server = {}
    for route, (seconds, count) in sorted(server_after.items()):
        before_seconds, before_count = server_before.get(route, (0.0, 0))
        if count > before_count and route.split(" ", 1)[1].startswith("/api/"):
            server[route] = round((seconds - before_seconds) / (count - before_count) * 1000, 1)
    return {
        "warm": warm,
        "timed": timed,
        "cold": cold,
        "cold_assets": {f"assets/{name}": assets[name] for name in sorted(assets)},
        "content_encodings": sorted(encodings),
        "server_ms_per_call": server,
        "sequential": sequential,
        "load_avg": [round(load_before[0], 2), round(load_after[0], 2)],
        "page_errors": console_errors,
        "chromium": version,
    }


# Consecutive stages of a load's critical path, each from one milestone to the next (see _phases).
STAGES = (
    ("boot", None, "refresh_start"),  # HTML, the entry JS and CSS, evaluating them, React's first render
    ("session", "refresh_start", "me_end"),  # POST /api/auth/refresh then GET /api/auth/me, one after the other
    ("page_chunks", "me_end", "page_js_end"),  # the lazy Dashboard chunk and the chunks it imports
    ("until_page_shown", "page_js_end", "data_calls_start"),  # React reveals the page, which starts its calls
    ("data_calls", "data_calls_start", "data_calls_end"),  # the four calls, in parallel, until the last one ends
    ("until_data_on_screen", "data_calls_end", "data_on_screen"),  # rendering what came, the chart drawn
)


def _stages(timed: list[dict[str, Any]]) -> dict[str, float | None]:
    """The median duration of each stage over the timed loads."""
    out: dict[str, float | None] = {}
    for name, first, last in STAGES:
        values = []
        for t in timed:
            a, b = (t["phases"][first] if first else 0.0), t["phases"][last]
            if a is not None and b is not None:
                values.append(b - a)
        out[name] = round(statistics.median(values), 1) if values else None
    return out


def _median_phases(timed: list[dict[str, Any]]) -> dict[str, float | None]:
    """The median of every milestone over the timed loads."""
    out: dict[str, float | None] = {}
    for name in timed[0]["phases"]:
        values = [t["phases"][name] for t in timed if t["phases"][name] is not None]
        out[name] = round(statistics.median(values), 1) if values else None
    return out


def run(scale: float = 1.0, loads: int = LOADS, warmups: int = WARMUPS, until: str = "auto") -> dict[str, Any]:
    """Build (or reuse) the dataset, start spendwatch on it, and time the dashboard's loads in Chromium."""
    _check_dist()
    _chromium()
    if until == "auto":
        until = "marker" if _dist_has_marker() else "fallback"
    with postgres_url() as url:
        return _run(url, scale, loads, warmups, until)


def _run(url: str, scale: float, loads: int, warmups: int, until: str) -> dict[str, Any]:
    """The bench on the database at URL (migrated here; filled unless it holds the dataset already)."""
    from tests.process import clean_env

    # `npm run size`'s first page, read now: the server serves the same files.
    entry = [(DIST / name).read_bytes() for name in _entry_files() if name.endswith((".js", ".css"))]

    upgrade(url)
    # This process writes the accounts (bench.summary's loader) with the key the server reads them with.
    configure_keyring(Keyring((ENCRYPTION_KEY,)))
    db = Database(url)
    with tempfile.TemporaryDirectory(prefix="bench-frontend-") as tmp:
        env = clean_env(
            APP_ENV="production",
            DATABASE_URL=url,
            SECRET_KEY=secrets.token_urlsafe(48),
            ENCRYPTION_KEYS=ENCRYPTION_KEY,
            SPENDWATCH_DATA_DIR=tmp,
            # The bench signs in and refreshes more often than a person; the limits would only get in the way.
            AUTH_RATE_LIMIT="10000 per minute",
            REFRESH_RATE_LIMIT="10000 per minute",
        )
        with _server(env, Path(tmp)) as base:
            workspace_id, dataset = _workspace(base, db, scale)
            content = _content(base, db, env, workspace_id)
            expected_total = _expected_total(db, workspace_id)
            with db.system_session() as session:
                usage_rows = session.execute(text("SELECT count(*) FROM usage_records")).scalar_one()
                ws_rows = session.execute(
                    text("SELECT count(*) FROM usage_records WHERE workspace_id = :w"), {"w": workspace_id}
                ).scalar_one()
                server_version = session.execute(text("SHOW server_version")).scalar_one()
            db.dispose()
            browsed = _browse(base, loads, warmups, until)

    timed = browsed["timed"]
    times = [t["ms"] for t in timed]
    calls = [len(t["api"]) for t in timed]
    dashboard_calls = [sum(_kind(path) != "session" for _, path in t["api"]) for t in timed]
    one = timed[len(timed) // 2]
    kinds: dict[str, int] = {}
    for _, path in one["api"]:
        kinds[_kind(path)] = kinds.get(_kind(path), 0) + 1
    load_files = list(browsed["cold_assets"])
    load_raw, load_gz = _gzipped(list(browsed["cold_assets"].values()))
    entry_raw, entry_gz = _gzipped(entry)
    median = statistics.median(times)
    both = [t for t in timed if t["fallback_ms"] is not None and t["marker_ms"] is not None]
    gaps = [t["fallback_ms"] - t["marker_ms"] for t in both]
    totals_ok = all(t["total"] == expected_total for t in [*timed, browsed["cold"]])
    return {
        "bench": "frontend",
        "scale": scale,
        "usage_rows": usage_rows,
        "measured_workspace_usage_rows": ws_rows,
        **dataset,
        "content": content,
        "url": DASHBOARD,
        "until": until,
        "cache": "warm: same browser context as the sign-in (HTTP cache and localStorage kept), fresh navigation",
        "loads": loads,
        "median_ms": round(median, 1),
        "p90_ms": round(summary._percentile(sorted(times), 90), 1),
        "max_ms": round(max(times), 1),
        "min_ms": round(min(times), 1),
        "times_ms": [round(t, 1) for t in times],
        "warmup_ms": [round(w["ms"], 1) for w in browsed["warm"]],
        "cold_ms": round(browsed["cold"]["ms"], 1),
        "marker_frame_median_ms": (
            round(statistics.median([t["marker_frame_ms"] for t in timed]), 1) if until == "marker" else None
        ),
        "fallback_median_ms": round(statistics.median([t["fallback_ms"] for t in timed]), 1)
        if all(t["fallback_ms"] is not None for t in timed)
        else None,
        # How far the fallback condition is from the marker, per load (min, max): is the fallback as precise?
        "fallback_minus_marker_ms": [round(min(gaps), 1), round(max(gaps), 1)] if gaps else None,
        "dashboard_calls_max": max(dashboard_calls),
        "api_calls_max": max(calls),
        "api_calls_min": min(calls),
        "api_calls_by_kind": kinds,
        "api_paths": [f"{method} {path}" for method, path in one["api"]],
        "cold_api_calls": len(browsed["cold"]["api"]),
        "bundle": {
            "dashboard_load_gz_kb": round(load_gz / 1024, 1),
            "dashboard_load_raw_kb": round(load_raw / 1024, 1),
            "dashboard_load_files": load_files,
            "entry_gz_kb": round(entry_gz / 1024, 1),
            "entry_raw_kb": round(entry_raw / 1024, 1),
            "served_encoding": browsed["content_encodings"],
        },
        "stages_median_ms": _stages(timed),
        "phases_median_ms": _median_phases(timed),
        "api_timings_one_load": one["api_timings"],
        "server_ms_per_call": browsed["server_ms_per_call"],
        "sequential_ms_per_call": browsed["sequential"],
        "waterfall_one_load": one["waterfall"],
        "check": {
            "expected_total": expected_total,
            "shown_total": one["total"],
            "totals_equal": totals_ok,
            "gauges": one["gauges"],
            "alerts_shown": one["alerts"],
            "error_states": max(t["errors"] for t in timed),
            "page_errors": browsed["page_errors"],
        },
        "targets": {
            "median_ms": TARGET_MS,
            "median_met": median <= TARGET_MS,
            "api_calls": TARGET_CALLS,
            "api_calls_met": max(dashboard_calls) <= TARGET_CALLS,  # the session's two are reported apart
            "bundle_gz_kb": TARGET_BUNDLE_KB,
            "bundle_met": load_gz / 1024 <= TARGET_BUNDLE_KB,
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "postgresql": server_version,
            "chromium": browsed["chromium"],
            "playwright": metadata.version("playwright"),
            # 1-minute load average before and after the timed loads: the machine may be shared.
            "load_avg": browsed["load_avg"],
        },
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m bench.frontend."""
    parser = argparse.ArgumentParser(prog="python -m bench.frontend", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the 10,000,000 rows (0.001: a quick run)")
    parser.add_argument("--loads", type=int, default=LOADS, help="timed dashboard loads (median, p90, max)")
    parser.add_argument("--warmups", type=int, default=WARMUPS, help="warm-up loads before them, reported apart")
    parser.add_argument(
        "--until",
        choices=("auto", "marker", "fallback"),
        default="auto",
        help='"data on screen": the [data-loaded="true"] marker, the chart drawn with nothing loading, or '
        "auto (the marker when the built dashboard has it)",
    )
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    sys.stdout.write(json.dumps(run(args.scale, args.loads, args.warmups, args.until)) + "\n")


if __name__ == "__main__":
    main()
