"""stream_bronze on a real broker: exact bronze rows, DLQ rows with reasons, re-run writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual, assertSchemaEqual

from dip.config import Config
from dip.connectors.kafka_messages import dlq_message
from dip.connectors.publisher import KafkaPublisher
from dip.streaming.bronze_job import run_stream_bronze
from dip.streaming.dlq import DLQ_DDL
from dip.streaming.dlq_replay import dlq_rows
from dip.tables import BRONZE_EVENTS, DLQ
from tests.integration.helpers import envelope, isolated_config, produce

pytestmark = pytest.mark.integration


@pytest.fixture()
def config(stack: Config, tmp_path: Path) -> Config:
    return isolated_config(stack, tmp_path)


def test_bronze_keeps_envelope_and_coordinates_and_dead_letters_poison(spark: SparkSession, config: Config) -> None:
    topic = f"{config.kafka.topics.raw_prefix}instagram"
    good_payload = {"id": "17900001", "caption": "عباية سوداء ✨ #abaya", "timestamp": "2026-11-20T10:00:00+0000"}
    messages = [
        (
            b"instagram:media:17900001",
            envelope("instagram", "media", "17900001", good_payload, fetched_at="2026-11-26T10:00:00.123456Z"),
        ),
        (b"bad1", b"{not json"),
        (b"bad2", b'{"source": "instagram", "entity": "media"}'),
        (b"bad3", None),
        (
            b"instagram:account:acc1",
            envelope(
                "instagram", "account", "acc1", {"id": "acc1", "followers_count": 7}, fetched_at="2026-11-26T10:00:01Z"
            ),
        ),
    ]
    produce(config, topic, messages)

    summary = run_stream_bronze(spark, config, trigger="available-now")
    assert (summary.total("kafka"), summary.total("bronze"), summary.total("dlq")) == (5, 2, 3)

    bronze = spark.read.format("delta").load(BRONZE_EVENTS.path(config))
    got = bronze.select(
        "source",
        "entity",
        "schema_version",
        "account_id",
        "entity_id",
        "fetched_at",
        "request_id",
        "run_id",
        "payload",
        "kafka_key",
        "topic",
        "partition",
        "offset",
    )
    expected = spark.createDataFrame(
        [
            (
                "instagram",
                "media",
                1,
                "acc1",
                "17900001",
                dt.datetime(2026, 11, 26, 10, 0, 0, 123456),
                "req-17900001",
                "run-1",
                '{"id":"17900001","caption":"عباية سوداء ✨ #abaya","timestamp":"2026-11-20T10:00:00+0000"}',
                "instagram:media:17900001",
                topic,
                0,
                0,
            ),
            (
                "instagram",
                "account",
                1,
                "acc1",
                "acc1",
                dt.datetime(2026, 11, 26, 10, 0, 1),
                "req-acc1",
                "run-1",
                '{"id":"acc1","followers_count":7}',
                "instagram:account:acc1",
                topic,
                0,
                4,
            ),
        ],
        "source STRING, entity STRING, schema_version INT, account_id STRING, entity_id STRING, fetched_at TIMESTAMP, "
        "request_id STRING, run_id STRING, payload STRING, kafka_key STRING, topic STRING, partition INT, "
        "offset BIGINT",
    )
    assertDataFrameEqual(got, expected)
    assert bronze.where(F.col("ingest_date").isNull() | F.col("ingested_at").isNull()).count() == 0

    dlq = spark.read.format("delta").load(DLQ.path(config))
    got_dlq = dlq.select("stage", "error_type", "error_message", "offset", F.col("original").cast("string").alias("o"))
    expected_dlq = spark.createDataFrame(
        [
            ("bronze", "invalid_json", "value is not valid JSON", 1, "{not json"),
            (
                "bronze",
                "invalid_envelope",
                "missing or invalid envelope fields: schema_version, entity_id, fetched_at, payload",
                2,
                '{"source": "instagram", "entity": "media"}',
            ),
            ("bronze", "empty_message", "Kafka message has no value", 3, None),
        ],
        "stage STRING, error_type STRING, error_message STRING, offset BIGINT, o STRING",
    )
    assertDataFrameEqual(got_dlq, expected_dlq)

    # The DLQ topic carries the same rows with the reason in headers.
    dlq_topic = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", config.kafka.bootstrap_servers)
        .option("subscribe", config.kafka.topics.dlq)
        .option("includeHeaders", "true")
        .load()
    )
    assert dlq_topic.count() == 3
    header_types = sorted(
        dict((h["key"], bytes(h["value"]).decode()) for h in r["headers"])["error_type"] for r in dlq_topic.collect()
    )
    assert header_types == ["empty_message", "invalid_envelope", "invalid_json"]

    # `dip dlq list` shows ingest's dead letters (published to the DLQ topic only) beside the table's, one schema.
    KafkaPublisher(config).publish(
        [
            dlq_message(
                config.kafka.topics.dlq,
                source="instagram",
                entity="media",
                error_type="schema_violation",
                error_message="'id' is a required property",
                original='{"caption":"x"}',
                key="instagram:media:17900009",
                run_id="run-2",
                request_id="req-9",
            )
        ]
    )
    listed = dlq_rows(spark, config)
    assertSchemaEqual(listed.schema, spark.createDataFrame([], DLQ_DDL).schema)
    expected_listed = spark.createDataFrame(
        [
            ("bronze", "invalid_json", None, None, None, topic, "{not json"),
            ("bronze", "invalid_envelope", "instagram", "media", None, topic,
             '{"source": "instagram", "entity": "media"}'),
            ("bronze", "empty_message", None, None, None, topic, None),
            ("ingest", "schema_violation", "instagram", "media", "17900009", config.kafka.topics.dlq,
             '{"caption":"x"}'),
        ],
        "stage STRING, error_type STRING, source STRING, entity STRING, entity_id STRING, topic STRING, o STRING",
    )  # fmt: skip
    assertDataFrameEqual(
        listed.select(
            "stage", "error_type", "source", "entity", "entity_id", "topic", F.col("original").cast("string").alias("o")
        ),
        expected_listed,
    )
    assert dlq_rows(spark, config, stage="ingest").count() == 1
    assert dlq_rows(spark, config, stage="bronze").count() == 3

    # A second available-now run finds no new offsets and changes nothing.
    versions_before = spark.sql(f"DESCRIBE HISTORY delta.`{BRONZE_EVENTS.path(config)}`").count()
    again = run_stream_bronze(spark, config, trigger="available-now")
    assert again.total("kafka") == 0
    assert spark.sql(f"DESCRIBE HISTORY delta.`{BRONZE_EVENTS.path(config)}`").count() == versions_before


def test_replayed_batch_is_not_appended_twice(spark: SparkSession, config: Config) -> None:
    """The same micro-batch id written twice (as after a crash before the checkpoint commit) lands once."""
    from dip.streaming.bronze_job import process_bronze_batch

    topic = f"{config.kafka.topics.raw_prefix}tiktok"
    produce(
        config,
        topic,
        [
            (
                b"k",
                envelope(
                    "tiktok",
                    "video",
                    "7300000000000000001",
                    {"id": "7300000000000000001"},
                    fetched_at="2026-11-26T10:00:00Z",
                ),
            )
        ],
    )
    batch = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", config.kafka.bootstrap_servers)
        .option("subscribe", topic)
        .load()
    )
    assert process_bronze_batch(batch, 0, config) == {
        "kafka": 1,
        "bronze": 1,
        "dlq": 0,
        "_newest_event_epoch_s": 1795687200.0,  # 2026-11-26T10:00:00Z, for the event-time lag gauge
    }
    process_bronze_batch(batch, 0, config)
    assert spark.read.format("delta").load(BRONZE_EVENTS.path(config)).count() == 1
