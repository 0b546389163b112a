"""Run a suite's table-level expectations with Great Expectations on the Spark execution engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from dip.quality.suites import Expectation, Suite


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome on one batch, as stored in ``quality_results``."""

    expectation: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: str | None


class GxTableValidator:
    """One ephemeral GX context per job run; batches are validated without persisting (``persist=False``)."""

    def __init__(self) -> None:
        self._batch_definition: Any = None
        self._suites: dict[str, Any] = {}

    def _definition(self) -> Any:
        if self._batch_definition is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            source = context.data_sources.add_spark(name="dip_silver", persist=False)
            asset = source.add_dataframe_asset(name="micro_batch")
            self._batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        return self._batch_definition

    def _gx_suite(self, suite: Suite, expectations: tuple[Expectation, ...]) -> Any:
        key = (suite.table, tuple(e.name for e in expectations))
        if key not in self._suites:
            from great_expectations.core import ExpectationSuite
            from great_expectations.core.expectation_suite import expectationSuiteSchema

            spec = {
                "name": f"{suite.name}_table_level",
                "expectations": [{"type": e.type, "kwargs": e.kwargs} for e in expectations],
            }
            self._suites[key] = ExpectationSuite(**expectationSuiteSchema.load(spec))
        return self._suites[key]

    def validate(
        self, df: DataFrame, suite: Suite, expectations: list[Expectation] | None = None
    ) -> list[ExpectationResult]:
        """Table-level results of ``suite`` (or only ``expectations`` of it) on ``df``; empty when none."""
        chosen = tuple(expectations) if expectations is not None else suite.table_level
        if not chosen:
            return []
        batch = self._definition().get_batch(batch_parameters={"dataframe": df})
        outcome = batch.validate(self._gx_suite(suite, chosen), result_format="SUMMARY")
        results = []
        for item in outcome.results:
            config = item.expectation_config
            column = config.kwargs.get("column")
            name = f"{config.type}({column})" if column else config.type
            observed = item.result.get("observed_value")
            results.append(
                ExpectationResult(
                    name,
                    bool(item.success),
                    item.result.get("element_count"),
                    item.result.get("unexpected_count"),
                    None if observed is None else str(observed),
                )
            )
        return results
