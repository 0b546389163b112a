"""Exact post window features (daily and hourly) and caption text features on the hand-made silver fixture."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from dip.features.posts import post_features
from dip.features.text import text_features
from tests.unit.features.conftest import DAY, utc

SETTINGS = dict(lookback_days=2, vector_size=64, token_pattern=r"(?U)\w+", min_token_length=1, feature_set_version=3)
COLUMNS = (
    "post_id, window_start, window_end, snapshot_count, views_delta, likes_delta, comments_delta, shares_delta, "
    "saves_delta, engagement_ratio_last, engagement_ratio_mean, engagement_ratio_max, growth_velocity, "
    "hours_since_publish, hashtag_count, is_arabic, is_latin, feature_set_version, date, computed_at"
)
DDL = (
    "post_id STRING, window_start TIMESTAMP, window_end TIMESTAMP, snapshot_count INT, views_delta BIGINT, "
    "likes_delta BIGINT, comments_delta BIGINT, shares_delta BIGINT, saves_delta BIGINT, "
    "engagement_ratio_last DOUBLE, engagement_ratio_mean DOUBLE, engagement_ratio_max DOUBLE, "
    "growth_velocity DOUBLE, hours_since_publish DOUBLE, hashtag_count INT, is_arabic BOOLEAN, is_latin BOOLEAN, "
    "feature_set_version INT, date STRING, computed_at TIMESTAMP"
)
END = utc(2026, 11, 26)


def _select(df: DataFrame) -> DataFrame:
    return df.select(*[c.strip() for c in COLUMNS.split(",")])


def test_daily_post_features(spark: SparkSession, silver_post_metrics: DataFrame, silver_posts: DataFrame) -> None:
    daily = post_features(silver_post_metrics, silver_posts, DAY, window_hours=24, **SETTINGS)
    start = utc(2026, 11, 25)
    expected = [
        # p1: last in day r3 (09:00) minus r1 (23:00 the day before); r4 at midnight belongs to the next day
        ("p1", start, END, 2, 400, 35, 3, 2, 1, 0.11, 0.105, 0.11, 500 / 11, 26.0, 2, False, True, 3,
         "2026-11-25", END),
        # p2: published in the window, no earlier snapshot -> baseline 0; hidden likes/shares/saves stay null;
        # the zero-view snapshot has no ratio and is left out of mean/max
        ("p2", start, END, 2, 200, None, 10, None, None, 0.05, 0.05, 0.05, 200 / 13, 13.5, 1, True, False, 3,
         "2026-11-25", END),
        # p3: published before the window, its only earlier snapshot is outside the 2-day lookback -> unknown
        ("p3", start, END, 1, None, None, None, None, None, 0.05, 0.05, 0.05, 80 / 124, 136.0, 0, False, False, 3,
         "2026-11-25", END),
    ]  # fmt: skip
    assertDataFrameEqual(_select(daily), spark.createDataFrame(expected, DDL))


def test_hourly_post_features(spark: SparkSession, silver_post_metrics: DataFrame, silver_posts: DataFrame) -> None:
    hourly = post_features(silver_post_metrics, silver_posts, DAY, window_hours=1, **SETTINGS)
    d = "2026-11-25"
    expected = [
        ("p1", utc(2026, 11, 25, 0), utc(2026, 11, 25, 1), 1, 200, 10, 2, 1, 3, 0.1, 0.1, 0.1, 120.0, 3.0,
         2, False, True, 3, d, END),
        # saves went 4 -> 2 between snapshots: a negative delta is reported as is
        ("p1", utc(2026, 11, 25, 9), utc(2026, 11, 25, 10), 1, 200, 25, 1, 1, -2, 0.11, 0.11, 0.11, 500 / 11, 12.0,
         2, False, True, 3, d, END),
        # published 10:30, before this window: no baseline -> null deltas; 0 views in 0.5 h -> velocity 0
        ("p2", utc(2026, 11, 25, 11), utc(2026, 11, 25, 12), 1, None, None, None, None, None, None, None, None,
         0.0, 1.5, 1, True, False, 3, d, END),
        ("p2", utc(2026, 11, 25, 23), END, 1, 200, None, 10, None, None, 0.05, 0.05, 0.05, 200 / 13, 13.5,
         1, True, False, 3, d, END),
        ("p3", utc(2026, 11, 25, 12), utc(2026, 11, 25, 13), 1, None, None, None, None, None, 0.05, 0.05, 0.05,
         80 / 124, 125.0, 0, False, False, 3, d, END),
    ]  # fmt: skip
    assertDataFrameEqual(_select(hourly), spark.createDataFrame(expected, DDL))


def test_no_snapshot_no_row(spark: SparkSession, silver_post_metrics: DataFrame, silver_posts: DataFrame) -> None:
    """p6 has no snapshot on the day and p5 none at all: neither gets a window row; a later day is empty."""
    daily = post_features(silver_post_metrics, silver_posts, DAY, window_hours=24, **SETTINGS)
    assert sorted(r["post_id"] for r in daily.select("post_id").collect()) == ["p1", "p2", "p3"]
    later = post_features(silver_post_metrics, silver_posts, utc(2026, 12, 9).date(), window_hours=24, **SETTINGS)
    assert later.count() == 0


@pytest.mark.parametrize("size", [16, 64])
def test_caption_vector(spark: SparkSession, silver_posts: DataFrame, size: int) -> None:
    text = {r["post_id"]: r for r in text_features(silver_posts, size, r"(?U)\w+").collect()}
    for row in text.values():
        assert len(row["caption_vec"]) == size
    # "Black abaya #Abaya #modest" -> black, abaya, abaya, modest
    assert sum(text["p1"]["caption_vec"]) == 4.0 and max(text["p1"]["caption_vec"]) == 2.0
    # "عباية سوداء #عباية" -> عباية twice, سوداء once
    assert sum(text["p2"]["caption_vec"]) == 3.0 and max(text["p2"]["caption_vec"]) == 2.0
    # null caption -> zero vector
    assert text["p3"]["caption_vec"] == [0.0] * size
    # the same token lands on the same index: "abaya" in p1 and p6
    p1, p6 = text["p1"]["caption_vec"], text["p6"]["caption_vec"]
    assert p1.index(2.0) in [i for i, v in enumerate(p6) if v > 0]


def test_caption_vector_type(silver_posts: DataFrame) -> None:
    schema = text_features(silver_posts, 8, r"(?U)\w+").schema
    assert schema["caption_vec"].dataType.simpleString() == "array<float>"


def test_caption_edited_later_does_not_change_earlier_windows(
    spark: SparkSession, silver_post_metrics: DataFrame, silver_posts: DataFrame
) -> None:
    """p1 was "Black abaya #Abaya #modest" until 10:00 on the run day, then edited to an Arabic caption
    with three hashtags (silver posts holds only the edit). Each hourly window takes the caption of
    the newest snapshot before its end; the daily window the one in force at midnight. p2 and p3 have no
    snapshot: posts' caption is used, as for lakes written before caption snapshots existed."""
    old, new = "Black abaya #Abaya #modest", "عباية جديدة #new #عباية #eid"
    captions = spark.createDataFrame(
        [
            ("p1", "instagram", "a1", "r1", utc(2026, 11, 24, 23), old, ["abaya", "modest"]),
            ("p1", "instagram", "a1", "r3", utc(2026, 11, 25, 9), old, ["abaya", "modest"]),
            ("p1", "instagram", "a1", "rx", utc(2026, 11, 25, 10), new, ["new", "عباية", "eid"]),
        ],
        "post_id STRING, source STRING, account_id STRING, run_id STRING, captured_at TIMESTAMP, caption STRING, "
        "hashtags ARRAY<STRING>",
    )
    edited = silver_posts.withColumn("caption", F.when(F.col("post_id") == "p1", new).otherwise(F.col("caption")))
    edited = edited.withColumn(
        "hashtags",
        F.when(F.col("post_id") == "p1", F.array(*map(F.lit, ["new", "عباية", "eid"]))).otherwise(F.col("hashtags")),
    )
    text_cols = ["post_id", "window_start", "hashtag_count", "is_arabic", "is_latin"]
    hourly = post_features(silver_post_metrics, edited, DAY, window_hours=1, captions=captions, **SETTINGS)
    got = {(r[0], r[1].hour): tuple(r[2:]) for r in hourly.select(*text_cols).collect()}
    assert got == {
        ("p1", 0): (2, False, True),  # the snapshot of 23:00 the day before: the old caption
        ("p1", 9): (2, False, True),  # 09:00 snapshot, before the 10:00 edit
        ("p2", 11): (1, True, False),
        ("p2", 23): (1, True, False),
        ("p3", 12): (0, False, False),
    }
    daily = post_features(silver_post_metrics, edited, DAY, window_hours=24, captions=captions, **SETTINGS)
    p1 = daily.where("post_id = 'p1'").select("hashtag_count", "is_arabic", "caption_vec").first()
    assert (p1["hashtag_count"], p1["is_arabic"]) == (3, True)  # the edit at 10:00 is in force at midnight
    # without snapshots (posts' current caption only), the 00:00 window would show the later edit
    without = post_features(silver_post_metrics, edited, DAY, window_hours=1, **SETTINGS)
    leaked = {(r[0], r[1].hour): tuple(r[2:]) for r in without.select(*text_cols).collect()}
    assert leaked[("p1", 0)] == (3, True, True)  # the leak this fixes: the edit reaches back to midnight
