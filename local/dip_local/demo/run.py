"""Run every pipeline stage on the embedded default and collect the figures for the summary."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse

from rich.console import Console

from dip.config import Config
from dip_local.demo.summary import DemoReport, stage
from dip_local.demo.timeline import DEFAULT_HOURS_PER_ROUND, DEFAULT_ROUNDS


def run_demo(
    config: Config,
    console: Console,
    *,
    clean: bool = False,
    scale: int = 1,
    rounds: int = DEFAULT_ROUNDS,
    hours_per_round: int = DEFAULT_HOURS_PER_ROUND,
    today: date | None = None,
) -> DemoReport:
    """Stack, simulated ingest rounds, streams, features, push-online, train, serve + score, reconcile."""
    from dip.connectors.state import local_state_dir
    from dip_local.demo.ingest import ingest_rounds
    from dip_local.demo.timeline import load_timeline
    from dip_local.stack import stack_up

    report = DemoReport()
    if config.stack.enabled:
        with stage(report, console, "stack up") as st:
            statuses = stack_up(config)
            st.note = ", ".join(f"{s.name} {s.action}" for s in statuses)
    if clean:
        _clean(config, console, report)

    timeline = load_timeline(local_state_dir(config), rounds, hours_per_round, today or datetime.now(UTC).date())
    pending = timeline.pending()
    span = f"{pending[0]:%Y-%m-%d %H:%M}..{pending[-1]:%Y-%m-%d %H:%M}"
    title = f"ingest {len(pending)} round(s) every {hours_per_round} h, {span} (simulated)"
    with stage(report, console, title) as st:

        def progress(n: int, total: int, moment: str, counts: dict[str, int]) -> None:
            console.print(f"   round {n}/{total} at {moment}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

        ingested = ingest_rounds(config, timeline, scale=scale, on_round=progress)
        st.counts = dict(ingested.counts)
        st.note = f"simulated world: {timeline.newest_post:%Y-%m-%d %H:%M} newest post, {scale}x posts"
    published = ingested.counts["records"]
    report.rows["API records published (this run)"] = published

    from dip.spark import build_session

    with stage(report, console, "spark session") as st:
        spark = build_session(config, app_name="dip-demo")
        st.note = f"Spark {spark.version}"
    _streams(spark, config, console, report, "")
    _live(spark, config, console, report, ingested.clock)
    if _features(spark, config, console, report, recompute=published > 0):
        trained = _train(spark, config, console, report)
        _serve(spark, config, console, report, ingested.clock, trained)
        _streams(spark, config, console, report, " (predictions)")
        _gold(spark, config, console, report)  # after the prediction log: post summaries show champion scores

    with stage(report, console, "reconcile") as st:
        from dip.reconcile import reconcile

        balances = reconcile(spark, config)
        report.balanced = all(b.balanced for b in balances)
        st.counts = {"balanced": sum(b.balanced for b in balances), "unbalanced": sum(not b.balanced for b in balances)}

    _collect_rows(spark, config, report)
    _freshness(spark, config, report, published)
    _locations(config, report)
    _sample(spark, config, report)
    report.hints = [
        "explore: .venv/bin/dip tables | .venv/bin/dip reconcile | .venv/bin/dip evaluate | .venv/bin/dip dlq list",
        "notebooks: .venv/bin/pip install jupyterlab && .venv/bin/jupyter lab notebooks/",
        "API docs: .venv/bin/dip serve, then open http://127.0.0.1:8000/docs",
        *report.hints,  # the dashboard with this run's one-off key: the last line of the demo
    ]
    return report


def _job(job, config: Config, spark) -> AbstractContextManager:
    """A demo stage as a run of ``job`` through the one runner (lineage, OpenLineage, metrics); the stage table is
    the demo's summary, so the runner's closing line is not printed."""
    from dip.job_runner import run_job

    return run_job(job, config, spark, echo=lambda _line: None)


def _clean(config: Config, console: Console, report: DemoReport) -> None:
    from dip_local.demo.clean import clean_lake, clean_online, clean_registry, clean_topics

    with stage(report, console, "clean") as st:
        st.note = (
            f"removed {clean_lake(config)}; topics {len(clean_topics(config))}; redis keys {clean_online(config)}; "
            f"{clean_registry(config)}"
        )


def _streams(spark, config: Config, console: Console, report: DemoReport, label: str) -> None:
    """Bronze then silver, available-now."""
    from dip.job_specs import STREAM_BRONZE, STREAM_SILVER, stream_counts
    from dip.silver.stream_job import run_stream_silver
    from dip.streaming.bronze_job import run_stream_bronze

    with stage(report, console, f"stream bronze{label}") as st, _job(STREAM_BRONZE, config, spark) as run:
        summary = run_stream_bronze(spark, config, "available-now")
        st.counts = run.counts = stream_counts([STREAM_BRONZE], [summary])
    with stage(report, console, f"stream silver{label}") as st, _job(STREAM_SILVER, config, spark) as run:
        summary = run_stream_silver(spark, config, "available-now")
        st.counts = run.counts = stream_counts([STREAM_SILVER], [summary])


def _live(spark, config: Config, console: Console, report: DemoReport, clock) -> None:
    """stream_live (available-now): the new snapshots -> post_live/account_live; the lag on the ingest's clock."""
    from dip.features.live_job import run_stream_live
    from dip.io.redis_client import make_client
    from dip.job_specs import STREAM_LIVE, stream_counts
    from dip.online.live_state import read_live_states

    with (
        stage(report, console, "stream live (silver -> Redis live views)") as st,
        _job(STREAM_LIVE, config, spark) as run,
    ):
        summaries = run_stream_live(spark, config, "available-now")
        written_at = clock()
        st.counts = run.counts = stream_counts([STREAM_LIVE], summaries)
    client = make_client(config.redis)
    try:
        state = read_live_states(client, ["post_live"])[0]
    finally:
        client.close()
    if state is not None and st.counts["written"]:
        report.live_lag_s = written_at.timestamp() - state.newest_event_ms / 1000


def _silver_days(spark, config: Config) -> tuple:
    """First and last UTC day of silver post snapshots (None, None when there are none)."""
    from pyspark.sql import functions as F

    from dip.tables import SILVER_POST_METRICS

    return tuple(
        spark.read.format("delta")
        .load(SILVER_POST_METRICS.path(config))
        .agg(F.min(F.to_date("captured_at")), F.max(F.to_date("captured_at")))
        .first()
    )


def _features(spark, config: Config, console: Console, report: DemoReport, recompute: bool) -> bool:
    """Feature tables for the days silver covers and the push to Redis; False when silver is empty.

    ``recompute``: new API records arrived, so days computed by an earlier run are redone; otherwise only
    days not completed yet are computed.
    """
    from dip.features.batch import run_features
    from dip.features.push import push_online
    from dip.job_specs import BATCH_FEATURES, push_online_job
    from dip.observability.online import OnlinePushMetrics

    days = _silver_days(spark, config)
    if days[0] is None:
        return False
    with stage(report, console, f"features {days[0]}..{days[1]}") as st, _job(BATCH_FEATURES, config, spark) as run:
        run.params.update({"from": days[0].isoformat(), "to": days[1].isoformat(), "force": str(recompute).lower()})
        summary = run_features(
            spark, config, days[0], days[1], force=recompute, on_day=lambda d: console.print(f"   {d.day}: {d.rows}")
        )
        st.counts = run.counts = {name: summary.rows(name) for name in BATCH_FEATURES.counts}
    push_job = push_online_job()
    with stage(report, console, "push-online") as st, _job(push_job, config, spark) as run:
        pushes = push_online(spark, config, metrics=OnlinePushMetrics(run.registry, push_job.counts))
        st.counts = run.counts = {p.view: p.written for p in pushes}
        st.note = ", ".join(f"{p.view} skipped stale {p.skipped_stale}" for p in pushes)
    return True


def _gold(spark, config: Config, console: Console, report: DemoReport) -> None:
    """The gold tables and seller alerts of the days silver covers, then the dashboard over them, timed."""
    from dip.gold.batch import gold_run
    from dip.job_specs import GOLD
    from dip_local.demo.dashboard import check_dashboard, dashboard_hint

    first, last = _silver_days(spark, config)
    with stage(report, console, f"gold {first}..{last}") as st, _job(GOLD, config, spark) as run:
        summary = gold_run(run, config, first, last)
        st.counts = {**summary.rows, "alerts": run.counts["alerts"]}
    with stage(report, console, "dashboard (cold load over HTTP)") as st:
        check = check_dashboard(config)
        st.counts = {"accounts": check.accounts}
        st.note = f"page, scripts and the first account's panels in {check.seconds:.2f}s"
    report.samples["dashboard load"] = f"{check.seconds:.2f}s (page + plotly.js + accounts + one account + health)"
    report.hints.append(dashboard_hint(config, check))


def _train(spark, config: Config, console: Console, report: DemoReport) -> bool:
    """Train (or keep) the champion; True when one is registered to serve."""
    from dip.job_specs import train_job
    from dip_local.demo.model import train_or_keep

    with stage(report, console, "train (MLflow)") as st, _job(train_job(config, False), config, spark) as run:
        outcome = train_or_keep(spark, config)
        st.counts = {"training rows": outcome.rows, "trained": int(outcome.trained)}
        run.counts = {"train_rows": outcome.rows, "trained": int(outcome.trained)}
        st.note = outcome.note
    report.rows["training rows (labelled posts)"] = outcome.rows
    if outcome.validation:
        report.samples["model validation"] = outcome.validation
    if outcome.version is not None:
        report.samples["model"] = f"{config.ml.registered_model} v{outcome.version} @{config.ml.champion_alias}"
    return outcome.version is not None


def _serve(spark, config: Config, console: Console, report: DemoReport, clock, with_model: bool) -> None:
    from dip_local.demo.serve import serve_and_request

    with stage(report, console, "serve + HTTP requests (features, score)") as st:
        outcome = serve_and_request(spark, config, clock, with_model)
        st.counts, st.note = outcome.counts, outcome.note
    report.samples.update(outcome.samples)
    report.served_at = outcome.served_at
    report.rows["scores served (this run)"] = outcome.counts.get("scores", 0)


def _redis_keys(config: Config) -> int:
    from dip.io.redis_client import make_client

    client = make_client(config.redis)
    try:
        return sum(1 for _ in client.scan_iter("dip:*", count=1000))
    finally:
        client.close()


def _count(spark, config: Config, table) -> int:
    from dip.io.table_access import read_if_exists

    df = read_if_exists(spark, config, table)
    return 0 if df is None else df.count()


def _collect_rows(spark, config: Config, report: DemoReport) -> None:
    from dip.reconcile import kafka_offsets
    from dip.tables import BRONZE_EVENTS, DLQ, FEATURE_TABLES, SILVER_QUARANTINE, SILVER_TABLES

    report.rows["Kafka messages (raw + predictions)"] = sum(kafka_offsets(config).values())
    raw = Path(urlparse(config.lake.root).path) / "raw"
    report.rows["raw zone response bodies"] = len(list(raw.rglob("*.json.gz"))) if raw.is_dir() else 0
    report.rows["bronze events"] = _count(spark, config, BRONZE_EVENTS)
    for name, table in SILVER_TABLES.items():
        report.rows[f"silver {name}"] = _count(spark, config, table)
    report.rows["silver quarantine"] = _count(spark, config, SILVER_QUARANTINE)
    report.rows["DLQ (all stages)"] = _count(spark, config, DLQ)
    for name, table in FEATURE_TABLES.items():
        report.rows[f"features {name}"] = _count(spark, config, table)
    report.rows["Redis keys (dip:*)"] = _redis_keys(config)
    for later in ("training rows (labelled posts)", "scores served (this run)"):  # after the tables they use
        if later in report.rows:
            report.rows[later] = report.rows.pop(later)


def _freshness(spark, config: Config, report: DemoReport, published: int) -> None:
    """Newest silver snapshot's fetch time -> features served, both on the ingest's (simulated) clock."""
    from dip.tables import SILVER_POST_METRICS

    if not published:
        report.freshness_note = "nothing new was fetched in this run"
        return
    df = spark.read.format("delta").load(SILVER_POST_METRICS.path(config))
    newest = df.agg({"captured_at": "max"}).first()[0]
    if newest is None or report.served_at is None:
        report.freshness_note = "no features were served"
        return
    report.freshness_s = (report.served_at - newest.replace(tzinfo=UTC)).total_seconds()


def _locations(config: Config, report: DemoReport) -> None:
    from dip.tables import BRONZE_EVENTS, DLQ, FEATURE_TABLES, SILVER_TABLES

    report.locations["lake root"] = config.lake.root
    report.locations["raw zone"] = f"{config.lake.root}/raw/source=<s>/entity=<e>/date=<d>/"
    report.locations["bronze"] = BRONZE_EVENTS.path(config)
    report.locations["silver"] = SILVER_TABLES["posts"].path(config).rsplit("/", 1)[0] + "/<table>"
    features = FEATURE_TABLES["post_features_daily"].path(config).rsplit("/", 1)[0] + "/<table>"
    report.locations[f"features ({config.features.table_format})"] = features
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
