"""Metrics of the Redis online push (push_online), counted on the driver from each view's outcome."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge

from dip.observability.metric_set import Metric, MetricSet


class OnlinePushMetrics(MetricSet):
    """``dip_online_push_*``: rows per view and outcome, failures per view, last push duration.

    Build it on the job's registry (``job_run(..., registry=m.registry)``) so one file/group holds both.
    """

    rows = Metric(
        Counter,
        "dip_online_push_rows_total",
        "Entities pushed to Redis by view and outcome (written, skipped_stale)",
        ("view", "outcome"),
    )
    failures = Metric(Counter, "dip_online_push_failures_total", "Failed pushes of a view to Redis", ("view",))
    duration = Metric(Gauge, "dip_online_push_duration_seconds", "Wall time of the last push of a view", ("view",))

    def __init__(self, registry: CollectorRegistry | None = None, views: Iterable[str] = ()) -> None:
        super().__init__(registry)
        for view in views:  # export 0 before anything fails, so a failure shows as an increase
            self.failures.labels(view)
            self.rows.labels(view, "written")

    def record_push(self, view: str, written: int, skipped_stale: int, seconds: float) -> None:
        """One view pushed: rows written and rows skipped because Redis already held a newer version."""
        self.rows.labels(view, "written").inc(written)
        self.rows.labels(view, "skipped_stale").inc(skipped_stale)
        self.duration.labels(view).set(seconds)

    def record_failure(self, view: str) -> None:
        """A view's push failed (Redis unreachable, write error); its push state was left unchanged."""
        self.failures.labels(view).inc()
