"""Streaming metrics: a StreamingQueryListener for rates and durations, plus event-time lag per batch."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Gauge
from pyspark.sql.streaming import StreamingQueryListener

from dip.observability.jobs import JobMetrics
from dip.observability.metric_set import Metric, MetricSet

log = logging.getLogger(__name__)


class StreamMetrics(MetricSet):
    """The ``dip_stream_*`` metrics of one job, in their own registry."""

    input_rate = Metric(Gauge, "dip_stream_input_rows_per_second", "Input rows/s of the last micro-batch", ("query",))
    processed_rate = Metric(
        Gauge, "dip_stream_processed_rows_per_second", "Processed rows/s of the last micro-batch", ("query",)
    )
    batch_duration = Metric(Gauge, "dip_stream_batch_duration_seconds", "Duration of the last micro-batch", ("query",))
    input_rows = Metric(Counter, "dip_stream_input_rows", "Rows read by micro-batches", ("query",))
    batches = Metric(Counter, "dip_stream_batches", "Micro-batches completed", ("query",))
    event_lag = Metric(
        Gauge,
        "dip_stream_event_time_lag_seconds",
        "Now minus the newest event time (fetched_at) written by the last batch",
        ("query",),
    )
    output_rows = Metric(Counter, "dip_stream_output_rows", "Rows written per output and outcome", ("query", "output"))
    rejected_share = Metric(
        Gauge,
        "dip_stream_batch_rejected_share",
        "Share of the last micro-batch's input rows sent to the DLQ (late, future-dated, unreadable)",
        ("query",),
    )
    rejected_batches = Metric(
        Counter,
        "dip_stream_rejected_batches",
        "Micro-batches whose DLQ share exceeded streaming.max_rejected_share",
        ("query",),
    )

    def __init__(self, registry: CollectorRegistry | None = None, max_rejected_share: float | None = None) -> None:
        super().__init__(registry)
        self.max_rejected_share = max_rejected_share
        self.job = JobMetrics(self.registry)  # dip_job_*: shared with job_run(..., metrics=self.job)
        self.last_success = self.job.last_success

    def record_batch(self, query: str, counts: dict[str, int], newest_event_epoch_s: float | None) -> None:
        """Counts and freshness of one processed batch (called from foreachBatch on the driver)."""
        for output, rows in counts.items():
            self.output_rows.labels(query, output).inc(rows)
        inputs = counts.get("kafka", counts.get("bronze", 0))  # stream_bronze reads Kafka, stream_silver bronze
        if inputs:
            share = counts.get("dlq", 0) / inputs
            self.rejected_share.labels(query).set(share)
            if self.max_rejected_share is not None and share > self.max_rejected_share:
                self.rejected_batches.labels(query).inc()
                log.warning(
                    "%s: %d of %d rows of this batch went to the DLQ (%.1f%% > %.1f%%); `dip dlq list` has the reasons",
                    query,
                    counts.get("dlq", 0),
                    inputs,
                    100 * share,
                    100 * self.max_rejected_share,
                )
        if newest_event_epoch_s is not None:
            self.event_lag.labels(query).set(max(0.0, time.time() - newest_event_epoch_s))
        self.last_success.labels(query).set(time.time())


class PrometheusQueryListener(StreamingQueryListener):
    """Copies each query progress event into :class:`StreamMetrics`."""

    def __init__(self, metrics: StreamMetrics, query_name: str | None = None) -> None:
        self.metrics = metrics
        self.query_name = query_name  # record only this query's progress (one listener per query)

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        name = progress.name or "unnamed"
        if self.query_name is not None and name != self.query_name:
            return
        self.metrics.input_rate.labels(name).set(progress.inputRowsPerSecond or 0.0)
        self.metrics.processed_rate.labels(name).set(progress.processedRowsPerSecond or 0.0)
        self.metrics.batch_duration.labels(name).set((progress.batchDuration or 0) / 1000.0)
        self.metrics.input_rows.labels(name).inc(progress.numInputRows or 0)
        self.metrics.batches.labels(name).inc()

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass
