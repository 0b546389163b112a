"""Every suite file in expectations/ runs in Great Expectations on its table's schema (no invalid kwargs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from dip.config import Config
from dip.quality.gx_runner import GxTableValidator
from dip.quality.suites import load_suites
from dip.silver.merge import SPECS


@pytest.fixture(scope="module")
def validator() -> GxTableValidator:
    return GxTableValidator()


@pytest.mark.parametrize("table", sorted(SPECS))
def test_table_level_expectations_run_on_the_silver_schema(
    spark: SparkSession, test_config: Config, validator: GxTableValidator, table: str
) -> None:
    suite = load_suites(Path(test_config.quality.expectations_dir))[table]
    one_row = spark.createDataFrame([tuple([None] * len(SPECS[table].columns))], SPECS[table].ddl)
    results = validator.validate(one_row, suite)
    assert [r.expectation for r in results] == [
        f"{e.type}({e.kwargs['column']})" if "column" in e.kwargs else e.type for e in suite.table_level
    ]
    assert all(r.success for r in results), results  # one row is unique on any key
