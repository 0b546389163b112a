"""Silver micro-batch cost on a warm long-running query: wall time, Spark jobs and Delta commits per batch.

Loads N seeded snapshots into fresh raw topics and runs stream_bronze. Then stream_silver runs as a
long-running query (processing-time trigger): its first batch takes all of bronze (warm-up), then
one-row batches are fed by appending one new bronze row at a time (a new snapshot of an existing
post, a new Kafka offset); each batch is timed, and its Spark jobs and Delta commits are counted:

- **jobs**: from Spark's event log (``spark.eventLog.enabled``; the EventLoggingListener is a
  SparkListener): every ``SparkListenerJobStart`` whose properties carry the silver query's id and
  ``streaming.sql.batchId``; the foreachBatch function runs on the query's thread, so its jobs do too.
- **commits**: new files in every lake table's ``_delta_log`` (bronze excluded), read right after
  the batch's function returned.

Bounded state: after the first one-row batches, the ledger (dedup state) and the snapshot tables get
``--history`` - 1 more copies of everything silver holds, dated 10, 20, ... days earlier (outside the
lateness window, as a long-running pipeline's past is), and the same number of one-row batches runs
again: the ratio of the two medians is the cost of history (goal <= 1.2 at 10x).
Writes <results-dir>/silver_batch.json.

    .venv/bin/python benchmarks/silver_batch.py [--rows 2000] [--batches 3] [--history 10]
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Scratch, bench_parser, environment, load_topics, write_result


def _delta_versions(lake: Path) -> dict[str, int]:
    """Commit files per Delta table under ``lake`` (bronze left out: the benchmark appends to it)."""
    out = {}
    for log in lake.rglob("_delta_log"):
        table = str(log.parent.relative_to(lake))
        if table.startswith("bronze"):
            continue
        out[table] = sum(1 for p in log.glob("*.json") if p.stem.isdigit())
    return out


def _jobs_per_batch(event_dir: Path, query_id: str) -> dict[int, list[dict[str, Any]]]:
    """Jobs per micro-batch id of the query ``query_id`` (what ran, seconds), read from the event log."""
    jobs: dict[int, list[dict[str, Any]]] = {}
    started: dict[int, tuple[int, dict[str, Any]]] = {}
    for log in event_dir.iterdir():
        with log.open(encoding="utf-8") as lines:
            for line in lines:
                if '"SparkListenerJobStart"' in line:
                    event = json.loads(line)
                    props = event.get("Properties") or {}
                    if props.get("sql.streaming.queryId") != query_id or "streaming.sql.batchId" not in props:
                        continue
                    stages = event.get("Stage Infos") or [{}]
                    job = {"what": props.get("spark.job.description") or stages[-1].get("Stage Name", "?")}
                    started[event["Job ID"]] = (event["Submission Time"], job)
                    jobs.setdefault(int(props["streaming.sql.batchId"]), []).append(job)
                elif '"SparkListenerJobEnd"' in line:
                    event = json.loads(line)
                    if event["Job ID"] in started:
                        submitted, job = started.pop(event["Job ID"])
                        job["seconds"] = round((event["Completion Time"] - submitted) / 1000, 3)
    return jobs


def _append_one_bronze_row(spark: Any, bronze: str, k: int) -> None:
    """A new ingest run's snapshot of one existing post: new offset and run, newest fetched_at, more likes."""
    from pyspark.sql import functions as F

    table = spark.read.format("delta").load(bronze)
    newest = table.agg(F.max("fetched_at")).first()[0]
    row = table.where("source = 'instagram' AND entity = 'media'").orderBy("offset").limit(1)
    new = (
        row.withColumn("offset", F.lit(10**12 + k).cast("bigint"))
        .withColumn("run_id", F.lit(f"bench-live-{k}"))
        .withColumn("fetched_at", F.lit(newest).cast("timestamp") + F.expr(f"INTERVAL {k} MINUTES"))
        .withColumn("payload", F.regexp_replace("payload", '"like_count":\\s*([0-9]+)', f'"like_count":{10**6 + k}'))
    )
    new.write.format("delta").mode("append").save(bronze)


def _add_history(spark: Any, config: Any, copies: int) -> dict[str, int]:
    """``copies`` more of the ledger and snapshot tables, each copy dated 10 more days back, new keys."""
    from pyspark.sql import functions as F

    from dip.tables import SILVER_LEDGER, SILVER_POST_CAPTIONS, SILVER_POST_METRICS

    added = {}
    for table, time_col, key_col in (
        (SILVER_LEDGER, "fetched_at", "content_key"),
        (SILVER_POST_METRICS, "captured_at", "run_id"),
        (SILVER_POST_CAPTIONS, "captured_at", "run_id"),
    ):
        current = spark.read.format("delta").load(table.path(config)).persist()
        before = current.count()
        frames = [
            current.withColumn(time_col, F.col(time_col) - F.expr(f"INTERVAL {10 * i} DAYS")).withColumn(
                key_col, F.concat(F.col(key_col), F.lit(f"-h{i}"))
            )
            for i in range(1, copies + 1)
        ]
        history = frames[0]
        for frame in frames[1:]:
            history = history.unionByName(frame)
        if "event_date" in current.columns:
            history = history.withColumn("event_date", F.to_date("fetched_at"))
        history.write.format("delta").mode("append").save(table.path(config))
        added[table.name] = before * copies  # (counted before the append: the write invalidates the cache)
        current.unpersist()
    return added


def measure(
    spark: Any, scratch: Scratch, config: Any, *, rows: int, batches: int, history: int, seed: int, event_dir: Path
) -> dict:
    from dip.silver.stream_job import run_stream_silver
    from dip.streaming.bronze_job import run_stream_bronze
    from dip.tables import BRONZE_EVENTS

    load = load_topics(config, rows, seed, partitions=3)
    bronze_run = run_stream_bronze(spark, config, "available-now")
    lake = Path(config.lake.root.removeprefix("file://"))
    done: list[dict[str, Any]] = []
    arrived = threading.Condition()

    def on_batch(b: Any) -> None:
        with arrived:
            done.append({"batch_id": b.batch_id, "seconds": b.seconds, "counts": dict(b.counts),
                         "commits_after": _delta_versions(lake)})  # fmt: skip
            arrived.notify_all()

    def wait_for(n: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        with arrived:
            while len(done) < n:
                if not arrived.wait(timeout=max(0.1, deadline - time.monotonic())) and time.monotonic() > deadline:
                    raise TimeoutError(f"silver batch {n - 1} did not finish in {timeout} s")

    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_stream_silver(spark, config, "processing-time=1 second", on_batch)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    before = _delta_versions(lake)
    thread = threading.Thread(target=run, name="stream_silver", daemon=True)
    thread.start()
    wait_for(1)
    query_id = next(q.id for q in spark.streams.active if q.name == "stream_silver")
    for k in range(1, batches + 1):
        _append_one_bronze_row(spark, BRONZE_EVENTS.path(config), k)
        wait_for(k + 1)
    history_rows = _add_history(spark, config, history - 1) if history > 1 else {}
    for k in range(batches + 1, 2 * batches + 1 if history > 1 else batches + 1):
        _append_one_bronze_row(spark, BRONZE_EVENTS.path(config), k)
        wait_for(k + 1)
    for q in spark.streams.active:
        q.stop()
    thread.join(60)
    if errors:
        raise errors[0]
    spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(10_000)
    spark.stop()
    jobs = _jobs_per_batch(event_dir, query_id)
    per_batch = []
    previous = before
    for b in done:
        after = b.pop("commits_after")
        commits = {t: n - previous.get(t, 0) for t, n in after.items() if n - previous.get(t, 0)}
        previous = after
        ran = jobs.get(b["batch_id"], [])
        per_batch.append({**b, "jobs": len(ran), "job_seconds": round(sum(j.get("seconds", 0) for j in ran), 3),
                          "delta_commits": sum(commits.values()), "commits_by_table": commits,
                          "job_list": ran})  # fmt: skip
    small = per_batch[1 : batches + 1]
    later = per_batch[batches + 1 :]
    with_history = {}
    if later:
        median = statistics.median(b["seconds"] for b in later)
        with_history = {
            "factor": history,
            "rows_added": history_rows,
            "batches": later,
            "median_s": round(median, 3),
            "ratio_to_1x": round(median / statistics.median(b["seconds"] for b in small), 3),
        }
    return {
        "rows": rows,
        "load": load,
        "bronze_rows": bronze_run.total("bronze"),
        "first_batch": per_batch[0],
        "one_row_batches": small,
        "one_row": {
            "median_s": round(statistics.median(b["seconds"] for b in small), 3),
            "median_jobs": statistics.median(b["jobs"] for b in small),
            "median_delta_commits": statistics.median(b["delta_commits"] for b in small),
            "median_job_seconds": round(statistics.median(b["job_seconds"] for b in small), 3),
        },
        "with_history": with_history,
    }


def report(result: dict[str, Any]) -> str:
    first, small = result["first_batch"], result["one_row"]
    return "\n".join([
        f"silver micro-batch cost ({result['rows']:,} snapshots in bronze; load avg "
        f"{result['environment'].get('load_avg_1m')})",
        f"  first batch (all of bronze)  {first['seconds']:8.2f}s  {first['jobs']:4} jobs  "
        f"{first['delta_commits']:3} Delta commits",
        f"  one-row batch (median of {len(result['one_row_batches'])})"
        f"  {small['median_s']:6.2f}s  {small['median_jobs']:4} jobs  {small['median_delta_commits']:3} Delta commits",
        *([f"  one-row batch with {h['factor']}x history   {h['median_s']:6.2f}s  ratio to 1x {h['ratio_to_1x']}"]
          if (h := result.get("with_history")) else []),
    ])  # fmt: skip


def main() -> int:
    parser = bench_parser(__doc__, rows=2000, runs=1)
    parser.add_argument("--batches", type=int, default=3, help="one-row batches after the warm-up batch")
    parser.add_argument("--history", type=int, default=10, help="history factor for the bounded-state check (1: off)")
    args = parser.parse_args()
    from pyspark.sql import SparkSession

    from dip.spark import build_session

    scratch = Scratch("silverbatch")
    config = scratch.config(args.env)
    event_dir = scratch.root / "eventlog"
    event_dir.mkdir()
    builder = SparkSession.builder.config("spark.eventLog.enabled", "true").config(
        "spark.eventLog.dir", event_dir.as_uri()
    )
    spark = build_session(config, app_name="dip-bench-silver-batch", builder=builder)
    env = environment(spark, config)
    try:
        figures = measure(spark, scratch, config, rows=args.rows, batches=args.batches, history=args.history,
                          seed=args.seed, event_dir=event_dir)  # fmt: skip
    finally:
        spark.stop()
        scratch.cleanup()
    result = {"benchmark": "silver_batch", **figures, "environment": env}
    path = write_result("silver_batch", result, args.results_dir)
    print(report(result))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
