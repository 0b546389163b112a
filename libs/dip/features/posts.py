"""Per-post window features (hourly and daily) from silver post metric snapshots.

For a run day D (UTC), windows are ``[start, start + window_hours)`` aligned to UTC midnight and
inside D. A post has a row for a window when at least one snapshot was captured in it.

- ``snapshot_count``: snapshots captured in the window.
- ``<m>_delta`` for views, likes, comments, shares, saves: the metric of the last snapshot in the
  window minus the metric of the last snapshot before the window start (searched ``lookback_days``
  back). With no earlier snapshot the baseline is 0 when the post was published at or after the
  window start, else unknown (null). A null metric on either side gives null.
- ``engagement_ratio_last`` / ``_mean`` / ``_max``: silver's engagement_ratio of the last snapshot /
  mean and max over the window's snapshots with a known ratio (null ratios are skipped).
- ``growth_velocity``: views of the last snapshot / hours from publish to that snapshot (null when
  views or publish time are unknown or no time has passed).
- ``hours_since_publish``: hours from publish to the window end.
- text features of the caption as it was at the window end (:mod:`dip.features.text`): from the
  latest silver ``post_captions`` snapshot captured before the window end, so a caption edited
  later never changes an earlier window; posts' current caption only for a post with no snapshot
  by then (lakes written before caption snapshots existed).
"Last" means latest ``captured_at``, ties broken by the larger ``run_id``.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from dip.features.text import text_features
from dip.features.windows import day_start, epoch_s, hours_between, ts_lit, window_start

METRICS = ("views", "likes", "comments", "shares", "saves")
POST_KEYS = ("source", "post_id", "window_start")  # the first two: the post


def _last(*cols: str) -> Column:
    """The struct of ``cols`` from the latest snapshot of a group."""
    return F.max_by(F.struct(*[F.col(c) for c in cols]), F.struct("captured_at", "run_id"))


def post_window_metrics(metrics: DataFrame, day: date, window_hours: int, lookback_days: int) -> DataFrame:
    """Snapshot aggregates per (source, post_id, window_start) for the windows of ``day`` (no publish data)."""
    start = day_start(day)
    end = start + timedelta(days=1)
    scoped = metrics.where(
        (F.col("captured_at") >= ts_lit(start - timedelta(days=lookback_days))) & (F.col("captured_at") < ts_lit(end))
    )
    in_day = scoped.where(F.col("captured_at") >= ts_lit(start)).withColumn(
        "window_start", window_start(F.col("captured_at"), window_hours)
    )
    windows = in_day.groupBy(*POST_KEYS).agg(
        F.max_by("account_id", F.struct("captured_at", "run_id")).alias("account_id"),
        F.count(F.lit(1)).cast("int").alias("snapshot_count"),
        _last("captured_at", "engagement_ratio", *METRICS).alias("last"),
        F.avg("engagement_ratio").alias("engagement_ratio_mean"),
        F.max("engagement_ratio").alias("engagement_ratio_max"),
    )
    before = scoped.select(
        "source", "post_id", F.col("captured_at").alias("b_captured_at"), F.col("run_id").alias("b_run_id"), *METRICS
    )
    w = windows.select(*POST_KEYS)
    joined = w.join(before, ["source", "post_id"]).where(
        (F.col("b_captured_at") < F.col("window_start"))
        & (epoch_s(F.col("b_captured_at")) >= epoch_s(F.col("window_start")) - lookback_days * 86400)
    )
    baseline = joined.groupBy(*POST_KEYS).agg(
        F.max_by(F.struct(*METRICS), F.struct("b_captured_at", "b_run_id")).alias("base")
    )
    return windows.join(baseline, list(POST_KEYS), "left")


def captions_as_of(windows: DataFrame, captions: DataFrame, posts: DataFrame, window_hours: int) -> DataFrame:
    """Per window (``POST_KEYS``): ``caption`` and ``hashtags`` of the newest caption snapshot captured
    before the window end; the post's current caption (``posts``) when it has none by then."""
    w = windows.select(*POST_KEYS)
    w_end = F.timestamp_seconds(epoch_s(F.col("window_start")) + window_hours * 3600)
    snapshot = (
        w.join(
            captions.select("source", "post_id", "captured_at", "run_id", "caption", "hashtags"), ["source", "post_id"]
        )
        .where(F.col("captured_at") < w_end)
        .groupBy(*POST_KEYS)
        .agg(F.max_by(F.struct("caption", "hashtags"), F.struct("captured_at", "run_id")).alias("snap"))
    )
    current = posts.select("source", "post_id", F.col("caption").alias("c_caption"), F.col("hashtags").alias("c_tags"))
    found = F.col("snap").isNotNull()
    return (
        w.join(snapshot, list(POST_KEYS), "left")
        .join(current, ["source", "post_id"], "left")
        .select(
            *POST_KEYS,
            F.when(found, F.col("snap.caption")).otherwise(F.col("c_caption")).alias("caption"),
            F.when(found, F.col("snap.hashtags")).otherwise(F.col("c_tags")).alias("hashtags"),
        )
    )


def post_features(
    metrics: DataFrame,
    posts: DataFrame,
    day: date,
    *,
    captions: DataFrame | None = None,
    window_hours: int,
    lookback_days: int,
    vector_size: int,
    token_pattern: str,
    min_token_length: int,
    feature_set_version: int,
) -> DataFrame:
    """Post features of every ``window_hours`` window of ``day`` (24: daily, 1: hourly); see the module doc.

    ``captions``: silver caption snapshots (``post_captions``); None uses posts' current captions.
    """
    windows = post_window_metrics(metrics, day, window_hours, lookback_days)
    if captions is None:
        text = text_features(posts, vector_size, token_pattern, min_token_length)
        text_keys = ["source", "post_id"]
    else:
        as_of = captions_as_of(windows, captions, posts, window_hours)
        text = text_features(as_of, vector_size, token_pattern, min_token_length, keys=POST_KEYS)
        text_keys = list(POST_KEYS)
    published = posts.select("source", "post_id", "created_at")
    df = windows.join(published, ["source", "post_id"], "left").join(text, text_keys, "left")
    w_end = F.timestamp_seconds(epoch_s(F.col("window_start")) + window_hours * 3600)
    published_in_window = F.col("created_at") >= F.col("window_start")
    deltas = [
        (F.col(f"last.{m}") - F.coalesce(F.col(f"base.{m}"), F.when(published_in_window, F.lit(0)))).alias(f"{m}_delta")
        for m in METRICS
    ]
    elapsed = hours_between(F.col("last.captured_at"), F.col("created_at"))
    computed_at = ts_lit(day_start(day) + timedelta(days=1))
    return df.select(
        "source",
        "post_id",
        "account_id",
        F.lit(day.isoformat()).alias("date"),
        "window_start",
        w_end.alias("window_end"),
        "snapshot_count",
        *deltas,
        F.col("last.engagement_ratio").alias("engagement_ratio_last"),
        "engagement_ratio_mean",
        "engagement_ratio_max",
        F.when(elapsed > 0, F.col("last.views") / elapsed).alias("growth_velocity"),
        hours_between(w_end, F.col("created_at")).alias("hours_since_publish"),
        "hashtag_count",
        "is_arabic",
        "is_latin",
        "caption_vec",
        F.lit(feature_set_version).cast("int").alias("feature_set_version"),
        computed_at.alias("computed_at"),
    )
