"""Register the lake's tables by name (``dip.silver_posts``...) and describe them for `dip tables`."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.io.table_access import read_table, table_exists, table_format, table_version
from dip.tables import ALL_TABLES, CATALOG_DB

# the event-time column that tells how fresh each table is
FRESHNESS_COLUMN: dict[str, str] = {
    "bronze_events": "fetched_at",
    "dlq": "failed_at",
    "silver_posts": "updated_at",
    "silver_post_metrics": "captured_at",
    "silver_post_captions": "captured_at",
    "silver_accounts": "updated_at",
    "silver_account_metrics": "captured_at",
    "silver_audience": "captured_at",
    "silver_predictions": "scored_at",
    "silver_quarantine": "quarantined_at",
    "silver_ledger": "processed_at",
    "quality_results": "validated_at",
    "post_features_daily": "window_end",
    "post_features_hourly": "window_end",
    "account_features_daily": "window_end",
    "feature_runs": "completed_at",
    "feature_push_state": "pushed_at",
}


@dataclass(frozen=True)
class TableInfo:
    name: str
    format: str
    location: str
    version: int | None
    rows: int | None
    latest_event: str | None


def register_tables(spark: SparkSession, config: Config) -> list[str]:
    """``CREATE TABLE IF NOT EXISTS dip.<name> USING DELTA|HUDI LOCATION ...`` for every table already written."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {CATALOG_DB}")
    registered = []
    for table in ALL_TABLES:
        if table_exists(spark, config, table):
            fmt = table_format(config, table).upper()
            spark.sql(f"CREATE TABLE IF NOT EXISTS {table.qualified_name} USING {fmt} LOCATION '{table.path(config)}'")
            registered.append(table.qualified_name)
    return registered


def describe_tables(spark: SparkSession, config: Config) -> list[TableInfo]:
    """Format, location, latest version, row count and freshness of every lake table."""
    infos = []
    for table in ALL_TABLES:
        path, fmt = table.path(config), table_format(config, table)
        if not table_exists(spark, config, table):
            infos.append(TableInfo(table.qualified_name, fmt, path, None, None, None))
            continue
        version = table_version(spark, config, table)
        df = read_table(spark, config, table)
        column = FRESHNESS_COLUMN.get(table.name)
        row = df.agg(F.count(F.lit(1)).alias("n"), F.max(column).alias("latest")).first()
        latest = row["latest"].isoformat(sep=" ") if row["latest"] is not None else None
        infos.append(TableInfo(table.qualified_name, fmt, path, version, row["n"], latest))
    return infos
