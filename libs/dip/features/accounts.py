"""Per-account daily features from silver account metrics, post metrics and posts.

For run day D the window is ``[D 00:00, D+1 00:00)`` UTC ("end" = D+1 00:00). An account has a row
when at least one account snapshot was captured in the window.

- ``followers``: followers of the last account snapshot in the window.
- ``follower_growth``: that minus the followers of the last snapshot before the window start
  (searched ``lookback_days`` back); null without an earlier snapshot.
- ``posting_frequency``: posts published in ``[end - posting_frequency_days, end)``.
- ``engagement_mean_<n>d`` for each n in ``engagement_days``: mean over the account's posts of each
  post's latest known engagement_ratio, using only snapshots captured in ``[end - n days, end)``
  (posts whose latest ratio is null are skipped; null when none is known).
- ``best_posting_hour``: UTC hour of publish, over posts published in ``[end - best_hour_days, end)``
  with a known latest ratio, whose posts have the highest mean ratio (ties: the earlier hour).
- ``top_hashtags``: the ``top_n`` most frequent hashtags of posts published in
  ``[end - best_hour_days, end)``, most used first (ties: alphabetical), space-separated; null if none.
"Last"/"latest" means latest ``captured_at``, ties broken by the larger ``run_id``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from dip.features.windows import day_start, ts_lit, utc_hour

ACCOUNT_KEYS = ("source", "account_id")


def _order() -> Column:
    """Latest snapshot first: by captured_at, then run_id."""
    return F.struct("captured_at", "run_id")


def account_features(
    account_metrics: DataFrame,
    post_metrics: DataFrame,
    posts: DataFrame,
    day: date,
    *,
    lookback_days: int,
    posting_frequency_days: int,
    engagement_days: list[int],
    best_hour_days: int,
    top_n: int,
    feature_set_version: int,
) -> DataFrame:
    """Account features of ``day``; see the module docstring for the definitions."""
    start = day_start(day)
    end = start + timedelta(days=1)
    keys = list(ACCOUNT_KEYS)

    in_window = account_metrics.where((F.col("captured_at") >= ts_lit(start)) & (F.col("captured_at") < ts_lit(end)))
    current = in_window.groupBy(*keys).agg(F.max_by("followers", _order()).alias("followers"))
    before = account_metrics.where(
        (F.col("captured_at") < ts_lit(start)) & (F.col("captured_at") >= ts_lit(start - timedelta(days=lookback_days)))
    )
    baseline = before.groupBy(*keys).agg(F.max_by("followers", _order()).alias("_base_followers"))

    latest = latest_engagement(post_metrics, end, max([*engagement_days, best_hour_days]))
    published = posts.where(F.col("created_at") < ts_lit(end))
    frequency = (
        published.where(F.col("created_at") >= ts_lit(end - timedelta(days=posting_frequency_days)))
        .groupBy(*keys)
        .agg(F.count(F.lit(1)).cast("int").alias("posting_frequency"))
    )
    recent_posts = published.where(F.col("created_at") >= ts_lit(end - timedelta(days=best_hour_days)))
    parts = (
        baseline,
        frequency,
        _engagement_means(latest, end, engagement_days),
        best_posting_hour(recent_posts, latest),
        _top_hashtags(recent_posts, top_n),
    )
    df = current
    for part in parts:
        df = df.join(part, keys, "left")
    return df.select(
        *keys,
        F.lit(day.isoformat()).alias("date"),
        ts_lit(start).alias("window_start"),
        ts_lit(end).alias("window_end"),
        "followers",
        (F.col("followers") - F.col("_base_followers")).alias("follower_growth"),
        F.coalesce(F.col("posting_frequency"), F.lit(0)).alias("posting_frequency"),
        *[f"engagement_mean_{n}d" for n in engagement_days],
        "best_posting_hour",
        "top_hashtags",
        F.lit(feature_set_version).cast("int").alias("feature_set_version"),
        ts_lit(end).alias("computed_at"),
    )


def latest_engagement(post_metrics: DataFrame, end: datetime, days: int) -> DataFrame:
    """Per post: its account, latest ``captured_at`` and latest engagement ratio in ``[end - days, end)``."""
    recent_metrics = post_metrics.where(
        (F.col("captured_at") < ts_lit(end)) & (F.col("captured_at") >= ts_lit(end - timedelta(days=days)))
    )
    return recent_metrics.groupBy("source", "post_id").agg(
        F.max_by("account_id", _order()).alias("account_id"),
        F.max("captured_at").alias("captured_at"),
        F.max_by("engagement_ratio", _order()).alias("engagement_ratio"),
    )


def _engagement_means(latest: DataFrame, end: datetime, engagement_days: list[int]) -> DataFrame:
    """``engagement_mean_<n>d`` per account: the mean latest ratio of posts captured in the last n days."""
    return latest.groupBy(*ACCOUNT_KEYS).agg(
        *[
            F.avg(F.when(F.col("captured_at") >= ts_lit(end - timedelta(days=n)), F.col("engagement_ratio"))).alias(
                f"engagement_mean_{n}d"
            )
            for n in engagement_days
        ]
    )


def best_posting_hour(recent_posts: DataFrame, latest: DataFrame) -> DataFrame:
    """``best_posting_hour`` per account: the UTC publish hour with the highest mean ratio (ties: earlier)."""
    keys = list(ACCOUNT_KEYS)
    by_hour = (
        recent_posts.join(latest.select("source", "post_id", "engagement_ratio"), ["source", "post_id"])
        .where(F.col("engagement_ratio").isNotNull())
        .groupBy(*keys, utc_hour(F.col("created_at")).alias("hour"))
        .agg(F.avg("engagement_ratio").alias("_mean"))
    )
    rank = Window.partitionBy(*keys).orderBy(F.col("_mean").desc(), F.col("hour").asc())
    return (
        by_hour.withColumn("_rn", F.row_number().over(rank))
        .where("_rn = 1")
        .select(*keys, F.col("hour").alias("best_posting_hour"))
    )


def _top_hashtags(recent_posts: DataFrame, top_n: int) -> DataFrame:
    """``top_hashtags`` per account: the ``top_n`` most used, most used first (ties: alphabetical)."""
    keys = list(ACCOUNT_KEYS)
    tags = recent_posts.select(*keys, F.explode("hashtags").alias("tag")).groupBy(*keys, "tag").count()
    tag_rank = Window.partitionBy(*keys).orderBy(F.col("count").desc(), F.col("tag").asc())
    return (
        tags.withColumn("_rn", F.row_number().over(tag_rank))
        .where(F.col("_rn") <= top_n)
        .groupBy(*keys)
        .agg(F.array_sort(F.collect_list(F.struct("_rn", "tag"))).alias("_top"))
        .select(*keys, F.array_join(F.transform("_top", lambda s: s["tag"]), " ").alias("top_hashtags"))
    )
