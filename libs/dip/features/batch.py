"""batch_features: silver -> feature tables for one day or a range of days, resumable and idempotent."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.features.accounts import account_features
from dip.features.completed_days import DayResult, completed_days, record_day
from dip.features.posts import post_features
from dip.features.specs import ACCOUNT_DAILY, POST_DAILY, POST_HOURLY, feature_table
from dip.features.store import FeatureStore, feature_store
from dip.features.windows import day_start, ts_lit
from dip.io.table_access import read_if_exists
from dip.silver import normalize as N
from dip.tables import SILVER_ACCOUNT_METRICS, SILVER_POST_CAPTIONS, SILVER_POST_METRICS, SILVER_POSTS, Table


@dataclass
class FeatureRunSummary:
    """Per-day results of a run and totals for the summary table."""

    days: list[DayResult] = field(default_factory=list)
    seconds: float = 0.0

    def rows(self, table: str) -> int:
        return sum(d.rows.get(table, 0) for d in self.days)

    @property
    def total_rows(self) -> int:
        return sum(sum(d.rows.values()) for d in self.days)


def days_between(start: date, end: date) -> Iterator[date]:
    """``start`` .. ``end`` inclusive; an error when the range is reversed."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def read_silver(spark: SparkSession, config: Config, table: Table, ddl: str) -> DataFrame:
    """A silver table, or an empty frame of its schema when it has not been written yet."""
    df = read_if_exists(spark, config, table)
    return spark.createDataFrame([], ddl) if df is None else df


def _scan_days(config: Config) -> int:
    f = config.features
    return max(f.lookback_days, f.posting_frequency_days, f.best_hour_days, *f.engagement_days)


def compute_day(spark: SparkSession, config: Config, day: date) -> dict[str, DataFrame]:
    """The feature frames of ``day`` from silver (only the days the definitions look back at are read)."""
    f = config.features
    start = day_start(day)
    since, until = ts_lit(start - timedelta(days=_scan_days(config))), ts_lit(start + timedelta(days=1))
    recent = (F.col("captured_at") >= since) & (F.col("captured_at") < until)
    post_metrics = read_silver(spark, config, SILVER_POST_METRICS, N.POST_METRICS_DDL).where(recent)
    account_metrics = read_silver(spark, config, SILVER_ACCOUNT_METRICS, N.ACCOUNT_METRICS_DDL).where(recent)
    posts = read_silver(spark, config, SILVER_POSTS, N.POSTS_DDL)
    captions = read_silver(spark, config, SILVER_POST_CAPTIONS, N.POST_CAPTIONS_DDL).where(recent)
    text = dict(vector_size=f.text.vector_size, token_pattern=f.text.token_pattern)
    common = dict(lookback_days=f.lookback_days, min_token_length=f.text.min_token_length, captions=captions, **text)
    frames = {
        POST_DAILY.name: post_features(
            post_metrics, posts, day, window_hours=24, feature_set_version=f.feature_set_version, **common
        )
    }
    if f.hourly:
        frames[POST_HOURLY.name] = post_features(
            post_metrics, posts, day, window_hours=1, feature_set_version=f.feature_set_version, **common
        )
    frames[ACCOUNT_DAILY.name] = account_features(
        account_metrics,
        post_metrics,
        posts,
        day,
        lookback_days=f.lookback_days,
        posting_frequency_days=f.posting_frequency_days,
        engagement_days=f.engagement_days,
        best_hour_days=f.best_hour_days,
        top_n=f.top_hashtags,
        feature_set_version=f.feature_set_version,
    )
    return frames


def run_day(spark: SparkSession, config: Config, day: date, store: FeatureStore) -> DayResult:
    """Compute and upsert every feature table of ``day``, then record it as completed."""
    started = time.monotonic()
    frames = compute_day(spark, config, day)
    rows = {name: store.upsert(df, feature_table(name), day.isoformat()) for name, df in frames.items()}
    result = DayResult(day, rows, time.monotonic() - started)
    record_day(spark, config, result)
    return result


def run_features(
    spark: SparkSession,
    config: Config,
    start: date,
    end: date,
    *,
    force: bool = False,
    on_day: Callable[[DayResult], None] = lambda _d: None,
) -> FeatureRunSummary:
    """Compute ``start`` .. ``end`` day by day; days completed before (same feature_set_version and
    format) are skipped unless ``force``, so an interrupted backfill resumes where it stopped."""
    started = time.monotonic()
    store = feature_store(spark, config)
    done = set() if force else completed_days(spark, config)
    summary = FeatureRunSummary()
    for day in days_between(start, end):
        result = DayResult(day, {}, 0.0, skipped=True) if day in done else run_day(spark, config, day, store)
        summary.days.append(result)
        on_day(result)
    summary.seconds = time.monotonic() - started
    return summary
