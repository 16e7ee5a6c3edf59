"""Prometheus metrics of the HTTP API, kept in a registry per app (no global state)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram


def init_metrics(app: Flask) -> Metrics:
    """Create the registry and count every request by method, route template and status."""
    registry = CollectorRegistry(auto_describe=True)
    metrics = Metrics(
        registry=registry,
        requests=Counter(
            "spendwatch_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "spendwatch_http_request_duration_seconds",
            "Time to serve an HTTP request",
            ["method", "route"],
            registry=registry,
        ),
    )

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        # The route template, not the raw path, keeps label cardinality bounded (/api/accounts/<int:account_id>).
        route = request.url_rule.rule if request.url_rule else "unmatched"
        started = g.get("request_started")
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        if started is not None:
            metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    return metrics
