"""push_online: the latest features of every entity changed since the last pushed commit -> Redis.

Per view (``online.views``; the view name is the feature table's name):

1. ``latest`` = the table's newest commit; ``last`` = the last pushed one (``features/_push_state``).
   Equal -> nothing to push.
2. Entities changed in ``(last, latest]`` (Delta Change Data Feed / Hudi incremental query).
3. For each of them, its row with the latest ``window_end`` in the snapshot at ``latest`` (so a
   recomputed old day never replaces newer features).
4. Written from the executors (``foreachPartition`` + :func:`dip.online.write_batch`), ``_v`` =
   ``latest.write_version``, ``_ts`` = window end (epoch ms), ``_fsv`` = feature_set_version.
5. Only after every partition succeeded is ``latest`` recorded; a failure (e.g. Redis down) raises
   :class:`PushError` and the next run pushes the same changes again (equal ``_v`` are skipped).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from dip.config import Config
from dip.features.specs import FEATURE_TABLE_SPECS, FeatureTable, feature_table
from dip.features.store import Commit, FeatureStore, feature_store
from dip.io.table_access import read_if_exists
from dip.observability.online import OnlinePushMetrics
from dip.online.codec import ViewSpec
from dip.online.spark_write import OnlineWriteError, write_online
from dip.online.views import nightly_view_names, view_specs
from dip.tables import FEATURE_PUSH_STATE

PUSH_STATE_DDL = (
    "view STRING, table_format STRING, commit_id STRING, write_version BIGINT, written BIGINT, "
    "skipped_stale BIGINT, pushed_at TIMESTAMP, online_format STRING"
)  # online_format (dip | feast) came later: rows without it are dip's; a switch of format pushes everything again


class PushError(RuntimeError):
    """The push failed; the last pushed commit was left unchanged."""


@dataclass(frozen=True)
class ViewPush:
    """The outcome of pushing one view."""

    view: str
    from_commit: str | None
    to_commit: str | None
    written: int
    skipped_stale: int
    seconds: float

    @property
    def entities(self) -> int:
        return self.written + self.skipped_stale


def last_pushed(spark: SparkSession, config: Config, view: str) -> Commit | None:
    """The last commit pushed for ``view`` with the configured table format, if any."""
    state = read_if_exists(spark, config, FEATURE_PUSH_STATE)
    if state is None:
        return None
    if "online_format" not in state.columns:
        state = state.withColumn("online_format", F.lit(None).cast("string"))
    same_format = F.coalesce(F.col("online_format"), F.lit("dip")) == config.online.format
    row = (
        state.where((F.col("view") == view) & (F.col("table_format") == config.features.table_format) & same_format)
        .orderBy(F.col("write_version").desc(), F.col("pushed_at").desc())
        .select("commit_id", "write_version")
        .first()
    )
    return None if row is None else Commit(row["commit_id"], int(row["write_version"]))


def _record_push(spark: SparkSession, config: Config, push: ViewPush, commit: Commit) -> None:
    row = (
        push.view,
        config.features.table_format,
        commit.id,
        commit.write_version,
        push.written,
        push.skipped_stale,
        datetime.now(UTC),
        config.online.format,
    )
    spark.createDataFrame([row], PUSH_STATE_DDL).write.format("delta").mode("append").option(
        "mergeSchema", "true"
    ).save(FEATURE_PUSH_STATE.path(config))


def latest_per_entity(snapshot: DataFrame, table: FeatureTable) -> DataFrame:
    """Each entity's row with the latest window (ties: the larger source name)."""
    order = Window.partitionBy(table.entity_column).orderBy(F.col("window_end").desc(), F.col("source").desc())
    return snapshot.withColumn("_rn", F.row_number().over(order)).where("_rn = 1").drop("_rn")


def online_rows(latest: DataFrame, table: FeatureTable, view: ViewSpec, write_version: int) -> DataFrame:
    """The columns :func:`dip.online.write_batch` expects: ``entity_id``, ``_v``, ``_ts``, ``_fsv`` and features."""
    missing = [name for name in view.features if name not in latest.columns]
    if missing:
        raise PushError(f"view {view.name}: feature table {table.name} has no column(s) {', '.join(missing)}")
    return latest.select(
        F.col(table.entity_column).alias("entity_id"),
        F.lit(write_version).cast("long").alias("_v"),
        F.unix_millis("window_end").alias("_ts"),
        F.col("feature_set_version").cast("long").alias("_fsv"),
        *view.features,
    )


def push_view(spark: SparkSession, config: Config, store: FeatureStore, view: ViewSpec) -> ViewPush:
    """Push one view (see the module docstring); raises :class:`PushError` on failure."""
    started = time.monotonic()
    table = feature_table(view.name)
    latest = store.latest_commit(table)
    last = last_pushed(spark, config, view.name)
    last_id = last.id if last else None
    if latest is None or (last is not None and last.write_version >= latest.write_version):
        return ViewPush(view.name, last_id, last_id, 0, 0, time.monotonic() - started)
    changed = store.changed_keys(table, last, latest)
    snapshot = store.read(table, latest).join(changed, table.entity_column, "left_semi")
    rows = online_rows(latest_per_entity(snapshot, table), table, view, latest.write_version)
    if config.features.push_partitions:
        rows = rows.repartition(config.features.push_partitions)
    try:
        result = write_online(rows, config.redis, view, config.online.batch_size)
    except OnlineWriteError as exc:
        raise PushError(
            f"push of {view.name} to Redis {config.redis.host}:{config.redis.port} failed: {exc.cause}. "
            f"The last pushed commit stays {last_id or 'none'}; the next run pushes these changes again."
        ) from exc
    push = ViewPush(view.name, last_id, latest.id, result.written, result.skipped_stale, time.monotonic() - started)
    _record_push(spark, config, push, latest)
    return push


def check_redis(config: Config) -> None:
    """Fail fast with a clear message when Redis does not answer."""
    from dip.io.redis_client import unreachable

    if (error := unreachable(config.redis)) is not None:
        raise PushError(
            f"Redis {config.redis.host}:{config.redis.port} is unreachable ({error}); nothing was pushed and "
            "the last pushed commit is unchanged"
        )


def push_online(
    spark: SparkSession, config: Config, views: list[str] | None = None, metrics: OnlinePushMetrics | None = None
) -> list[ViewPush]:
    """Push every nightly view (or ``views``) whose feature table changed since its last push.

    ``metrics`` (``dip_online_push_*``, on the job's registry) records each view's rows and failures.
    """
    specs = view_specs(config.online)
    nightly = nightly_view_names(config.online)
    unknown = [v for v in views or [] if v not in specs]
    if unknown:
        raise PushError(f"unknown view(s) {', '.join(unknown)} (configured: {', '.join(specs)})")
    live = [v for v in views or [] if v not in nightly]
    if live:
        raise PushError(f"view(s) {', '.join(live)} are live views, written by `dip stream live`, not push-online")
    without_table = [name for name in views or nightly if name not in FEATURE_TABLE_SPECS]
    if without_table:
        raise PushError(f"view(s) {', '.join(without_table)} have no feature table of the same name")
    check_redis(config)
    store = feature_store(spark, config)
    metrics = metrics or OnlinePushMetrics(views=views or nightly)
    pushes = []
    for name in views or nightly:
        try:
            push = push_view(spark, config, store, specs[name])
        except PushError:
            metrics.record_failure(name)
            raise
        metrics.record_push(name, push.written, push.skipped_stale, push.seconds)
        pushes.append(push)
    return pushes
