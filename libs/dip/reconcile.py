"""`dip reconcile`: prove that nothing was lost between Kafka, bronze and silver.

Two balances, per source (topic) and per source/entity:
  Kafka messages (up to stream_bronze's last committed offsets, or counted for one date) = bronze rows +
  bronze DLQ rows; messages produced after that batch (e.g. live predictions) are reported as pending
  bronze rows = silver + quarantine + silver DLQ + counted duplicates (the silver ledger), where the
  ledger's quarantine and DLQ figures are cross-checked against the quarantine and DLQ tables.

And the silver tables themselves, per table, counted in merge keys (MERGE keeps one row per key): the
bronze rows the ledger marks ``silver`` are re-normalised with the same transforms the stream uses, and
every key they give must be in the table (nothing the ledger counts as delivered is missing); every key in
the table must come from a bronze row the ledger accepted (nothing arrived from nowhere). Quarantined rows
may still have written their other tables, and ``dip silver rebuild`` takes late rows in, so those rows'
keys are allowed but not required.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.io.kafka import spark_kafka_options
from dip.io.table_access import read_if_exists
from dip.streaming.kafka_io import bronze_topic_pattern
from dip.tables import BRONZE_EVENTS, DLQ, SILVER_LEDGER, SILVER_QUARANTINE, SILVER_TABLES

TABLE_HAS_DELIVERED = "silver table keys include every key of the rows delivered to silver"
TABLE_IS_EXPLAINED = "silver table keys all come from accepted bronze rows"


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
    from dip.tables import checkpoint_path

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

    from dip.io.kafka import make_consumer

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


def _counts(df: DataFrame | None, *keys: str) -> dict[tuple, int]:
    if df is None:
        return {}
    return {tuple(r[k] for k in keys): r["count"] for r in df.groupBy(*keys).count().collect()}


def reconcile(spark: SparkSession, config: Config, day: date | None = None) -> list[Balance]:
    """Every balance of the pipeline (optionally for one ingestion date)."""
    bronze = read_if_exists(spark, config, BRONZE_EVENTS)
    dlq = read_if_exists(spark, config, DLQ)
    ledger = read_if_exists(spark, config, SILVER_LEDGER)
    quarantine = read_if_exists(spark, config, SILVER_QUARANTINE)
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
    if bronze is not None and ledger is not None and day is None:
        balances += table_key_balances(spark, config, bronze, ledger)
    return balances


def table_key_balances(spark: SparkSession, config: Config, bronze: DataFrame, ledger: DataFrame) -> list[Balance]:
    """Per silver table: its merge keys against the keys of the bronze rows the ledger delivered (one Spark job)."""
    from pathlib import Path

    from dip.silver.merge import SPECS
    from dip.silver.parse import record_key
    from dip.silver.process import normalise
    from dip.silver.spark_schema import load_registry

    outcomes = ledger.where(
        F.col("outcome").isin("silver", "quarantine") | ((F.col("outcome") == "dlq") & (F.col("reason") == "late"))
    ).select(F.col("record_key").alias("_record_key"), (F.col("outcome") == "silver").alias("_delivered"))
    accepted = bronze.transform(record_key).join(outcomes, "_record_key", "left_semi")
    per_table, _ = normalise(accepted, load_registry(Path(config.connectors.schemas_dir)))
    sides: list[DataFrame] = []
    for name in SILVER_TABLES:
        keys = SPECS[name].keys
        key = F.to_json(F.struct(*keys))
        if name in per_table:
            derived = (
                per_table[name]
                .where(reduce(lambda a, b: a & b, [F.col(k).isNotNull() for k in keys]))
                .join(outcomes, "_record_key")
                .groupBy(F.lit(name).alias("table"), key.alias("key"))
                .agg(F.max("_delivered").alias("delivered"), F.lit(True).alias("derived"), F.lit(False).alias("stored"))
            )
            sides.append(derived)
        stored = read_if_exists(spark, config, SILVER_TABLES[name])
        if stored is not None:
            flags = (F.lit(False).alias("delivered"), F.lit(False).alias("derived"), F.lit(True).alias("stored"))
            sides.append(stored.select(F.lit(name).alias("table"), key.alias("key"), *flags))
    if not sides:
        return []
    per_key = (
        reduce(DataFrame.unionByName, sides)
        .groupBy("table", "key")
        .agg(*(F.max(c).alias(c) for c in ("delivered", "derived", "stored")))
    )
    counts = {
        r["table"]: r
        for r in per_key.groupBy("table")
        .agg(
            F.count_if("delivered").alias("delivered"),
            F.count_if(F.col("delivered") & F.col("stored")).alias("delivered_stored"),
            F.count_if("stored").alias("stored"),
            F.count_if(F.col("stored") & F.col("derived")).alias("stored_derived"),
        )
        .collect()
    }
    balances = []
    for name in sorted(counts):
        r = counts[name]
        balances.append(Balance(TABLE_HAS_DELIVERED, name, r["delivered"], {"in table": r["delivered_stored"]}))
        balances.append(Balance(TABLE_IS_EXPLAINED, name, r["stored"], {"from accepted rows": r["stored_derived"]}))
    return balances
