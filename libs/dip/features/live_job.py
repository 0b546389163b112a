"""stream_live: silver post_metrics / account_metrics changes -> the live views in Redis, within seconds.

Its own long-running query over silver's Change Data Feed rather than a step inside silver's write:
silver keeps no dependency on Redis (an online-store outage never stops the lake from filling), the
live query fails on its own and catches up from its checkpoint, and it can run, scale and restart
apart from silver (the cost: one more trigger interval on the path, measured in benchmarks/freshness.py).

Per micro-batch of change rows (inserts and update post-images):

1. the changed keys, the batch's newest commit version ``V`` and its oldest and newest snapshot time;
2. those keys' snapshots in silver **as of version V** (time travel: a replayed batch reads the same
   rows and writes the same values), from ``online.live.lookback_hours`` before the oldest change on,
   -> :mod:`dip.features.live` (newest snapshot + change since the previous one);
3. written from the executors with the online store's compare-and-set, ``_v = _ts * 10^10 + V``:
   an older snapshot never replaces a newer one, and a later version of the same snapshot (a metric
   filled in by another record of the same ingest run) does; equal versions (a replay) are skipped;
4. ``dip:_live:<view>`` records the batch's newest snapshot time and write time (the lag).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.features.live import (
    ACCOUNT_KEYS,
    ACCOUNT_LIVE_FEATURES,
    POST_KEYS,
    POST_LIVE_FEATURES,
    account_live,
    post_live,
)
from dip.observability.streaming import StreamMetrics
from dip.online.codec import ViewSpec
from dip.online.live_state import LiveState, record_live_state
from dip.online.spark_write import OnlineWriteError, RowPrep, write_online
from dip.online.views import live_view_specs
from dip.silver.merge import CHANGE_FEED_PROPERTY, SPECS, ensure_table
from dip.streaming.runner import NEWEST_EVENT, BatchCounts, RunningQuery, RunSummary, await_queries, start_foreach_batch
from dip.tables import SILVER_ACCOUNT_METRICS, SILVER_POST_METRICS, SILVER_POSTS, Table, checkpoint_path

VERSION_FACTOR = 10**10  # _v = snapshot epoch ms * 10^10 + silver commit version (versions stay below 10^10)
_UPSERTS = ("insert", "update_postimage")


class LiveError(RuntimeError):
    """stream_live cannot run or a batch failed; the batch is not committed and is redone on restart."""


@dataclass(frozen=True)
class LiveSource:
    """One silver table the live path follows and how its snapshots become live rows."""

    entity: str
    query: str
    table: Table
    spec: str  # silver merge spec name
    keys: tuple[str, ...]
    features: tuple[str, ...]


SOURCES: dict[str, LiveSource] = {
    "post": LiveSource("post", "stream_live_posts", SILVER_POST_METRICS, "post_metrics", POST_KEYS, POST_LIVE_FEATURES),
    "account": LiveSource(
        "account",
        "stream_live_accounts",
        SILVER_ACCOUNT_METRICS,
        "account_metrics",
        ACCOUNT_KEYS,
        ACCOUNT_LIVE_FEATURES,
    ),
}


def live_version(event_ts_ms: int, commit_version: int) -> int:
    """The ``_v`` of a live row: ordered by snapshot time first, then by the silver version it was read at."""
    if not 0 <= commit_version < VERSION_FACTOR:
        raise LiveError(f"silver commit version {commit_version} does not fit the live version scheme")
    return event_ts_ms * VERSION_FACTOR + commit_version


def _with_version(commit_version: int) -> RowPrep:
    def prepare(row: dict) -> dict:
        row["_v"] = live_version(row["_ts"], commit_version)
        return row

    return prepare


def live_views(config: Config) -> dict[str, list[ViewSpec]]:
    """The live views per entity that has any; a feature the live path does not compute is a config error."""
    views: dict[str, list[ViewSpec]] = {}
    for entity, source in SOURCES.items():
        specs = live_view_specs(config.online, entity)
        for spec in specs:
            unknown = [f for f in spec.features if f not in source.features]
            if unknown:
                raise LiveError(
                    f"live view {spec.name}: unknown feature(s) {', '.join(unknown)}; "
                    f"a live {entity} view can have {', '.join(source.features)}"
                )
        if specs:
            views[entity] = specs
    return views


def ensure_change_feed(spark: SparkSession, config: Config, source: LiveSource) -> None:
    """Create the silver table if needed and make sure its Change Data Feed is on (tables made before
    stream_live existed get it once here: stream_silver may need a restart if it commits at that moment)."""
    from delta.tables import DeltaTable

    path = source.table.path(config)
    ensure_table(spark, path, SPECS[source.spec])
    properties = DeltaTable.forPath(spark, path).detail().first()["properties"] or {}
    if properties.get(CHANGE_FEED_PROPERTY, "false").lower() != "true":
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({CHANGE_FEED_PROPERTY} = true)")


def check_redis(config: Config) -> None:
    """Fail before starting when Redis does not answer."""
    from dip.io.redis_client import unreachable

    if (error := unreachable(config.redis)) is not None:
        raise LiveError(
            f"Redis {config.redis.host}:{config.redis.port} is unreachable ({error}); stream_live writes nothing "
            "until it answers, then resumes from its checkpoint"
        )


def _live_rows(spark: SparkSession, config: Config, source: LiveSource, snapshots: DataFrame) -> DataFrame:
    if source.entity == "post":
        return post_live(snapshots, spark.read.format("delta").load(SILVER_POSTS.path(config)))
    return account_live(snapshots)


LOCAL_KEYS = 20_000  # up to this many changed entities, their keys come to the driver with the batch's facts


def _changed(changes: DataFrame, keys: Sequence[str]) -> tuple[dict[str, int], DataFrame]:
    """The batch's facts (changes, newest silver version, oldest/newest snapshot ms) and its distinct changed keys.

    A usual batch (a few hundred entities) costs one Spark job: the per-key aggregate comes to the driver and
    the keys go back as a local relation (broadcast without another job). A catch-up batch over
    ``LOCAL_KEYS`` entities keeps its keys distributed (a second job for the facts)."""
    per_key = changes.groupBy(*keys).agg(
        F.count(F.lit(1)).alias("n"),
        F.max("_commit_version").alias("version"),
        F.min(F.unix_millis("captured_at")).alias("oldest_ms"),
        F.max(F.unix_millis("captured_at")).alias("newest_ms"),
    )
    local = per_key.limit(LOCAL_KEYS + 1).collect()
    if len(local) <= LOCAL_KEYS:
        facts = {
            "changes": sum(r["n"] for r in local),
            "version": max((r["version"] for r in local), default=0),
            "oldest_ms": min((r["oldest_ms"] for r in local), default=0),
            "newest_ms": max((r["newest_ms"] for r in local), default=0),
        }
        schema = changes.select(*keys).schema
        return facts, changes.sparkSession.createDataFrame([tuple(r[k] for k in keys) for r in local], schema)
    row = per_key.agg(
        F.sum("n").alias("changes"),
        F.max("version").alias("version"),
        F.min("oldest_ms").alias("oldest_ms"),
        F.max("newest_ms").alias("newest_ms"),
    ).first()
    return {k: int(row[k]) for k in ("changes", "version", "oldest_ms", "newest_ms")}, per_key.select(*keys)


def process_live_batch(
    batch: DataFrame, batch_id: int, config: Config, source: LiveSource, views: list[ViewSpec]
) -> dict[str, int]:
    """Steps 1-4 of the module docstring for one micro-batch; returns its counts."""
    spark = batch.sparkSession
    changes = batch.where(F.col("_change_type").isin(*_UPSERTS)).select(*source.keys, "captured_at", "_commit_version")
    facts, keys = _changed(changes, source.keys)
    if not facts["changes"]:
        return {"changes": 0, "written": 0, "skipped_stale": 0}
    version = int(facts["version"])
    since_ms = int(facts["oldest_ms"]) - int(config.online.live.lookback_hours * 3_600_000)
    snapshots = (
        spark.read.format("delta")
        .option("versionAsOf", version)
        .load(source.table.path(config))
        .where(F.col("captured_at") >= F.timestamp_millis(F.lit(since_ms)))
        .join(keys, list(source.keys), "left_semi")
    )
    rows = _live_rows(spark, config, source, snapshots).withColumn(
        "_fsv", F.lit(config.features.feature_set_version).cast("long")
    )
    if len(views) > 1:
        rows = rows.cache()
    written = skipped = 0
    try:
        for view in views:
            selected = rows.select("entity_id", "_ts", "_fsv", *view.features)
            try:
                result = write_online(selected, config.redis, view, config.online.batch_size, _with_version(version))
            except OnlineWriteError as exc:
                raise LiveError(
                    f"stream_live batch {batch_id}: {exc}. The batch is not committed: restart stream_live when "
                    "Redis is back and it writes this batch again (equal versions are skipped)"
                ) from exc
            written += result.written
            skipped += result.skipped_stale
            _record_state(config, view, batch_id, int(facts["newest_ms"]), result.written, result.skipped_stale)
    finally:
        rows.unpersist()
    return {
        "changes": int(facts["changes"]),
        "written": written,
        "skipped_stale": skipped,
        NEWEST_EVENT: int(facts["newest_ms"]) / 1000.0,
    }


def _record_state(config: Config, view: ViewSpec, batch_id: int, newest_ms: int, written: int, skipped: int) -> None:
    from dip.io.redis_client import make_client

    client = make_client(config.redis)
    try:
        state = LiveState(view.name, batch_id, newest_ms, int(time.time() * 1000), written, skipped)
        record_live_state(client, state)
    finally:
        client.close()


def start_stream_live(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[str, BatchCounts], None] = lambda _q, _b: None,
    metrics: StreamMetrics | None = None,
) -> list[RunningQuery]:
    """Start one query per entity with live views (await them with ``await_queries``)."""
    views = live_views(config)
    if not views:
        raise LiveError("no live views configured (online.views.<name>.live: true)")
    check_redis(config)
    running = []
    for entity, specs in views.items():
        source = SOURCES[entity]
        ensure_change_feed(spark, config, source)
        stream = spark.readStream.format("delta").option("readChangeFeed", "true").load(source.table.path(config))
        running.append(
            start_foreach_batch(
                stream,
                query_name=source.query,
                checkpoint=checkpoint_path(config, source.query),
                trigger=trigger or config.online.live.trigger or config.streaming.trigger,
                process=lambda df, batch_id, source=source, specs=specs: process_live_batch(
                    df, batch_id, config, source, specs
                ),
                on_batch=lambda b, query=source.query: on_batch(query, b),
                metrics=metrics,
            )
        )
    return running


def run_stream_live(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[str, BatchCounts], None] = lambda _q, _b: None,
    metrics: StreamMetrics | None = None,
) -> list[RunSummary]:
    """Run the live queries to the end (available-now) or until SIGTERM (processing-time)."""
    running = start_stream_live(spark, config, trigger, on_batch, metrics)
    await_queries(running)
    return [r.summary for r in running]


def run_live_job(
    spark: SparkSession,
    config: Config,
    trigger: str | None = None,
    on_batch: Callable[[BatchCounts], None] = print,
    metrics: StreamMetrics | None = None,
) -> RunSummary:
    """:func:`run_stream_live` as one summary (the spark-submit job's shape): every query's batches."""
    summaries = run_stream_live(spark, config, trigger, on_batch=lambda _q, b: on_batch(b), metrics=metrics)
    merged = RunSummary("stream_live", seconds=max(s.seconds for s in summaries))
    for summary in summaries:
        merged.batches.extend(summary.batches)
    return merged
