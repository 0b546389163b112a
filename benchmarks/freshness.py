"""Freshness: API record fetched -> served by /v1/features, through the available-now chain on the local stack.

The bundled simulator serves the seeded sellers on a free port; every round advances its clock one
tick (every post's metrics change), then runs the library's pipeline functions, exactly what
`dip demo` calls: ``run_ingest`` -> ``run_stream_bronze`` -> ``run_stream_silver`` (available-now)
-> ``run_features`` (today) -> ``push_online`` -> a GET of one post's features from the FastAPI app.
A warm-up round (JVM, first tables) is not counted. Per round: seconds from the first record's
fetch (ingest start, an upper bound) and from the last record's fetch (ingest end) to the
response that shows the new snapshot (its version changed and ``snapshot_count`` grew), plus the
time of every stage. Reports p50/p95 over the rounds. Uses its own lake, topics and Redis db
(only that db's ``dip:*`` keys, which it wrote, are deleted after). Writes <results-dir>/freshness.json.

``--live``: long-running queries instead (``run_stream_all(..., live=True)`` with ``--trigger``, default
processing-time=2 seconds: bronze, silver and stream_live in the same Spark application): per round only
``run_ingest`` runs; the clock stops when ``GET /v1/features/post_live/{id}`` serves the post's new
snapshot (its ``event_ts_ms`` moved), i.e. API fetch -> live view served (goal p95 <= 30 s). On the way it
notes when the snapshot became a silver ``post_metrics`` row (delta-rs, JVM-free), so each round splits
into ingest, ingest end -> silver row, silver row -> served. Writes freshness_live.json.

    .venv/bin/python benchmarks/freshness.py [--runs 5 (measured rounds)] [--db 11] [--live]
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Scratch, bench_parser, percentile, run_spark_benchmark

VIEW = "post_features_daily"
LIVE_VIEW = "post_live"


def _timed(stages: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = fn()
    stages[name] = round(time.perf_counter() - started, 3)
    return result


def _one_round(spark: Any, config: Any, client: httpx.Client, post_id: str, before: dict[str, Any] | None) -> dict:
    """Ingest what changed, run the chain, read the post back; latencies from fetch to visible."""
    from dip.connectors.ingest import run_ingest
    from dip.features.batch import run_features
    from dip.features.push import push_online
    from dip.silver.stream_job import run_stream_silver
    from dip.streaming.bronze_job import run_stream_bronze

    stages: dict[str, float] = {}
    first_fetch = time.time()
    summaries = _timed(stages, "ingest", lambda: run_ingest(config, "all"))
    last_fetch = time.time()
    errors = [e for s in summaries for e in s.errors]
    if errors:
        raise RuntimeError(f"ingest failed: {errors[0]}")
    bronze = _timed(stages, "bronze", lambda: run_stream_bronze(spark, config, "available-now"))
    silver = _timed(stages, "silver", lambda: run_stream_silver(spark, config, "available-now"))
    today = datetime.now(UTC).date()
    _timed(stages, "features", lambda: run_features(spark, config, today, today, force=True))
    pushes = _timed(stages, "push", lambda: push_online(spark, config, [VIEW]))
    response = _timed(stages, "http_read", lambda: client.get(f"/v1/features/{VIEW}/{post_id}"))
    visible = time.time()
    response.raise_for_status()
    body = response.json()
    fresh = before is None or (
        body["version"] != before["version"]
        and body["features"]["snapshot_count"] > before["features"]["snapshot_count"]
    )
    return {
        "records": sum(s.records for s in summaries),
        "bronze_rows": bronze.total("bronze"),
        "silver_rows": silver.total("silver"),
        "pushed": sum(p.written for p in pushes),
        "served_snapshot_count": body["features"]["snapshot_count"],
        "served_new_snapshot": fresh,
        "first_fetch_to_visible_s": round(visible - first_fetch, 3),
        "last_fetch_to_visible_s": round(visible - last_fetch, 3),
        "stages_s": stages,
        "_body": body,
    }


def measure_freshness(spark: Any, scratch: Scratch, config: Any, *, rounds: int, warmup: int, seed: int) -> dict:
    """Simulator + serving app in threads; ``warmup`` uncounted rounds, then ``rounds`` measured ones."""
    from dip.serving.app import create_app as serving_app
    from dip_local.simulator import build_dataset
    from dip_local.simulator import create_app as simulator_app
    from dip_local.simulator.server import background_server

    post_id = next(iter(build_dataset(seed).instagram.values())).posts[0].id
    serving_config, key = _serving_config(config)
    measured: list[dict[str, Any]] = []
    port = int(config.connectors.instagram.base_url.rsplit(":", 1)[1])
    with (
        background_server(simulator_app(seed), port=port) as simulator,
        background_server(serving_app(serving_config)) as api,
        httpx.Client(base_url=api, headers={"X-API-Key": key}, timeout=10) as client,
    ):
        before = None
        for n in range(warmup + rounds):
            if n:
                httpx.post(f"{simulator}/_sim/advance", json={"ticks": 1}, timeout=10).raise_for_status()
            result = _one_round(spark, config, client, post_id, before)
            before = result.pop("_body")
            result["warmup"] = n < warmup
            measured.append(result)
            print(
                f"round {n + 1 - warmup if n >= warmup else 'warm-up'}: fetch -> visible "
                f"{result['first_fetch_to_visible_s']:.1f}s (last record {result['last_fetch_to_visible_s']:.1f}s), "
                f"stages {result['stages_s']}"
            )
    counted = [r for r in measured if not r["warmup"]]
    first = [r["first_fetch_to_visible_s"] for r in counted]
    last = [r["last_fetch_to_visible_s"] for r in counted]
    stage_names = counted[0]["stages_s"] if counted else {}
    return {
        "chain": "simulator API -> ingest -> Kafka -> bronze -> silver -> features -> Redis -> GET /v1/features",
        "rounds": len(counted),
        "warmup_rounds": warmup,
        "entity": {"view": VIEW, "post_id": post_id},
        "first_fetch_to_visible": {"p50_s": percentile(first, 50), "p95_s": percentile(first, 95)},
        "last_fetch_to_visible": {"p50_s": percentile(last, 50), "p95_s": percentile(last, 95)},
        "stage_median_s": {s: round(statistics.median(r["stages_s"][s] for r in counted), 3) for s in stage_names},
        "all_rounds_served_new_snapshot": all(r["served_new_snapshot"] for r in counted),
        "per_round": measured,
    }


def _silver_snapshots(config: Any, post_id: str) -> int:
    """Silver post_metrics rows of ``post_id`` (one per ingest run), read without a JVM."""
    from deltalake import DeltaTable

    from dip.tables import SILVER_POST_METRICS

    path = SILVER_POST_METRICS.path(config).removeprefix("file://")
    try:
        table = DeltaTable(path)
    except Exception:  # not created yet, or its first commit is still being written
        return 0
    return table.to_pyarrow_table(columns=["post_id"], filters=[("post_id", "=", post_id)]).num_rows


def _served_event_ts(client: httpx.Client, post_id: str) -> int | None:
    """``event_ts_ms`` of the post's live view as the API serves it, or None while it has none."""
    response = client.get(f"/v1/features/{LIVE_VIEW}/{post_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return int(response.json()["event_ts_ms"])


def _wait_round(
    config: Any, client: httpx.Client, post_id: str, silver_before: int, served_before: int | None, errors: list
) -> tuple[float, int, float, int]:
    """Poll until the post's new snapshot is a silver row and then served live: (silver time, silver rows,
    served time, served event_ts)."""
    deadline = time.time() + 600
    silver_at = served_at = None
    seen = silver_before
    served = served_before
    while served_at is None:
        if errors:
            raise errors[0]
        if time.time() > deadline:
            raise TimeoutError(f"no new live snapshot of {post_id} served in 600 s")
        if silver_at is None and (seen := _silver_snapshots(config, post_id)) > silver_before:
            silver_at = time.time()
        if (served := _served_event_ts(client, post_id)) is not None and served != served_before:
            served_at = time.time()
            silver_at = silver_at or served_at  # both became visible between two polls
        else:
            time.sleep(0.2)
    return silver_at, seen, served_at, served  # type: ignore[return-value]


def measure_live(spark: Any, config: Any, *, rounds: int, warmup: int, seed: int, trigger: str) -> dict:
    """Long-running bronze, silver and live queries; each round: advance the simulator, ingest, wait until the
    post's new snapshot is served by the live view (noting when it reached silver)."""
    import threading

    from dip.connectors.ingest import run_ingest
    from dip.serving.app import create_app as serving_app
    from dip.stream_all import run_stream_all
    from dip_local.simulator import build_dataset
    from dip_local.simulator import create_app as simulator_app
    from dip_local.simulator.server import background_server

    post_id = next(iter(build_dataset(seed).instagram.values())).posts[0].id
    port = int(config.connectors.instagram.base_url.rsplit(":", 1)[1])
    errors: list[BaseException] = []

    def streams() -> None:
        try:
            run_stream_all(spark, config, trigger, live=True)
        except BaseException as exc:  # reported below
            errors.append(exc)

    measured: list[dict[str, Any]] = []
    thread = threading.Thread(target=streams, name="stream_all", daemon=True)
    serving_config, key = _serving_config(config)
    with (
        background_server(simulator_app(seed), port=port) as simulator,
        background_server(serving_app(serving_config)) as api,
        httpx.Client(base_url=api, headers={"X-API-Key": key}, timeout=10) as client,
    ):
        thread.start()
        silver_before, served_before = 0, None
        try:
            for n in range(warmup + rounds):
                if n:
                    httpx.post(f"{simulator}/_sim/advance", json={"ticks": 1}, timeout=10).raise_for_status()
                first_fetch = time.time()
                summaries = run_ingest(config, "all")
                last_fetch = time.time()
                silver_at, silver_before, served_at, served_before = _wait_round(
                    config, client, post_id, silver_before, served_before, errors
                )
                result = {
                    "records": sum(s.records for s in summaries),
                    "served_event_ts": served_before,
                    "ingest_s": round(last_fetch - first_fetch, 3),
                    "to_silver_s": round(silver_at - last_fetch, 3),
                    "silver_to_served_s": round(served_at - silver_at, 3),
                    "first_fetch_to_silver_s": round(silver_at - first_fetch, 3),
                    "first_fetch_to_visible_s": round(served_at - first_fetch, 3),
                    "last_fetch_to_visible_s": round(served_at - last_fetch, 3),
                    "warmup": n < warmup,
                }
                measured.append(result)
                label = n + 1 - warmup if n >= warmup else "warm-up"
                print(
                    f"round {label}: fetch -> live view served {result['first_fetch_to_visible_s']:.1f}s "
                    f"(ingest {result['ingest_s']:.1f}s, -> silver {result['to_silver_s']:.1f}s, "
                    f"silver -> served {result['silver_to_served_s']:.1f}s)"
                )
        finally:
            for query in spark.streams.active:
                query.stop()
            thread.join(120)
    return _live_result(measured, warmup, post_id)


def _serving_config(config: Any) -> tuple[Any, str]:
    """A copy of ``config`` whose API accepts one fresh key for every view; (config, key)."""
    from dip.config.models import ApiKeyConfig

    key = secrets.token_urlsafe(24)
    serving_config = config.model_copy(deep=True)
    serving_config.serving.api_keys = {
        "bench": ApiKeyConfig(sha256=hashlib.sha256(key.encode()).hexdigest(), scopes=["features:*"])
    }
    return serving_config, key


def _live_result(measured: list[dict[str, Any]], warmup: int, post_id: str) -> dict[str, Any]:
    counted = [r for r in measured if not r["warmup"]]
    first = [r["first_fetch_to_visible_s"] for r in counted]
    last = [r["last_fetch_to_visible_s"] for r in counted]
    stages = ("ingest_s", "to_silver_s", "silver_to_served_s")
    medians = {s.removesuffix("_s"): round(statistics.median(r[s] for r in counted), 3) for s in stages}
    total = sum(medians.values()) or 1.0
    return {
        "chain": f"simulator API -> ingest -> Kafka -> bronze -> silver -> stream_live -> Redis -> GET {LIVE_VIEW}",
        "rounds": len(counted),
        "warmup_rounds": warmup,
        "entity": {"view": LIVE_VIEW, "post_id": post_id},
        "first_fetch_to_visible": {"p50_s": percentile(first, 50), "p95_s": percentile(first, 95)},
        "last_fetch_to_visible": {"p50_s": percentile(last, 50), "p95_s": percentile(last, 95)},
        "first_fetch_to_silver": {"p50_s": percentile([r["first_fetch_to_silver_s"] for r in counted], 50)},
        "stage_median_s": medians,
        "stage_share": {s: round(v / total, 3) for s, v in medians.items()},
        "goal_p95_s": 30,
        "per_round": measured,
    }


def report(result: dict[str, Any]) -> str:
    """Human-readable lines of a freshness result."""
    f, last = result["first_fetch_to_visible"], result["last_fetch_to_visible"]
    return (
        f"{result['rounds']} rounds: record fetched -> visible in {result['chain'].rsplit(' -> ', 1)[-1]} "
        f"p50 {f['p50_s']:.1f}s, "
        f"p95 {f['p95_s']:.1f}s (last record of the round: p50 {last['p50_s']:.1f}s, p95 {last['p95_s']:.1f}s)\n"
        f"  median stage seconds: {result['stage_median_s']}"
    )


def bench_config(scratch: Scratch, env: str | None, db: int) -> Any:
    """Scratch config aimed at a simulator on a free port, with its dev credentials and Redis ``db``."""
    from dip_local.demo.credentials import simulator_environment
    from dip_local.simulator.server import free_port

    url = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    return scratch.config(
        env,
        **simulator_environment(),
        DIP__CONNECTORS__INSTAGRAM__BASE_URL=url,
        DIP__CONNECTORS__TIKTOK__BASE_URL=url,
        DIP__CONNECTORS__RAW_ZONE_ENABLED="false",
        DIP__REDIS__DB=str(db),
    )


def clean_db(config: Any) -> None:
    """Delete the ``dip:*`` keys of the benchmark's own Redis db."""
    from dip_local.demo.clean import clean_online

    clean_online(config)


def main() -> int:
    parser = bench_parser(__doc__, rows=None, runs=5)
    parser.add_argument("--db", type=int, default=11, help="Redis db of its own (its dip:* keys are deleted)")
    parser.add_argument("--live", action="store_true", help="long-running queries: API fetch -> live view served")
    parser.add_argument("--trigger", default="processing-time=2 seconds", help="trigger of the --live queries")
    args = parser.parse_args()

    if args.live:
        return run_spark_benchmark(
            "freshness_live",
            lambda spark, scratch, config: {
                "trigger": args.trigger,
                **measure_live(
                    spark, config, rounds=args.runs, warmup=args.warmup, seed=args.seed, trigger=args.trigger
                ),
            },
            report,
            env=args.env,
            results_dir=args.results_dir,
            config=lambda scratch: bench_config(scratch, args.env, args.db),
            cleanup=clean_db,
        )
    return run_spark_benchmark(
        "freshness",
        lambda spark, scratch, config: {
            "trigger": "available-now",
            **measure_freshness(spark, scratch, config, rounds=args.runs, warmup=args.warmup, seed=args.seed),
        },
        report,
        env=args.env,
        results_dir=args.results_dir,
        config=lambda scratch: bench_config(scratch, args.env, args.db),
        cleanup=clean_db,
    )


if __name__ == "__main__":
    sys.exit(main())
