"""Point-in-time offline retrieval for training: features as of each (entity, timestamp) row.

For every row of ``entity_df`` and every requested feature table, the row of that entity whose
window ends at or before the timestamp, the latest such one; never a window ending after it
(a window's features use data up to its end, so nothing from after the timestamp leaks in).
Rows without such a window get nulls. Output columns: ``entity_df``'s columns, then per table
``<table>__window_end`` and ``<table>__<feature>`` for each feature column.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from dip.config import Config
from dip.features.specs import FeatureTable, feature_table
from dip.features.store import feature_store

NON_FEATURE_COLUMNS = ("source", "post_id", "account_id", "date", "window_start", "window_end", "computed_at")
_ROW_ID = "_pit_row"


def point_in_time_join(
    entity_df: DataFrame,
    features: DataFrame,
    table: FeatureTable,
    *,
    entity_col: str = "entity_id",
    ts_col: str = "ts",
) -> DataFrame:
    """``entity_df`` plus, per row, the features of the latest window with ``window_end <= ts`` (an as-of join)."""
    prefix = f"{table.name}__"
    feature_cols = [c for c in features.columns if c not in NON_FEATURE_COLUMNS]
    right = features.select(
        F.col(table.entity_column).alias("_pit_entity"),
        F.col("window_end").alias(f"{prefix}window_end"),
        *[F.col(c).alias(prefix + c) for c in feature_cols],
    )
    left = entity_df.withColumn(_ROW_ID, F.monotonically_increasing_id())
    end = F.col(f"{prefix}window_end")
    joined = left.join(right, (left[entity_col] == right["_pit_entity"]) & (end <= left[ts_col]), "left").drop(
        "_pit_entity"
    )
    latest_first = Window.partitionBy(_ROW_ID).orderBy(end.desc_nulls_last())
    ranked = joined.withColumn("_pit_rn", F.row_number().over(latest_first))
    return ranked.where("_pit_rn = 1").drop("_pit_rn", _ROW_ID)


def get_historical_features(
    spark: SparkSession,
    config: Config,
    entity_df: DataFrame,
    views: list[str],
    ts_col: str = "ts",
    entity_col: str = "entity_id",
) -> DataFrame:
    """Point-in-time features of ``views`` (feature table names) for ``entity_df`` (``entity_col``, ``ts_col``)."""
    for column in (entity_col, ts_col):
        if column not in entity_df.columns:
            raise ValueError(f"entity_df has no column {column!r} (columns: {', '.join(entity_df.columns)})")
    store = feature_store(spark, config)
    result = entity_df
    for name in views:
        table = feature_table(name)
        if not store.exists(table):
            raise ValueError(f"feature table {name} has not been written yet: run `dip features` first")
        result = point_in_time_join(result, store.read(table), table, entity_col=entity_col, ts_col=ts_col)
    return result
