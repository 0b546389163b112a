"""Classifying bronze rows before parsing: duplicates, future and late rows, unknown entities and versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession

from dip.silver.parse import Registry
from dip.silver.process import classify, cutoffs

ROWS = (
    "_content_key STRING, source STRING, entity STRING, schema_version INT, fetched_at TIMESTAMP, topic STRING, "
    "partition INT, offset BIGINT"
)
SEEN = "_seen_key STRING"
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
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), None, {}, None, registry))
    assert got == {
        1: (None, None, None),
        0: ("duplicate", "duplicate", None),
        2: (None, None, None),
        3: ("dlq", "unknown_entity", "no silver mapping for instagram/stories"),
        4: ("dlq", "unknown_schema_version", "schema version 9 of instagram/media is not in the schema registry"),
        5: (None, None, None),
    }


def test_with_seen_keys_and_watermark(spark: SparkSession, registry: Registry) -> None:
    seen = spark.createDataFrame([("seen-1",), ("seen-2",)], SEEN)
    # watermark: newest accepted instagram event 2026-11-26 12:00 - 72 h = 2026-11-23 12:00
    late = cutoffs({"instagram": _ts(26, 12)}, _ts(27, 12), 72, 15)
    rows = [
        ("seen-1", "instagram", "media", 1, _ts(26, 13), T, 0, 1),  # already processed in an earlier batch
        ("seen-2", "instagram", "media", 1, _ts(20, 0), T, 0, 2),  # seen and late: duplicate wins
        ("k3", "instagram", "media", 1, _ts(23, 11, 59, 59), T, 0, 3),
        ("k4", "instagram", "media", 1, _ts(23, 12), T, 0, 4),  # exactly at the watermark: on time
        ("k5", "instagram", "stories", 1, _ts(22, 0), T, 0, 5),  # late wins over unknown entity
        ("k6", "instagram", "media", 1, _ts(27, 0), T, 0, 6),
        ("k6", "instagram", "media", 1, _ts(27, 0), T, 0, 7),
    ]
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), seen, late, _ts(27, 12, 15), registry))
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
    late = cutoffs({"instagram": _ts(26, 12)}, _ts(26, 12), 0.5, 15)
    rows = [
        ("k1", "instagram", "media", 1, _ts(26, 11, 29, 59), T, 0, 1),
        ("k2", "instagram", "media", 1, _ts(26, 11, 30), T, 0, 2),
    ]
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), None, late, None, registry))
    assert got == {
        1: ("dlq", "late", "event time 2026-11-26 11:29:59 is before the watermark 2026-11-26 11:30:00"),
        2: (None, None, None),
    }


def test_lateness_is_per_source(spark: SparkSession, registry: Registry) -> None:
    """A busy source's watermark does not make a quiet source's rows late."""
    late = cutoffs({"instagram": _ts(26, 12), "tiktok": _ts(20, 12)}, _ts(26, 12), 72, 15)
    rows = [
        ("k1", "instagram", "media", 1, _ts(22, 0), T, 0, 1),
        ("k2", "tiktok", "video", 1, _ts(22, 0), "dip.raw.tiktok", 0, 2),
    ]
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), None, late, None, registry))
    assert got == {
        1: ("dlq", "late", "event time 2026-11-22 00:00:00 is before the watermark 2026-11-23 12:00:00"),
        2: (None, None, None),
    }


def test_future_rows_go_to_the_dlq_and_cannot_move_the_cutoff(spark: SparkSession, registry: Registry) -> None:
    """Issue 16: one record dated 2031 must not make every later normal record late."""
    now = _ts(26, 12)
    # even if a future event had been accepted earlier, the cutoff is capped at now + skew - delay
    late = cutoffs({"instagram": datetime(2031, 1, 1, tzinfo=UTC)}, now, 72, 15)
    assert late == {"instagram": now + timedelta(minutes=15) - timedelta(hours=72)}
    rows = [
        ("k1", "instagram", "media", 1, datetime(2031, 1, 1, tzinfo=UTC), T, 0, 1),
        ("k2", "instagram", "media", 1, _ts(26, 12, 15), T, 0, 2),  # exactly at now + skew: accepted
        ("k3", "instagram", "media", 1, _ts(26, 11), T, 0, 3),  # a normal snapshot right after it
    ]
    got = _outcomes(classify(spark.createDataFrame(rows, ROWS), None, late, now + timedelta(minutes=15), registry))
    assert got == {
        1: ("dlq", "future_event_time",
            "event time 2031-01-01 00:00:00 is after now + max clock skew 2026-11-26 12:15:00"),
        2: (None, None, None),
        3: (None, None, None),
    }  # fmt: skip
