"""Online push throughput and feature write cost, against baselines measured in the same run.

1. Feature write: the feature store's upsert of a synthetic post_features_daily day (first write:
   append; re-run: MERGE that changes nothing) vs a plain parquet write of the same cached DataFrame.
2. push_online (Spark, foreachPartition on every core, Lua compare-and-set per row, pipelined) vs
   a single-threaded pipelined redis-py loop writing the same hashes from the driver (a: the same
   ``write_batch`` CAS script, b: plain HSET + EXPIRE), and ``redis-benchmark -t hset -P 16`` as the
   server's ceiling (requests/s of one-field HSETs, so an optimistic bound for 18-field rows).

Uses a temporary lake and Redis db ``--db`` (default 9); only the keys it wrote are deleted after.
Writes benchmarks/results/online_push.json.

    .venv/bin/python benchmarks/online_push.py [--rows 100000] [--db 9]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import FEATURE_DAY as DAY
from _common import RESULTS, synthetic_features, write_result

from dip.config import Config, load_config
from dip.features.push import latest_per_entity, online_rows, push_online
from dip.features.specs import POST_DAILY
from dip.features.store import feature_store
from dip.io.lake import delete_path
from dip.online import ViewSpec, make_client, view_specs, write_batch
from dip.online.codec import encode_row
from dip.tables import FEATURE_PUSH_STATE

VIEW = "post_features_daily"


def _timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _delete_keys(config: Config) -> int:
    client = make_client(config.redis)
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"dip:{VIEW}:bp*", count=5000):
        batch.append(key)
        if len(batch) == 5000:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    client.close()
    return deleted


def _plain_loop(config: Config, view: ViewSpec, rows: list[dict[str, Any]], batch_size: int) -> None:
    """Encode and HSET + EXPIRE every row, pipelined ``batch_size`` rows per round trip, one thread."""
    client = make_client(config.redis)
    for i in range(0, len(rows), batch_size):
        pipe = client.pipeline(transaction=False)
        for row in rows[i : i + batch_size]:
            key, _, pairs = encode_row(view, row)
            pipe.hset(key, mapping=dict(zip(pairs[::2], pairs[1::2], strict=True)))
            pipe.expire(key, view.ttl_seconds)
        pipe.execute()
    client.close()


def _redis_benchmark(config: Config, requests: int) -> dict[str, Any]:
    exe = shutil.which("redis-benchmark")
    if exe is None:
        return {"available": False, "note": "redis-benchmark not installed (apt-get install redis-tools)"}
    cmd = [exe, "-h", config.redis.host, "-p", str(config.redis.port), "--dbnum", str(config.redis.db),
           "-t", "hset", "-P", "16", "-q", "-n", str(requests)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    match = re.search(r"HSET:\s*([\d.]+)\s*requests per second", out.stdout)
    client = make_client(config.redis)
    client.unlink("myhash")  # the key redis-benchmark's HSET test writes
    client.close()
    if not match:
        return {"available": True, "error": (out.stdout + out.stderr).strip()[-300:]}
    return {"available": True, "command": " ".join(cmd[1:]), "requests_per_s": float(match.group(1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", type=int, default=9, help="Redis db to write into (keys deleted after)")
    parser.add_argument("--env", default=None)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()

    from dip.spark import build_session

    config = load_config(args.env)
    lake = Path(tempfile.mkdtemp(prefix="dip-bench-"))
    config.lake.root = lake.as_uri()
    config.redis.db = args.db
    config.spark.register_tables = False
    cores = os.cpu_count() or 2
    config.features.push_partitions = cores
    spark = build_session(config, app_name="dip-bench-online-push")
    view = view_specs(config.online)[VIEW]
    store = feature_store(spark, config)
    try:
        df = synthetic_features(spark, args.rows, config.features.text.vector_size, cores).persist()
        df.count()
        parquet_s, _ = _timed(lambda: df.write.mode("overwrite").parquet(str(lake / "plain_parquet")))
        first_s, _ = _timed(lambda: store.upsert(df, POST_DAILY, DAY.isoformat()))
        merge_s, _ = _timed(lambda: store.upsert(df, POST_DAILY, DAY.isoformat()))
        df.unpersist()

        # First push: cold (JVM JIT, Python workers start). Then forget it and push again: warm.
        _delete_keys(config)
        cold_s, pushes = _timed(lambda: push_online(spark, config, [VIEW]))
        assert pushes[0].written == args.rows, pushes
        _delete_keys(config)
        delete_path(spark, FEATURE_PUSH_STATE.path(config))
        push_s, pushes = _timed(lambda: push_online(spark, config, [VIEW]))
        assert pushes[0].written == args.rows, pushes

        commit = store.latest_commit(POST_DAILY)
        latest = latest_per_entity(store.read(POST_DAILY, commit), POST_DAILY)
        rows = [r.asDict() for r in online_rows(latest, POST_DAILY, view, commit.write_version).collect()]
        _delete_keys(config)
        client = make_client(config.redis)
        cas_s, _ = _timed(lambda: write_batch(client, rows, view, batch_size=config.online.batch_size))
        client.close()
        _delete_keys(config)
        plain_s, _ = _timed(lambda: _plain_loop(config, view, rows, config.online.batch_size))
        _delete_keys(config)
        ceiling = _redis_benchmark(config, 200_000)
    finally:
        _delete_keys(config)
        spark.stop()
        shutil.rmtree(lake, ignore_errors=True)

    n = args.rows
    push_rps, cas_rps, plain_rps = n / push_s, n / cas_s, n / plain_s
    result = {
        "benchmark": "online_push",
        "setup": {
            "rows": n,
            "view": VIEW,
            "features": len(view.features),
            "vector_size": config.features.text.vector_size,
            "table_format": config.features.table_format,
            "push_partitions": cores,
            "redis_batch_size": config.online.batch_size,
            "cpus": cores,
            "load_average_at_end": os.getloadavg(),
            "python": platform.python_version(),
            "redis": f"{config.redis.host}:{config.redis.port}/{config.redis.db}",
        },
        "feature_write": {
            "plain_parquet_s": round(parquet_s, 3),
            "feature_store_first_write_s": round(first_s, 3),
            "feature_store_rerun_merge_s": round(merge_s, 3),
            "first_write_vs_parquet": round(first_s / parquet_s, 2),
            "rerun_merge_vs_parquet": round(merge_s / parquet_s, 2),
        },
        "push": {
            "push_online_cold_s": round(cold_s, 3),
            "push_online_cold_rows_per_s": round(n / cold_s),
            "push_online_s": round(push_s, 3),
            "push_online_rows_per_s": round(push_rps),
            "push_online_includes": "ping, CDF read, latest-per-entity window, foreachPartition writes, state row",
            "baseline_single_thread_cas_s": round(cas_s, 3),
            "baseline_single_thread_cas_rows_per_s": round(cas_rps),
            "baseline_single_thread_plain_hset_rows_per_s": round(plain_rps),
            "push_vs_single_thread_cas": round(push_rps / cas_rps, 2),
            "push_vs_single_thread_plain_hset": round(push_rps / plain_rps, 2),
            "redis_benchmark": ceiling,
        },
    }
    if ceiling.get("requests_per_s"):
        result["push"]["push_vs_redis_benchmark_hset_ceiling"] = round(push_rps / ceiling["requests_per_s"], 3)
    path = write_result("online_push", result, args.results_dir)
    w, p = result["feature_write"], result["push"]
    print(f"feature write ({n:,} rows): parquet {w['plain_parquet_s']}s, feature store first write "
          f"{w['feature_store_first_write_s']}s ({w['first_write_vs_parquet']}x), re-run MERGE "
          f"{w['feature_store_rerun_merge_s']}s ({w['rerun_merge_vs_parquet']}x)")  # fmt: skip
    print(f"push_online: {p['push_online_rows_per_s']:,} rows/s warm ({p['push_online_cold_rows_per_s']:,} cold); "
          f"single-thread CAS loop "
          f"{p['baseline_single_thread_cas_rows_per_s']:,} rows/s -> {p['push_vs_single_thread_cas']}x; "
          f"plain HSET loop {p['baseline_single_thread_plain_hset_rows_per_s']:,} rows/s -> "
          f"{p['push_vs_single_thread_plain_hset']}x")  # fmt: skip
    if ceiling.get("requests_per_s"):
        print(f"redis-benchmark -t hset -P 16: {ceiling['requests_per_s']:,.0f} req/s -> push is "
              f"{p['push_vs_redis_benchmark_hset_ceiling']}x of the ceiling")  # fmt: skip
    else:
        print(f"redis-benchmark: {ceiling}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
