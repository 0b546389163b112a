"""One dead-letter schema for every stage (ingest, bronze, silver).

Bronze and silver rows land in the Delta DLQ table and the ``dip.dlq`` topic; ingest (plain Python, no Spark)
publishes its dead letters to the topic only, and :func:`ingest_dlq_rows` reads them onto the same schema.
"""

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
INGEST_STAGE = "ingest"
# The value ingest publishes to the DLQ topic (dip.connectors.kafka_messages.dlq_message), less its ``stage``:
# bronze and silver publish the original bytes there instead, with the reason in headers.
INGEST_DLQ_VALUE_DDL = (
    "error_type STRING, error_message STRING, source STRING, entity STRING, original STRING, failed_at STRING"
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


def _header(name: str) -> Column:
    """The first Kafka header ``name`` of a record, as a string (null when absent)."""
    return F.get(F.filter("headers", lambda h: h["key"] == name), 0)["value"].cast("string")


def ingest_dlq_rows(records: DataFrame) -> DataFrame:
    """Ingest's dead letters among the DLQ topic's records (Kafka source rows with headers), on the DLQ schema.

    Their Kafka coordinates are the dead letter's own in the DLQ topic (the message never reached a raw topic),
    which keeps ``dlq_id`` stable. The key is ``<source>:<entity>:<id>``: the entity id for a record that failed
    validation, the request id (``entity_id`` null) for a response that could not be mapped."""
    key_id = F.get(F.split(F.col("key").cast("string"), ":", 3), 2)
    dead = records.where(_header("stage") == INGEST_STAGE).select(
        "topic",
        "partition",
        "offset",
        F.col("timestamp").alias("kafka_timestamp"),
        F.from_json(F.col("value").cast("string"), INGEST_DLQ_VALUE_DDL).alias("dead"),
        F.when(key_id != _header("request_id"), key_id).alias("key_entity_id"),
    )
    return to_dlq(
        dead,
        stage=INGEST_STAGE,
        error_type=F.col("dead.error_type"),
        error_message=F.col("dead.error_message"),
        original=F.encode(F.col("dead.original"), "UTF-8"),
        failed_at=F.col("dead.failed_at"),
        source=F.col("dead.source"),
        entity=F.col("dead.entity"),
        entity_id=F.col("key_entity_id"),
    )
