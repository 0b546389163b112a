"""Daily quality report: expectation results and quarantined rows per silver table (`dip quality report`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.io.table_access import read_if_exists
from dip.tables import QUALITY_RESULTS, SILVER_QUARANTINE, SILVER_TABLES


@dataclass(frozen=True)
class TableQuality:
    """One silver table's quality on a day."""

    table: str
    evaluated: int  # expectation results recorded
    failed: int  # of which unsuccessful
    unexpected_rows: int
    quarantined: int
    failed_expectations: tuple[str, ...]


def quality_report(spark: SparkSession, config: Config, day: date | None = None) -> list[TableQuality]:
    """Per silver table: expectation results and quarantined rows (of ``day`` when given)."""
    results: dict[str, dict] = {}
    df = read_if_exists(spark, config, QUALITY_RESULTS)
    if df is not None:
        if day is not None:
            df = df.where(F.to_date("validated_at") == F.lit(day.isoformat()).cast("date"))
        rows = df.groupBy("table_name").agg(
            F.count(F.lit(1)).alias("evaluated"),
            F.sum(F.when(~F.col("success"), 1).otherwise(0)).alias("failed"),
            F.sum(F.coalesce(F.col("unexpected_count"), F.lit(0))).alias("unexpected_rows"),
            F.sort_array(F.collect_set(F.when(~F.col("success"), F.col("expectation")))).alias("failed_expectations"),
        )
        results = {r["table_name"]: r.asDict() for r in rows.collect()}
    quarantined: dict[str, int] = {}
    df = read_if_exists(spark, config, SILVER_QUARANTINE)
    if df is not None:
        if day is not None:
            df = df.where(F.to_date("quarantined_at") == F.lit(day.isoformat()).cast("date"))
        quarantined = {r["table_name"]: r["count"] for r in df.groupBy("table_name").count().collect()}
    report = []
    for name in SILVER_TABLES:
        r = results.get(name, {})
        report.append(
            TableQuality(
                table=name,
                evaluated=int(r.get("evaluated") or 0),
                failed=int(r.get("failed") or 0),
                unexpected_rows=int(r.get("unexpected_rows") or 0),
                quarantined=int(quarantined.get(name, 0)),
                failed_expectations=tuple(r.get("failed_expectations") or ()),
            )
        )
    return report
