"""stream_bronze and stream_silver (and optionally stream_live) in one Spark application (`dip stream all`)."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import SparkSession

from dip.config import Config
from dip.features.live_job import run_stream_live, start_stream_live
from dip.observability.streaming import StreamMetrics
from dip.silver.stream_job import run_stream_silver, start_stream_silver
from dip.streaming.bronze_job import ensure_bronze_table, run_stream_bronze, start_stream_bronze
from dip.streaming.runner import BatchCounts, RunSummary, await_queries, parse_trigger


def run_stream_all(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[str, BatchCounts], None] = lambda _q, _b: None,
    metrics: StreamMetrics | None = None,
    live: bool = False,
) -> list[RunSummary]:
    """Both queries with one trigger. available-now runs them one after the other (silver then sees all of
    bronze); a processing-time trigger runs them side by side until SIGTERM, each stopping after its batch.
    ``live`` adds the stream_live queries (silver -> Redis) the same way; a failure of any query stops all."""
    trigger = trigger or config.streaming.trigger
    if "availableNow" in parse_trigger(trigger):
        bronze = run_stream_bronze(spark, config, trigger, lambda b: on_batch("stream_bronze", b), metrics)
        silver = run_stream_silver(spark, config, trigger, lambda b: on_batch("stream_silver", b), metrics)
        return [bronze, silver, *(run_stream_live(spark, config, trigger, on_batch, metrics) if live else [])]
    ensure_bronze_table(spark, config)  # silver's Delta source needs the table before bronze's first commit
    running = [
        start_stream_bronze(spark, config, trigger, lambda b: on_batch("stream_bronze", b), metrics),
        start_stream_silver(spark, config, trigger, lambda b: on_batch("stream_silver", b), metrics),
    ]
    if live:
        running += start_stream_live(spark, config, trigger, on_batch, metrics)
    await_queries(running)
    return [r.summary for r in running]
