"""Prometheus metrics of the connectors, on a registry the caller owns (no import-time global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server


class ConnectorMetrics:
    """Requests by source/endpoint/status, latency, 429s, retries, throttling, records published, DLQ."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "dip_connector_requests_total",
            "HTTP requests to platform APIs",
            ["source", "endpoint", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "dip_connector_request_seconds",
            "HTTP request latency",
            ["source", "endpoint"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.rate_limited = Counter(
            "dip_connector_rate_limited_total",
            "Rate-limit answers (429 / codes 4,17,32,613)",
            ["source", "endpoint"],
            registry=r,
        )
        self.retries = Counter(
            "dip_connector_retries_total", "Retried requests", ["source", "endpoint", "reason"], registry=r
        )
        self.throttle_seconds = Counter(
            "dip_connector_throttle_seconds_total",
            "Seconds of slowdown requested by usage headers",
            ["source"],
            registry=r,
        )
        self.published = Counter(
            "dip_connector_records_published_total", "Records acknowledged by Kafka", ["source", "entity"], registry=r
        )
        self.unchanged = Counter(
            "dip_connector_records_unchanged_total",
            "Records skipped: same as last published",
            ["source", "entity"],
            registry=r,
        )
        self.item_errors = Counter(
            "dip_connector_item_errors_total",
            "Items whose request failed for good (e.g. insights not available); the account went on",
            ["source", "entity", "code"],
            registry=r,
        )
        self.paging_stops = Counter(
            "dip_connector_paging_stops_total",
            "Paging loops stopped early: repeated cursor, page cap, or a saved cursor the API rejected",
            ["source", "stream", "reason"],
            registry=r,
        )
        self.dlq = Counter(
            "dip_connector_dlq_total", "Messages sent to the DLQ", ["source", "entity", "error_type"], registry=r
        )

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
