"""One dead-letter schema for every stage; rows land in the Delta DLQ table and the ``dip.dlq`` topic."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

DLQ_COLUMNS: tuple[str, ...] = (
    "dlq_id",
    "stage",
    "error_type",
    "error_message",
    "source",
    "entity",
    "entity_id",
    "topic",
    "partition",
    "offset",
    "kafka_timestamp",
    "original",
    "failed_at",
)
DLQ_DDL = (
    "dlq_id STRING, stage STRING, error_type STRING, error_message STRING, source STRING, entity STRING, "
    "entity_id STRING, topic STRING, partition INT, offset BIGINT, kafka_timestamp TIMESTAMP, original BINARY, "
    "failed_at TIMESTAMP"
)


def to_dlq(
    df: DataFrame,
    *,
    stage: str,
    error_type: Column,
    error_message: Column,
    original: Column,
    failed_at: Column,
    source: Column | None = None,
    entity: Column | None = None,
    entity_id: Column | None = None,
) -> DataFrame:
    """Project failed rows onto the DLQ schema; ``dlq_id`` is stable for the same message, stage and error."""
    null_str = F.lit(None).cast("string")
    return df.select(
        F.sha2(
            F.concat_ws(
                "|",
                F.lit(stage),
                F.col("topic"),
                F.col("partition").cast("string"),
                F.col("offset").cast("string"),
                error_type,
            ),
            256,
        ).alias("dlq_id"),
        F.lit(stage).alias("stage"),
        error_type.alias("error_type"),
        error_message.alias("error_message"),
        (source if source is not None else null_str).alias("source"),
        (entity if entity is not None else null_str).alias("entity"),
        (entity_id if entity_id is not None else null_str).alias("entity_id"),
        F.col("topic").cast("string").alias("topic"),
        F.col("partition").cast("int").alias("partition"),
        F.col("offset").cast("bigint").alias("offset"),
        F.col("kafka_timestamp").cast("timestamp").alias("kafka_timestamp"),
        original.cast("binary").alias("original"),
        failed_at.cast("timestamp").alias("failed_at"),
    )


def dlq_to_kafka_records(dlq: DataFrame) -> DataFrame:
    """DLQ rows as Kafka records: key = dlq_id, value = the original bytes, headers = the reason."""
    headers = F.array(
        *[
            F.struct(
                F.lit(name).alias("key"),
                F.coalesce(F.col(name).cast("string"), F.lit("")).cast("binary").alias("value"),
            )
            for name in (
                "stage",
                "error_type",
                "error_message",
                "source",
                "entity",
                "topic",
                "partition",
                "offset",
                "failed_at",
            )
        ]
    )
    return dlq.select(
        F.col("dlq_id").cast("binary").alias("key"),
        F.coalesce(F.col("original"), F.lit(b"")).alias("value"),
        headers.alias("headers"),
    )
