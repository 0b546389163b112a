"""Seller alerts of one UTC day D from the gold post summary and silver account snapshots (pure transforms).

Rules (``gold.alerts``):
- ``post_above_p<high>`` / ``post_below_p<low>``: a post published in ``[end - post_window_hours, end)`` whose
  latest engagement ratio is above the account's ``high_percentile`` (below its ``low_percentile``) of the
  latest ratios of its posts published in the summary's baseline (at least ``min_posts`` known ratios).
- ``follower_drop_wow``: followers at the end of D (last snapshot before end) fell by at least
  ``follower_drop_pct`` % against the last snapshot before end - 7 days.
One row per (date, rule, source, account_id, post_id); ``value`` is the post's ratio or the percentage change,
``threshold`` what it crossed.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from dip.config.models import SellerAlertsConfig
from dip.features.windows import day_start, ts_lit

ALERTS_DDL = (
    "date DATE, rule STRING, source STRING, account_id STRING, post_id STRING, value DOUBLE, threshold DOUBLE, "
    "message STRING"
)
FOLLOWER_DROP = "follower_drop_wow"


def percentile_rule(share: float, above: bool) -> str:
    """``post_above_p90`` / ``post_below_p10``."""
    return f"post_{'above' if above else 'below'}_p{round(share * 100)}"


def post_alerts(summary: DataFrame, day: date, rules: SellerAlertsConfig, *, baseline_days: int) -> DataFrame:
    """Recent posts outside the account's engagement percentiles (``summary``: :func:`post_summary` of ``day``)."""
    end = day_start(day) + timedelta(days=1)
    known = summary.where(F.col("engagement_ratio").isNotNull())
    baseline = known.where(F.col("created_at") >= ts_lit(end - timedelta(days=baseline_days)))
    bounds = (
        baseline.groupBy("source", "account_id")
        .agg(
            F.count(F.lit(1)).alias("_n"),
            F.percentile("engagement_ratio", F.lit(rules.high_percentile)).alias("_high"),
            F.percentile("engagement_ratio", F.lit(rules.low_percentile)).alias("_low"),
        )
        .where(F.col("_n") >= rules.min_posts)
    )
    recent = known.where(F.col("created_at") >= ts_lit(end - timedelta(hours=rules.post_window_hours))).join(
        bounds, ["source", "account_id"]
    )
    parts = []
    for above, share, bound in ((True, rules.high_percentile, "_high"), (False, rules.low_percentile, "_low")):
        crossed = F.col("engagement_ratio") > F.col(bound) if above else F.col("engagement_ratio") < F.col(bound)
        word = "above" if above else "below"
        parts.append(
            recent.where(crossed).select(
                F.lit(day).alias("date"),
                F.lit(percentile_rule(share, above)).alias("rule"),
                "source",
                "account_id",
                "post_id",
                F.col("engagement_ratio").alias("value"),
                F.col(bound).alias("threshold"),
                F.format_string(
                    f"post %s engagement %.2f%% is {word} the account's p{round(share * 100)} (%.2f%%)",
                    "post_id",
                    F.col("engagement_ratio") * 100,
                    F.col(bound) * 100,
                ).alias("message"),
            )
        )
    return parts[0].unionByName(parts[1])


def follower_alerts(account_metrics: DataFrame, day: date, rules: SellerAlertsConfig) -> DataFrame:
    """Accounts whose followers fell week over week by at least ``follower_drop_pct`` %."""
    end = day_start(day) + timedelta(days=1)
    order = F.struct("captured_at", "run_id")

    def as_of(before: F.Column, name: str) -> DataFrame:
        return (
            account_metrics.where(F.col("captured_at") < before)
            .groupBy("source", "account_id")
            .agg(F.max_by("followers", order).alias(name))
        )

    now = as_of(ts_lit(end), "_now").join(as_of(ts_lit(end - timedelta(days=7)), "_then"), ["source", "account_id"])
    change = (F.col("_now") - F.col("_then")) * 100.0 / F.col("_then")
    return (
        now.where(F.col("_then") > 0)
        .withColumn("_pct", change)
        .where(F.col("_pct") <= -rules.follower_drop_pct)
        .select(
            F.lit(day).alias("date"),
            F.lit(FOLLOWER_DROP).alias("rule"),
            "source",
            "account_id",
            F.lit(None).cast("string").alias("post_id"),
            F.col("_pct").alias("value"),
            F.lit(-rules.follower_drop_pct).alias("threshold"),
            F.format_string("followers %d -> %d (%.1f%%) week over week", "_then", "_now", "_pct").alias("message"),
        )
    )


def seller_alerts(
    summary: DataFrame, account_metrics: DataFrame, day: date, rules: SellerAlertsConfig, *, baseline_days: int
) -> DataFrame:
    """Every rule's alerts of ``day``."""
    return post_alerts(summary, day, rules, baseline_days=baseline_days).unionByName(
        follower_alerts(account_metrics, day, rules)
    )
