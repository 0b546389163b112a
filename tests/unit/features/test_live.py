"""Exact live rows (newest snapshot, per-hour change since the previous one) on hand-made silver snapshots."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.features.live import account_live, post_live
from dip.silver import normalize as N
from tests.unit.features.conftest import utc

POST_LIVE_DDL = (
    "entity_id STRING, _ts BIGINT, views BIGINT, likes BIGINT, comments BIGINT, shares BIGINT, saves BIGINT, "
    "reach BIGINT, engagement_ratio DOUBLE, views_per_hour DOUBLE, likes_per_hour DOUBLE, comments_per_hour DOUBLE, "
    "hours_since_publish DOUBLE, hours_since_previous DOUBLE"
)


def ms(*parts: int) -> int:
    return int(utc(*parts).timestamp() * 1000)


def test_post_live_rows(spark: SparkSession) -> None:
    metrics = [
        # q1: three snapshots, the middle one arriving last (order of rows is not time order)
        ("q1", "instagram", "a1", "r3", utc(2026, 11, 25, 12), 400, 40, 8, 2, 1, 390, 0.1275),
        ("q1", "instagram", "a1", "r1", utc(2026, 11, 25, 8), 100, 10, 2, 1, 0, 95, 0.13),
        ("q1", "instagram", "a1", "r2", utc(2026, 11, 25, 10, 30), 250, 25, 5, 1, 1, 240, 0.128),
        # q2: hidden likes in both snapshots: likes and likes_per_hour stay null
        ("q2", "tiktok", "a2", "r1", utc(2026, 11, 25, 9), 50, None, 1, 0, 0, None, 0.02),
        ("q2", "tiktok", "a2", "r2", utc(2026, 11, 25, 11), 60, None, 2, 0, 0, None, 1 / 30),
        # q3: one snapshot and no post row (publish time unknown)
        ("q3", "instagram", "a1", "r1", utc(2026, 11, 25, 11), 0, 0, 0, 0, 0, 0, None),
    ]
    posts = [
        ("q1", "instagram", "a1", "c", [], [], "IMAGE", None, utc(2026, 11, 25, 6), utc(2026, 11, 25, 6)),
        ("q2", "tiktok", "a2", "c", [], [], "VIDEO", None, utc(2026, 11, 24, 21), utc(2026, 11, 24, 21)),
    ]
    rows = post_live(spark.createDataFrame(metrics, N.POST_METRICS_DDL), spark.createDataFrame(posts, N.POSTS_DDL))
    expected = [
        # 150 views, 15 likes and 3 comments in the 1.5 h since 10:30; 6 h since publish
        ("q1", ms(2026, 11, 25, 12), 400, 40, 8, 2, 1, 390, 0.1275, 100.0, 10.0, 2.0, 6.0, 1.5),
        ("q2", ms(2026, 11, 25, 11), 60, None, 2, 0, 0, None, 1 / 30, 5.0, None, 0.5, 14.0, 2.0),
        ("q3", ms(2026, 11, 25, 11), 0, 0, 0, 0, 0, 0, None, None, None, None, None, None),
    ]
    assertDataFrameEqual(rows, spark.createDataFrame(expected, POST_LIVE_DDL))


def test_account_live_rows(spark: SparkSession) -> None:
    snapshots = [
        ("a1", "instagram", "r1", utc(2026, 11, 25, 8), 1000, 40),
        ("a1", "instagram", "r2", utc(2026, 11, 25, 12), 960, 41),
        ("a2", "tiktok", "r1", utc(2026, 11, 25, 9), None, 3),
    ]
    rows = account_live(spark.createDataFrame(snapshots, N.ACCOUNT_METRICS_DDL))
    expected = [
        ("a1", ms(2026, 11, 25, 12), 960, 41, -10.0, -40, 4.0),
        ("a2", ms(2026, 11, 25, 9), None, 3, None, None, None),
    ]
    ddl = (
        "entity_id STRING, _ts BIGINT, followers BIGINT, media_count BIGINT, followers_per_hour DOUBLE, "
        "follower_change BIGINT, hours_since_previous DOUBLE"
    )
    assertDataFrameEqual(rows, spark.createDataFrame(expected, ddl))
