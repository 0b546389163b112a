"""Prometheus metrics of one app instance (own registry, no globals) and the ASGI middleware feeding them."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServingMetrics:
    """Request latency per route, request/error counts, feature hits, misses and stale reads per view."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "dip_serving_request_duration_seconds",
            "Request latency by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "dip_serving_requests",
            "Requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "dip_serving_errors", "Responses with status >= 500 by route.", ["route", "status"], registry=self.registry
        )
        self.hits = Counter("dip_serving_feature_hits", "Entities found, by view.", ["view"], registry=self.registry)
        self.misses = Counter(
            "dip_serving_feature_misses", "Entities without stored features, by view.", ["view"], registry=self.registry
        )
        self.stale = Counter(
            "dip_serving_stale_features", "Entities served flagged stale, by view.", ["view"], registry=self.registry
        )
        self.prediction_log_failures = Counter(
            "dip_serving_prediction_log_failures",
            "Predictions not published to Kafka (queue full, broker down, delivery failed).",
            registry=self.registry,
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Times every HTTP request and labels it with the matched route template (``unmatched`` otherwise)."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope["method"] if scope["method"] in HTTP_METHODS else "other"  # clients choose it: bound it
            self.metrics.latency.labels(path, method).observe(time.perf_counter() - started)
            self.metrics.requests.labels(path, method, str(status)).inc()
            if status >= 500:
                self.metrics.errors.labels(path, str(status)).inc()
