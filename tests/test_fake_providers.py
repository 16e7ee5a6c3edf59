"""The fake provider server (tests/fakes/providers.py) serves its dataset faithfully over real HTTP."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.dataset import OPENAI_USAGE_ENDPOINTS
from tests.fakes.providers import (
    ANTHROPIC_ADMIN_KEY,
    OPENAI_ADMIN_KEY,
    OPENROUTER_KEY,
    Dataset,
    FakeProviders,
    account_key,
)

DAY = dt.timedelta(days=1)
OPENAI_AUTH = {"Authorization": f"Bearer {OPENAI_ADMIN_KEY}"}
ANTHROPIC_AUTH = {"x-api-key": ANTHROPIC_ADMIN_KEY, "anthropic-version": "2023-06-01"}
OPENROUTER_AUTH = {"Authorization": f"Bearer {OPENROUTER_KEY}"}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def walk(http: httpx.Client, url: str, params: dict[str, Any], headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every bucket of every page, following next_page."""
    buckets: list[dict[str, Any]] = []
    page: str | None = None
    for _ in range(1000):
        response = http.get(url, params={**params, **({"page": page} if page else {})}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        buckets += body["data"]
        assert body["has_more"] is (body["next_page"] is not None)
        page = body["next_page"]
        if page is None:
            return buckets
    raise AssertionError("pagination did not end")


def results(buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [result for bucket in buckets for result in bucket["results"]]


# ------------------------------------------------------------------------------------------ dataset
def test_dataset_is_deterministic_and_has_the_promised_shape() -> None:
    end = dt.date(2025, 9, 1)
    one, again, other = Dataset(seed=1, end=end), Dataset(seed=1, end=end), Dataset(seed=2, end=end)
    assert one.openai_usage() == again.openai_usage() and one.anthropic_costs() == again.anthropic_costs()
    assert one.openai_usage() != other.openai_usage()
    assert one.start == dt.datetime(2025, 5, 24, tzinfo=dt.UTC) and one.end == dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    assert len(one.dates) == 100 and len(one.empty_days) == 11
    assert {(end - d).days for d in one.empty_days} == {5, 14, 23, 32, 41, 50, 59, 68, 77, 86, 95}
    for rows in (one.openai_usage(), one.openai_costs(), one.anthropic_usage(), one.openrouter_activity()):
        assert rows and not {row["time"].date() for row in rows} & one.empty_days
    completions = one.openai_usage("completions")
    assert len({r["model"] for r in completions}) == 4 and len({r["project_id"] for r in completions}) == 3
    assert len({r["api_key_id"] for r in completions}) == 4
    assert any(r["input_cache_write_tokens"] for r in completions) and any(
        r["input_cached_tokens"] for r in completions
    )
    assert "gpt-4o-2024-08-06, input" in {r["line_item"] for r in one.openai_costs()}
    assert None in {r["workspace_id"] for r in one.anthropic_usage()}
    assert len(Dataset(seed=1, end=end, scale=3).openai_usage()) > 2 * len(completions)  # more keys
    assert len(Dataset(seed=1, end=end, scale=3).openai_api_keys) == 12


# ------------------------------------------------------------------------------------------- OpenAI
def test_openai_completions_pages_add_up_to_the_dataset(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    url = f"{fake_providers.openai_url}/organization/usage/completions"
    params = {"start_time": ts(data.start), "end_time": ts(data.end), "limit": 31, "group_by[]": ["model"]}
    buckets = walk(http, url, params, OPENAI_AUTH)
    assert len(fake_providers.requests) == 4  # 100 days in pages of 31
    assert [b["start_time"] for b in buckets] == [ts(data.start + i * DAY) for i in range(100)]
    for bucket in buckets:
        day = dt.datetime.fromtimestamp(bucket["start_time"], dt.UTC).date()
        assert (bucket["results"] == []) is (day in data.empty_days)
    for model in {r["model"] for r in data.openai_usage()}:
        mine = [r for r in results(buckets) if r["model"] == model]
        for field in ("input_tokens", "input_cached_tokens", "output_tokens", "num_model_requests"):
            assert sum(r[field] for r in mine) == data.total("openai", field, model=model)
        assert sum(r.get("input_cache_write_tokens", 0) for r in mine) == data.total(
            "openai", "input_cache_write_tokens", model=model
        )
    first = results(buckets)[0]
    assert first["object"] == "organization.usage.completions.result"
    assert first["project_id"] is None and first["api_key_id"] is None and first["batch"] is None


@pytest.mark.parametrize("endpoint", OPENAI_USAGE_ENDPOINTS)
def test_every_openai_usage_endpoint_serves_its_rows(
    fake_providers: FakeProviders, http: httpx.Client, endpoint: str
) -> None:
    data = fake_providers.dataset
    url = f"{fake_providers.openai_url}/organization/usage/{endpoint}"
    buckets = walk(http, url, {"start_time": ts(data.start), "limit": 31, "group_by": "project_id"}, OPENAI_AUTH)
    metric = {
        "images": "images",
        "audio_speeches": "characters",
        "audio_transcriptions": "seconds",
        "vector_stores": "usage_bytes",
        "code_interpreter_sessions": "num_sessions",
    }.get(endpoint, "input_tokens")
    found = results(buckets)
    assert found and all(r["object"] == f"organization.usage.{endpoint}.result" for r in found)
    assert sum(r[metric] for r in found) == data.total("openai", metric, endpoint=endpoint)
    assert {r["project_id"] for r in found} == {r["project_id"] for r in data.openai_usage(endpoint)}


def test_openai_costs_are_exact_dollars(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    url = f"{fake_providers.openai_url}/organization/costs"
    grouped = walk(
        http,
        url,
        {"start_time": ts(data.start), "limit": 180, "group_by": ["project_id", "line_item", "api_key_id"]},
        OPENAI_AUTH,
    )
    ungrouped = walk(http, url, {"start_time": ts(data.start), "limit": 30}, OPENAI_AUTH)
    expected = data.openai_cost_total(data.start, data.end)
    for buckets in (grouped, ungrouped):
        assert sum(Decimal(str(r["amount"]["value"])) for r in results(buckets)) == expected
    assert len(results(grouped)) == len(data.openai_costs())
    sample = results(grouped)[0]
    assert sample["amount"]["currency"] == "usd" and sample["object"] == "organization.costs.result"
    assert sample["organization_id"] == data.openai_organization_id and sample["quantity"] is None
    assert all(r["line_item"] is None and r["project_id"] is None for r in results(ungrouped))
    # A window of a few days matches the helper too.
    start, end = data.end - 10 * DAY, data.end - 3 * DAY
    buckets = walk(http, url, {"start_time": ts(start), "end_time": ts(end)}, OPENAI_AUTH)
    assert sum(Decimal(str(r["amount"]["value"])) for r in results(buckets)) == data.openai_cost_total(start, end)


def test_both_array_encodings_give_the_same_answer(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    project = data.openai_projects[0]
    url = f"{fake_providers.openai_url}/organization/usage/completions"
    base = {"start_time": ts(data.end - 14 * DAY), "limit": 14}
    bracketed = http.get(
        url, params={**base, "group_by[]": ["model", "api_key_id"], "project_ids[]": [project]}, headers=OPENAI_AUTH
    ).json()
    repeated = http.get(
        url, params={**base, "group_by": ["model", "api_key_id"], "project_ids": [project]}, headers=OPENAI_AUTH
    ).json()
    assert bracketed["data"] == repeated["data"] and results(bracketed["data"])
    assert {r["api_key_id"] for r in results(repeated["data"])} <= {
        k for k, p in data.openai_api_keys.items() if p == project
    }
    expected = data.total("openai", "output_tokens", data.end - 14 * DAY, data.end, project_id=project)
    assert sum(r["output_tokens"] for r in results(repeated["data"])) == expected


def test_unaligned_start_and_hourly_buckets(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    url = f"{fake_providers.openai_url}/organization/usage/completions"
    start, end = data.end - 4 * DAY + dt.timedelta(hours=6, minutes=30), data.end
    daily = walk(http, url, {"start_time": ts(start), "end_time": ts(end)}, OPENAI_AUTH)
    assert [b["start_time"] for b in daily] == [ts(start)] + [ts(data.end - i * DAY) for i in (3, 2, 1)]
    assert daily[0]["end_time"] == ts(data.end - 3 * DAY)
    assert sum(r["input_tokens"] for r in results(daily)) == data.total("openai", "input_tokens", start, end)
    hourly = walk(http, url, {"start_time": ts(end - 2 * DAY), "bucket_width": "1h", "limit": 168}, OPENAI_AUTH)
    assert len(hourly) == 48 and all(b["end_time"] - b["start_time"] == 3600 for b in hourly)
    assert sum(r["num_model_requests"] for r in results(hourly)) == data.total(
        "openai", "num_model_requests", end - 2 * DAY, end
    )
    minutes = walk(http, url, {"start_time": ts(end - DAY), "bucket_width": "1m", "limit": 1440}, OPENAI_AUTH)
    assert len(minutes) == 1440
    assert sum(r["output_tokens"] for r in results(minutes)) == data.total("openai", "output_tokens", end - DAY, end)


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("usage/completions", {}, "start_time"),
        ("usage/completions", {"start_time": "yesterday"}, "start_time"),
        ("usage/completions", {"limit": 32}, "limit"),
        ("usage/completions", {"limit": 0}, "limit"),
        ("usage/completions", {"bucket_width": "1h", "limit": 169}, "limit"),
        ("usage/completions", {"bucket_width": "1m", "limit": 1441}, "limit"),
        ("usage/completions", {"bucket_width": "1w"}, "bucket_width"),
        ("usage/completions", {"group_by": "line_item"}, "group_by"),
        ("usage/completions", {"end_time": 1}, "end_time"),
        ("usage/completions", {"page": "page_forged"}, "page"),
        ("costs", {"limit": 181}, "limit"),
        ("costs", {"bucket_width": "1h"}, "bucket_width"),
        ("costs", {"group_by[]": "model"}, "group_by"),
    ],
)
def test_openai_rejects_bad_queries(
    fake_providers: FakeProviders, http: httpx.Client, path: str, params: dict[str, Any], param: str
) -> None:
    query = {"start_time": ts(fake_providers.dataset.start), **params} if params else {}
    response = http.get(f"{fake_providers.openai_url}/organization/{path}", params=query, headers=OPENAI_AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_openai_limit_maxima_are_allowed(fake_providers: FakeProviders, http: httpx.Client) -> None:
    start = ts(fake_providers.dataset.start)
    url = f"{fake_providers.openai_url}/organization"
    costs = http.get(f"{url}/costs", params={"start_time": start, "limit": 180}, headers=OPENAI_AUTH).json()
    assert len(costs["data"]) == 100 and costs["has_more"] is False and costs["next_page"] is None
    usage = http.get(f"{url}/usage/embeddings", params={"start_time": start}, headers=OPENAI_AUTH).json()
    assert len(usage["data"]) == 7 and usage["has_more"] is True  # default limit


def test_openai_auth(fake_providers: FakeProviders, http: httpx.Client) -> None:
    url = f"{fake_providers.openai_url}/organization/usage/completions"
    params = {"start_time": ts(fake_providers.dataset.end - DAY)}
    cases = {
        None: 401,
        "Bearer sk-admin-someone-elses": 401,
        "Bearer sk-proj-abcdef": 403,
        f"Bearer {account_key('openai', 7)}": 200,
        f"Bearer {OPENAI_ADMIN_KEY}": 200,
    }
    for header, status in cases.items():
        response = http.get(url, params=params, headers={"Authorization": header} if header else {})
        assert response.status_code == status, header
        if status != 200:
            assert set(response.json()["error"]) == {"message", "type", "param", "code"}
            assert "sk-" not in response.json()["error"]["message"]


def test_cursors_are_opaque_and_bound_to_their_query(fake_providers: FakeProviders, http: httpx.Client) -> None:
    start = ts(fake_providers.dataset.start)
    url = f"{fake_providers.openai_url}/organization/usage/completions"
    first = http.get(url, params={"start_time": start}, headers=OPENAI_AUTH).json()["next_page"]
    second = http.get(url, params={"start_time": start}, headers=OPENAI_AUTH).json()["next_page"]
    assert first.startswith("page_") and second.startswith("page_") and first != second
    for cursor in (first, second):  # both work and lead to the same page
        page = http.get(url, params={"start_time": start, "page": cursor}, headers=OPENAI_AUTH).json()
        assert page["data"][0]["start_time"] == start + 7 * 86_400
    tampered = first[:-2] + ("AA" if first[-2:] != "AA" else "BB")
    other_query = {"start_time": start + 86_400, "page": first}
    other_endpoint = f"{fake_providers.openai_url}/organization/usage/embeddings"
    for target, params in ((url, {"start_time": start, "page": tampered}), (url, other_query)):
        assert http.get(target, params=params, headers=OPENAI_AUTH).status_code == 400
    response = http.get(other_endpoint, params={"start_time": start, "page": first}, headers=OPENAI_AUTH)
    assert response.status_code == 400


def test_page_cap_forces_more_pages(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    fake_providers.page_cap = 30
    url = f"{fake_providers.openai_url}/organization/costs"
    buckets = walk(http, url, {"start_time": ts(data.end - 90 * DAY), "limit": 180}, OPENAI_AUTH)
    assert len(buckets) == 90 and len(fake_providers.requests) == 3
    assert sum(Decimal(str(r["amount"]["value"])) for r in results(buckets)) == data.openai_cost_total(
        data.end - 90 * DAY, data.end
    )


# ---------------------------------------------------------------------------------------- Anthropic
def test_anthropic_usage_pages_add_up(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    url = f"{fake_providers.anthropic_url}/v1/organizations/usage_report/messages"
    params = {
        "starting_at": (data.start + dt.timedelta(hours=5)).isoformat(),  # snaps down to the day
        "ending_at": data.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "limit": 31,
        "group_by[]": ["workspace_id", "model"],
    }
    buckets = walk(http, url, params, ANTHROPIC_AUTH)
    assert len(buckets) == 100 and buckets[0]["starting_at"] == data.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    found = results(buckets)
    assert sum(r["cache_creation"]["ephemeral_5m_input_tokens"] for r in found) == data.total(
        "anthropic", "ephemeral_5m_input_tokens"
    )
    for field in ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens"):
        assert sum(r[field] for r in found) == data.total("anthropic", field)
    assert sum(r["server_tool_use"]["web_search_requests"] for r in found) == data.total(
        "anthropic", "web_search_requests"
    )
    assert {r["workspace_id"] for r in found} == set(data.anthropic_workspaces)
    assert all(r["api_key_id"] is None and r["service_tier"] is None for r in found)
    empty = [b for b in buckets if not b["results"]]
    assert {dt.date.fromisoformat(b["starting_at"][:10]) for b in empty} == data.empty_days


def test_anthropic_costs_are_cents_strings(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    url = f"{fake_providers.anthropic_url}/v1/organizations/cost_report"
    start = data.end - 31 * DAY
    params: dict[str, Any] = {"starting_at": start.isoformat(), "limit": 31, "group_by": "description"}
    described = results(walk(http, url, params, ANTHROPIC_AUTH))
    plain = results(walk(http, url, {"starting_at": start.isoformat()}, ANTHROPIC_AUTH))
    cents = data.anthropic_cost_total_cents(start, data.end)
    for found in (described, plain):
        assert all(isinstance(r["amount"], str) and r["currency"] == "USD" for r in found)
        assert sum(Decimal(r["amount"]) for r in found) == cents
    assert data.anthropic_cost_total_usd(start, data.end) == cents / 100
    tokens = next(r for r in described if r["cost_type"] == "tokens")
    assert tokens["model"] in tokens["description"] or "Claude" in tokens["description"]
    assert tokens["token_type"] and tokens["service_tier"] and tokens["context_window"]
    assert all(r["description"] is None and r["model"] is None and r["cost_type"] is None for r in plain)


def test_anthropic_rejects_bad_requests(fake_providers: FakeProviders, http: httpx.Client) -> None:
    base = fake_providers.anthropic_url + "/v1/organizations"
    start = {"starting_at": fake_providers.dataset.start.isoformat()}
    cases: list[tuple[str, dict[str, Any], dict[str, str], int, str]] = [
        ("usage_report/messages", start, {"x-api-key": ANTHROPIC_ADMIN_KEY}, 400, "invalid_request_error"),
        (
            "usage_report/messages",
            start,
            {**ANTHROPIC_AUTH, "x-api-key": "sk-ant-admin01-nope"},
            401,
            "authentication_error",
        ),
        ("usage_report/messages", start, {"anthropic-version": "2023-06-01"}, 401, "authentication_error"),
        ("usage_report/messages", start, {**ANTHROPIC_AUTH, "x-api-key": "sk-ant-api03-x"}, 403, "permission_error"),
        ("usage_report/messages", {}, ANTHROPIC_AUTH, 400, "invalid_request_error"),
        ("usage_report/messages", {"starting_at": "2025-08-01T00:00:00"}, ANTHROPIC_AUTH, 400, "invalid_request_error"),
        ("usage_report/messages", {**start, "limit": 32}, ANTHROPIC_AUTH, 400, "invalid_request_error"),
        ("usage_report/messages", {**start, "group_by[]": "description"}, ANTHROPIC_AUTH, 400, "invalid_request_error"),
        ("cost_report", {**start, "bucket_width": "1h"}, ANTHROPIC_AUTH, 400, "invalid_request_error"),
        ("cost_report", {**start, "group_by[]": "model"}, ANTHROPIC_AUTH, 400, "invalid_request_error"),
    ]
    for path, params, headers, status, kind in cases:
        response = http.get(f"{base}/{path}", params=params, headers=headers)
        assert response.status_code == status, (path, params, headers)
        body = response.json()
        assert body["type"] == "error" and body["error"]["type"] == kind and body["request_id"].startswith("req_")
    hourly = http.get(
        f"{base}/usage_report/messages",
        params={"starting_at": (fake_providers.dataset.end - DAY).isoformat(), "bucket_width": "1h", "limit": 168},
        headers={**ANTHROPIC_AUTH, "x-api-key": account_key("anthropic", 3)},
    )
    assert hourly.status_code == 200 and len(hourly.json()["data"]) == 24


# --------------------------------------------------------------------------------------- OpenRouter
def test_openrouter_activity_credits_and_key(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    url = fake_providers.openrouter_url
    allowed = data.openrouter_dates()
    assert len(allowed) == 30 and allowed[-1] == data.end.date() - DAY
    day = next(d for d in reversed(allowed) if d not in data.empty_days)
    rows = http.get(f"{url}/activity", params={"date": day.isoformat()}, headers=OPENROUTER_AUTH).json()["data"]
    assert rows and all(r["date"] == day.isoformat() for r in rows)
    assert sum(Decimal(str(r["usage"])) for r in rows) == data.openrouter_usage_total(day, day + DAY)
    assert sum(r["requests"] for r in rows) == data.total("openrouter", "requests", day, day + DAY)
    everything = http.get(f"{url}/activity", headers=OPENROUTER_AUTH).json()["data"]
    assert {r["date"] for r in everything} == {d.isoformat() for d in allowed if d not in data.empty_days}
    for bad in (data.end.date().isoformat(), (allowed[0] - DAY).isoformat(), "yesterday"):
        response = http.get(f"{url}/activity", params={"date": bad}, headers=OPENROUTER_AUTH)
        assert response.status_code == 400 and response.json()["error"]["code"] == 400
    credits = http.get(f"{url}/credits", headers=OPENROUTER_AUTH).json()["data"]
    assert Decimal(str(credits["total_usage"])) == data.openrouter_total_usage()
    assert credits["total_credits"] > credits["total_usage"]
    key = http.get(f"{url}/key", headers=OPENROUTER_AUTH).json()["data"]
    assert key == data.openrouter_key() and key["usage"] == credits["total_usage"]
    assert http.get(f"{url}/key", headers={"Authorization": "Bearer sk-or-v1-wrong"}).status_code == 401


# ---------------------------------------------------------------------------------- failures, log, load
def test_fail_with_retry_after_then_recover(fake_providers: FakeProviders, http: httpx.Client) -> None:
    url = f"{fake_providers.openai_url}/organization/costs"
    params = {"start_time": ts(fake_providers.dataset.end - DAY)}
    fake_providers.fail("openai", 429, times=2, retry_after="3")
    for _ in range(2):
        response = http.get(url, params=params, headers=OPENAI_AUTH)
        assert response.status_code == 429 and response.headers["Retry-After"] == "3"
        assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert http.get(url, params=params, headers=OPENAI_AUTH).status_code == 200
    fake_providers.fail("openai", 503)
    response = http.get(url, params=params, headers=OPENAI_AUTH)
    assert response.status_code == 503 and "Retry-After" not in response.headers
    assert len(fake_providers.requests) == 4


def test_fail_matches_provider_and_path(fake_providers: FakeProviders, http: httpx.Client) -> None:
    data = fake_providers.dataset
    fake_providers.fail("anthropic", 529, path_contains="cost_report")
    fake_providers.fail("openrouter", 500, path_contains="page=")  # never matches: no paging there
    messages = http.get(
        f"{fake_providers.anthropic_url}/v1/organizations/usage_report/messages",
        params={"starting_at": data.start.isoformat()},
        headers=ANTHROPIC_AUTH,
    )
    assert messages.status_code == 200
    costs = http.get(
        f"{fake_providers.anthropic_url}/v1/organizations/cost_report",
        params={"starting_at": data.start.isoformat()},
        headers={"anthropic-version": "2023-06-01"},  # failures come before auth
    )
    assert costs.status_code == 529 and costs.json()["error"]["type"] == "overloaded_error"
    assert http.get(f"{fake_providers.openrouter_url}/credits", headers=OPENROUTER_AUTH).status_code == 200
    fake_providers.fail("*", 502, times=3, body="<html>Bad gateway</html>")
    for url in (fake_providers.openai_url + "/x", fake_providers.anthropic_url + "/y", fake_providers.openrouter_url):
        response = http.get(url)
        assert response.status_code == 502 and response.text == "<html>Bad gateway</html>"
    fake_providers.fail("openai", 500, path_contains="page=")
    url = f"{fake_providers.openai_url}/organization/usage/completions"
    first = http.get(url, params={"start_time": ts(data.start)}, headers=OPENAI_AUTH).json()
    second = http.get(url, params={"start_time": ts(data.start), "page": first["next_page"]}, headers=OPENAI_AUTH)
    assert second.status_code == 500 and second.json()["error"]["type"] == "server_error"


def test_malformed_bodies(fake_providers: FakeProviders, http: httpx.Client) -> None:
    fake_providers.malformed("openrouter", times=2)
    for _ in range(2):
        response = http.get(f"{fake_providers.openrouter_url}/credits", headers=OPENROUTER_AUTH)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        with pytest.raises(ValueError):
            response.json()
    assert http.get(f"{fake_providers.openrouter_url}/credits", headers=OPENROUTER_AUTH).json()["data"]


def test_request_log(fake_providers: FakeProviders, http: httpx.Client) -> None:
    http.get(
        f"{fake_providers.openai_url}/organization/usage/images",
        params=[("start_time", "5"), ("group_by[]", "model"), ("group_by[]", "size")],
        headers=OPENAI_AUTH,
    )
    (logged,) = fake_providers.requests
    assert logged.provider == "openai" and logged.method == "GET" and logged.path == "/organization/usage/images"
    assert logged.query == {"start_time": ["5"], "group_by[]": ["model", "size"]}
    assert logged.headers["authorization"] == f"Bearer {OPENAI_ADMIN_KEY}"
    assert fake_providers.requests_for("openai", "images") == [logged] and not fake_providers.requests_for("anthropic")


def test_latency_and_concurrency_counter(fake_providers: FakeProviders) -> None:
    fake_providers.latency = 0.3
    url = f"{fake_providers.openrouter_url}/credits"
    statuses: list[int] = []

    def call() -> None:
        statuses.append(httpx.get(url, headers=OPENROUTER_AUTH, timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 16
    # Served concurrently, not one after the other: counted by the fake, not timed (a busy machine skews time).
    assert fake_providers.max_in_flight >= 8 and fake_providers.in_flight == 0
    fake_providers.reset()
    assert fake_providers.max_in_flight == 0 and fake_providers.latency == 0 and fake_providers.requests == []


def test_reset_restores_the_dataset_and_keys_can_have_their_own(
    fake_providers: FakeProviders, http: httpx.Client
) -> None:
    default = fake_providers.dataset
    small = Dataset(seed=5, days=40, end=default.end)
    own_key = account_key("openrouter", 42)
    fake_providers.key_datasets[own_key] = small
    mine = http.get(f"{fake_providers.openrouter_url}/credits", headers={"Authorization": f"Bearer {own_key}"})
    shared = http.get(f"{fake_providers.openrouter_url}/credits", headers=OPENROUTER_AUTH)
    assert mine.json()["data"] == small.openrouter_credits() and shared.json()["data"] == default.openrouter_credits()
    fake_providers.dataset = small
    fake_providers.fail("openai", 500, times=5)
    fake_providers.reset()
    assert fake_providers.dataset is default and fake_providers.key_datasets == {}
    response = http.get(
        f"{fake_providers.openai_url}/organization/costs",
        params={"start_time": ts(default.end - DAY)},
        headers=OPENAI_AUTH,
    )
    assert response.status_code == 200 and fake_providers.errors == []


def test_runs_as_its_own_process() -> None:
    command = [sys.executable, "-m", "tests.fakes.providers", "--seed", "3", "--days", "40", "--end", "2025-06-01"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[1]
        credits = httpx.get(f"{url}/openrouter/api/v1/credits", headers=OPENROUTER_AUTH, timeout=10).json()
        assert credits["data"] == Dataset(3, days=40, end=dt.date(2025, 6, 1)).openrouter_credits()
        stats = httpx.get(f"{url}/_fake/stats", timeout=10).json()
        assert stats == {"requests": 1, "max_in_flight": 1, "in_flight": 0}
        reset = httpx.post(f"{url}/_fake/reset", params={"page_cap": 5}, timeout=10).json()
        assert reset == {"reset": True, "latency": 0.0, "page_cap": 5}
    finally:
        process.terminate()
        process.wait(timeout=10)
