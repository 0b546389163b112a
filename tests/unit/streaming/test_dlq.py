"""The one DLQ schema, and DLQ rows as Kafka records with the reason in headers."""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertSchemaEqual

from dip.streaming.dlq import DLQ_DDL, dlq_to_kafka_records, to_dlq

FAILED = "source STRING, topic STRING, partition INT, offset BIGINT, kafka_timestamp TIMESTAMP, value BINARY"


def test_to_dlq_projects_onto_the_dlq_schema(spark: SparkSession) -> None:
    failed = spark.createDataFrame(
        [("instagram", "dip.raw.instagram", 1, 42, datetime(2026, 11, 26, 14, 0, tzinfo=UTC), bytearray(b"{x"))],
        FAILED,
    )
    dlq = to_dlq(
        failed,
        stage="bronze",
        error_type=F.lit("invalid_json"),
        error_message=F.lit("value is not valid JSON"),
        original=F.col("value"),
        failed_at=F.lit("2026-11-26 15:00:00"),
        source=F.col("source"),
    )
    assertSchemaEqual(dlq.schema, spark.createDataFrame([], DLQ_DDL).schema)
    row = dlq.first()
    assert (row["source"], row["entity"], row["entity_id"]) == ("instagram", None, None)
    assert bytes(row["original"]) == b"{x"


def test_dlq_to_kafka_records_key_value_and_reason_headers(spark: SparkSession) -> None:
    dlq = spark.createDataFrame(
        [
            ("abc123", "silver", "late", "event time 2026-11-20 00:00:00 is before the watermark", "tiktok", None,
             "v1", "dip.raw.tiktok", 2, 17, datetime(2026, 11, 26, 14, 0, tzinfo=UTC), bytearray(b'{"a":1}'),
             datetime(2026, 11, 26, 15, 0, 0, 250000, tzinfo=UTC)),
            ("def456", "bronze", "empty_message", "Kafka message has no value", None, None, None,
             "dip.raw.tiktok", 0, 3, datetime(2026, 11, 26, 14, 0, tzinfo=UTC), None,
             datetime(2026, 11, 26, 15, 0, tzinfo=UTC)),
        ],
        DLQ_DDL,
    )  # fmt: skip
    records = dlq_to_kafka_records(dlq).orderBy("key").collect()
    assert [(bytes(r["key"]), bytes(r["value"])) for r in records] == [(b"abc123", b'{"a":1}'), (b"def456", b"")]
    assert [(h["key"], bytes(h["value"])) for h in records[0]["headers"]] == [
        ("stage", b"silver"),
        ("error_type", b"late"),
        ("error_message", b"event time 2026-11-20 00:00:00 is before the watermark"),
        ("source", b"tiktok"),
        ("entity", b""),
        ("topic", b"dip.raw.tiktok"),
        ("partition", b"2"),
        ("offset", b"17"),
        ("failed_at", b"2026-11-26 15:00:00.25"),
    ]
    assert [(h["key"], bytes(h["value"])) for h in records[1]["headers"]] == [
        ("stage", b"bronze"),
        ("error_type", b"empty_message"),
        ("error_message", b"Kafka message has no value"),
        ("source", b""),
        ("entity", b""),
        ("topic", b"dip.raw.tiktok"),
        ("partition", b"0"),
        ("offset", b"3"),
        ("failed_at", b"2026-11-26 15:00:00"),
    ]
