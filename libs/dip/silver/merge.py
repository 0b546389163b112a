"""MERGE of a validated micro-batch into each silver table: idempotent, newest wins, no-op when unchanged."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from dip.silver import normalize as N


@dataclass(frozen=True)
class MergeSpec:
    """How a silver table is keyed and how a newer source row updates a stored one."""

    ddl: str
    keys: tuple[str, ...]
    order_by: str  # newest row per key wins inside a batch and against the table
    partition_by: tuple[str, ...] = ("source",)
    combine_metrics: tuple[str, ...] = ()  # columns filled from whichever record of the same key reports them
    change_feed: bool = False  # Delta Change Data Feed on (stream_live reads the table's changes)

    @property
    def columns(self) -> list[str]:
        return [part.strip().split(" ", 1)[0] for part in self.ddl.split(",")]


CHANGE_FEED_PROPERTY = "delta.enableChangeDataFeed"
METRIC_COLUMNS = ("views", "likes", "comments", "shares", "saves", "reach")
SPECS: dict[str, MergeSpec] = {
    "posts": MergeSpec(N.POSTS_DDL, ("source", "post_id"), "updated_at"),
    "post_captions": MergeSpec(N.POST_CAPTIONS_DDL, ("source", "post_id", "run_id"), "captured_at"),
    "post_metrics": MergeSpec(
        N.POST_METRICS_DDL,
        ("source", "post_id", "run_id"),
        "captured_at",
        combine_metrics=METRIC_COLUMNS,
        change_feed=True,
    ),
    "accounts": MergeSpec(N.ACCOUNTS_DDL, ("source", "account_id"), "updated_at"),
    "account_metrics": MergeSpec(
        N.ACCOUNT_METRICS_DDL, ("source", "account_id", "run_id"), "captured_at", change_feed=True
    ),
    "audience": MergeSpec(
        N.AUDIENCE_DDL, ("source", "account_id", "run_id", "breakdown", "dimension_value"), "captured_at"
    ),
    "predictions": MergeSpec(N.PREDICTIONS_DDL, ("request_id",), "scored_at"),
}


def latest_per_key(df: DataFrame, spec: MergeSpec) -> DataFrame:
    """One row per key: the newest by ``order_by``; combined metrics take any reported value of the key."""
    if spec.combine_metrics:
        others = [c for c in spec.columns if c not in spec.keys]
        aggs = [
            F.max(c).alias(c) if c in spec.combine_metrics or c == spec.order_by else F.first(c, True).alias(c)
            for c in others
            if c != "engagement_ratio"
        ]
        combined = df.groupBy(*spec.keys).agg(*aggs)
        ratio = N.engagement_ratio(F.col("likes"), F.col("comments"), F.col("shares"), F.col("saves"), F.col("views"))
        return combined.withColumn("engagement_ratio", ratio).select(*spec.columns)
    window = Window.partitionBy(*spec.keys).orderBy(F.col(spec.order_by).desc())
    return df.withColumn("_rn", F.row_number().over(window)).where("_rn = 1").select(*spec.columns)


def _update_exprs(spec: MergeSpec) -> dict[str, str]:
    if not spec.combine_metrics:
        return {c: f"s.`{c}`" for c in spec.columns}
    exprs = {c: f"s.`{c}`" for c in spec.columns}
    for c in spec.combine_metrics:
        exprs[c] = f"coalesce(s.`{c}`, t.`{c}`)"
    exprs[spec.order_by] = f"greatest(s.`{spec.order_by}`, t.`{spec.order_by}`)"
    parts = {c: exprs[c] for c in ("likes", "comments", "shares", "saves")}
    known = " OR ".join(f"{e} IS NOT NULL" for e in parts.values())
    total = " + ".join(f"coalesce({e}, 0)" for e in parts.values())
    views = exprs["views"]
    exprs["engagement_ratio"] = f"CASE WHEN {views} > 0 AND ({known}) THEN CAST({total} AS DOUBLE) / {views} END"
    return exprs


def ensure_table(spark: SparkSession, path: str, spec: MergeSpec) -> None:
    """Create the empty Delta table with its schema and partitioning if it does not exist yet."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        writer = spark.createDataFrame([], spec.ddl).write.format("delta").mode("ignore")
        if spec.change_feed:
            writer = writer.option(CHANGE_FEED_PROPERTY, "true")
        writer.partitionBy(*spec.partition_by).save(path)


def merge_into(spark: SparkSession, rows: DataFrame, path: str, spec: MergeSpec) -> dict[str, int]:
    """MERGE ``rows`` into the table at ``path``; returns inserted/updated counts from the commit metrics."""
    from delta.tables import DeltaTable

    ensure_table(spark, path, spec)
    source = latest_per_key(rows, spec)
    updates = _update_exprs(spec)
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in spec.keys)
    newer = f"s.`{spec.order_by}` >= t.`{spec.order_by}`" if not spec.combine_metrics else "true"
    changed = " OR ".join(f"NOT (t.`{c}` <=> {e})" for c, e in updates.items() if c not in spec.keys)
    table = DeltaTable.forPath(spark, path)
    (
        table.alias("t")
        .merge(source.alias("s"), on)
        .whenMatchedUpdate(condition=f"({newer}) AND ({changed})", set=updates)
        .whenNotMatchedInsert(values={c: f"s.`{c}`" for c in spec.columns})
        .execute()
    )
    last = table.history(1).first()
    if last is None or last["operation"] != "MERGE":
        return {"inserted": 0, "updated": 0, "source_rows": 0}
    metrics = last["operationMetrics"] or {}
    return {
        "inserted": int(metrics.get("numTargetRowsInserted", 0)),
        "updated": int(metrics.get("numTargetRowsUpdated", 0)),
        "source_rows": int(metrics.get("numSourceRows", 0)),
    }
