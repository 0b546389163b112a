"""Feature write: the feature store's upsert of N post_features_daily rows vs a plain parquet write.

DIP side: ``feature_store(spark, config).upsert`` into a fresh lake per run (the table format is
``features.table_format``: Delta, because the Hudi Spark 4 bundle is not served by the Maven
mirror; a day written for the first time is an append with Change Data Feed on, then the nightly
re-run of the same day is a MERGE that changes nothing, reported separately). Baseline: the same
cached DataFrame written as parquet with the same ``date`` partitioning. Ratio = throughput
DIP / parquet (goal >= 0.7). Writes <results-dir>/features.json.

    .venv/bin/python benchmarks/features.py [--rows 1000000] [--runs 3] [--no-merge]
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    FEATURE_DAY,
    HUDI_NOTE,
    Scratch,
    bench_parser,
    interleaved,
    run_spark_benchmark,
    side_line,
    summary,
    synthetic_features,
)

GOAL = 0.7


def measure_features(
    spark: Any, scratch: Scratch, *, env: str | None, rows: int, runs: int, warmup: int, merge: bool = True
) -> dict[str, Any]:
    """Interleave parquet writes and feature-store upserts of the same cached DataFrame."""
    from dip.features.specs import POST_DAILY
    from dip.features.store import feature_store

    config = scratch.config(env)
    partitions = spark.sparkContext.defaultParallelism
    df = synthetic_features(spark, rows, config.features.text.vector_size, partitions).persist()
    df.count()
    counter = iter(range(1_000_000))

    def fresh() -> Path:
        shutil.rmtree(scratch.root / "runs", ignore_errors=True)  # the previous run's output
        return scratch.root / "runs" / str(next(counter))

    def parquet() -> dict[str, Any]:
        out = fresh()
        started = time.perf_counter()
        df.write.partitionBy("date").parquet(str(out))
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "rows": spark.read.parquet(str(out)).count()}

    def dip() -> dict[str, Any]:
        lake = fresh()
        store = feature_store(spark, scratch.config(env, lake=str(lake.relative_to(scratch.root))))
        started = time.perf_counter()
        written = store.upsert(df, POST_DAILY, FEATURE_DAY.isoformat())
        result: dict[str, Any] = {"seconds": time.perf_counter() - started, "rows": written}
        if merge:
            started = time.perf_counter()
            store.upsert(df, POST_DAILY, FEATURE_DAY.isoformat())
            result["merge_s"] = time.perf_counter() - started
        result["rows_in_table"] = store.read(POST_DAILY).count()
        return result

    try:
        timings = interleaved({"parquet": parquet, "dip": dip}, runs, warmup)
    finally:
        df.unpersist()
        shutil.rmtree(scratch.root / "runs", ignore_errors=True)
    base = summary([r["seconds"] for r in timings["parquet"].results], rows)
    first = summary([r["seconds"] for r in timings["dip"].results], rows)
    result: dict[str, Any] = {
        "rows": rows,
        "format": config.features.table_format,
        "format_note": HUDI_NOTE if config.features.table_format == "delta" else "",
        "table": POST_DAILY.name,
        "columns": len(df.columns),
        "vector_size": config.features.text.vector_size,
        "runs": runs,
        "warmup": warmup,
        "baseline": {
            "what": "df.write.partitionBy('date').parquet",
            **base,
            "rows_written": timings["parquet"].result["rows"],
        },
        "dip_first_write": {
            **first,
            "rows_written": timings["dip"].result["rows"],
            "rows_in_table": timings["dip"].result["rows_in_table"],
        },
        "ratio": round(base["median_s"] / first["median_s"], 3),
        "goal": GOAL,
    }
    if merge:
        rerun = summary([r["merge_s"] for r in timings["dip"].results], rows)
        result["dip_rerun_merge"] = rerun
        result["merge_ratio"] = round(base["median_s"] / rerun["median_s"], 3)
    return result


def report(result: dict[str, Any]) -> str:
    """Human-readable lines of a features result."""
    lines = [
        f"{result['rows']:,} {result['table']} rows ({result['columns']} columns), format {result['format']}",
        side_line("baseline parquet write", result["baseline"]),
        side_line("DIP feature store write", result["dip_first_write"], f"ratio {result['ratio']} (goal >= {GOAL})"),
    ]
    if "dip_rerun_merge" in result:
        merge = f"ratio {result['merge_ratio']}"
        lines.append(side_line("DIP re-run (MERGE, no-op)", result["dip_rerun_merge"], merge))
    return "\n".join(lines)


def main() -> int:
    parser = bench_parser(__doc__, rows=1_000_000)
    parser.add_argument("--no-merge", action="store_true", help="skip the re-run MERGE")
    args = parser.parse_args()

    return run_spark_benchmark(
        "features",
        lambda spark, scratch, _config: measure_features(
            spark, scratch, env=args.env, rows=args.rows, runs=args.runs, warmup=args.warmup, merge=not args.no_merge
        ),
        report,
        env=args.env,
        results_dir=args.results_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
