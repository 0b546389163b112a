"""Live features: each entity's newest silver snapshot and its change since the snapshot before it.

Pure ``DataFrame -> DataFrame`` transforms shared by the streaming live path (``stream_live``) and
tests. Input: snapshots of the changed entities (silver ``post_metrics`` / ``account_metrics`` rows,
including the ones before the newest). Output: one row per (source, entity) with ``entity_id``,
``_ts`` (the newest snapshot's ``captured_at`` in epoch ms) and the live features.

Rates are per hour between the newest snapshot and the previous one of the same entity:
``views_per_hour = (views - previous views) / hours between them``; null when there is no previous
snapshot, when either count is null (a hidden like count stays unknown) or when both have the same
``captured_at``. Snapshots are ordered by ``captured_at``, never by arrival, so a late older
snapshot is a "previous" one and never the newest.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

_POST_COPIED = ("views", "likes", "comments", "shares", "saves", "reach", "engagement_ratio")  # as in the snapshot
_POST_RATES = ("views", "likes", "comments")  # each also as <count>_per_hour
POST_LIVE_FEATURES = (
    *_POST_COPIED,
    *(f"{c}_per_hour" for c in _POST_RATES),
    "hours_since_publish",
    "hours_since_previous",
)
ACCOUNT_LIVE_FEATURES = ("followers", "media_count", "followers_per_hour", "follower_change", "hours_since_previous")
POST_KEYS = ("source", "post_id")
ACCOUNT_KEYS = ("source", "account_id")
_MS_PER_HOUR = 3_600_000.0


def hours_between(later: Column, earlier: Column) -> Column:
    """Hours from ``earlier`` to ``later`` (timestamps), exact to the millisecond."""
    return (F.unix_millis(later) - F.unix_millis(earlier)) / F.lit(_MS_PER_HOUR)


def newest_with_previous(snapshots: DataFrame, keys: Sequence[str], tracked: Sequence[str]) -> DataFrame:
    """Each key's newest snapshot by ``captured_at`` plus ``prev_<c>`` for ``tracked`` and ``prev_captured_at``
    of the snapshot just before it (null when it is the only one)."""
    newest_first = Window.partitionBy(*keys).orderBy(F.col("captured_at").desc())
    previous = [F.lead(c, 1).over(newest_first).alias(f"prev_{c}") for c in (*tracked, "captured_at")]
    return (
        snapshots.select("*", F.row_number().over(newest_first).alias("_rank"), *previous)
        .where("_rank = 1")
        .drop("_rank")
    )


def per_hour(column: str) -> Column:
    """Change of ``column`` per hour since the previous snapshot (see the module docstring for nulls)."""
    hours = hours_between(F.col("captured_at"), F.col("prev_captured_at"))
    return F.when(hours > 0, (F.col(column) - F.col(f"prev_{column}")) / hours)


def post_live(snapshots: DataFrame, posts: DataFrame) -> DataFrame:
    """Silver post_metrics snapshots (+ silver posts for ``created_at``) -> one live row per post."""
    newest = newest_with_previous(snapshots, POST_KEYS, _POST_RATES)
    published = posts.select(*POST_KEYS, "created_at")
    return newest.join(published, list(POST_KEYS), "left").select(
        F.col("post_id").alias("entity_id"),
        F.unix_millis("captured_at").alias("_ts"),
        *_POST_COPIED,
        *(per_hour(c).alias(f"{c}_per_hour") for c in _POST_RATES),
        hours_between(F.col("captured_at"), F.col("created_at")).alias("hours_since_publish"),
        hours_between(F.col("captured_at"), F.col("prev_captured_at")).alias("hours_since_previous"),
    )


def account_live(snapshots: DataFrame) -> DataFrame:
    """Silver account_metrics snapshots -> one live row per account."""
    newest = newest_with_previous(snapshots, ACCOUNT_KEYS, ("followers",))
    return newest.select(
        F.col("account_id").alias("entity_id"),
        F.unix_millis("captured_at").alias("_ts"),
        "followers",
        "media_count",
        per_hour("followers").alias("followers_per_hour"),
        (F.col("followers") - F.col("prev_followers")).alias("follower_change"),
        hours_between(F.col("captured_at"), F.col("prev_captured_at")).alias("hours_since_previous"),
    )
