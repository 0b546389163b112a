"""Live push throughput: stream_live catching up on N changed posts vs a single-thread pipelined redis-py loop
writing the same hashes, in the same run.

Setup (untimed): silver ``posts`` and ``post_metrics`` with two snapshots per post (Change Data Feed on),
as stream_silver leaves them. Sides, interleaved run by run (each starts from an empty Redis db and,
for stream_live, a new checkpoint):

- ``stream_live``: the whole query, available-now: one micro-batch of 2N change rows -> N post_live
  hashes (CDF read, time-travel read, rates window, executor writes with compare-and-set, progress).
- ``write_step``: only its executor write (``write_online`` over the live rows, cached).
- ``single_thread_cas``: the same N rows as dicts in the driver (collected before timing), one thread,
  :func:`dip.online.write_batch` (the same Lua compare-and-set), ``online.batch_size`` rows per round trip.
- ``single_thread_hset``: the same, encoded and written with plain pipelined HSET + EXPIRE (no CAS).

Goal: stream_live >= 1.5x single_thread_cas. Writes results/live_push.json.

    .venv/bin/python benchmarks/live_push.py [--rows 100000] [--runs 3] [--db 13]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Scratch, bench_parser, interleaved, rate, run_spark_benchmark
from online_push import _plain_loop

VIEW = "post_live"
BASE_MS = 1_795_000_000_000  # 2026-11-18


def _silver(spark: Any, config: Any, rows: int) -> None:
    """Silver posts and two post_metrics snapshots per post (two commits, like two ingest runs)."""
    from pyspark.sql import functions as F

    from dip.silver.merge import SPECS, ensure_table
    from dip.tables import SILVER_POST_METRICS, SILVER_POSTS

    ids = spark.range(rows, numPartitions=2).select(
        F.concat(F.lit("lp"), F.col("id").cast("string")).alias("post_id"), "id"
    )
    posts = ids.select(
        "post_id", F.lit("instagram").alias("source"), (F.col("id") % 50).cast("string").alias("account_id"),
        F.lit("caption").alias("caption"), F.array().cast("array<string>").alias("hashtags"),
        F.array().cast("array<string>").alias("mentions"), F.lit("IMAGE").alias("media_type"),
        F.lit(None).cast("string").alias("permalink"), F.timestamp_millis(F.lit(BASE_MS)).alias("created_at"),
        F.timestamp_millis(F.lit(BASE_MS)).alias("updated_at"),
    )  # fmt: skip
    posts.write.format("delta").mode("overwrite").partitionBy("source").save(SILVER_POSTS.path(config))
    ensure_table(spark, SILVER_POST_METRICS.path(config), SPECS["post_metrics"])
    for run, hours in (("r1", 2), ("r2", 5)):
        views = F.col("id") * hours + 100
        likes = F.when(F.col("id") % 7 == 0, None).otherwise(F.col("id") % 90 * hours)
        metrics = ids.select(
            "post_id", F.lit("instagram").alias("source"), (F.col("id") % 50).cast("string").alias("account_id"),
            F.lit(run).alias("run_id"), F.timestamp_millis(F.lit(BASE_MS + hours * 3_600_000)).alias("captured_at"),
            views.alias("views"), likes.alias("likes"), (F.col("id") % 11).alias("comments"),
            F.lit(1).cast("long").alias("shares"), F.lit(0).cast("long").alias("saves"), views.alias("reach"),
            (likes / views).alias("engagement_ratio"),
        )  # fmt: skip
        metrics.write.format("delta").mode("append").save(SILVER_POST_METRICS.path(config))


def _flush(config: Any) -> None:
    from dip.online import make_client

    client = make_client(config.redis)
    client.flushdb()
    client.close()


def measure(spark: Any, scratch: Scratch, config: Any, rows: int, runs: int, warmup: int) -> dict[str, Any]:
    import shutil

    from pyspark.sql import functions as F

    from dip.features.live import post_live
    from dip.features.live_job import _with_version, run_stream_live
    from dip.online import make_client, view_specs, write_batch
    from dip.online.spark_write import write_online
    from dip.tables import SILVER_POST_METRICS, SILVER_POSTS, checkpoint_path

    _silver(spark, config, rows)
    view = view_specs(config.online)[VIEW]
    version = 2  # the snapshot version of the second metrics commit (0: create, 1: r1, 2: r2)
    live = (
        post_live(
            spark.read.format("delta").load(SILVER_POST_METRICS.path(config)),
            spark.read.format("delta").load(SILVER_POSTS.path(config)),
        )
        .withColumn("_fsv", F.lit(1).cast("long"))
        .select("entity_id", "_ts", "_fsv", *view.features)
        .repartition(2)
        .cache()
    )
    prepare = _with_version(version)
    dicts = [prepare(r.asDict()) for r in live.collect()]
    assert len(dicts) == rows
    checkpoint = Path(checkpoint_path(config, "stream_live_posts").removeprefix("file://"))

    def stream_live() -> int:
        _flush(config)
        shutil.rmtree(checkpoint, ignore_errors=True)
        summaries = run_stream_live(spark, config, "available-now")
        written = sum(s.total("written") for s in summaries)
        assert written == rows, (written, rows)
        return written

    def write_step() -> int:
        _flush(config)
        return write_online(live, config.redis, view, config.online.batch_size, prepare).written

    def single_thread_cas() -> int:
        _flush(config)
        client = make_client(config.redis)
        try:
            return write_batch(client, dicts, view, batch_size=config.online.batch_size).written
        finally:
            client.close()

    def single_thread_hset() -> int:
        _flush(config)
        _plain_loop(config, view, dicts, config.online.batch_size)  # online_push's baseline, the same loop
        return len(dicts)

    sides = {
        "stream_live": stream_live,
        "write_step": write_step,
        "single_thread_cas": single_thread_cas,
        "single_thread_hset": single_thread_hset,
    }
    timings = interleaved(sides, runs=runs, warmup=warmup)
    _flush(config)
    figures = {
        name: {
            "median_s": round(t.median_s, 3),
            "runs_s": [round(s, 3) for s in t.runs_s],
            "rows_per_s": rate(rows, t.median_s),
        }
        for name, t in timings.items()
    }
    base = timings["single_thread_cas"].median_s
    return {
        "rows": rows,
        "view": VIEW,
        "features": len(view.features),
        "redis_batch_size": config.online.batch_size,
        "sides": figures,
        "stream_live_vs_single_thread_cas": round(base / timings["stream_live"].median_s, 2),
        "write_step_vs_single_thread_cas": round(base / timings["write_step"].median_s, 2),
        "stream_live_vs_single_thread_hset": round(
            timings["single_thread_hset"].median_s / timings["stream_live"].median_s, 2
        ),
        "write_step_vs_single_thread_hset": round(
            timings["single_thread_hset"].median_s / timings["write_step"].median_s, 2
        ),
        "goal": "stream_live >= 1.5x single_thread_cas",
    }


def report(result: dict[str, Any]) -> str:
    sides = result["sides"]
    lines = [f"{result['rows']:,} post_live hashes:"]
    lines += [f"  {name}: {s['median_s']:.2f}s ({s['rows_per_s']:,} rows/s)" for name, s in sides.items()]
    lines.append(
        f"  stream_live vs single-thread CAS loop: {result['stream_live_vs_single_thread_cas']}x "
        f"(write step alone {result['write_step_vs_single_thread_cas']}x; vs plain HSET loop "
        f"{result['stream_live_vs_single_thread_hset']}x); goal >= 1.5x"
    )
    return "\n".join(lines)


def main() -> int:
    parser = bench_parser(__doc__, rows=100_000, runs=3)
    parser.add_argument("--db", type=int, default=13, help="Redis db of its own (flushed)")
    args = parser.parse_args()

    def config(scratch: Scratch) -> Any:
        cfg = scratch.config(args.env, DIP__REDIS__DB=str(args.db))
        cfg.online.views = {k: v for k, v in cfg.online.views.items() if k == VIEW}
        return cfg

    return run_spark_benchmark(
        "live_push",
        lambda spark, scratch, cfg: measure(spark, scratch, cfg, args.rows, args.runs, args.warmup),
        report,
        env=args.env,
        results_dir=args.results_dir,
        config=config,
        cleanup=_flush,
    )


if __name__ == "__main__":
    sys.exit(main())
