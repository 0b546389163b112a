"""A hand-made silver fixture around run day 2026-11-25 (UTC): three posts of account a1 with snapshots on
both sides of midnight, hidden likes, a zero-view snapshot, an old post and a second account."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import DataFrame, SparkSession

from dip.silver import normalize as N

DAY = date(2026, 11, 25)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(scope="session")
def silver_posts(spark: SparkSession) -> DataFrame:
    rows = [
        ("p1", "instagram", "a1", "Black abaya #Abaya #modest", ["abaya", "modest"], [], "VIDEO", None,
         utc(2026, 11, 24, 22), utc(2026, 11, 26)),
        ("p2", "instagram", "a1", "عباية سوداء #عباية", ["عباية"], [], "VIDEO", None,
         utc(2026, 11, 25, 10, 30), utc(2026, 11, 26)),
        ("p3", "instagram", "a1", None, [], [], "IMAGE", None, utc(2026, 11, 20, 8), utc(2026, 11, 26)),
        ("p5", "instagram", "a1", "#old", ["old"], [], "IMAGE", None, utc(2026, 10, 1, 8), utc(2026, 11, 26)),
        ("p6", "instagram", "a1", "#abaya #عباية", ["abaya", "عباية"], [], "IMAGE", None,
         utc(2026, 11, 1, 8), utc(2026, 11, 26)),
    ]  # fmt: skip
    return spark.createDataFrame(rows, N.POSTS_DDL)


@pytest.fixture(scope="session")
def silver_post_metrics(spark: SparkSession) -> DataFrame:
    # post_id, source, account_id, run_id, captured_at, views, likes, comments, shares, saves, reach, engagement_ratio
    rows = [
        ("p1", "instagram", "a1", "r1", utc(2026, 11, 24, 23), 100, 10, 2, 1, 1, None, 0.14),
        ("p1", "instagram", "a1", "r2", utc(2026, 11, 25, 0, 30), 300, 20, 4, 2, 4, None, 0.1),
        ("p1", "instagram", "a1", "r3", utc(2026, 11, 25, 9), 500, 45, 5, 3, 2, None, 0.11),
        ("p1", "instagram", "a1", "r4", utc(2026, 11, 26, 0), 900, 90, 9, 9, 9, None, 0.13),  # next day
        ("p2", "instagram", "a1", "r5", utc(2026, 11, 25, 11), 0, 0, 0, 0, 0, None, None),  # zero views
        ("p2", "instagram", "a1", "r6", utc(2026, 11, 25, 23, 30), 200, None, 10, None, None, None, 0.05),
        ("p3", "instagram", "a1", "r0", utc(2026, 11, 22, 12), 50, 1, 0, 0, 0, None, 0.02),  # before lookback
        ("p3", "instagram", "a1", "r7", utc(2026, 11, 25, 12), 80, 4, 0, 0, 0, None, 0.05),
        ("p6", "instagram", "a1", "r8", utc(2026, 11, 10, 12), 10, 2, 0, 0, 0, None, 0.2),
    ]  # fmt: skip
    return spark.createDataFrame(rows, N.POST_METRICS_DDL)


@pytest.fixture(scope="session")
def silver_account_metrics(spark: SparkSession) -> DataFrame:
    rows = [
        ("a1", "instagram", "r1", utc(2026, 11, 24, 20), 1000, 4),
        ("a1", "instagram", "r2", utc(2026, 11, 25, 8), 1010, 4),
        ("a1", "instagram", "r3", utc(2026, 11, 25, 20), 1050, 5),
        ("a2", "instagram", "r3", utc(2026, 11, 25, 12), 10, 0),
    ]
    return spark.createDataFrame(rows, N.ACCOUNT_METRICS_DDL)
