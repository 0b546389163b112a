"""Start a foreachBatch streaming query with the configured trigger and collect per-batch counts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame

from dip.observability.streaming import PrometheusQueryListener, StreamMetrics

NEWEST_EVENT = "_newest_event_epoch_s"  # optional entry of a batch's counts: newest event time written


@dataclass
class BatchCounts:
    """Row counts of one micro-batch, by output."""

    batch_id: int
    counts: dict[str, int]
    seconds: float


@dataclass
class RunSummary:
    """What a streaming run did, for the closing summary."""

    query: str
    batches: list[BatchCounts] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, key: str) -> int:
        return sum(b.counts.get(key, 0) for b in self.batches)

    def keys(self) -> list[str]:
        """Count names in first-seen order (``_``-prefixed entries are batch facts, not counts)."""
        seen: dict[str, None] = {}
        for batch in self.batches:
            seen.update(dict.fromkeys(k for k in batch.counts if not k.startswith("_")))
        return list(seen)


def _drain_listener_bus(spark) -> None:
    """Let queued query events (progress, terminated) reach the Python listener before it is removed,
    so none is delivered to a callback server that is shutting down."""
    with contextlib.suppress(Exception):
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(10_000)


def parse_trigger(trigger: str) -> dict[str, object]:
    """``available-now`` or ``processing-time=<interval>`` -> keyword arguments of ``DataStreamWriter.trigger``."""
    if trigger == "available-now":
        return {"availableNow": True}
    if trigger.startswith("processing-time="):
        interval = trigger.split("=", 1)[1].strip()
        if not interval:
            raise ValueError("processing-time trigger needs an interval, e.g. processing-time=30 seconds")
        return {"processingTime": interval}
    raise ValueError(f"unknown trigger {trigger!r}: use available-now or processing-time=<interval>")


def run_foreach_batch(
    stream: DataFrame,
    *,
    query_name: str,
    checkpoint: str,
    trigger: str,
    process: Callable[[DataFrame, int], dict[str, int]],
    on_batch: Callable[[BatchCounts], None] = lambda _b: None,
    metrics: StreamMetrics | None = None,
) -> RunSummary:
    """Run ``process`` on every micro-batch until the trigger completes (or forever for processing-time)."""
    summary = RunSummary(query_name)
    listener = PrometheusQueryListener(metrics) if metrics is not None else None
    if listener is not None:
        stream.sparkSession.streams.addListener(listener)

    def handle(batch_df: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        counts = process(batch_df, batch_id)
        newest = counts.pop(NEWEST_EVENT, None)
        result = BatchCounts(batch_id, counts, time.monotonic() - started)
        summary.batches.append(result)
        if metrics is not None:
            metrics.record_batch(query_name, counts, newest)
        on_batch(result)

    started = time.monotonic()
    query = (
        stream.writeStream.queryName(query_name)
        .option("checkpointLocation", checkpoint)
        .foreachBatch(handle)
        .trigger(**parse_trigger(trigger))
        .start()
    )
    try:
        query.awaitTermination()
    finally:
        if listener is not None:
            _drain_listener_bus(stream.sparkSession)
            stream.sparkSession.streams.removeListener(listener)
    summary.seconds = time.monotonic() - started
    return summary
