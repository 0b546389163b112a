"""stream_silver: stream bronze (Delta source) into the silver tables; `silver rebuild` reuses the same step."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.observability.streaming import StreamMetrics
from dip.quality.suites import load_suites
from dip.silver.process import SilverSettings, process_silver_batch
from dip.silver.spark_schema import load_registry
from dip.streaming.runner import BatchCounts, RunningQuery, RunSummary, run_to_end, start_foreach_batch
from dip.tables import BRONZE_EVENTS, SILVER_TABLES, checkpoint_path

QUERY = "stream_silver"


def silver_settings(config: Config) -> SilverSettings:
    """Schema registry, expectation suites and policies from config."""
    suites = load_suites(Path(config.quality.expectations_dir))
    return SilverSettings(
        registry=load_registry(Path(config.connectors.schemas_dir)),
        suites=suites,
        policies={table: config.quality.policy(table) for table in SILVER_TABLES},
        watermark_delay_hours=config.streaming.watermark_delay_hours,
        max_clock_skew_minutes=config.streaming.max_clock_skew_minutes,
        app_id=f"{config.streaming.app_id}.{QUERY}",
    )


def read_bronze_stream(spark: SparkSession, config: Config) -> DataFrame:
    # bronze is append-only except retention and `dip forget` deletes (and OPTIMIZE, which changes no data):
    # those commits are skipped instead of failing the stream
    reader = spark.readStream.format("delta").option("skipChangeCommits", "true")
    if config.streaming.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", str(config.streaming.max_files_per_trigger))
    return reader.load(BRONZE_EVENTS.path(config))


def run_stream_silver(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[BatchCounts], None] = lambda _b: None,
    metrics: StreamMetrics | None = None,
) -> RunSummary:
    """Run stream_silver with ``trigger`` (default from config) and return per-batch counts."""
    return run_to_end(start_stream_silver(spark, config, trigger, on_batch, metrics))


def start_stream_silver(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[BatchCounts], None] = lambda _b: None,
    metrics: StreamMetrics | None = None,
) -> RunningQuery:
    """Start stream_silver (await it with ``await_queries``)."""
    settings = silver_settings(config)
    return start_foreach_batch(
        read_bronze_stream(spark, config),
        query_name=QUERY,
        checkpoint=checkpoint_path(config, QUERY),
        trigger=trigger or config.streaming.trigger,
        process=lambda df, batch_id: process_silver_batch(df, batch_id, config, settings),
        on_batch=on_batch,
        metrics=metrics,
    )


def rebuild_silver(spark: SparkSession, config: Config, start: date, end: date) -> dict[str, int]:
    """Batch backfill: re-derive silver from bronze ingested between ``start`` and ``end`` (inclusive)."""
    settings = silver_settings(config)
    settings.app_id = f"{config.streaming.app_id}.silver_rebuild"
    bronze = (
        spark.read.format("delta")
        .load(BRONZE_EVENTS.path(config))
        .where(F.col("ingest_date").between(F.lit(start.isoformat()).cast("date"), F.lit(end.isoformat()).cast("date")))
    )
    batch_id = zlib.crc32(f"{start}:{end}".encode())  # names the range in its rows; txn versions are time-based
    return process_silver_batch(bronze, batch_id, config, settings, rebuild=True)
