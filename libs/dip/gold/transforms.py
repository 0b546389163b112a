"""Gold tables from silver: pure DataFrame -> DataFrame transforms for one UTC day D ("end" = D+1 00:00).

- ``account_daily`` (one row per account with an account snapshot captured in D):
  ``followers`` (last snapshot in D), ``follower_growth`` (minus the last snapshot before D, searched
  ``lookback_days`` back; null without one), ``posts_published`` (posts created in D), ``views`` and
  ``interactions`` gained in D over the account's posts (each post's latest value before end minus its
  latest before D, 0 without one; interactions = likes + comments + shares + saves, hidden likes count 0),
  ``engagement_mean`` / ``engagement_median`` (latest ratio of the posts captured in D; nulls skipped),
  ``best_posting_hour`` (UTC publish hour with the best mean ratio over the last ``baseline_days``).
- ``hashtag_daily`` (one row per (source, hashtag) of posts captured in D, hashtags exactly as in silver):
  ``posts``, ``views`` and ``reach`` (sums of each post's latest value), ``engagement_mean``.
- ``post_summary`` (one row per post published before end with a snapshot): latest metrics, the account's
  median latest ratio over posts published in the last ``baseline_days`` and the post's ratio to it, and the
  latest ``prediction_variant`` score logged for the post (null where it was never scored).
"Latest" means latest ``captured_at``, ties broken by the larger ``run_id``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from dip.features.accounts import best_posting_hour, latest_engagement
from dip.features.windows import day_start, ts_lit, utc_hour

ACCOUNT_KEYS = ["source", "account_id"]
POST_KEYS = ["source", "post_id"]
METRICS = ("views", "likes", "comments", "shares", "saves", "reach")
INTERACTIONS = ("likes", "comments", "shares", "saves")


def _order() -> Column:
    return F.struct("captured_at", "run_id")


def _window(day: date) -> tuple[datetime, datetime]:
    start = day_start(day)
    return start, start + timedelta(days=1)


def latest_post_metrics(post_metrics: DataFrame, before: datetime) -> DataFrame:
    """Per post: account, ``captured_at`` and every metric of its latest snapshot captured before ``before``."""
    cols = ("account_id", "captured_at", "engagement_ratio", *METRICS)
    latest = (
        post_metrics.where(F.col("captured_at") < ts_lit(before))
        .groupBy(*POST_KEYS)
        .agg(F.max_by(F.struct(*cols), _order()).alias("_l"))
    )
    return latest.select(*POST_KEYS, *[F.col(f"_l.{c}").alias(c) for c in cols])


def _interactions(prefix: str = "") -> Column:
    return sum((F.coalesce(F.col(prefix + m), F.lit(0)) for m in INTERACTIONS), F.lit(0))


def account_daily(
    account_metrics: DataFrame,
    post_metrics: DataFrame,
    posts: DataFrame,
    day: date,
    *,
    lookback_days: int,
    baseline_days: int,
) -> DataFrame:
    """The ``account_daily`` rows of ``day``; see the module docstring for the definitions."""
    start, end = _window(day)
    in_day = account_metrics.where((F.col("captured_at") >= ts_lit(start)) & (F.col("captured_at") < ts_lit(end)))
    current = in_day.groupBy(*ACCOUNT_KEYS).agg(F.max_by("followers", _order()).alias("followers"))
    baseline = (
        account_metrics.where(
            (F.col("captured_at") < ts_lit(start))
            & (F.col("captured_at") >= ts_lit(start - timedelta(days=lookback_days)))
        )
        .groupBy(*ACCOUNT_KEYS)
        .agg(F.max_by("followers", _order()).alias("_base"))
    )
    published = (
        posts.where((F.col("created_at") >= ts_lit(start)) & (F.col("created_at") < ts_lit(end)))
        .groupBy(*ACCOUNT_KEYS)
        .agg(F.count(F.lit(1)).cast("int").alias("posts_published"))
    )
    now = latest_post_metrics(post_metrics, end)
    then = latest_post_metrics(post_metrics, start).select(
        *POST_KEYS, F.col("views").alias("b_views"), _interactions().alias("b_interactions")
    )
    gained = (
        now.join(then, POST_KEYS, "left")
        .groupBy(*ACCOUNT_KEYS)
        .agg(
            F.sum(F.coalesce("views", F.lit(0)) - F.coalesce("b_views", F.lit(0))).alias("views"),
            F.sum(_interactions() - F.coalesce("b_interactions", F.lit(0))).alias("interactions"),
        )
    )
    active = now.where(F.col("captured_at") >= ts_lit(start))
    engagement = active.groupBy(*ACCOUNT_KEYS).agg(
        F.avg("engagement_ratio").alias("engagement_mean"),
        F.median("engagement_ratio").alias("engagement_median"),
    )
    recent = posts.where(
        (F.col("created_at") < ts_lit(end)) & (F.col("created_at") >= ts_lit(end - timedelta(days=baseline_days)))
    )
    best = best_posting_hour(recent, latest_engagement(post_metrics, end, baseline_days))
    df = current
    for part in (baseline, published, gained, engagement, best):
        df = df.join(part, ACCOUNT_KEYS, "left")
    return df.select(
        F.lit(day).alias("date"),
        *ACCOUNT_KEYS,
        "followers",
        (F.col("followers") - F.col("_base")).alias("follower_growth"),
        F.coalesce("posts_published", F.lit(0)).alias("posts_published"),
        F.coalesce("views", F.lit(0)).cast("bigint").alias("views"),
        F.coalesce("interactions", F.lit(0)).cast("bigint").alias("interactions"),
        "engagement_mean",
        "engagement_median",
        "best_posting_hour",
    )


def hashtag_daily(post_metrics: DataFrame, posts: DataFrame, day: date) -> DataFrame:
    """The ``hashtag_daily`` rows of ``day``: posts captured in the day, by each of their hashtags."""
    start, end = _window(day)
    active = latest_post_metrics(post_metrics, end).where(F.col("captured_at") >= ts_lit(start))
    tagged = active.join(posts.select(*POST_KEYS, F.explode("hashtags").alias("hashtag")), POST_KEYS)
    return (
        tagged.groupBy("source", "hashtag")
        .agg(
            F.count_distinct("post_id").cast("int").alias("posts"),
            F.sum("views").alias("views"),
            F.sum("reach").alias("reach"),
            F.avg("engagement_ratio").alias("engagement_mean"),
        )
        .select(F.lit(day).alias("date"), "source", "hashtag", "posts", "views", "reach", "engagement_mean")
    )


def post_summary(
    post_metrics: DataFrame, posts: DataFrame, predictions: DataFrame, day: date, *, baseline_days: int, variant: str
) -> DataFrame:
    """Every post's summary as of the end of ``day``; see the module docstring."""
    _, end = _window(day)
    latest = latest_post_metrics(post_metrics, end)
    info = posts.where(F.col("created_at") < ts_lit(end)).select(*POST_KEYS, "caption", "media_type", "created_at")
    df = latest.join(info, POST_KEYS)
    in_baseline = F.col("created_at") >= ts_lit(end - timedelta(days=baseline_days))
    median = df.where(in_baseline).groupBy(*ACCOUNT_KEYS).agg(F.median("engagement_ratio").alias("account_median"))
    scores = (
        predictions.where((F.col("variant") == variant) & (F.col("scored_at") < ts_lit(end)))
        .groupBy(F.col("entity_id").alias("post_id"))
        .agg(F.max_by("score", F.struct("scored_at", "request_id")).alias("predicted_engagement"))
    )
    return (
        df.join(median, ACCOUNT_KEYS, "left")
        .join(scores, "post_id", "left")
        .select(
            F.lit(day).alias("as_of"),
            *POST_KEYS,
            "account_id",
            "caption",
            "media_type",
            "created_at",
            utc_hour(F.col("created_at")).alias("publish_hour"),
            "captured_at",
            *METRICS,
            "engagement_ratio",
            F.col("account_median").alias("account_median_engagement"),
            F.when(F.col("account_median") > 0, F.col("engagement_ratio") / F.col("account_median")).alias(
                "engagement_vs_median"
            ),
            "predicted_engagement",
        )
    )
