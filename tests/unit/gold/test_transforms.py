"""Exact gold rows on the hand-made silver fixture (values worked out by hand in the comments)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.gold.transforms import account_daily, hashtag_daily, post_summary
from tests.unit.gold.conftest import ARABIC_CAPTION, DAY, utc

ACCOUNT_DDL = (
    "date DATE, source STRING, account_id STRING, followers BIGINT, follower_growth BIGINT, posts_published INT, "
    "views BIGINT, interactions BIGINT, engagement_mean DOUBLE, engagement_median DOUBLE, best_posting_hour INT"
)
HASHTAG_DDL = "date DATE, source STRING, hashtag STRING, posts INT, views BIGINT, reach BIGINT, engagement_mean DOUBLE"
POST_DDL = (
    "as_of DATE, source STRING, post_id STRING, account_id STRING, caption STRING, media_type STRING, "
    "created_at TIMESTAMP, publish_hour INT, captured_at TIMESTAMP, views BIGINT, likes BIGINT, comments BIGINT, "
    "shares BIGINT, saves BIGINT, reach BIGINT, engagement_ratio DOUBLE, account_median_engagement DOUBLE, "
    "engagement_vs_median DOUBLE, predicted_engagement DOUBLE"
)


def test_account_daily(
    spark: SparkSession, gold_account_metrics: DataFrame, gold_post_metrics: DataFrame, gold_posts: DataFrame
) -> None:
    got = account_daily(gold_account_metrics, gold_post_metrics, gold_posts, DAY, lookback_days=28, baseline_days=28)
    expected = [
        # followers 1030 (20:00) - 1000 (19 Nov); p2 published; views p1 400-100 + p2 200; interactions
        # p1 (14+2+2+2)-(5+1) + p2 4+2 (likes hidden: 0); ratios of the day p1 0.05, p2 0.03; best hour 09 (0.05)
        (DAY, "instagram", "a1", 1030, 30, 1, 500, 20, 0.04, 0.04, 9),
        # b1: 500 - 550 (13 Nov, within the 28-day look-back); p3's next-day snapshot is not counted
        (DAY, "tiktok", "b1", 500, -50, 1, 1000, 100, 0.1, 0.1, 15),
    ]
    assertDataFrameEqual(got, spark.createDataFrame(expected, ACCOUNT_DDL))


def test_hashtag_daily_keeps_arabic_hashtags(
    spark: SparkSession, gold_post_metrics: DataFrame, gold_posts: DataFrame
) -> None:
    expected = [
        (DAY, "instagram", "abaya", 1, 400, 250, 0.05),
        (DAY, "instagram", "عباية", 2, 600, 400, 0.04),  # p1 and p2
        (DAY, "tiktok", "abaya", 1, 1000, None, 0.1),  # TikTok has no reach
    ]
    got = hashtag_daily(gold_post_metrics, gold_posts, DAY)
    assertDataFrameEqual(got, spark.createDataFrame(expected, HASHTAG_DDL))
    assert {r["hashtag"].encode() for r in got.collect()} >= {"عباية".encode()}


def test_post_summary(
    spark: SparkSession, gold_post_metrics: DataFrame, gold_posts: DataFrame, gold_predictions: DataFrame
) -> None:
    got = post_summary(gold_post_metrics, gold_posts, gold_predictions, DAY, baseline_days=28, variant="champion")
    p1, p2, p3 = utc(2026, 11, 19, 9), utc(2026, 11, 20, 14), utc(2026, 11, 20, 15)
    expected = [
        # a1's median of p1 0.05 and p2 0.03 is 0.04; p1's champion score before the day's end is 0.045
        # (the challenger's 0.9 and the next day's 0.5 are not it)
        (DAY, "instagram", "p1", "a1", "Black abaya ✨ #abaya #عباية", "VIDEO", p1, 9, utc(2026, 11, 20, 8),
         400, 14, 2, 2, 2, 250, 0.05, 0.04, 1.25, 0.045),
        (DAY, "instagram", "p2", "a1", ARABIC_CAPTION, "IMAGE", p2, 14, utc(2026, 11, 20, 16),
         200, None, 4, 2, 0, 150, 0.03, 0.04, 0.75, None),
        (DAY, "tiktok", "p3", "b1", "Linen abaya #abaya", "VIDEO", p3, 15, utc(2026, 11, 20, 18),
         1000, 80, 10, 10, 0, None, 0.1, 0.1, 1.0, None),
    ]  # fmt: skip
    assertDataFrameEqual(got, spark.createDataFrame(expected, POST_DDL))
