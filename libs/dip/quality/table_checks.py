"""A whole table checked against its suite before it is written (the gold tables): the names of what failed."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from dip.quality.gx_runner import GxTableValidator
from dip.quality.suites import Suite, with_failures


def failed_expectations(df: DataFrame, suite: Suite, validator: GxTableValidator) -> list[str]:
    """Row-level expectations some row fails (``name: n rows``), then failed table-level ones; empty when clean."""
    failed: list[str] = []
    if suite.row_level:
        counts = with_failures(df, suite).select(F.explode("_failed").alias("e")).groupBy("e").count().collect()
        failed += [f"{r['e']}: {r['count']} rows" for r in sorted(counts, key=lambda r: r["e"])]
    failed += [r.expectation for r in validator.validate(df, suite) if not r.success]
    return failed
