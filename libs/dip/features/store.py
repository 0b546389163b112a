"""Table-format abstraction of the feature tables: upsert, snapshot read and incremental pull.

``features.table_format`` picks the implementation: :class:`~dip.features.delta_store.DeltaFeatureStore`
(MERGE upsert + Change Data Feed) or :class:`~dip.features.hudi_store.HudiFeatureStore` (Hudi
copy-on-write upsert + incremental query). Both expose commits as :class:`Commit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pyspark.sql import Column, DataFrame, SparkSession

from dip.config import Config
from dip.features.specs import FeatureTable


@dataclass(frozen=True)
class Commit:
    """A committed table state: ``id`` is what the push state stores (Delta version, Hudi instant),
    ``write_version`` the integer written to Redis ``_v`` (Delta commit epoch ms, Hudi instant time)."""

    id: str
    write_version: int


class FeatureStore(Protocol):
    """What the batch, push and offline jobs need from a table format."""

    format: str

    def upsert(self, df: DataFrame, table: FeatureTable, partition: str) -> int:
        """Upsert ``df`` (all rows in date ``partition``) on the table's keys; returns the rows written.

        Rows of ``partition`` whose key is not in ``df`` any more are deleted, so re-running a day
        leaves exactly that day's recomputed rows.
        """
        ...

    def exists(self, table: FeatureTable) -> bool: ...

    def read(self, table: FeatureTable, commit: Commit | None = None) -> DataFrame:
        """The table as of ``commit`` (latest when ``None``), feature columns only."""
        ...

    def latest_commit(self, table: FeatureTable) -> Commit | None: ...

    def changed_keys(self, table: FeatureTable, after: Commit | None, until: Commit) -> DataFrame:
        """Distinct entity ids of rows inserted or updated after ``after`` up to ``until``."""
        ...

    def delete_where(self, table: FeatureTable, condition: Column) -> int:
        """Delete the rows matching ``condition`` (retention, ``dip forget``); returns how many; 0 without a table."""
        ...


class LakeFeatureStore:
    """What both table formats share: the session, the config and where each feature table lives."""

    format: str

    def __init__(self, spark: SparkSession, config: Config) -> None:
        self.spark = spark
        self.config = config

    def _path(self, table: FeatureTable) -> str:
        return table.table.path(self.config)


def feature_store(spark: SparkSession, config: Config) -> FeatureStore:
    """The store for ``features.table_format``."""
    if config.features.table_format == "hudi":
        from dip.features.hudi_store import HudiFeatureStore

        return HudiFeatureStore(spark, config)
    from dip.features.delta_store import DeltaFeatureStore

    return DeltaFeatureStore(spark, config)
