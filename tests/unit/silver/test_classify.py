"""Classifying bronze rows before parsing: duplicates, late rows, unknown entities and schema versions."""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession

from dip.silver.parse import Registry
from dip.silver.process import classify

ROWS = (
    "_content_key STRING, source STRING, entity STRING, schema_version INT, fetched_at TIMESTAMP, topic STRING, "
    "partition INT, offset BIGINT"
)
SEEN = "_content_key STRING, fetched_at TIMESTAMP, batch_id BIGINT"
T = "dip.raw.instagram"


def _ts(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def _outcomes(df: DataFrame) -> dict[int, tuple[str | None, str | None, str | None]]:
    return {r["offset"]: (r["_outcome"], r["_reason"], r["_message"]) for r in df.collect()}


def test_without_seen_keys(spark: SparkSession, registry: Registry) -> None:
    rows = [
        ("k1", "instagram", "media", 1, _ts(26, 14), T, 0, 1),
        ("k1", "instagram", "media", 1, _ts(26, 14), T, 1, 0),  # same content, later partition: in-batch duplicate
        ("k2", "instagram", "media", 1, _ts(1, 0), T, 0, 2),  # very old, but no watermark without seen keys
        ("k3", "instagram", "stories", 1, _ts(26, 14), T, 0, 3),
        ("k4", "instagram", "media", 9, _ts(26, 14), T, 0, 4),
        ("k5", "tiktok", "video", 1, _ts(26, 14), "dip.raw.tiktok", 0, 5),
    ]
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), None, registry, 72))
    assert got == {
        1: (None, None, None),
        0: ("duplicate", "duplicate", None),
        2: (None, None, None),
        3: ("dlq", "unknown_entity", "no silver mapping for instagram/stories"),
        4: ("dlq", "unknown_schema_version", "schema version 9 of instagram/media is not in the schema registry"),
        5: (None, None, None),
    }


def test_with_seen_keys_and_watermark(spark: SparkSession, registry: Registry) -> None:
    seen = spark.createDataFrame([("seen-1", _ts(26, 12), 0), ("seen-2", _ts(20, 0), 0)], SEEN)
    # watermark: max(seen.fetched_at) 2026-11-26 12:00 - 72 h = 2026-11-23 12:00
    rows = [
        ("seen-1", "instagram", "media", 1, _ts(26, 13), T, 0, 1),  # already processed in an earlier batch
        ("seen-2", "instagram", "media", 1, _ts(20, 0), T, 0, 2),  # seen and late: duplicate wins
        ("k3", "instagram", "media", 1, _ts(23, 11, 59, 59), T, 0, 3),
        ("k4", "instagram", "media", 1, _ts(23, 12), T, 0, 4),  # exactly at the watermark: on time
        ("k5", "instagram", "stories", 1, _ts(22, 0), T, 0, 5),  # late wins over unknown entity
        ("k6", "instagram", "media", 1, _ts(27, 0), T, 0, 6),
        ("k6", "instagram", "media", 1, _ts(27, 0), T, 0, 7),
    ]
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), seen, registry, 72))
    assert got == {
        1: ("duplicate", "duplicate", None),
        2: ("duplicate", "duplicate", None),
        3: ("dlq", "late", "event time 2026-11-23 11:59:59 is before the watermark 2026-11-23 12:00:00"),
        4: (None, None, None),
        5: ("dlq", "late", "event time 2026-11-22 00:00:00 is before the watermark 2026-11-23 12:00:00"),
        6: (None, None, None),
        7: ("duplicate", "duplicate", None),
    }


def test_fractional_delay_hours(spark: SparkSession, registry: Registry) -> None:
    seen = spark.createDataFrame([("seen-1", _ts(26, 12), 0)], SEEN)
    rows = [
        ("k1", "instagram", "media", 1, _ts(26, 11, 29, 59), T, 0, 1),
        ("k2", "instagram", "media", 1, _ts(26, 11, 30), T, 0, 2),
    ]
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), seen, registry, 0.5))
    assert got == {
        1: ("dlq", "late", "event time 2026-11-26 11:29:59 is before the watermark 2026-11-26 11:30:00"),
        2: (None, None, None),
    }
