"""`dip reconcile`: prove that nothing was lost between Kafka, bronze and silver.

Two balances, per source (topic) and per source/entity:
  Kafka messages (from offsets, or counted for one date) = bronze rows + bronze DLQ rows
  bronze rows = silver + quarantine + silver DLQ + counted duplicates (the silver ledger), where the
  ledger's quarantine and DLQ figures are cross-checked against the quarantine and DLQ tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.streaming.kafka_io import bronze_topic_pattern, kafka_options
from dip.tables import BRONZE_EVENTS, DLQ, SILVER_LEDGER, SILVER_QUARANTINE


@dataclass(frozen=True)
class Balance:
    """One line of the reconcile report."""

    check: str
    scope: str
    expected: int
    parts: dict[str, int]

    @property
    def actual(self) -> int:
        return sum(self.parts.values())

    @property
    def balanced(self) -> bool:
        return self.expected == self.actual


def kafka_offsets(config: Config) -> dict[str, int]:
    """Messages currently held per topic bronze reads: sum over partitions of (high - low) watermark."""
    import re

    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": config.kafka.bootstrap_servers, "group.id": "dip-reconcile", "enable.auto.commit": False}
    )
    try:
        pattern = re.compile(bronze_topic_pattern(config))
        metadata = consumer.list_topics(timeout=10)
        counts: dict[str, int] = {}
        for name, topic in metadata.topics.items():
            if not pattern.fullmatch(name):
                continue
            total = 0
            for partition in topic.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(name, partition), timeout=10)
                total += high - low
            counts[name] = total
        return counts
    finally:
        consumer.close()


def kafka_counts_for_date(spark: SparkSession, config: Config, day: date) -> dict[str, int]:
    """Messages per raw topic appended on ``day`` (UTC), counted by reading the topics."""
    df = (
        spark.read.format("kafka")
        .options(**kafka_options(config))
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
    else:
        kafka = kafka_offsets(config)

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
            )
        )

    bronze_by_entity = _counts(bronze, "source", "entity")
    ledger_rows: dict[tuple, dict[str, int]] = {}
    if ledger is not None:
        for r in ledger.groupBy("source", "entity", "outcome").agg(F.sum("rows").alias("n")).collect():
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
