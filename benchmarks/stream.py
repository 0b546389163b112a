"""Stream throughput: Kafka -> bronze (-> silver) available-now vs a plain Spark Kafka -> parquet copy.

N snapshots in the connectors' exact envelope format (seeded simulator data, published with the
connectors' Kafka publisher) are pre-loaded once into the raw topics with fixed partitions.
DIP side: ``run_stream_bronze`` then ``run_stream_silver`` (parse, dedup, GX suites, MERGE, ledger),
both available-now, into a fresh lake per run. Baseline: Spark's Kafka source over the same topics
with the same options (starting offsets, maxOffsetsPerTrigger, failOnDataLoss) and the same
available-now trigger, written as parquet. Ratios are throughputs DIP / baseline
(goal: bronze >= 0.9, bronze+silver >= 0.8). Writes <results-dir>/stream.json.

    .venv/bin/python benchmarks/stream.py [--rows 1000000] [--partitions 3] [--runs 3]
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Scratch, bench_parser, interleaved, load_topics, run_spark_benchmark, side_line, summary

GOALS = {"bronze": 0.9, "bronze_silver": 0.8}


def _baseline(spark: Any, config: Any, out: Path) -> dict[str, Any]:
    """Kafka -> parquet with exactly the reader options stream_bronze uses, available-now."""
    from dip.streaming.bronze_job import read_raw_stream

    started = time.perf_counter()
    query = (
        read_raw_stream(spark, config)
        .writeStream.format("parquet")
        .option("checkpointLocation", str(out / "_checkpoint"))
        .trigger(availableNow=True)
        .start(str(out / "copy"))
    )
    query.awaitTermination()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": spark.read.parquet(str(out / "copy")).count()}


def _dip(spark: Any, config: Any, silver: bool) -> dict[str, Any]:
    """stream_bronze (and stream_silver) available-now into ``config``'s fresh lake."""
    from dip.silver.stream_job import run_stream_silver
    from dip.streaming.bronze_job import run_stream_bronze

    bronze = run_stream_bronze(spark, config, "available-now")
    result: dict[str, Any] = {
        "bronze_s": bronze.seconds,
        "bronze_batches": len(bronze.batches),
        **{f"bronze_{k}": bronze.total(k) for k in ("kafka", "bronze", "dlq")},
    }
    if silver:
        run = run_stream_silver(spark, config, "available-now")
        result["silver_s"] = run.seconds
        result["silver_batches"] = len(run.batches)
        for key in ("bronze", "silver", "quarantine", "dlq", "duplicate"):
            result[f"silver_{key}"] = run.total(key)
    return result


def measure_stream(
    spark: Any,
    scratch: Scratch,
    *,
    env: str | None,
    rows: int,
    partitions: int,
    runs: int,
    warmup: int,
    seed: int,
    silver: bool = True,
) -> dict[str, Any]:
    """Load the topics once, then interleave DIP and baseline runs, each into a fresh lake."""
    topics = {"DIP__KAFKA__TOPICS__RAW_PREFIX": f"{scratch.tag}.n{rows}.raw."}  # fresh topics per size
    topics_config = scratch.config(env, lake="topics", **topics)
    loaded = load_topics(topics_config, rows, seed, partitions)
    counter = iter(range(1_000_000))

    def fresh(name: str) -> tuple[Any, Path]:
        n = next(counter)
        shutil.rmtree(scratch.root / "runs", ignore_errors=True)  # the previous run's output
        return scratch.config(env, lake=f"runs/{name}{n}", **topics), scratch.root / "runs" / f"{name}{n}"

    try:
        timings = interleaved(
            {
                "baseline": lambda: _baseline(spark, *fresh("baseline")),
                "dip": lambda: _dip(spark, fresh("dip")[0], silver),
            },
            runs,
            warmup,
        )
    finally:
        shutil.rmtree(scratch.root / "runs", ignore_errors=True)  # topics: Scratch.cleanup, after the session
    base_runs = [r["seconds"] for r in timings["baseline"].results]
    bronze_runs = [r["bronze_s"] for r in timings["dip"].results]
    result: dict[str, Any] = {
        "rows": rows,
        "load": loaded,
        "trigger": "available-now",
        "max_offsets_per_trigger": topics_config.streaming.max_offsets_per_trigger,
        "runs": runs,
        "warmup": warmup,
        "baseline": {
            "what": "Spark Kafka source (same options) -> parquet, available-now",
            **summary(base_runs, rows),
            "rows_written": timings["baseline"].result["rows"],
        },
        "bronze": {**summary(bronze_runs, rows), "counts": _counts(timings["dip"].result, "bronze_")},
    }
    result["ratios"] = {"bronze": round(result["baseline"]["median_s"] / result["bronze"]["median_s"], 3)}
    if silver:
        silver_runs = [r["silver_s"] for r in timings["dip"].results]
        both_runs = [r["bronze_s"] + r["silver_s"] for r in timings["dip"].results]
        result["silver"] = {**summary(silver_runs, rows), "counts": _counts(timings["dip"].result, "silver_")}
        result["bronze_silver"] = summary(both_runs, rows)
        both_s = result["bronze_silver"]["median_s"]
        result["ratios"]["bronze_silver"] = round(result["baseline"]["median_s"] / both_s, 3)
    result["goals"] = {k: v for k, v in GOALS.items() if k in result["ratios"]}
    return result


def _counts(result: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): v for k, v in result.items() if k.startswith(prefix) and not k.endswith("_s")}


def report(result: dict[str, Any]) -> str:
    """Human-readable lines of a stream result."""
    lines = [
        f"{result['rows']:,} snapshots in {len(result['load']['topics'])} topics x "
        f"{result['load']['partitions_per_topic']} partitions (loaded in {result['load']['load_s']}s)",
        side_line("baseline Kafka -> parquet", result["baseline"]),
        side_line("DIP bronze", result["bronze"], f"ratio {result['ratios']['bronze']} (goal >= {GOALS['bronze']})"),
    ]
    if "bronze_silver" in result:
        goal = f"ratio {result['ratios']['bronze_silver']} (goal >= {GOALS['bronze_silver']})"
        lines.append(side_line("DIP bronze + silver", result["bronze_silver"], goal))
    return "\n".join(lines)


def main() -> int:
    parser = bench_parser(__doc__, rows=1_000_000)
    parser.add_argument("--partitions", type=int, default=3, help="partitions per raw topic")
    parser.add_argument("--bronze-only", action="store_true", help="skip stream_silver")
    args = parser.parse_args()

    return run_spark_benchmark(
        "stream",
        lambda spark, scratch, _config: measure_stream(
            spark,
            scratch,
            env=args.env,
            rows=args.rows,
            partitions=args.partitions,
            runs=args.runs,
            warmup=args.warmup,
            seed=args.seed,
            silver=not args.bronze_only,
        ),
        report,
        env=args.env,
        results_dir=args.results_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
