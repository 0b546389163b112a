"""Load Great Expectations suites from ``expectations/<table>.json`` and split rows in one Spark pass.

Every suite is first loaded through Great Expectations' own suite schema and expectation classes,
so an unknown expectation type or a misspelled kwarg is an error naming the file, never a check
that silently always passes. Row-level expectations (column map expectations) are compiled to Spark
column predicates and evaluated together in one projection: each row gets the names of the
expectations it fails, so good rows and quarantined rows are separated without one Spark job per
expectation. ``mostly`` (< 1) makes a row-level expectation soft: failing rows are counted against
it but not quarantined. ``row_condition`` is not implemented for row-level expectations and is
rejected. Table-level expectations that the silver MERGE guarantees by construction (uniqueness of
a superset of the table's merge keys, see :func:`holds_by_construction`) are recorded from the
write; the rest are run by Great Expectations itself (see ``dip.quality.gx_runner``).
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
UNSUPPORTED_ROW_LEVEL_KWARGS = ("row_condition", "condition_parser")
UNIQUENESS = {"expect_compound_columns_to_be_unique": "column_list", "expect_column_values_to_be_unique": "column"}


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite: its GX type, arguments and the name quarantine rows report."""

    type: str
    kwargs: dict[str, Any]

    @property
    def name(self) -> str:
        column = self.kwargs.get("column")
        return f"{self.type}({column})" if column else self.type

    @property
    def mostly(self) -> float:
        """GX's ``mostly``: the share of rows that must pass (1.0 = every row; below 1 the check is soft)."""
        return float(self.kwargs.get("mostly", 1.0))


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


def _check_with_gx(data: dict[str, Any], path: Path) -> None:
    """Build the suite with GX's own schema and expectation classes: unknown types and kwargs are errors."""
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.expectation_suite import expectationSuiteSchema

    expectations = [{**e, "kwargs": e.get("kwargs", {})} for e in data["expectations"]]
    spec = {"name": data.get("name", path.stem), "expectations": expectations}
    try:
        built = ExpectationSuite(**expectationSuiteSchema.load(spec))
    except Exception as exc:  # marshmallow / pydantic / GX errors: all mean "not a valid suite"
        raise ValueError(f"{path}: Great Expectations rejects this suite: {exc}") from exc
    known = {type(e).__name__ for e in built.expectations}
    dropped = [e["type"] for e in expectations if _class_name(e["type"]) not in known]
    if dropped:  # GX logs an unknown type and leaves it out of the suite instead of raising
        raise ValueError(f"{path}: Great Expectations rejects this suite: {', '.join(dropped)} not found")


def _class_name(expectation_type: str) -> str:
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def load_suite(path: Path) -> Suite:
    """A GX 1.x suite JSON (``name``, ``expectations[{type, kwargs}]``); the table is the file stem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        expectations = tuple(Expectation(e["type"], dict(e.get("kwargs", {}))) for e in data["expectations"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a Great Expectations suite ({exc})") from exc
    _check_with_gx(data, path)
    for e in expectations:
        unsupported = [k for k in UNSUPPORTED_ROW_LEVEL_KWARGS if k in e.kwargs and e.type in ROW_LEVEL]
        if unsupported:
            raise ValueError(
                f"{path}: {e.name}: {', '.join(unsupported)} is not supported on row-level expectations "
                "(the row split cannot apply it); remove it or split the suite"
            )
        if not 0 < e.mostly <= 1:
            raise ValueError(f"{path}: {e.name}: mostly must be in (0, 1], got {e.mostly}")
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


def holds_by_construction(expectation: Expectation, merge_keys: tuple[str, ...]) -> bool:
    """True for a uniqueness expectation over a superset of the merge keys: the rows a silver MERGE writes
    are one per key (``latest_per_key``), so such a check cannot fail on them and needs no Spark job."""
    field = UNIQUENESS.get(expectation.type)
    if field is None or set(expectation.kwargs) - {field, "result_format", "meta"}:
        return False
    columns = expectation.kwargs[field]
    columns = [columns] if isinstance(columns, str) else list(columns)
    return set(merge_keys) <= set(columns)


def with_failures(df: DataFrame, suite: Suite) -> DataFrame:
    """Add ``_failed`` (names of the row-level expectations the row fails, empty when it passes) and
    ``_hard`` (it fails one without ``mostly``, so it is quarantined)."""
    failed = [F.when(~F.coalesce(predicate(e), F.lit(False)), F.lit(e.name)) for e in suite.row_level]
    if not failed:
        return df.withColumn("_failed", F.array().cast("array<string>")).withColumn("_hard", F.lit(False))
    hard = [e.name for e in suite.row_level if e.mostly >= 1]
    df = df.withColumn("_failed", F.filter(F.array(*failed), lambda x: x.isNotNull()))
    return df.withColumn("_hard", F.exists("_failed", lambda x: x.isin(hard)) if hard else F.lit(False))
