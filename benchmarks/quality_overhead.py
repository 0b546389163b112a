"""Quality overhead: a silver batch with the post_metrics GX suite vs the same batch without validation.

DIP side, as the silver step does it: the suite's row-level expectations are columns of one
projection, one aggregation counts rows and failures per expectation, good rows are written to Delta
and failing rows to the quarantine (only when there are any); the table-level uniqueness over the
merge keys holds by construction (no GX run), any other table-level expectation would run in GX.
Baseline (same run, same data): write the batch to Delta without any validation.
Reference: the whole suite run by Great Expectations alone (what a naive integration would do).
Goal: overhead (DIP / baseline - 1) <= 0.15.

Run: .venv/bin/python benchmarks/quality_overhead.py [--rows 200000] [--runs 3]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_parser, environment, median_seconds, write_result


def main() -> int:
    args = bench_parser(__doc__, rows=200_000).parse_args()

    from pyspark.sql import functions as F

    from dip.config import load_config
    from dip.quality.gx_runner import GxTableValidator
    from dip.quality.suites import holds_by_construction, load_suite, with_failures
    from dip.silver.merge import SPECS
    from dip.spark import build_session

    config = load_config(args.env)
    config.spark.register_tables = False
    spark = build_session(config, app_name="bench-quality")
    suite = load_suite(Path(config.quality.expectations_dir) / "post_metrics.json")
    rnd = F.rand(args.seed)
    batch = (
        spark.range(args.rows)
        .select(
            F.col("id").cast("string").alias("post_id"),
            F.lit("instagram").alias("source"),
            (F.col("id") % 50).cast("string").alias("account_id"),
            F.lit("run-1").alias("run_id"),
            F.current_timestamp().alias("captured_at"),
            (rnd * 10_000).cast("bigint").alias("views"),
            F.when(F.col("id") % 1000 == 0, F.lit(-1)).otherwise((rnd * 500).cast("bigint")).alias("likes"),
            (rnd * 50).cast("bigint").alias("comments"),
            (rnd * 20).cast("bigint").alias("shares"),
            (rnd * 30).cast("bigint").alias("saves"),
            (rnd * 8_000).cast("bigint").alias("reach"),
        )
        .withColumn("engagement_ratio", F.try_divide(F.col("likes") + F.col("comments"), F.col("views")))
        .cache()
    )
    batch.count()
    scratch = Path(tempfile.mkdtemp(prefix="dip-bench-quality-"))
    validator = GxTableValidator()

    def baseline() -> None:
        batch.write.format("delta").mode("overwrite").save(str(scratch / "plain"))

    by_gx = [e for e in suite.table_level if not holds_by_construction(e, SPECS["post_metrics"].keys)]

    def dip_validated() -> None:
        checked = with_failures(batch, suite)
        names = F.concat(F.array(F.lit("__rows__")), F.when(F.col("_hard"), F.array(F.lit("__hard__"))).otherwise(
            F.array()), F.col("_failed"))  # fmt: skip
        counts = {
            r["e"]: r["count"] for r in checked.select(F.explode(names).alias("e")).groupBy("e").count().collect()
        }
        checked.where(~F.col("_hard")).drop("_failed", "_hard").write.format("delta").mode("overwrite").save(
            str(scratch / "good"))  # fmt: skip
        if counts.get("__hard__"):
            checked.where("_hard").write.format("delta").mode("overwrite").save(str(scratch / "quarantine"))
        if by_gx:
            validator.validate(checked.where(~F.col("_hard")), suite, by_gx)

    def gx_only() -> None:
        import great_expectations as gx
        from great_expectations.core import ExpectationSuite
        from great_expectations.core.expectation_suite import expectationSuiteSchema

        definition = validator._definition()
        full = ExpectationSuite(
            **expectationSuiteSchema.load(
                {"name": "full", "expectations": [{"type": e.type, "kwargs": e.kwargs} for e in suite.expectations]}
            )
        )
        definition.get_batch(batch_parameters={"dataframe": batch}).validate(full, result_format="SUMMARY")
        batch.write.format("delta").mode("overwrite").save(str(scratch / "gx"))
        del gx

    try:
        base_s, base_runs = median_seconds(baseline, args.runs, args.warmup)
        dip_s, dip_runs = median_seconds(dip_validated, args.runs, args.warmup)
        gx_s, gx_runs = median_seconds(gx_only, args.runs, args.warmup)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    overhead = dip_s / base_s - 1
    result = {
        "benchmark": "quality",
        "rows": args.rows,
        "expectations": len(suite.expectations),
        "baseline_s": round(base_s, 3),
        "dip_s": round(dip_s, 3),
        "gx_whole_suite_s": round(gx_s, 3),
        "overhead": round(overhead, 3),
        "gx_whole_suite_overhead": round(gx_s / base_s - 1, 3),
        "goal_overhead_max": 0.15,
        "runs": {"baseline": base_runs, "dip": dip_runs, "gx": gx_runs},
        "environment": environment(spark),
    }
    path = write_result("quality", result, args.results_dir)
    print(
        f"rows {args.rows}: baseline {base_s:.2f}s, DIP validated {dip_s:.2f}s (overhead {overhead:+.1%}), "
        f"GX whole suite {gx_s:.2f}s (overhead {gx_s / base_s - 1:+.1%}); goal <= +15% -> {path}"
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
