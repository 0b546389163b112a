"""stream_bronze: read every raw topic and append bronze + DLQ rows, exactly once per micro-batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.io.delta_append import append_idempotent, writer_id
from dip.io.forgotten import forgotten_filter, forgotten_hashes
from dip.io.kafka import spark_kafka_options
from dip.observability.streaming import StreamMetrics
from dip.streaming.bronze import bronze_dlq_rows, bronze_rows, kafka_frame, parse_kafka
from dip.streaming.dlq_io import write_dlq
from dip.streaming.kafka_io import bronze_topic_pattern
from dip.streaming.runner import (
    NEWEST_EVENT,
    BatchCounts,
    RunningQuery,
    RunSummary,
    run_to_end,
    start_foreach_batch,
)
from dip.tables import BRONZE_EVENTS, checkpoint_path

QUERY = "stream_bronze"


def read_raw_stream(spark: SparkSession, config: Config) -> DataFrame:
    """Spark's Kafka source over ``dip.raw.*`` and ``dip.predictions``; offsets, rate limit, data loss from config."""
    reader = (
        spark.readStream.format("kafka")
        .options(**spark_kafka_options(config))
        .option("subscribePattern", bronze_topic_pattern(config))
        .option("startingOffsets", config.streaming.starting_offsets)
        .option("failOnDataLoss", str(config.streaming.fail_on_data_loss).lower())
    )
    if config.streaming.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(config.streaming.max_offsets_per_trigger))
    return reader.load()


KAFKA_SOURCE_DDL = (
    "key BINARY, value BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP, timestampType INT"
)


def ensure_bronze_table(spark: SparkSession, config: Config) -> None:
    """Create the empty bronze table (schema and partitioning of real bronze rows) if it does not exist yet,
    so stream_silver can start next to a stream_bronze that has not committed a batch."""
    from delta.tables import DeltaTable

    path = BRONZE_EVENTS.path(config)
    if DeltaTable.isDeltaTable(spark, path):
        return
    empty = bronze_rows(parse_kafka(kafka_frame(spark.createDataFrame([], KAFKA_SOURCE_DDL)), "1970-01-01 00:00:00"))
    empty.write.format("delta").mode("ignore").partitionBy(*BRONZE_EVENTS.partition_by).save(path)


def process_bronze_batch(batch: DataFrame, batch_id: int, config: Config) -> dict[str, int]:
    """Split one Kafka micro-batch into bronze rows and DLQ rows and write both idempotently.

    Messages of a forgotten account (``dip forget``; a replay of older offsets) are dropped and counted.
    """
    app_id = writer_id(batch.sparkSession, f"{config.streaming.app_id}.{QUERY}")
    ingested_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    parsed = parse_kafka(kafka_frame(batch), ingested_at).persist()
    forgotten = forgotten_filter(forgotten_hashes(config), "env.source", "env.account_id")
    try:
        stats = parsed.agg(
            F.count(F.lit(1)).alias("n"),
            F.count("envelope_error").alias("bad"),
            F.max("fetched_ts").alias("newest"),
            F.count(F.when(F.col("envelope_error").isNull() & forgotten, 1)).alias("forgotten"),
        ).first()
        total, dlq_count, dropped = stats["n"], stats["bad"], stats["forgotten"]
        rows = bronze_rows(parsed.where(~forgotten)) if dropped else bronze_rows(parsed)
        append_idempotent(rows, BRONZE_EVENTS.path(config), app_id, batch_id, BRONZE_EVENTS.partition_by)
        if dlq_count:  # the common case writes no DLQ commit and runs no DLQ job
            write_dlq(bronze_dlq_rows(parsed), config, f"{app_id}.dlq", batch_id, expected=dlq_count)
    finally:
        parsed.unpersist()
    counts = {"kafka": total, "bronze": total - dlq_count - dropped, "dlq": dlq_count}
    if dropped:
        counts["forgotten"] = dropped
    if stats["newest"] is not None:
        counts[NEWEST_EVENT] = stats["newest"].replace(tzinfo=UTC).timestamp()
    return counts


def run_stream_bronze(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[BatchCounts], None] = lambda _b: None,
    metrics: StreamMetrics | None = None,
) -> RunSummary:
    """Run stream_bronze with ``trigger`` (default from config) and return per-batch counts."""
    return run_to_end(start_stream_bronze(spark, config, trigger, on_batch, metrics))


def start_stream_bronze(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[BatchCounts], None] = lambda _b: None,
    metrics: StreamMetrics | None = None,
) -> RunningQuery:
    """Start stream_bronze (await it with ``await_queries``, e.g. next to stream_silver in one application)."""
    return start_foreach_batch(
        read_raw_stream(spark, config),
        query_name=QUERY,
        checkpoint=checkpoint_path(config, QUERY),
        trigger=trigger or config.streaming.trigger,
        process=lambda df, batch_id: process_bronze_batch(df, batch_id, config),
        on_batch=on_batch,
        metrics=metrics,
    )


__all__ = [
    "QUERY",
    "BatchCounts",
    "process_bronze_batch",
    "read_raw_stream",
    "run_stream_bronze",
    "start_stream_bronze",
]
