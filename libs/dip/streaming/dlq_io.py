"""Write DLQ rows to the Delta DLQ table and the ``dip.dlq`` topic; read the topic back (ingest's dead letters)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from dip.config import Config
from dip.io.delta_append import append_idempotent
from dip.io.kafka import make_admin, spark_kafka_options
from dip.streaming.dlq import dlq_to_kafka_records
from dip.tables import DLQ


def write_dlq(dlq: DataFrame, config: Config, app_id: str, batch_id: int, expected: int | None = None) -> int:
    """Append DLQ rows (idempotently) and publish them to the DLQ topic; returns how many.

    ``expected``: the caller already knows how many rows there are (no counting job)."""
    dlq = dlq.persist()
    try:
        count = dlq.count() if expected is None else expected
        if count == 0:
            return 0
        append_idempotent(dlq, DLQ.path(config), app_id, batch_id, DLQ.partition_by)
        (
            dlq_to_kafka_records(dlq)
            .write.format("kafka")
            .options(**spark_kafka_options(config))
            .option("topic", config.kafka.topics.dlq)
            .save()
        )
        return count
    finally:
        dlq.unpersist()


def read_dlq_topic(spark: SparkSession, config: Config) -> DataFrame | None:
    """Every record of the DLQ topic with its headers (a batch read, earliest to latest); None when the topic does
    not exist yet. Raises ``KafkaException`` when the broker cannot be reached."""
    topic = config.kafka.topics.dlq
    if topic not in make_admin(config).list_topics(timeout=10).topics:  # all topics: asking for one may create it
        return None
    return (
        spark.read.format("kafka")
        .options(**spark_kafka_options(config))
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .option("includeHeaders", "true")
        .load()
    )
