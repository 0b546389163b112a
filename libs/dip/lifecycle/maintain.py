"""``dip maintain``: keep every lake table small and its history bounded, without breaking readers or streams.

Per Delta table: rows past the zone's retention deleted (``lifecycle.retention_days``), ``OPTIMIZE`` (Z-ordered by
``lifecycle.delta.zorder_by``), ``VACUUM`` of files unreferenced for ``vacuum_retention_hours`` (never below Delta's
7-day safety check unless ``allow_short_retention``), a checkpoint. Per Hudi feature table: retention through Hudi's
delete operation, ``CALL run_clean`` (and ``run_clustering`` when configured). Then the local raw zone's archive.

Why a running stream survives: OPTIMIZE commits change no data (``dataChange=false``), so a Delta streaming source
skips them; retention and ``dip forget`` deletes are skipped by stream_silver's bronze source
(``skipChangeCommits``); an OPTIMIZE that loses a conflict with a stream's commit is retried here, and VACUUM
removes only files unreferenced for longer than the retention, so time travel inside it still reads the same rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.connectors.raw_zone import object_store
from dip.features.specs import feature_table
from dip.features.store import feature_store
from dip.io.delta_conflicts import retry_conflicts
from dip.io.table_access import delete_rows, table_exists, table_format
from dip.lifecycle.retention import RawRetention, apply_raw_retention
from dip.lifecycle.targets import LAKE_TARGETS, LakeTarget
from dip.observability.lifecycle import MaintenanceMetrics
from dip.tables import ALL_TABLES, Table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Files:
    """A table's live data files and their bytes."""

    count: int
    size: int


@dataclass
class TableMaintenance:
    """What maintenance did to one table."""

    table: str
    format: str
    before: Files
    after: Files
    expired: int = 0
    actions: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class MaintenanceSummary:
    tables: list[TableMaintenance] = field(default_factory=list)
    raw: RawRetention = field(default_factory=RawRetention)


def delta_files(spark: SparkSession, path: str) -> Files:
    from delta.tables import DeltaTable

    detail = DeltaTable.forPath(spark, path).detail().first()
    return Files(int(detail["numFiles"] or 0), int(detail["sizeInBytes"] or 0))


def hudi_files(spark: SparkSession, path: str) -> Files:
    """Data files of a Hudi table: everything under its folder but the ``.hoodie`` timeline."""
    jvm = spark.sparkContext._jvm
    fs_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = fs_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    whole = fs.getContentSummary(fs_path)
    meta = fs.getContentSummary(jvm.org.apache.hadoop.fs.Path(path.rstrip("/") + "/.hoodie"))
    return Files(int(whole.getFileCount() - meta.getFileCount()), int(whole.getLength() - meta.getLength()))


def _expiry(config: Config, target: LakeTarget | None, today: date):  # -> Column | None
    """Rows of ``target`` older than its zone's retention, or None when the zone keeps everything."""
    days = config.lifecycle.retention_days.get(target.zone) if target and target.age else None  # type: ignore[arg-type]
    if days is None or target is None or target.age is None:
        return None
    return F.to_date(F.col(target.age)) < F.lit((today - timedelta(days=days)).isoformat()).cast("date")


def maintain_delta(spark: SparkSession, config: Config, table: Table, target: LakeTarget | None, today: date):
    """Retention, OPTIMIZE (Z-order), VACUUM and a checkpoint of one Delta table."""
    from delta.tables import DeltaTable

    settings = config.lifecycle.delta
    path = table.path(config)
    result = TableMaintenance(table.name, "delta", delta_files(spark, path), Files(0, 0))
    expiry = _expiry(config, target, today)
    if expiry is not None:
        result.expired = retry_conflicts(lambda: delete_rows(spark, path, expiry))
        result.actions.append(f"retention {config.lifecycle.retention_days[target.zone]}d")  # type: ignore[union-attr,index]
    delta = DeltaTable.forPath(spark, path)
    if settings.optimize:
        zorder = [c for c in settings.zorder_by.get(table.name, []) if c not in table.partition_by]
        retry_conflicts(
            lambda: delta.optimize().executeZOrderBy(*zorder) if zorder else delta.optimize().executeCompaction()
        )
        result.actions.append(f"optimize zorder({', '.join(zorder)})" if zorder else "optimize")
    if settings.vacuum:
        check = "spark.databricks.delta.retentionDurationCheck.enabled"
        if settings.allow_short_retention:
            spark.conf.set(check, "false")
        try:
            delta.vacuum(settings.vacuum_retention_hours)
        finally:
            spark.conf.unset(check)
        result.actions.append(f"vacuum {settings.vacuum_retention_hours:g}h")
    if settings.checkpoint:
        result.actions.append(_checkpoint(spark, path))
    result.after = delta_files(spark, path)
    return result


def _checkpoint(spark: SparkSession, path: str) -> str:
    """A checkpoint of the latest version. Like Delta's own, a failed one is not fatal (e.g. a stream's commit wrote
    the checkpoint of the same version at the same moment): the log stays valid, readers replay a few more commits."""
    from py4j.protocol import Py4JJavaError

    try:
        spark.sparkContext._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path).checkpoint()
    except Py4JJavaError as exc:
        cause = str(exc.java_exception.getClass().getSimpleName())
        log.warning("checkpoint of %s skipped: %s", path, exc.java_exception.toString())
        return f"checkpoint skipped ({cause})"
    return "checkpoint"


def maintain_hudi(spark: SparkSession, config: Config, table: Table, target: LakeTarget | None, today: date):
    """Retention (Hudi delete), ``CALL run_clean`` and, when configured, ``CALL run_clustering``.

    Hudi 1.2's procedures take a catalog table, so the table is named for the call (an external table over its
    path, dropped afterwards; dropping it leaves the files).
    """
    settings = config.lifecycle.hudi
    path = table.path(config)
    result = TableMaintenance(table.name, "hudi", hudi_files(spark, path), Files(0, 0))
    expiry = _expiry(config, target, today)
    if expiry is not None:
        result.expired = feature_store(spark, config).delete_where(feature_table(table.name), expiry)
        result.actions.append(f"retention {config.lifecycle.retention_days['features']}d")
    name = f"dip_maintain_{table.name}"
    if settings.clean or settings.clustering:
        spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING hudi LOCATION '{path}'")
        try:
            if settings.clean:
                retain = settings.retain_commits or config.features.hudi.cleaner_commits_retained
                spark.sql(f"CALL run_clean(table => '{name}', retain_commits => {int(retain)})").collect()
                result.actions.append(f"clean (retain {retain} commits)")
            if settings.clustering:
                spark.sql(f"CALL run_clustering(table => '{name}')").collect()
                result.actions.append("clustering")
        finally:
            spark.sql(f"DROP TABLE IF EXISTS {name}")
    result.after = hudi_files(spark, path)
    return result


def _local_lake(config: Config) -> bool:
    return urlparse(config.lake.root).scheme in ("", "file")


def run_maintenance(
    spark: SparkSession,
    config: Config,
    *,
    today: date | None = None,
    metrics: MaintenanceMetrics | None = None,
    on_table: Callable[[TableMaintenance], None] = lambda _t: None,
) -> MaintenanceSummary:
    """Maintain every existing lake table, then (lake on the local disk) the raw zone's archive and expiry.

    On S3 the raw zone's lifecycle is the bucket's (``dip deploy render --target s3-lifecycle``).
    """
    today = today or datetime.now(UTC).date()
    targets = {t.table.name: t for t in LAKE_TARGETS}
    summary = MaintenanceSummary()
    for table in ALL_TABLES:
        if not table_exists(spark, config, table):
            continue
        started = time.monotonic()
        target = targets.get(table.name)
        if table_format(config, table) == "hudi":
            result = maintain_hudi(spark, config, table, target, today)
        else:
            result = maintain_delta(spark, config, table, target, today)
        result.seconds = time.monotonic() - started
        if metrics is not None:
            metrics.record_table(
                table.name,
                (result.before.count, result.before.size),
                (result.after.count, result.after.size),
                result.expired,
            )
        summary.tables.append(result)
        on_table(result)
    if _local_lake(config):
        summary.raw = apply_raw_retention(object_store(config), config.lifecycle.raw, today)
        if metrics is not None:
            metrics.record_raw(summary.raw.archived, summary.raw.expired)
    return summary


def table_line(t: TableMaintenance) -> str:
    """One summary line: files and size before -> after, rows expired, what ran."""
    mib = 1024 * 1024
    return (
        f"{t.table:24} {t.format:5} files {t.before.count:>5} -> {t.after.count:<5} "
        f"size {t.before.size / mib:8.2f} -> {t.after.size / mib:8.2f} MiB  expired {t.expired:>6}  "
        f"{t.seconds:5.1f}s  {'; '.join(t.actions)}"
    )


def maintenance_counts(summary: MaintenanceSummary) -> dict[str, int]:
    """The counts the runner records (``dip_job_count``, the lineage row)."""
    return {
        "tables": len(summary.tables),
        "files_before": sum(t.before.count for t in summary.tables),
        "files_after": sum(t.after.count for t in summary.tables),
        "rows_expired": sum(t.expired for t in summary.tables),
        "raw_archived": summary.raw.archived,
        "raw_expired": summary.raw.expired,
    }
