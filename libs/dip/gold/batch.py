"""gold: silver -> gold tables and seller alerts for a range of days, idempotent.

Each daily table (``gold_account_daily``, ``gold_hashtag_daily``, ``gold_seller_alerts``) has the run's days
replaced (Delta ``replaceWhere`` on the date range), so re-running days gives the same table; ``gold_post_summary``
is rewritten as of the range's last day. Every frame is checked against its suite before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.features.batch import days_between, read_silver
from dip.gold.alerts import ALERTS_DDL, FOLLOWER_DROP, percentile_rule, seller_alerts
from dip.gold.transforms import account_daily, hashtag_daily, post_summary
from dip.job_runner import JobRun
from dip.observability.alerts import SellerAlertMetrics
from dip.quality.gx_runner import GxTableValidator
from dip.quality.suites import Suite, load_suites
from dip.quality.table_checks import failed_expectations
from dip.silver import normalize as N
from dip.tables import (
    GOLD_ACCOUNT_DAILY,
    GOLD_HASHTAG_DAILY,
    GOLD_POST_SUMMARY,
    GOLD_SELLER_ALERTS,
    SILVER_ACCOUNT_METRICS,
    SILVER_POST_METRICS,
    SILVER_POSTS,
    SILVER_PREDICTIONS,
    Table,
)


@dataclass
class GoldSummary:
    """Rows written per gold table over the run, and the alerts of its last day by (rule, source)."""

    rows: dict[str, int] = field(default_factory=dict)
    last_day_alerts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, table: Table, rows: int) -> None:
        self.rows[table.name] = self.rows.get(table.name, 0) + rows


def alert_rules(config: Config) -> tuple[str, ...]:
    """Names of the configured alert rules (the ``rule`` values of ``gold_seller_alerts``)."""
    a = config.gold.alerts
    return (percentile_rule(a.high_percentile, True), percentile_rule(a.low_percentile, False), FOLLOWER_DROP)


# what each gold frame is unique on by construction (grouped by these keys per day; posts are unique in silver)
UNIQUE_KEYS = {
    GOLD_ACCOUNT_DAILY.name: ("date", "source", "account_id"),
    GOLD_HASHTAG_DAILY.name: ("date", "source", "hashtag"),
    GOLD_POST_SUMMARY.name: ("source", "post_id"),
    GOLD_SELLER_ALERTS.name: ("date", "rule", "source", "account_id", "post_id"),
}


class GoldQualityError(ValueError):
    """A gold frame fails its suite (``expectations/gold/<table>.json``): nothing of it is written."""


class GoldChecks:
    """The gold suites and one GX validator for the run; :meth:`check` raises on a failing frame."""

    def __init__(self, config: Config) -> None:
        self.suites: dict[str, Suite] = load_suites(Path(config.quality.expectations_dir) / "gold")
        self.validator = GxTableValidator()

    def check(self, df: DataFrame, table: Table, label: str) -> None:
        suite = self.suites.get(table.name)
        failed = failed_expectations(df, suite, self.validator, UNIQUE_KEYS[table.name]) if suite else []
        if failed:
            raise GoldQualityError(f"{table.name} {label} fails {suite.name}: " + "; ".join(failed))


def _replace_days(df: DataFrame, config: Config, table: Table, days: list[date]) -> None:
    """Overwrite the ``days`` of ``table`` with ``df`` (the other days stay)."""
    (
        df.write.format("delta")
        .mode("overwrite")
        .partitionBy("date")
        .option("replaceWhere", f"date >= '{days[0].isoformat()}' AND date <= '{days[-1].isoformat()}'")
        .save(table.path(config))
    )


def _union(frames: list[DataFrame]) -> DataFrame:
    return reduce(DataFrame.unionByName, frames)


def run_gold(spark: SparkSession, config: Config, start: date, end: date) -> GoldSummary:
    """Compute and write the gold tables of ``start`` .. ``end`` (one write per table for the whole range, after
    every frame passed its suite); the post summary as of ``end``."""
    g = config.gold
    days = list(days_between(start, end))
    silver = [
        read_silver(spark, config, table, ddl).cache()
        for table, ddl in (
            (SILVER_POSTS, N.POSTS_DDL),
            (SILVER_POST_METRICS, N.POST_METRICS_DDL),
            (SILVER_ACCOUNT_METRICS, N.ACCOUNT_METRICS_DDL),
            (SILVER_PREDICTIONS, N.PREDICTIONS_DDL),
        )
    ]
    posts, post_metrics, account_metrics, predictions = silver
    summaries = {
        day: post_summary(
            post_metrics, posts, predictions, day, baseline_days=g.baseline_days, variant=g.prediction_variant
        )
        for day in days
    }
    frames = {
        GOLD_ACCOUNT_DAILY: _union(
            [
                account_daily(
                    account_metrics,
                    post_metrics,
                    posts,
                    d,
                    lookback_days=g.lookback_days,
                    baseline_days=g.baseline_days,
                )
                for d in days
            ]
        ),
        GOLD_HASHTAG_DAILY: _union([hashtag_daily(post_metrics, posts, d) for d in days]),
        GOLD_SELLER_ALERTS: _union(
            [seller_alerts(summaries[d], account_metrics, d, g.alerts, baseline_days=g.baseline_days) for d in days]
        )
        if g.alerts.enabled
        else spark.createDataFrame([], ALERTS_DDL),
    }
    frames[GOLD_POST_SUMMARY] = summaries[end]
    try:
        return _check_and_write(config, frames, days, GoldChecks(config))
    finally:
        for df in [*frames.values(), *silver]:
            df.unpersist()


def _check_and_write(
    config: Config, frames: dict[Table, DataFrame], days: list[date], checks: GoldChecks
) -> GoldSummary:
    """Check every frame against its suite, then (only then) write them all."""
    summary = GoldSummary()
    for table, df in frames.items():
        summary.add(table, df.cache().count())
        checks.check(df, table, f"{days[0]}..{days[-1]}")
    last = frames[GOLD_SELLER_ALERTS].where(F.col("date") == F.lit(days[-1])).groupBy("rule", "source").count()
    summary.last_day_alerts = {(r["rule"], r["source"]): r["count"] for r in last.collect()}
    for table, df in frames.items():
        if table is GOLD_POST_SUMMARY:
            df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(table.path(config))
        else:
            _replace_days(df, config, table, days)
    return summary


def gold_sources(spark: SparkSession, config: Config) -> list[str]:
    """Sources with posts in silver (the label values of the alert gauges)."""
    posts = read_silver(spark, config, SILVER_POSTS, N.POSTS_DDL)
    return sorted(r["source"] for r in posts.select("source").distinct().collect())


def gold_run(run: JobRun, config: Config, start: date, end: date) -> GoldSummary:
    """The body of a ``gold`` run (CLI and ``jobs/gold.py``): tables, counts, params and the alert gauges."""
    run.params.update({"from": start.isoformat(), "to": end.isoformat()})
    summary = run_gold(run.spark, config, start, end)
    run.counts.update({**summary.rows, "alerts": sum(summary.last_day_alerts.values())})
    SellerAlertMetrics(run.registry, alert_rules(config)).record(
        summary.last_day_alerts, gold_sources(run.spark, config)
    )
    return summary


def summary_line(summary: GoldSummary) -> str:
    """``gold: gold_account_daily 6, ...; alerts of the last day: post_above_p90/instagram 1``."""
    rows = ", ".join(f"{name} {n}" for name, n in summary.rows.items())
    alerts = ", ".join(f"{rule}/{source} {n}" for (rule, source), n in sorted(summary.last_day_alerts.items()))
    return f"gold: {rows}; alerts of the last day: {alerts or 'none'}"
