"""gold: silver -> gold tables and seller alerts for a range of days, idempotent.

Each daily table (``gold_account_daily``, ``gold_hashtag_daily``, ``gold_seller_alerts``) has its day's partition
replaced (Delta ``replaceWhere``), so re-running a day gives the same table; ``gold_post_summary`` is rewritten
as of the range's last day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

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


class GoldQualityError(ValueError):
    """A gold frame fails its suite (``expectations/gold/<table>.json``): nothing of it is written."""


class GoldChecks:
    """The gold suites and one GX validator for the run; :meth:`check` raises on a failing frame."""

    def __init__(self, config: Config) -> None:
        self.suites: dict[str, Suite] = load_suites(Path(config.quality.expectations_dir) / "gold")
        self.validator = GxTableValidator()

    def check(self, df: DataFrame, table: Table, label: str) -> None:
        suite = self.suites.get(table.name)
        failed = failed_expectations(df, suite, self.validator) if suite else []
        if failed:
            raise GoldQualityError(f"{table.name} {label} fails {suite.name}: " + "; ".join(failed))


def _replace_day(df: DataFrame, config: Config, table: Table, day: date, checks: GoldChecks) -> int:
    """Check ``df``, then overwrite ``day``'s partition of ``table`` with it (the other days stay); rows written."""
    rows = df.cache().count()
    checks.check(df, table, day.isoformat())
    (
        df.write.format("delta")
        .mode("overwrite")
        .partitionBy("date")
        .option("replaceWhere", f"date = '{day.isoformat()}'")
        .save(table.path(config))
    )
    df.unpersist()
    return rows


def run_gold(
    spark: SparkSession, config: Config, start: date, end: date, *, on_day: Callable[[date], None] = lambda _d: None
) -> GoldSummary:
    """Compute and write the gold tables of ``start`` .. ``end``; the post summary as of ``end``."""
    g = config.gold
    days = list(days_between(start, end))
    posts = read_silver(spark, config, SILVER_POSTS, N.POSTS_DDL)
    post_metrics = read_silver(spark, config, SILVER_POST_METRICS, N.POST_METRICS_DDL)
    account_metrics = read_silver(spark, config, SILVER_ACCOUNT_METRICS, N.ACCOUNT_METRICS_DDL)
    predictions = read_silver(spark, config, SILVER_PREDICTIONS, N.PREDICTIONS_DDL)
    summary = GoldSummary()
    checks = GoldChecks(config)
    for day in days:
        accounts = account_daily(
            account_metrics, post_metrics, posts, day, lookback_days=g.lookback_days, baseline_days=g.baseline_days
        )
        summary.add(GOLD_ACCOUNT_DAILY, _replace_day(accounts, config, GOLD_ACCOUNT_DAILY, day, checks))
        summary.add(
            GOLD_HASHTAG_DAILY,
            _replace_day(hashtag_daily(post_metrics, posts, day), config, GOLD_HASHTAG_DAILY, day, checks),
        )
        posts_of_day = post_summary(
            post_metrics, posts, predictions, day, baseline_days=g.baseline_days, variant=g.prediction_variant
        )
        if g.alerts.enabled:
            alerts = seller_alerts(posts_of_day, account_metrics, day, g.alerts, baseline_days=g.baseline_days)
        else:
            alerts = spark.createDataFrame([], ALERTS_DDL)
        summary.add(GOLD_SELLER_ALERTS, _replace_day(alerts, config, GOLD_SELLER_ALERTS, day, checks))
        if day == days[-1]:
            by_rule = alerts.groupBy("rule", "source").count().collect()
            summary.last_day_alerts = {(r["rule"], r["source"]): r["count"] for r in by_rule}
            rows = posts_of_day.cache().count()
            checks.check(posts_of_day, GOLD_POST_SUMMARY, f"as of {day}")
            posts_of_day.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
                GOLD_POST_SUMMARY.path(config)
            )
            posts_of_day.unpersist()
            summary.add(GOLD_POST_SUMMARY, rows)
        on_day(day)
    return summary


def gold_sources(spark: SparkSession, config: Config) -> list[str]:
    """Sources with posts in silver (the label values of the alert gauges)."""
    posts = read_silver(spark, config, SILVER_POSTS, N.POSTS_DDL)
    return sorted(r["source"] for r in posts.select("source").distinct().collect())


def gold_run(run: JobRun, config: Config, start: date, end: date, on_day: Callable[[date], None]) -> GoldSummary:
    """The body of a ``gold`` run (CLI and ``jobs/gold.py``): tables, counts, params and the alert gauges."""
    run.params.update({"from": start.isoformat(), "to": end.isoformat()})
    summary = run_gold(run.spark, config, start, end, on_day=on_day)
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
