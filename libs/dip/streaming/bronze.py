"""Kafka -> bronze: keep the envelope, the payload text and the Kafka coordinates; bad messages -> DLQ."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from dip.schemas.envelope import ENVELOPE_FIELDS
from dip.streaming.dlq import to_dlq
from dip.streaming.envelope_parsing import with_envelope

STAGE = "bronze"
BRONZE_COLUMNS: tuple[str, ...] = (
    *ENVELOPE_FIELDS,
    "kafka_key",
    "topic",
    "partition",
    "offset",
    "kafka_timestamp",
    "ingested_at",
    "ingest_date",
)


def kafka_frame(df: DataFrame) -> DataFrame:
    """Rename the Kafka source columns DIP keeps (``timestamp`` -> ``kafka_timestamp``)."""
    return df.select("key", "value", "topic", "partition", "offset", F.col("timestamp").alias("kafka_timestamp"))


def parse_kafka(df: DataFrame, ingested_at: str) -> DataFrame:
    """Kafka rows -> rows with the parsed envelope and an ``envelope_error`` (null when valid)."""
    return with_envelope(df, "value").withColumn("ingested_at", F.lit(ingested_at).cast("timestamp"))


def bronze_rows(parsed: DataFrame) -> DataFrame:
    """Valid envelopes as bronze rows; ``ingest_date`` is the Kafka append date (UTC), stable on replay."""
    return parsed.where(F.col("envelope_error").isNull()).select(
        "env.source",
        "env.entity",
        "env.schema_version",
        "env.account_id",
        "env.entity_id",
        F.col("fetched_ts").alias("fetched_at"),
        "env.request_id",
        "env.run_id",
        "env.payload",
        F.col("key").cast("string").alias("kafka_key"),
        "topic",
        "partition",
        "offset",
        "kafka_timestamp",
        "ingested_at",
        F.to_date("kafka_timestamp").alias("ingest_date"),
    )


def bronze_dlq_rows(parsed: DataFrame) -> DataFrame:
    """Messages that are not JSON or not a valid envelope, with the original bytes and the reason."""
    bad = parsed.where(F.col("envelope_error").isNotNull())
    return to_dlq(
        bad,
        stage=STAGE,
        error_type=F.col("envelope_error.type"),
        error_message=F.col("envelope_error.message"),
        original=F.col("value"),
        failed_at=F.col("ingested_at"),
        source=F.col("env.source"),
        entity=F.col("env.entity"),
        entity_id=F.col("env.entity_id"),
    )
