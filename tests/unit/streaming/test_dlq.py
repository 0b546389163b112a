"""The one DLQ schema, DLQ rows as Kafka records with the reason in headers, and ingest's dead letters read back
from the DLQ topic onto that schema."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual, assertSchemaEqual

from dip.config import Config
from dip.connectors import kafka_messages as envelope
from dip.connectors.kafka_messages import OutMessage
from dip.streaming.dlq import DLQ_DDL, dlq_to_kafka_records, ingest_dlq_rows, to_dlq
from dip.streaming.dlq_replay import replay

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


KAFKA_RECORDS = (
    "key BINARY, value BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP, "
    "headers ARRAY<STRUCT<key: STRING, value: BINARY>>"
)


def _record(message: OutMessage, offset: int) -> tuple:
    at = datetime(2026, 11, 26, 14, 0, offset, tzinfo=UTC)
    headers = [(k, bytearray(v)) for k, v in message.headers]
    return bytearray(message.key), bytearray(message.value), message.topic, 0, offset, at, headers


def test_ingest_dead_letters_of_the_dlq_topic_on_the_dlq_schema(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(envelope, "utc_now_iso", lambda: "2026-11-26T14:00:00.250000Z")
    malformed = envelope.dlq_message(
        "t.dlq",
        source="instagram",
        entity="media",
        error_type="malformed_response",
        error_message="expected a JSON object from media, got list",
        original=b'[{"unexpected": 1}]',
        key="instagram:media:req-7",
        run_id="run-1",
        request_id="req-7",
    )
    invalid = envelope.dlq_message(
        "t.dlq",
        source="tiktok",
        entity="video",
        error_type="schema_violation",
        error_message="'view_count' is a required property",
        original='{"id":"v:42"}',
        key="tiktok:video:v:42",
        run_id="run-1",
        request_id="req-8",
    )
    from_bronze = OutMessage("t.dlq", b"abc123", b"{x", [("stage", b"bronze"), ("error_type", b"invalid_json")])
    records = spark.createDataFrame(
        [_record(malformed, 0), _record(invalid, 1), _record(from_bronze, 2)], KAFKA_RECORDS
    )

    got = ingest_dlq_rows(records)

    def dlq_id(offset: int, error_type: str) -> str:
        return hashlib.sha256(f"ingest|t.dlq|0|{offset}|{error_type}".encode()).hexdigest()

    failed_at = datetime(2026, 11, 26, 14, 0, 0, 250000, tzinfo=UTC)
    expected = spark.createDataFrame(
        [
            (dlq_id(0, "malformed_response"), "ingest", "malformed_response",
             "expected a JSON object from media, got list", "instagram", "media", None, "t.dlq", 0, 0,
             datetime(2026, 11, 26, 14, 0, 0, tzinfo=UTC), bytearray(b'[{"unexpected": 1}]'), failed_at),
            (dlq_id(1, "schema_violation"), "ingest", "schema_violation", "'view_count' is a required property",
             "tiktok", "video", "v:42", "t.dlq", 0, 1, datetime(2026, 11, 26, 14, 0, 1, tzinfo=UTC),
             bytearray(b'{"id":"v:42"}'), failed_at),
        ],
        DLQ_DDL,
    )  # fmt: skip
    assertSchemaEqual(got.schema, expected.schema)
    assertDataFrameEqual(got, expected)


def test_ingest_dead_letters_are_replayed_from_the_raw_zone_not_the_dlq(test_config: Config) -> None:
    with pytest.raises(ValueError, match=r"`dip replay --source S --date D` republishes that day from the raw zone"):
        replay(None, test_config, stage="ingest")  # type: ignore[arg-type]  # refused before any Spark or Kafka
