"""Prometheus metrics of the connectors, on a registry the caller owns (no import-time global state)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

from dip.observability.metric_set import Metric, MetricSet


class ConnectorMetrics(MetricSet):
    """Requests by source/endpoint/status, latency, 429s, retries, throttling, records published, DLQ."""

    requests = Metric(
        Counter, "dip_connector_requests_total", "HTTP requests to platform APIs", ("source", "endpoint", "status")
    )
    latency = Metric(
        Histogram,
        "dip_connector_request_seconds",
        "HTTP request latency",
        ("source", "endpoint"),
        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    )
    rate_limited = Metric(
        Counter,
        "dip_connector_rate_limited_total",
        "Rate-limit answers (429 / codes 4,17,32,613)",
        ("source", "endpoint"),
    )
    retries = Metric(Counter, "dip_connector_retries_total", "Retried requests", ("source", "endpoint", "reason"))
    throttle_seconds = Metric(
        Counter, "dip_connector_throttle_seconds_total", "Seconds of slowdown requested by usage headers", ("source",)
    )
    published = Metric(
        Counter, "dip_connector_records_published_total", "Records acknowledged by Kafka", ("source", "entity")
    )
    unchanged = Metric(
        Counter,
        "dip_connector_records_unchanged_total",
        "Records skipped: same as last published",
        ("source", "entity"),
    )
    item_errors = Metric(
        Counter,
        "dip_connector_item_errors_total",
        "Items whose request failed for good (e.g. insights not available); the account went on",
        ("source", "entity", "code"),
    )
    paging_stops = Metric(
        Counter,
        "dip_connector_paging_stops_total",
        "Paging loops stopped early: repeated cursor, page cap, or a saved cursor the API rejected",
        ("source", "stream", "reason"),
    )
    dlq = Metric(Counter, "dip_connector_dlq_total", "Messages sent to the DLQ", ("source", "entity", "error_type"))

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Expose ``/metrics`` on ``addr:port`` for the life of the process."""
        start_http_server(port, addr=addr, registry=self.registry)

    def value(self, name: str, **labels: str) -> float:
        """Current value of a sample (sum over unspecified labels); for summaries and tests."""
        total = 0.0
        for metric in self.registry.collect():
            for sample in metric.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total
