"""`dip evaluate`: served predictions joined with the engagement observed later, error metrics per A/B variant.

The observed value of a prediction is the ``engagement_ratio`` of its post's first silver ``post_metrics``
snapshot at or after ``scored_at + ml.label_horizon_hours``; when no snapshot is that late yet, the latest
snapshot is used (``label_kind`` says which). Predictions of posts without any snapshot are left out.
The joined table is written (overwritten: a re-run gives the same table) to ``ml_feedback``, which
``dip train --with-feedback`` reads (:func:`dip.ml.training_set.feedback_labels`).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from dip.config import Config

METRICS_COLUMNS = ("variant", "count", "mae", "rmse")


def join_observed(predictions: DataFrame, post_metrics: DataFrame, horizon_hours: int) -> DataFrame:
    """One row per prediction with ``actual`` (observed engagement ratio), ``captured_at`` and ``label_kind``."""
    preds = predictions.select(
        "request_id", "entity_id", "variant", "model_name", "model_version", "score", "scored_at"
    ).withColumn("label_at", F.col("scored_at") + F.expr(f"INTERVAL {int(horizon_hours)} HOURS"))
    snapshots = post_metrics.where(F.col("engagement_ratio").isNotNull()).select(
        F.col("post_id").alias("entity_id"), "captured_at", F.col("engagement_ratio").alias("actual")
    )
    joined = preds.join(snapshots, "entity_id")
    after = F.col("captured_at") >= F.col("label_at")
    order = Window.partitionBy("request_id").orderBy(
        (~after).cast("int").asc(), F.when(after, F.col("captured_at")).asc_nulls_last(), F.col("captured_at").desc()
    )
    return (
        joined.withColumn("_rn", F.row_number().over(order))
        .where("_rn = 1")
        .withColumn("label_kind", F.when(after, F.lit("horizon")).otherwise(F.lit("latest")))
        .drop("_rn")
    )


def variant_metrics(joined: DataFrame) -> DataFrame:
    """``variant, count, mae, rmse`` of ``score`` against ``actual``, ordered by variant."""
    err = F.col("score") - F.col("actual")
    return (
        joined.groupBy("variant")
        .agg(
            F.count(F.lit(1)).alias("count"),
            F.avg(F.abs(err)).alias("mae"),
            F.sqrt(F.avg(err * err)).alias("rmse"),
        )
        .orderBy("variant")
    )


def evaluate(predictions: DataFrame, post_metrics: DataFrame, horizon_hours: int) -> DataFrame:
    """Per-variant error metrics of served predictions (pure: DataFrames in, DataFrame out)."""
    return variant_metrics(join_observed(predictions, post_metrics, horizon_hours))


def run_evaluate(spark: SparkSession, config: Config) -> list[dict]:
    """Join silver ``predictions`` with ``post_metrics``, persist it as ``ml_feedback``, return per-variant metrics."""
    from dip.io.table_access import read_if_exists
    from dip.tables import ML_FEEDBACK, SILVER_POST_METRICS, SILVER_PREDICTIONS

    predictions, post_metrics = (read_if_exists(spark, config, t) for t in (SILVER_PREDICTIONS, SILVER_POST_METRICS))
    missing = [
        t.name for t, df in ((SILVER_PREDICTIONS, predictions), (SILVER_POST_METRICS, post_metrics)) if df is None
    ]
    if missing:
        raise ValueError(f"no Delta table yet for {', '.join(missing)} (run stream_bronze and stream_silver first)")
    joined = join_observed(predictions, post_metrics, config.ml.label_horizon_hours)
    joined.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(ML_FEEDBACK.path(config))
    feedback = spark.read.format("delta").load(ML_FEEDBACK.path(config))
    return [row.asDict() for row in variant_metrics(feedback).collect()]


def metric_lines(rows: list[dict]) -> list[str]:
    """A fixed-width table of the per-variant metrics."""
    lines = [f"{'variant':<16} {'count':>8} {'mae':>10} {'rmse':>10}"]
    for row in rows:
        lines.append(f"{row['variant']:<16} {row['count']:>8d} {row['mae']:>10.6f} {row['rmse']:>10.6f}")
    if not rows:
        lines.append("(no prediction has an observed engagement yet)")
    return lines
