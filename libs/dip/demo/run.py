"""Run every pipeline stage on the embedded default and collect the figures for the summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx
from rich.console import Console

from dip.config import Config
from dip.demo.report import DemoReport, StageResult


@contextmanager
def _stage(report: DemoReport, console: Console, name: str) -> Iterator[StageResult]:
    console.print(f"[bold cyan]>> {name}[/bold cyan]")
    result = StageResult(name, 0.0)
    started = time.monotonic()
    try:
        yield result
    finally:
        result.seconds = time.monotonic() - started
        report.stages.append(result)
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
        console.print(f"   done in {result.seconds:.1f}s {counts}")


def _simulator_port(config: Config) -> int:
    return urlparse(config.connectors.instagram.base_url).port or 80


def run_demo(
    config: Config,
    console: Console,
    *,
    clean: bool = False,
    scale: int = 1,
    rounds: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Stack, simulator, ingest, streams, features, push-online, serving, reconcile; returns what happened."""
    from dip.simulator import create_app
    from dip.simulator.data import POSTS_PER_ACCOUNT
    from dip.simulator.server import background_server
    from dip.stack import stack_up

    report = DemoReport()
    if config.stack.enabled:
        with _stage(report, console, "stack up") as st:
            statuses = stack_up(config)
            st.note = ", ".join(f"{s.name} {s.action}" for s in statuses)
    if clean:
        from dip.demo.clean import clean_lake, clean_online, clean_topics

        with _stage(report, console, "clean") as st:
            st.note = (
                f"removed {clean_lake(config)}; topics {len(clean_topics(config))}; redis keys {clean_online(config)}"
            )

    app = create_app(42, posts_per_account=POSTS_PER_ACCOUNT * scale)
    with background_server(app, port=_simulator_port(config)) as simulator_url:
        console.print(f"simulator on {simulator_url} ({POSTS_PER_ACCOUNT * scale} posts per account)")
        for round_no in range(rounds):
            if round_no:
                httpx.post(f"{simulator_url}/_sim/advance", json={"ticks": 1}, timeout=10).raise_for_status()
            with _stage(report, console, f"ingest (round {round_no + 1}/{rounds})") as st:
                from dip.connectors.ingest import run_ingest

                summaries = run_ingest(config, "all")
                st.counts = {
                    "records": sum(s.records for s in summaries),
                    "unchanged": sum(s.unchanged for s in summaries),
                    "pages": sum(s.pages for s in summaries),
                    "dlq": sum(s.dlq for s in summaries),
                }
                errors = [e for s in summaries for e in s.errors]
                if errors:
                    raise RuntimeError(f"ingest failed: {errors[0]}")
    report.rows["API records published (this run)"] = sum(
        s.counts.get("records", 0) for s in report.stages if s.name.startswith("ingest")
    )

    from dip.spark import build_session
    from dip.streaming.bronze_job import run_stream_bronze
    from dip.streaming.silver_job import run_stream_silver

    with _stage(report, console, "spark session") as st:
        spark = build_session(config, app_name="dip-demo")
        st.note = f"Spark {spark.version}"
    with _stage(report, console, "stream bronze (available-now)") as st:
        summary = run_stream_bronze(spark, config, "available-now")
        st.counts = {k: summary.total(k) for k in ("kafka", "bronze", "dlq")}
    with _stage(report, console, "stream silver (available-now)") as st:
        summary = run_stream_silver(spark, config, "available-now")
        st.counts = {k: summary.total(k) for k in ("bronze", "silver", "quarantine", "dlq", "duplicate")}
    silver_done = datetime.now(UTC)
    _features_and_serving(spark, config, console, report)

    with _stage(report, console, "reconcile") as st:
        from dip.reconcile import reconcile

        balances = reconcile(spark, config)
        report.balanced = all(b.balanced for b in balances)
        st.counts = {"balanced": sum(b.balanced for b in balances), "unbalanced": sum(not b.balanced for b in balances)}

    _collect_rows(spark, config, report)
    newest = _newest_fetch(spark, config)
    served_at = report.served_at or silver_done
    if newest is not None:
        report.freshness_s = (served_at - newest).total_seconds()
    _locations(config, report)
    _sample(spark, config, report)
    report.hints = [
        "explore: .venv/bin/dip tables | .venv/bin/dip reconcile | .venv/bin/dip dlq list",
        "notebooks: .venv/bin/pip install jupyterlab && .venv/bin/jupyter lab notebooks/",
        "API docs: .venv/bin/dip serve, then open http://127.0.0.1:8000/docs",
    ]
    return report


def _features_and_serving(spark, config: Config, console: Console, report: DemoReport) -> None:
    """Feature tables for the days silver covers, push to Redis, then read them back over real HTTP."""
    from pyspark.sql import functions as F

    from dip.features.batch import run_features
    from dip.features.push import push_online
    from dip.tables import SILVER_POST_METRICS

    days = (
        spark.read.format("delta")
        .load(SILVER_POST_METRICS.path(config))
        .agg(F.min(F.to_date("captured_at")), F.max(F.to_date("captured_at")))
        .first()
    )
    if days[0] is None:
        return
    with _stage(report, console, f"features {days[0]}..{days[1]}") as st:
        summary = run_features(
            spark, config, days[0], days[1], force=True, on_day=lambda d: console.print(f"   {d.day}: {d.rows}")
        )
        st.counts = {
            name: summary.rows(name)
            for name in ("post_features_daily", "post_features_hourly", "account_features_daily")
        }
    with _stage(report, console, "push-online") as st:
        pushes = push_online(spark, config)
        st.counts = {p.view: p.written for p in pushes}
        st.note = ", ".join(f"{p.view} skipped stale {p.skipped_stale}" for p in pushes)
    with _stage(report, console, "serve + HTTP requests") as st:
        st.counts, st.note = _serve_and_request(spark, config, report)


def _serve_and_request(spark, config: Config, report: DemoReport) -> tuple[dict[str, int], str]:
    """Start the API on a free port with a one-off key, request features of a sample post and account."""
    import hashlib
    import json
    import secrets

    from dip.config.models import ApiKeyConfig
    from dip.serving.app import create_app
    from dip.simulator.server import background_server
    from dip.tables import FEATURE_TABLES

    key = secrets.token_urlsafe(24)
    serving_config = config.model_copy(deep=True)
    serving_config.serving.api_keys = {
        "demo": ApiKeyConfig(sha256=hashlib.sha256(key.encode()).hexdigest(), scopes=["features:*"])
    }
    posts = spark.read.format("delta").load(FEATURE_TABLES["post_features_daily"].path(config))
    accounts = spark.read.format("delta").load(FEATURE_TABLES["account_features_daily"].path(config))
    post_ids = [r["post_id"] for r in posts.select("post_id").distinct().orderBy("post_id").limit(5).collect()]
    account_ids = [r["account_id"] for r in accounts.select("account_id").distinct().orderBy("account_id").collect()]
    if not post_ids:
        return {}, "no post features to serve"
    with background_server(create_app(serving_config)) as url:
        headers = {"X-API-Key": key}
        one = httpx.get(f"{url}/v1/features/post_features_daily/{post_ids[0]}", headers=headers, timeout=10)
        report.served_at = datetime.now(UTC)
        one.raise_for_status()
        batch = httpx.post(
            f"{url}/v1/features:batch",
            headers=headers,
            json={
                "requests": [
                    {"view": "post_features_daily", "entity_ids": post_ids},
                    {"view": "account_features_daily", "entity_ids": account_ids[:3]},
                ]
            },
            timeout=10,
        )
        batch.raise_for_status()
        unauthorised = httpx.get(f"{url}/v1/features/post_features_daily/{post_ids[0]}", timeout=10).status_code
    body = one.json()
    features = dict(body.get("features", {}))
    if isinstance(features.get("caption_vec"), list):
        vec = features["caption_vec"]
        features["caption_vec"] = f"[{len(vec)} floats, {sum(1 for v in vec if v)} non-zero]"
    report.samples["served features"] = f"GET /v1/features/post_features_daily/{post_ids[0]} -> " + json.dumps(
        {"stale": body.get("stale"), "features": features}, ensure_ascii=False
    )
    found = sum(1 for item in batch.json()["results"] if item["found"])
    return {"requests": 3, "entities found": found}, f"unauthenticated request -> HTTP {unauthorised}"


def _redis_keys(config: Config) -> int:
    import redis

    client = redis.Redis(host=config.redis.host, port=config.redis.port, db=config.redis.db)
    try:
        return sum(1 for _ in client.scan_iter("dip:*", count=1000))
    finally:
        client.close()


def _count(spark, path: str) -> int:
    from delta.tables import DeltaTable

    return spark.read.format("delta").load(path).count() if DeltaTable.isDeltaTable(spark, path) else 0


def _collect_rows(spark, config: Config, report: DemoReport) -> None:
    from dip.reconcile import kafka_offsets
    from dip.tables import BRONZE_EVENTS, DLQ, FEATURE_TABLES, SILVER_QUARANTINE, SILVER_TABLES

    report.rows["Kafka raw messages"] = sum(kafka_offsets(config).values())
    raw = Path(urlparse(config.lake.root).path) / "raw"
    report.rows["raw zone response bodies"] = len(list(raw.rglob("*.json.gz"))) if raw.is_dir() else 0
    report.rows["bronze events"] = _count(spark, BRONZE_EVENTS.path(config))
    for name, table in SILVER_TABLES.items():
        report.rows[f"silver {name}"] = _count(spark, table.path(config))
    report.rows["silver quarantine"] = _count(spark, SILVER_QUARANTINE.path(config))
    report.rows["DLQ (all stages)"] = _count(spark, DLQ.path(config))
    for name, table in FEATURE_TABLES.items():
        report.rows[f"features {name}"] = _count(spark, table.path(config))
    report.rows["Redis keys (dip:*)"] = _redis_keys(config)


def _newest_fetch(spark, config: Config) -> datetime | None:
    from dip.tables import SILVER_POST_METRICS

    df = spark.read.format("delta").load(SILVER_POST_METRICS.path(config))
    newest = df.agg({"captured_at": "max"}).first()[0]
    return newest.replace(tzinfo=UTC) if newest is not None else None


def _locations(config: Config, report: DemoReport) -> None:
    from dip.tables import BRONZE_EVENTS, DLQ, SILVER_TABLES

    report.locations["lake root"] = config.lake.root
    report.locations["raw zone"] = f"{config.lake.root}/raw/source=<s>/entity=<e>/date=<d>/"
    report.locations["bronze"] = BRONZE_EVENTS.path(config)
    report.locations["silver"] = SILVER_TABLES["posts"].path(config).rsplit("/", 1)[0] + "/<table>"
    report.locations["DLQ"] = DLQ.path(config)
    report.locations["Kafka"] = f"{config.kafka.bootstrap_servers} topics {config.kafka.topics.raw_prefix}*"
    report.locations["Redis"] = f"{config.redis.host}:{config.redis.port}"


def _sample(spark, config: Config, report: DemoReport) -> None:
    from dip.tables import SILVER_POST_METRICS, SILVER_POSTS

    posts = spark.read.format("delta").load(SILVER_POSTS.path(config))
    metrics = spark.read.format("delta").load(SILVER_POST_METRICS.path(config))
    row = (
        metrics.where("engagement_ratio IS NOT NULL")
        .join(posts.select("source", "post_id", "caption", "hashtags"), ["source", "post_id"])
        .orderBy("captured_at", "post_id")
        .limit(1)
        .collect()
    )
    if row:
        r = row[0]
        report.samples["sample silver post"] = (
            f"{r['source']} {r['post_id']} views {r['views']} likes {r['likes']} engagement "
            f"{r['engagement_ratio']:.4f} hashtags {list(r['hashtags'])} caption {r['caption']!r}"
        )
