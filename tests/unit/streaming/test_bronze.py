"""Kafka rows -> bronze rows (valid envelopes) and bronze DLQ rows (everything else)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.streaming.bronze import bronze_dlq_rows, bronze_rows, kafka_frame, parse_kafka
from dip.streaming.dlq import DLQ_DDL

KAFKA_DDL = "key BINARY, value BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP"
BRONZE_DDL = (
    "source STRING, entity STRING, schema_version INT, account_id STRING, entity_id STRING, fetched_at TIMESTAMP, "
    "request_id STRING, run_id STRING, payload STRING, kafka_key STRING, topic STRING, partition INT, offset BIGINT, "
    "kafka_timestamp TIMESTAMP, ingested_at TIMESTAMP, ingest_date DATE"
)
TOPIC = "dip.raw.instagram"
INGESTED_AT = "2026-11-26 15:00:00"
INGESTED = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
# fetched late on the 25th, appended to Kafka just after midnight: ingest_date follows Kafka (the 26th)
VALID = (
    b'{"source": "instagram", "entity": "media", "schema_version": 1, "account_id": "1784", "entity_id": "18001", '
    b'"fetched_at": "2026-11-25T23:59:58.5Z", "request_id": "req-1", "run_id": "run-1", '
    b'"payload": {"id": "18001", "caption": "\xd8\xb9\xd8\xa8\xd8\xa7\xd9\x8a\xd8\xa9"}}'
)
MISSING_FETCHED_AT = b'{"source": "tiktok", "entity": "video", "schema_version": 1, "entity_id": "v9", "payload": {}}'
KAFKA_TS = datetime(2026, 11, 26, 0, 0, 1, tzinfo=UTC)


def _parsed(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    return parse_kafka(kafka_frame(spark.createDataFrame(rows, KAFKA_DDL)), INGESTED_AT)


def _dlq_id(offset: int, error_type: str) -> str:
    """The documented recipe: sha256 of ``stage|topic|partition|offset|error_type``."""
    return hashlib.sha256(f"bronze|{TOPIC}|0|{offset}|{error_type}".encode()).hexdigest()


@pytest.fixture(scope="module")
def parsed(spark: SparkSession) -> DataFrame:
    return _parsed(
        spark,
        [
            (b"18001", VALID, TOPIC, 0, 5, KAFKA_TS),
            (None, b"{not json", TOPIC, 0, 6, KAFKA_TS),
            (b"v9", MISSING_FETCHED_AT, TOPIC, 0, 7, KAFKA_TS),
            (None, None, TOPIC, 0, 8, KAFKA_TS),
        ],
    )


def test_bronze_rows_keep_envelope_payload_and_kafka_coordinates(spark: SparkSession, parsed: DataFrame) -> None:
    expected = spark.createDataFrame(
        [
            (
                "instagram", "media", 1, "1784", "18001", datetime(2026, 11, 25, 23, 59, 58, 500000, tzinfo=UTC),
                "req-1", "run-1", '{"id":"18001","caption":"عباية"}', "18001", TOPIC, 0, 5, KAFKA_TS, INGESTED,
                date(2026, 11, 26),
            )
        ],
        BRONZE_DDL,
    )  # fmt: skip
    assertDataFrameEqual(bronze_rows(parsed), expected)


def test_bronze_dlq_rows_keep_original_bytes_and_reason(spark: SparkSession, parsed: DataFrame) -> None:
    expected = spark.createDataFrame(
        [
            (_dlq_id(6, "invalid_json"), "bronze", "invalid_json", "value is not valid JSON", None, None, None,
             TOPIC, 0, 6, KAFKA_TS, bytearray(b"{not json"), INGESTED),
            (_dlq_id(7, "invalid_envelope"), "bronze", "invalid_envelope",
             "missing or invalid envelope fields: fetched_at", "tiktok", "video", "v9",
             TOPIC, 0, 7, KAFKA_TS, bytearray(MISSING_FETCHED_AT), INGESTED),
            (_dlq_id(8, "empty_message"), "bronze", "empty_message", "Kafka message has no value", None, None, None,
             TOPIC, 0, 8, KAFKA_TS, None, INGESTED),
        ],
        DLQ_DDL,
    )  # fmt: skip
    assertDataFrameEqual(bronze_dlq_rows(parsed), expected)


def test_dlq_id_is_stable_for_a_replayed_message_and_differs_by_offset(spark: SparkSession) -> None:
    parsed = _parsed(
        spark,
        [
            (None, b"{not json", TOPIC, 0, 6, KAFKA_TS),
            (None, b"{not json", TOPIC, 0, 6, datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)),  # the same, replayed
            (None, b"{not json", TOPIC, 0, 9, KAFKA_TS),
        ],
    )
    ids = [r["dlq_id"] for r in bronze_dlq_rows(parsed).orderBy("offset", "kafka_timestamp").collect()]
    assert ids == [_dlq_id(6, "invalid_json"), _dlq_id(6, "invalid_json"), _dlq_id(9, "invalid_json")]
    assert ids[0] != ids[2]
