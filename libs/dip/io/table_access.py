"""Reading a lake table whatever its format: Delta for every table, Hudi for the feature tables
when ``features.table_format`` is ``hudi``. One place answers "does it exist", "read it" and "which
version is it at", so status, lineage, the catalog, notebooks and the demo agree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dip.config import Config
from dip.tables import FEATURE_TABLES, Table

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

HUDI_META_COLUMNS = (
    "_hoodie_commit_time",
    "_hoodie_commit_seqno",
    "_hoodie_record_key",
    "_hoodie_partition_path",
    "_hoodie_file_name",
)


def table_format(config: Config, table: Table) -> str:
    """``delta``, or ``features.table_format`` for the feature tables."""
    return config.features.table_format if table.name in FEATURE_TABLES else "delta"


def _hadoop_exists(spark: SparkSession, uri: str) -> bool:
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.exists(path))


def hudi_table_exists(spark: SparkSession, path: str) -> bool:
    """A Hudi table with a completed commit: ``.hoodie/hoodie.properties`` and a schema to read.

    A writer killed during a table's first commit leaves ``.hoodie`` with only an inflight commit: Spark
    reads that as an empty relation without columns, so it counts as not written yet (the next write
    rolls the inflight commit back and writes the table).
    """
    if not _hadoop_exists(spark, path.rstrip("/") + "/.hoodie/hoodie.properties"):
        return False
    return bool(spark.read.format("hudi").load(path).columns)


def table_exists(spark: SparkSession, config: Config, table: Table) -> bool:
    path = table.path(config)
    if table_format(config, table) == "hudi":
        return hudi_table_exists(spark, path)
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def read_table(spark: SparkSession, config: Config, table: Table) -> DataFrame:
    """The table's latest snapshot (Hudi without its ``_hoodie_*`` meta columns)."""
    fmt = table_format(config, table)
    df = spark.read.format(fmt).load(table.path(config))
    return df.drop(*HUDI_META_COLUMNS) if fmt == "hudi" else df


def read_if_exists(spark: SparkSession, config: Config, table: Table) -> DataFrame | None:
    """The table, or None when it has not been written yet."""
    return read_table(spark, config, table) if table_exists(spark, config, table) else None


def read_delta_if_exists(spark: SparkSession, path: str) -> DataFrame | None:
    """The Delta table at ``path`` (a location without a :class:`Table`, e.g. ``_runs``), or None before its first
    write."""
    from delta.tables import DeltaTable

    return spark.read.format("delta").load(path) if DeltaTable.isDeltaTable(spark, path) else None


def table_version(spark: SparkSession, config: Config, table: Table) -> int | None:
    """Latest Delta version, or the latest Hudi instant time as an integer; None before the first write."""
    if not table_exists(spark, config, table):
        return None
    if table_format(config, table) == "hudi":
        from dip.io.arrow_reader import completed_instants

        instants = completed_instants(table.path(config))
        return int(instants[-1]) if instants else None
    from delta.tables import DeltaTable

    return int(DeltaTable.forPath(spark, table.path(config)).history(1).first()["version"])


def delete_rows(spark: SparkSession, path: str, condition: Column) -> int:
    """Delta DELETE of the rows matching ``condition`` at ``path``; the rows deleted (0: nothing committed)."""
    from delta.tables import DeltaTable

    table = DeltaTable.forPath(spark, path)
    before = table.history(1).first()["version"]
    table.delete(condition)
    # a stream may commit to the table meanwhile: the DELETE is the newest DELETE after ``before``
    deletes = table.history().where(f"version > {before} AND operation = 'DELETE'").orderBy("version").collect()
    return int((deletes[-1]["operationMetrics"] or {}).get("numDeletedRows") or 0) if deletes else 0
