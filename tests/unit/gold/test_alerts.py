"""Seller alert rules on the gold fixture: percentile outliers of recent posts and a week-over-week follower drop."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.config.models import SellerAlertsConfig
from dip.gold.alerts import ALERTS_DDL, seller_alerts
from dip.gold.transforms import post_summary
from tests.unit.gold.conftest import DAY


def test_seller_alerts(
    spark: SparkSession,
    gold_post_metrics: DataFrame,
    gold_posts: DataFrame,
    gold_predictions: DataFrame,
    gold_account_metrics: DataFrame,
) -> None:
    summary = post_summary(gold_post_metrics, gold_posts, gold_predictions, DAY, baseline_days=28, variant="champion")
    rules = SellerAlertsConfig(min_posts=2, follower_drop_pct=5.0)
    got = seller_alerts(summary, gold_account_metrics, DAY, rules, baseline_days=28)
    expected = [
        # a1's ratios 0.03 and 0.05: p90 = 0.03 + 0.9 * 0.02 = 0.048, p10 = 0.032; both posts are within 48 h
        (DAY, "post_above_p90", "instagram", "a1", "p1", 0.05, 0.048,
         "post p1 engagement 5.00% is above the account's p90 (4.80%)"),
        (DAY, "post_below_p10", "instagram", "a1", "p2", 0.03, 0.032,
         "post p2 engagement 3.00% is below the account's p10 (3.20%)"),
        # b1 has one post (< min_posts); its followers 550 -> 500 in a week; a1 has no snapshot a week before
        (DAY, "follower_drop_wow", "tiktok", "b1", None, -100 / 11, -5.0,
         "followers 550 -> 500 (-9.1%) week over week"),
    ]  # fmt: skip
    assertDataFrameEqual(got, spark.createDataFrame(expected, ALERTS_DDL))


def test_a_drop_under_the_threshold_raises_nothing(
    spark: SparkSession, gold_account_metrics: DataFrame, gold_post_metrics: DataFrame, gold_posts: DataFrame
) -> None:
    summary = post_summary(
        gold_post_metrics, gold_posts, spark.createDataFrame([], "entity_id STRING, variant STRING, score DOUBLE, "
        "scored_at TIMESTAMP, request_id STRING"), DAY, baseline_days=28, variant="champion"
    )  # fmt: skip
    rules = SellerAlertsConfig(min_posts=3, follower_drop_pct=10.0)
    assert seller_alerts(summary, gold_account_metrics, DAY, rules, baseline_days=28).count() == 0


def test_percentile_rules_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match=re.escape("low_percentile (0.95) must be below high_percentile (0.9)")):
        SellerAlertsConfig(low_percentile=0.95)
