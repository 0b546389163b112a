"""A whole table checked against its suite before it is written (the gold tables): the names of what failed."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from dip.quality.gx_runner import GxTableValidator
from dip.quality.suites import Suite, holds_by_construction, with_failures


def failed_expectations(
    df: DataFrame, suite: Suite, validator: GxTableValidator, keys: tuple[str, ...] = ()
) -> list[str]:
    """Row-level expectations some row fails (``name: n rows``), then failed table-level ones; empty when clean.

    ``keys``: columns ``df`` is unique on by construction (it was grouped by them): a uniqueness expectation over
    a superset of them holds without a Spark job, as for silver's MERGE keys; GX runs the other table-level ones.
    """
    failed: list[str] = []
    if suite.row_level:
        counts = with_failures(df, suite).select(F.explode("_failed").alias("e")).groupBy("e").count().collect()
        failed += [f"{r['e']}: {r['count']} rows" for r in sorted(counts, key=lambda r: r["e"])]
    by_gx = [e for e in suite.table_level if not (keys and holds_by_construction(e, keys))]
    if by_gx:
        failed += [r.expectation for r in validator.validate(df, suite, by_gx) if not r.success]
    return failed
