"""Scaling: the stream and features benchmarks at three data sizes; how their times grow with N.

For each size, runs ``stream.measure_stream`` (Kafka -> bronze -> silver and the parquet-copy
baseline) and ``features.measure_features`` in one Spark session (warm-up only before the first
size). Growth = time(N) / time(smallest N); linearity = growth / (N / smallest N), so 1.0 is
linear, < 1 sub-linear (fixed costs amortised), > 1 super-linear. Writes <results-dir>/scaling.json.

    .venv/bin/python benchmarks/scaling.py [--sizes 100000 1000000 3000000] [--runs 3] [--bronze-only]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Scratch, bench_parser, run_spark_benchmark
from features import measure_features
from stream import measure_stream

SERIES = {  # name -> path of the median seconds in a size's result
    "stream_baseline": ("stream", "baseline"),
    "stream_bronze": ("stream", "bronze"),
    "stream_bronze_silver": ("stream", "bronze_silver"),
    "features_parquet": ("features", "baseline"),
    "features_dip": ("features", "dip", "first_write"),  # the configured feature table format
}


def _dig(result: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    for key in path:
        if key == "dip":
            key = result.get("format", key)
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def growth(sizes: list[int], per_size: list[dict[str, Any]]) -> dict[str, list[dict[str, float]]]:
    """Per series: seconds, growth and linearity at every size, relative to the smallest size."""
    out: dict[str, list[dict[str, float]]] = {}
    for name, path in SERIES.items():
        if _dig(per_size[0], path) is None:
            continue
        first = _dig(per_size[0], path)["median_s"]
        out[name] = [
            {
                "rows": n,
                "median_s": _dig(r, path)["median_s"],
                "growth": round(_dig(r, path)["median_s"] / first, 3),
                "linearity": round(_dig(r, path)["median_s"] / first / (n / sizes[0]), 3),
            }
            for n, r in zip(sizes, per_size, strict=True)
        ]
    return out


def report(result: dict[str, Any]) -> str:
    """A table of seconds and growth per series and size."""
    sizes = result["sizes"]
    lines = [f"{'series':22}" + "".join(f"{n:>24,}" for n in sizes)]
    for name, points in result["growth"].items():
        cells = "".join(f"{p['median_s']:>9.2f}s x{p['growth']:<5} lin {p['linearity']:<4}" for p in points)
        lines.append(f"{name:22}{cells}")
    return "\n".join(lines)


def measure_scaling(
    spark: Any,
    scratch: Scratch,
    *,
    env: str | None,
    sizes: list[int],
    runs: int,
    warmup: int,
    seed: int,
    partitions: int,
    silver: bool = True,
    merge: bool = True,
) -> dict[str, Any]:
    """Stream and features at every size (warm-up before the first only); growth relative to the smallest."""
    sizes = sorted(sizes)
    per_size: list[dict[str, Any]] = []
    for i, rows in enumerate(sizes):
        common = {"env": env, "rows": rows, "runs": runs, "warmup": warmup if i == 0 else 0}
        stream = measure_stream(spark, scratch, **common, partitions=partitions, seed=seed, silver=silver)
        configured = scratch.config(env).features.table_format
        features = measure_features(spark, scratch, **common, merge=merge, formats=(configured,))
        per_size.append({"rows": rows, "stream": stream, "features": features})
        print(f"size {rows:,}: stream ratios {stream['ratios']}, features ratio {features['ratio']}")
    return {"sizes": sizes, "runs": runs, "growth": growth(sizes, per_size), "per_size": per_size}


def main() -> int:
    parser = bench_parser(__doc__, rows=None)
    parser.add_argument("--sizes", type=int, nargs=3, default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--bronze-only", action="store_true", help="skip stream_silver")
    parser.add_argument("--no-merge", action="store_true", help="skip the features re-run MERGE")
    args = parser.parse_args()

    return run_spark_benchmark(
        "scaling",
        lambda spark, scratch, _config: measure_scaling(
            spark,
            scratch,
            env=args.env,
            sizes=args.sizes,
            runs=args.runs,
            warmup=args.warmup,
            seed=args.seed,
            partitions=args.partitions,
            silver=not args.bronze_only,
            merge=not args.no_merge,
        ),
        report,
        env=args.env,
        results_dir=args.results_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
