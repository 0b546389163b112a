"""`dip reconcile`: prove that nothing was lost between Kafka, bronze and silver.

Two balances, per source (topic) and per source/entity:
  Kafka messages (up to stream_bronze's last committed offsets, or counted for one date) = bronze rows +
  bronze DLQ rows; messages produced after that batch (e.g. live predictions) are reported as pending
  bronze rows = silver + quarantine + silver DLQ + counted duplicates (the silver ledger), where the
  ledger's quarantine and DLQ figures are cross-checked against the quarantine and DLQ tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.kafka_clients import spark_kafka_options
from dip.streaming.kafka_io import bronze_topic_pattern
from dip.tables import BRONZE_EVENTS, DLQ, SILVER_LEDGER, SILVER_QUARANTINE


@dataclass(frozen=True)
class Balance:
    """One line of the reconcile report."""

    check: str
    scope: str
    expected: int
    parts: dict[str, int]
    pending: int = 0  # Kafka messages after the stream's last committed batch: not yet due in bronze

    @property
    def actual(self) -> int:
        return sum(self.parts.values())

    @property
    def balanced(self) -> bool:
        return self.expected == self.actual


def consumed_offsets(spark: SparkSession, config: Config) -> dict[tuple[str, int], int]:
    """End offset per (topic, partition) of stream_bronze's newest committed batch; empty before its first."""
    from dip.lineage import checkpoint_offsets
    from dip.streaming.bronze_job import QUERY
    from dip.streaming.kafka_io import checkpoint_path

    consumed: dict[tuple[str, int], int] = {}
    for source in checkpoint_offsets(spark, checkpoint_path(config, QUERY)) or []:
        for topic, partitions in source.items() if isinstance(source, dict) else []:
            consumed |= {(topic, int(p)): int(offset) for p, offset in partitions.items()}
    return consumed


def split_at_consumed(
    watermarks: dict[tuple[str, int], tuple[int, int]], consumed: dict[tuple[str, int], int]
) -> tuple[dict[str, int], dict[str, int]]:
    """Per topic: messages up to the consumed offset (bronze must hold them) and messages after it (pending).

    ``watermarks`` maps (topic, partition) to its (low, high) offsets; a partition bronze never read counts as
    consumed up to its low watermark.
    """
    expected: dict[str, int] = {}
    pending: dict[str, int] = {}
    for (topic, partition), (low, high) in watermarks.items():
        end = min(max(consumed.get((topic, partition), low), low), high)
        expected[topic] = expected.get(topic, 0) + end - low
        pending[topic] = pending.get(topic, 0) + high - end
    return expected, pending


def kafka_watermarks(config: Config) -> dict[tuple[str, int], tuple[int, int]]:
    """(low, high) watermark offsets of every partition of the topics bronze reads."""
    import re

    from confluent_kafka import TopicPartition

    from dip.kafka_clients import make_consumer

    consumer = make_consumer(config, "dip-reconcile")
    try:
        pattern = re.compile(bronze_topic_pattern(config))
        metadata = consumer.list_topics(timeout=10)
        return {
            (name, partition): consumer.get_watermark_offsets(TopicPartition(name, partition), timeout=10)
            for name, topic in metadata.topics.items()
            if pattern.fullmatch(name)
            for partition in topic.partitions
        }
    finally:
        consumer.close()


def kafka_offsets(config: Config) -> dict[str, int]:
    """Messages currently held per topic bronze reads: sum over partitions of (high - low) watermark."""
    totals: dict[str, int] = {}
    for (topic, _), (low, high) in kafka_watermarks(config).items():
        totals[topic] = totals.get(topic, 0) + high - low
    return totals


def kafka_counts_for_date(spark: SparkSession, config: Config, day: date) -> dict[str, int]:
    """Messages per raw topic appended on ``day`` (UTC), counted by reading the topics."""
    df = (
        spark.read.format("kafka")
        .options(**spark_kafka_options(config))
        .option("subscribePattern", bronze_topic_pattern(config))
        .option("startingOffsets", "earliest")
        .load()
        .where(F.to_date("timestamp") == F.lit(day.isoformat()).cast("date"))
    )
    return {r["topic"]: r["count"] for r in df.groupBy("topic").count().collect()}


def _read(spark: SparkSession, path: str) -> DataFrame | None:
    from delta.tables import DeltaTable

    return spark.read.format("delta").load(path) if DeltaTable.isDeltaTable(spark, path) else None


def _counts(df: DataFrame | None, *keys: str) -> dict[tuple, int]:
    if df is None:
        return {}
    return {tuple(r[k] for k in keys): r["count"] for r in df.groupBy(*keys).count().collect()}


def reconcile(spark: SparkSession, config: Config, day: date | None = None) -> list[Balance]:
    """Every balance of the pipeline (optionally for one ingestion date)."""
    bronze = _read(spark, BRONZE_EVENTS.path(config))
    dlq = _read(spark, DLQ.path(config))
    ledger = _read(spark, SILVER_LEDGER.path(config))
    quarantine = _read(spark, SILVER_QUARANTINE.path(config))
    if day is not None:
        on_day = F.lit(day.isoformat()).cast("date")
        bronze = bronze.where(F.col("ingest_date") == on_day) if bronze is not None else None
        dlq = dlq.where(F.to_date("kafka_timestamp") == on_day) if dlq is not None else None
        ledger = ledger.where(F.col("ingest_date") == on_day) if ledger is not None else None
        kafka = kafka_counts_for_date(spark, config, day)
        pending: dict[str, int] = {}
    else:  # messages produced after bronze's last committed batch are pending, not lost
        kafka, pending = split_at_consumed(kafka_watermarks(config), consumed_offsets(spark, config))

    balances: list[Balance] = []
    bronze_by_topic = _counts(bronze, "topic")
    dlq_bronze = dlq.where("stage = 'bronze'") if dlq is not None else None
    dlq_by_topic = _counts(dlq_bronze, "topic")
    for topic in sorted(set(kafka) | {k[0] for k in bronze_by_topic} | {k[0] for k in dlq_by_topic}):
        balances.append(
            Balance(
                "kafka = bronze + dlq",
                topic,
                kafka.get(topic, 0),
                {"bronze": bronze_by_topic.get((topic,), 0), "dlq": dlq_by_topic.get((topic,), 0)},
                pending.get(topic, 0),
            )
        )

    bronze_by_entity = _counts(bronze, "source", "entity")
    ledger_rows: dict[tuple, dict[str, int]] = {}
    if ledger is not None:
        for r in ledger.groupBy("source", "entity", "outcome").agg(F.count(F.lit(1)).alias("n")).collect():
            ledger_rows.setdefault((r["source"], r["entity"]), {})[r["outcome"]] = int(r["n"])
    for key in sorted(set(bronze_by_entity) | set(ledger_rows)):
        outcomes = ledger_rows.get(key, {})
        parts = {name: outcomes.get(name, 0) for name in ("silver", "quarantine", "dlq", "duplicate")}
        balances.append(
            Balance(
                "bronze = silver + quarantine + dlq + duplicates", "/".join(key), bronze_by_entity.get(key, 0), parts
            )
        )

    # the ledger must agree with the tables it summarises
    total_ledger = {name: sum(o.get(name, 0) for o in ledger_rows.values()) for name in ("quarantine", "dlq")}
    if quarantine is not None and day is None:
        balances.append(
            Balance(
                "ledger quarantine = quarantined bronze rows",
                "all",
                total_ledger["quarantine"],
                {"quarantine table": quarantine.select("record_key").distinct().count()},
            )
        )
    if dlq is not None and day is None:
        silver_dlq = dlq.where("stage = 'silver'").select("topic", "partition", "offset").distinct().count()
        balances.append(Balance("ledger dlq = silver DLQ rows", "all", total_ledger["dlq"], {"dlq table": silver_dlq}))
    return balances
