"""A hand-made silver fixture around day 2026-11-20 (UTC) for the gold tables: seller a1 on Instagram with an
English and an Arabic post (hidden likes on the Arabic one), seller b1 on TikTok whose followers fell in a week,
and champion/challenger scores around the day's end."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import DataFrame, SparkSession

from dip.silver import normalize as N

DAY = date(2026, 11, 20)
ARABIC_CAPTION = "عباية سوداء جديدة 🌙 #عباية"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def posts_frame(spark: SparkSession) -> DataFrame:
    rows = [
        ("p1", "instagram", "a1", "Black abaya ✨ #abaya #عباية", ["abaya", "عباية"], [], "VIDEO", None,
         utc(2026, 11, 19, 9), utc(2026, 11, 21)),
        ("p2", "instagram", "a1", ARABIC_CAPTION, ["عباية"], [], "IMAGE", None, utc(2026, 11, 20, 14),
         utc(2026, 11, 21)),
        ("p3", "tiktok", "b1", "Linen abaya #abaya", ["abaya"], [], "VIDEO", None, utc(2026, 11, 20, 15),
         utc(2026, 11, 21)),
    ]  # fmt: skip
    return spark.createDataFrame(rows, N.POSTS_DDL)


def post_metrics_frame(spark: SparkSession) -> DataFrame:
    # post_id, source, account_id, run_id, captured_at, views, likes, comments, shares, saves, reach, engagement_ratio
    rows = [
        ("p1", "instagram", "a1", "r1", utc(2026, 11, 19, 12), 100, 5, 1, 0, 0, 90, 0.06),
        ("p1", "instagram", "a1", "r2", utc(2026, 11, 20, 8), 400, 14, 2, 2, 2, 250, 0.05),
        ("p2", "instagram", "a1", "r3", utc(2026, 11, 20, 16), 200, None, 4, 2, 0, 150, 0.03),  # likes hidden
        ("p3", "tiktok", "b1", "r4", utc(2026, 11, 20, 18), 1000, 80, 10, 10, 0, None, 0.1),
        ("p3", "tiktok", "b1", "r5", utc(2026, 11, 21, 1), 5000, 400, 50, 50, 0, None, 0.1),  # the next day
    ]
    return spark.createDataFrame(rows, N.POST_METRICS_DDL)


def account_metrics_frame(spark: SparkSession) -> DataFrame:
    rows = [
        ("a1", "instagram", "r1", utc(2026, 11, 19, 12), 1000, 1),
        ("a1", "instagram", "r2", utc(2026, 11, 20, 8), 1010, 1),
        ("a1", "instagram", "r3", utc(2026, 11, 20, 20), 1030, 2),
        ("b1", "tiktok", "r0", utc(2026, 11, 13, 10), 550, 0),
        ("b1", "tiktok", "r4", utc(2026, 11, 20, 10), 500, 1),
    ]
    return spark.createDataFrame(rows, N.ACCOUNT_METRICS_DDL)


def predictions_frame(spark: SparkSession) -> DataFrame:
    rows = [
        ("q1", "dip", "p1", "post_features_daily", 1, "dip-engagement", "1", "champion", 0.045, utc(2026, 11, 20, 10)),
        ("q2", "dip", "p1", "post_features_daily", 1, "dip-engagement", "2", "challenger", 0.9, utc(2026, 11, 20, 11)),
        ("q3", "dip", "p1", "post_features_daily", 1, "dip-engagement", "1", "champion", 0.5, utc(2026, 11, 21, 1)),
    ]
    return spark.createDataFrame(rows, N.PREDICTIONS_DDL)


def silver_frames(spark: SparkSession) -> dict[str, DataFrame]:
    """The fixture by silver table name (``posts``, ``post_metrics``, ``account_metrics``, ``predictions``)."""
    return {
        "posts": posts_frame(spark),
        "post_metrics": post_metrics_frame(spark),
        "account_metrics": account_metrics_frame(spark),
        "predictions": predictions_frame(spark),
    }


@pytest.fixture(scope="session")
def gold_posts(spark: SparkSession) -> DataFrame:
    return posts_frame(spark)


@pytest.fixture(scope="session")
def gold_post_metrics(spark: SparkSession) -> DataFrame:
    return post_metrics_frame(spark)


@pytest.fixture(scope="session")
def gold_account_metrics(spark: SparkSession) -> DataFrame:
    return account_metrics_frame(spark)


@pytest.fixture(scope="session")
def gold_predictions(spark: SparkSession) -> DataFrame:
    return predictions_frame(spark)
