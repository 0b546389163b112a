"""Load Great Expectations suites from ``expectations/<table>.json`` and split rows in one Spark pass.

Row-level expectations (column map expectations) are compiled to Spark column predicates and
evaluated together in one projection: each row gets the names of the expectations it fails, so good
rows and quarantined rows are separated without one Spark job per expectation and without
collecting failing keys to the driver. Table-level expectations are run by Great Expectations itself
on the Spark execution engine (see ``dip.quality.gx_runner``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

ROW_LEVEL = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_value_lengths_to_be_between",
}
POLICIES = ("warn", "drop", "fail")


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite: its GX type, arguments and the name quarantine rows report."""

    type: str
    kwargs: dict[str, Any]

    @property
    def name(self) -> str:
        column = self.kwargs.get("column")
        return f"{self.type}({column})" if column else self.type


@dataclass(frozen=True)
class Suite:
    name: str
    table: str
    expectations: tuple[Expectation, ...]
    source: dict[str, Any]

    @property
    def row_level(self) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.type in ROW_LEVEL)

    @property
    def table_level(self) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.type not in ROW_LEVEL)


def load_suite(path: Path) -> Suite:
    """A GX 1.x suite JSON (``name``, ``expectations[{type, kwargs}]``); the table is the file stem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        expectations = tuple(Expectation(e["type"], dict(e.get("kwargs", {}))) for e in data["expectations"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a Great Expectations suite ({exc})") from exc
    return Suite(data.get("name", path.stem), path.stem, expectations, data)


def load_suites(directory: Path) -> dict[str, Suite]:
    return {suite.table: suite for suite in map(load_suite, sorted(directory.glob("*.json")))}


def predicate(expectation: Expectation) -> Column:
    """A row passes when the column predicate is true; nulls pass every check but not-null, as in GX."""
    kw = expectation.kwargs
    col = F.col(kw["column"])
    kind = expectation.type
    if kind == "expect_column_values_to_not_be_null":
        return col.isNotNull()
    if kind == "expect_column_values_to_be_between":
        lower, upper = kw.get("min_value"), kw.get("max_value")
        check = F.lit(True)
        if lower is not None:
            check = check & (col > lower if kw.get("strict_min") else col >= lower)
        if upper is not None:
            check = check & (col < upper if kw.get("strict_max") else col <= upper)
        return col.isNull() | check
    if kind == "expect_column_values_to_be_in_set":
        return col.isNull() | col.isin(list(kw["value_set"]))
    if kind == "expect_column_values_to_match_regex":
        return col.isNull() | col.rlike(kw["regex"])
    if kind == "expect_column_value_lengths_to_be_between":
        length = F.length(col)
        lower, upper = kw.get("min_value"), kw.get("max_value")
        check = F.lit(True)
        if lower is not None:
            check = check & (length >= lower)
        if upper is not None:
            check = check & (length <= upper)
        return col.isNull() | check
    raise ValueError(f"{kind} is not a row-level expectation")


def with_failures(df: DataFrame, suite: Suite) -> DataFrame:
    """Add ``_failed``: names of the row-level expectations the row fails (empty when it passes)."""
    failed = [F.when(~F.coalesce(predicate(e), F.lit(False)), F.lit(e.name)) for e in suite.row_level]
    if not failed:
        return df.withColumn("_failed", F.array().cast("array<string>"))
    return df.withColumn("_failed", F.filter(F.array(*failed), lambda x: x.isNotNull()))


def passes_all(suite: Suite) -> Column:
    """True when a row passes every row-level expectation of ``suite`` (one cheap boolean per row)."""
    checks = [F.coalesce(predicate(e), F.lit(False)) for e in suite.row_level]
    result = F.lit(True)
    for check in checks:
        result = result & check
    return result


def split_rows(df: DataFrame, suite: Suite) -> tuple[DataFrame, DataFrame]:
    """(good rows, failing rows with ``_failed``): failure names are only built for the failing rows."""
    ok = passes_all(suite)
    return df.where(ok), with_failures(df.where(~ok), suite)
