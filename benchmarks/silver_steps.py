"""Silver profile: where one stream_silver micro-batch spends its time, step by step.

Loads N seeded snapshots into fresh raw topics, runs stream_bronze, then times one
``process_silver_batch`` over the whole bronze table with every top-level step wrapped in a timer
(watermarks, dedup window, classify, parse, normalise, the summary job, outcomes, the concurrent
writes; GX table-level runs only for expectations that do not hold by construction). "other" is what
no wrapper covers (the local checkpoint of the classified batch, the first count). Not a ratio
benchmark: it tells what limits the stream benchmark's silver side. For per-batch jobs and commits
see silver_batch.py. Writes <results-dir>/silver_steps.json.

    .venv/bin/python benchmarks/silver_steps.py [--rows 20000]
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Scratch, bench_parser, load_topics, run_spark_benchmark

STEPS = (  # top-level steps of process_silver_batch, none inside another ("other": the local checkpoint)
    "_watermarks",
    "_seen_window",
    "classify",
    "parse_accepted",
    "normalise_parsed",
    "_summary",
    "_final_outcomes",
    "run_writes",  # every MERGE and append of the batch, concurrently
)


def _timer(fn: Callable[..., Any], key: str, seconds: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - start

    return wrapper


def profile_silver(spark: Any, scratch: Scratch, *, env: str | None, rows: int, seed: int) -> dict[str, Any]:
    """Bronze from N fresh snapshots, then one timed silver batch over all of bronze."""
    import dip.silver.process as process
    from dip.silver.stream_job import silver_settings
    from dip.streaming.bronze_job import run_stream_bronze
    from dip.tables import BRONZE_EVENTS

    config = scratch.config(env, lake=f"n{rows}", DIP__KAFKA__TOPICS__RAW_PREFIX=f"{scratch.tag}.n{rows}.raw.")
    loaded = load_topics(config, rows, seed, partitions=3)
    start = time.perf_counter()
    bronze = run_stream_bronze(spark, config)
    bronze_s = time.perf_counter() - start
    settings = silver_settings(config)
    seconds: dict[str, float] = {}
    originals = {name: getattr(process, name) for name in STEPS}
    validate = settings.validator.validate
    try:
        for name, fn in originals.items():
            setattr(process, name, _timer(fn, name, seconds))
        settings.validator.validate = _timer(validate, "gx_table_level", seconds)  # type: ignore[method-assign]
        seconds["gx_table_level"] = 0.0  # only expectations that do not hold by construction run in GX
        batch = spark.read.format("delta").load(BRONZE_EVENTS.path(config))
        start = time.perf_counter()
        counts = process.process_silver_batch(batch, 1, config, settings)
        total = time.perf_counter() - start
    finally:
        for name, fn in originals.items():
            setattr(process, name, fn)
    steps = dict(sorted(seconds.items(), key=lambda kv: -kv[1]))
    steps["other"] = total - sum(seconds.values())
    return {
        "rows": rows,
        "load": loaded,
        "bronze_s": round(bronze_s, 3),
        "bronze_rows": bronze.total("bronze"),
        "silver_batch_s": round(total, 3),
        "silver_counts": {k: v for k, v in counts.items() if not k.startswith("_")},
        "steps_s": {k: round(v, 3) for k, v in steps.items()},
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{result['rows']:,} snapshots: bronze {result['bronze_s']:.1f}s, "
        f"one silver batch {result['silver_batch_s']:.1f}s ({result['silver_counts'].get('silver', 0):,} silver rows)"
    ]
    total = result["silver_batch_s"] or 1.0
    lines += [f"  {name:22s} {s:7.1f}s  {100 * s / total:5.1f}%" for name, s in result["steps_s"].items()]
    return "\n".join(lines)


def main() -> int:
    parser = bench_parser(__doc__, rows=20_000, runs=1)
    args = parser.parse_args()
    return run_spark_benchmark(
        "silver_steps",
        lambda spark, scratch, _config: profile_silver(spark, scratch, env=args.env, rows=args.rows, seed=args.seed),
        report,
        env=args.env,
        results_dir=args.results_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
