"""Newest row per key, metrics combined across the records of one post and run, and the idempotent MERGE."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.silver import normalize as N
from dip.silver.merge import SPECS, latest_per_key, merge_into


def _ts(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, 0, 0, tzinfo=UTC)


def test_latest_per_key_newest_wins(spark: SparkSession) -> None:
    rows = [
        ("p1", "instagram", "acc-1", "old caption", [], [], "IMAGE", None, _ts(20), _ts(24)),
        ("p1", "instagram", "acc-1", "new caption", [], [], "IMAGE", None, _ts(20), _ts(26)),
        ("p1", "instagram", "acc-1", "middle caption", [], [], "IMAGE", None, _ts(20), _ts(25)),
        ("p1", "tiktok", "acc-9", "other platform", [], [], "VIDEO", None, _ts(20), _ts(21)),
    ]
    expected = [
        ("p1", "instagram", "acc-1", "new caption", [], [], "IMAGE", None, _ts(20), _ts(26)),
        ("p1", "tiktok", "acc-9", "other platform", [], [], "VIDEO", None, _ts(20), _ts(21)),
    ]
    latest = latest_per_key(spark.createDataFrame(rows, N.POSTS_DDL), SPECS["posts"])
    assertDataFrameEqual(latest, spark.createDataFrame(expected, N.POSTS_DDL))


def test_post_metrics_of_media_and_insights_combine_into_one_row(spark: SparkSession) -> None:
    rows = [
        # Instagram media list: likes and comments
        ("p1", "instagram", "acc-1", "run-1", _ts(26, 14), None, 5, 3, None, None, None, None),
        # media insights of the same post and run: views, shares, saves, reach
        ("p1", "instagram", "acc-1", "run-1", _ts(26, 15), 100, None, None, 1, 2, 80, 0.03),
        # another run of the same post stays its own row
        ("p1", "instagram", "acc-1", "run-2", _ts(27, 14), None, 9, 4, None, None, None, None),
    ]
    expected = [
        ("p1", "instagram", "acc-1", "run-1", _ts(26, 15), 100, 5, 3, 1, 2, 80, 0.11),
        ("p1", "instagram", "acc-1", "run-2", _ts(27, 14), None, 9, 4, None, None, None, None),
    ]
    combined = latest_per_key(spark.createDataFrame(rows, N.POST_METRICS_DDL), SPECS["post_metrics"])
    assertDataFrameEqual(combined, spark.createDataFrame(expected, N.POST_METRICS_DDL))


def test_merge_into_is_idempotent_and_newest_wins(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "posts")
    spec = SPECS["posts"]

    def post(post_id: str, caption: str, updated: datetime) -> tuple:
        return (post_id, "instagram", "acc-1", caption, [], [], "IMAGE", None, _ts(20), updated)

    def merge(*rows: tuple) -> dict[str, int]:
        result = merge_into(spark, spark.createDataFrame(list(rows), N.POSTS_DDL), path, spec)
        assert result.pop("source_rows") in (0, len({r[0] for r in rows}))  # one source row per key
        return result

    def table() -> list[tuple]:
        return sorted((r["post_id"], r["caption"]) for r in spark.read.format("delta").load(path).collect())

    first = [post("p1", "v1", _ts(25)), post("p2", "v1", _ts(25))]
    assert merge(*first) == {"inserted": 2, "updated": 0}
    assert merge(*first) == {"inserted": 0, "updated": 0}
    assert table() == [("p1", "v1"), ("p2", "v1")]
    # one batch: a newer p1 updates, an older p2 is ignored
    assert merge(post("p1", "v2", _ts(26)), post("p2", "stale", _ts(24))) == {"inserted": 0, "updated": 1}
    assert table() == [("p1", "v2"), ("p2", "v1")]
