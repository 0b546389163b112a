"""Feature write: the feature store's upsert of N post_features_daily rows vs a plain parquet write.

DIP sides, each into a fresh lake per run, interleaved with the baseline run by run:
- ``hudi`` (the default format): a day written for the first time is a Hudi ``bulk_insert``
  (copy-on-write, metadata table on); the nightly re-run of the same day diffs against the stored
  day and upserts only changed rows (here none: nothing is committed).
- ``delta``: the first write is an append with Change Data Feed on; the re-run is a MERGE that
  changes nothing.
Baseline: the same cached DataFrame written as parquet with the same ``date`` partitioning.
Ratio = throughput DIP / parquet (goal >= 0.7 for the configured format's first write); re-run
ratios are reported. Writes <results-dir>/features.json.

    .venv/bin/python benchmarks/features.py [--rows 1000000] [--runs 3] [--no-merge] [--formats hudi,delta]
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
    spark: Any,
    scratch: Scratch,
    *,
    env: str | None,
    rows: int,
    runs: int,
    warmup: int,
    merge: bool = True,
    formats: tuple[str, ...] = ("hudi", "delta"),
) -> dict[str, Any]:
    """Interleave parquet writes and each format's feature-store upserts of the same cached DataFrame."""
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

    def store_for(fmt: str) -> Any:
        lake = fresh()
        store_config = scratch.config(env, lake=str(lake.relative_to(scratch.root)))
        store_config.features.table_format = fmt
        return feature_store(spark, store_config)

    def dip(fmt: str) -> dict[str, Any]:
        store = store_for(fmt)
        started = time.perf_counter()
        written = store.upsert(df, POST_DAILY, FEATURE_DAY.isoformat())
        result: dict[str, Any] = {"seconds": time.perf_counter() - started, "rows": written}
        if merge:
            started = time.perf_counter()
            store.upsert(df, POST_DAILY, FEATURE_DAY.isoformat())
            result["merge_s"] = time.perf_counter() - started
        result["rows_in_table"] = store.read(POST_DAILY).count()
        return result

    sides: dict[str, Any] = {"parquet": parquet}
    for fmt in formats:
        sides[fmt] = lambda fmt=fmt: dip(fmt)
    try:
        timings = interleaved(sides, runs, warmup)
    finally:
        df.unpersist()
        shutil.rmtree(scratch.root / "runs", ignore_errors=True)
    base = summary([r["seconds"] for r in timings["parquet"].results], rows)
    result: dict[str, Any] = {
        "rows": rows,
        "format": config.features.table_format,
        "formats": list(formats),
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
        "goal": GOAL,
    }
    for fmt in formats:
        first = summary([r["seconds"] for r in timings[fmt].results], rows)
        side: dict[str, Any] = {
            "first_write": {
                **first,
                "rows_written": timings[fmt].result["rows"],
                "rows_in_table": timings[fmt].result["rows_in_table"],
            },
            "ratio": round(base["median_s"] / first["median_s"], 3),
        }
        if merge:
            rerun = summary([r["merge_s"] for r in timings[fmt].results], rows)
            side["rerun"] = rerun
            side["rerun_ratio"] = round(base["median_s"] / rerun["median_s"], 3)
        result[fmt] = side
    configured = config.features.table_format if config.features.table_format in formats else formats[0]
    result["ratio"] = result[configured]["ratio"]  # the headline: the configured format's first write
    return result


RERUN_LABEL = {"hudi": "re-run (diff, no commit)", "delta": "re-run (MERGE, no-op)"}
FIRST_LABEL = {"hudi": "first write (bulk_insert)", "delta": "first write (append, CDF)"}


def report(result: dict[str, Any]) -> str:
    """Human-readable lines of a features result."""
    lines = [
        f"{result['rows']:,} {result['table']} rows ({result['columns']} columns), format {result['format']}",
        side_line("baseline parquet write", result["baseline"]),
    ]
    for fmt in result["formats"]:
        side = result[fmt]
        goal = f" (goal >= {GOAL})" if fmt == result["format"] else ""
        lines.append(side_line(f"{fmt} {FIRST_LABEL[fmt]}", side["first_write"], f"ratio {side['ratio']}{goal}"))
        if "rerun" in side:
            lines.append(side_line(f"{fmt} {RERUN_LABEL[fmt]}", side["rerun"], f"ratio {side['rerun_ratio']}"))
    return "\n".join(lines)


def main() -> int:
    parser = bench_parser(__doc__, rows=1_000_000)
    parser.add_argument("--no-merge", action="store_true", help="skip the re-run of the same day")
    parser.add_argument("--formats", default="hudi,delta", help="feature table formats to measure, comma-separated")
    args = parser.parse_args()
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())

    return run_spark_benchmark(
        "features",
        lambda spark, scratch, _config: measure_features(
            spark,
            scratch,
            env=args.env,
            rows=args.rows,
            runs=args.runs,
            warmup=args.warmup,
            merge=not args.no_merge,
            formats=formats,
        ),
        report,
        env=args.env,
        results_dir=args.results_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
