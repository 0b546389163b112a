"""The small Delta table ``features/_runs``: one row per completed feature day, so backfills resume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.io.table_access import read_if_exists
from dip.tables import FEATURE_RUNS

RUNS_DDL = (
    "date STRING, feature_set_version INT, table_format STRING, rows_post_daily BIGINT, rows_post_hourly BIGINT, "
    "rows_account_daily BIGINT, seconds DOUBLE, completed_at TIMESTAMP"
)


@dataclass(frozen=True)
class DayResult:
    """What computing one day wrote."""

    day: date
    rows: dict[str, int]
    seconds: float
    skipped: bool = False


def completed_days(spark: SparkSession, config: Config) -> set[date]:
    """Days already completed for the configured feature_set_version and table format."""
    runs = read_if_exists(spark, config, FEATURE_RUNS)
    if runs is None:
        return set()
    done = (
        runs.where(
            (F.col("feature_set_version") == config.features.feature_set_version)
            & (F.col("table_format") == config.features.table_format)
        )
        .select("date")
        .distinct()
        .collect()
    )
    return {date.fromisoformat(r["date"]) for r in done}


def record_day(spark: SparkSession, config: Config, result: DayResult) -> None:
    """Append the completion row of a day (``completed_at`` is wall-clock: this table is bookkeeping)."""
    row = (
        result.day.isoformat(),
        config.features.feature_set_version,
        config.features.table_format,
        result.rows.get("post_features_daily", 0),
        result.rows.get("post_features_hourly", 0),
        result.rows.get("account_features_daily", 0),
        result.seconds,
        datetime.now(UTC),
    )
    spark.createDataFrame([row], RUNS_DDL).write.format("delta").mode("append").save(FEATURE_RUNS.path(config))
