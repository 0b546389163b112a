"""Exact account daily features on the hand-made silver fixture."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.features.accounts import account_features
from tests.unit.features.conftest import DAY, utc

DDL = (
    "source STRING, account_id STRING, date STRING, window_start TIMESTAMP, window_end TIMESTAMP, followers BIGINT, "
    "follower_growth BIGINT, posting_frequency INT, engagement_mean_7d DOUBLE, engagement_mean_28d DOUBLE, "
    "best_posting_hour INT, top_hashtags STRING, feature_set_version INT, computed_at TIMESTAMP"
)


def test_account_features(
    spark: SparkSession,
    silver_account_metrics: DataFrame,
    silver_post_metrics: DataFrame,
    silver_posts: DataFrame,
) -> None:
    features = account_features(
        silver_account_metrics,
        silver_post_metrics,
        silver_posts,
        DAY,
        lookback_days=2,
        posting_frequency_days=7,
        engagement_days=[7, 28],
        best_hour_days=28,
        top_n=3,
        feature_set_version=3,
    )
    start, end = utc(2026, 11, 25), utc(2026, 11, 26)
    expected = [
        # followers: last snapshot of the day (20:00) 1050, minus 1000 of 24 Nov 20:00.
        # posting_frequency: p1, p2, p3 were published in the 7 days before the end (p6, p5 earlier).
        # engagement 7d: latest ratios p1 0.11 (r3; r4 is at the end, excluded), p2 0.05, p3 0.05 -> 0.07;
        # 28d adds p6 0.2 -> 0.41 / 4. Best hour: 08 (p3 0.05, p6 0.2 -> 0.125) beats 22 (0.11) and 10 (0.05).
        # Hashtags of posts of the last 28 days: abaya 2, عباية 2, modest 1 (p5's "old" is older).
        ("instagram", "a1", "2026-11-25", start, end, 1050, 50, 3, 0.07, 0.1025, 8, "abaya عباية modest", 3, end),
        # a2: no earlier snapshot, no posts
        ("instagram", "a2", "2026-11-25", start, end, 10, None, 0, None, None, None, None, 3, end),
    ]
    assertDataFrameEqual(features, spark.createDataFrame(expected, DDL))
