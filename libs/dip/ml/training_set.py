"""Training set with point-in-time correct features for the engagement model.

Per post (silver ``posts`` with a known ``created_at``):

- ``label_ts = created_at + label_horizon_hours``; the label is silver ``post_metrics``'s
  ``engagement_ratio`` of the first snapshot captured at or after ``label_ts`` (and at most
  ``label_tolerance_hours`` after it) with a known ratio. Ties on ``captured_at``: the larger
  ``run_id`` (the later reading of the same moment). Posts without such a snapshot have no label.
- ``feature_ts = created_at + feature_offset_hours`` (strictly before ``label_ts``); features are
  the feature table's latest window with ``window_end <= feature_ts``
  (:func:`dip.features.offline.point_in_time_join`), so no snapshot after ``feature_ts`` reaches them.
  Posts without such a window are left out.

With feedback (``ml.with_feedback`` or ``dip train --with-feedback``), served predictions whose observed
engagement ``dip evaluate`` found at the horizon (table ``ml_feedback``) add rows: features as of the
scoring time, the observed value as the label (:func:`feedback_labels`).

Output: ``source, post_id, account_id, created_at, feature_ts, label_ts, label_captured_at,
window_end, feature_set_version``, one double column per feature, and ``label``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from dip.config import Config
from dip.features.offline import get_historical_features
from dip.features.windows import epoch_s
from dip.io.table_access import read_if_exists
from dip.silver import normalize as N
from dip.tables import ML_FEEDBACK, SILVER_POST_METRICS, SILVER_POSTS

LABEL = "label"
KEY_COLUMNS = ("source", "post_id", "account_id", "created_at", "feature_ts", "label_ts", "label_captured_at")


def _plus_hours(ts: str, hours: int) -> F.Column:
    return F.timestamp_seconds(epoch_s(F.col(ts)) + F.lit(hours * 3600))


def label_frame(
    posts: DataFrame,
    post_metrics: DataFrame,
    *,
    horizon_hours: int,
    feature_offset_hours: int,
    tolerance_hours: int,
) -> DataFrame:
    """One row per labelled post: keys, ``feature_ts``, ``label_ts``, ``label_captured_at`` and ``label``."""
    if not 0 <= feature_offset_hours < horizon_hours:
        raise ValueError(f"feature offset {feature_offset_hours} h must be in [0, {horizon_hours}) h (the horizon)")
    published = (
        posts.where(F.col("created_at").isNotNull())
        .select("source", "post_id", "account_id", "created_at")
        .withColumn("feature_ts", _plus_hours("created_at", feature_offset_hours))
        .withColumn("label_ts", _plus_hours("created_at", horizon_hours))
    )
    snapshots = post_metrics.where(F.col("engagement_ratio").isNotNull()).select(
        "source", "post_id", F.col("captured_at").alias("label_captured_at"), "run_id", F.col("engagement_ratio")
    )
    late_limit = epoch_s(F.col("label_ts")) + F.lit(tolerance_hours * 3600)
    candidates = published.join(snapshots, ["source", "post_id"]).where(
        (F.col("label_captured_at") >= F.col("label_ts")) & (epoch_s(F.col("label_captured_at")) <= late_limit)
    )
    first = Window.partitionBy("source", "post_id").orderBy(F.col("label_captured_at").asc(), F.col("run_id").desc())
    return (
        candidates.withColumn("_rn", F.row_number().over(first))
        .where("_rn = 1")
        .select(*KEY_COLUMNS, F.col("engagement_ratio").alias(LABEL))
    )


def feedback_labels(feedback: DataFrame, posts: DataFrame, labels: DataFrame, *, tolerance_hours: int) -> DataFrame:
    """Label rows (as :func:`label_frame`'s) from ``ml_feedback``: one per served (post, scoring time).

    Kept: ``label_kind = horizon`` rows observed at most ``tolerance_hours`` after ``label_at``, of posts
    in silver ``posts`` scored at or after publish. ``feature_ts`` is ``scored_at`` (what the service could
    know), ``label_ts`` is ``label_at``, the label is ``actual``. Several predictions of a post at the same
    moment give one row (the smallest request id); a (post, feature_ts) ``labels`` already has is left out.
    """
    late_limit = epoch_s(F.col("label_ts")) + F.lit(tolerance_hours * 3600)
    served = feedback.where(F.col("label_kind") == "horizon").select(
        F.col("entity_id").alias("post_id"),
        "request_id",
        F.col("scored_at").alias("feature_ts"),
        F.col("label_at").alias("label_ts"),
        F.col("captured_at").alias("label_captured_at"),
        F.col("actual").alias(LABEL),
    )
    published = posts.where(F.col("created_at").isNotNull()).select("source", "post_id", "account_id", "created_at")
    candidates = published.join(served, "post_id").where(
        (F.col("feature_ts") >= F.col("created_at")) & (epoch_s(F.col("label_captured_at")) <= late_limit)
    )
    first = Window.partitionBy("source", "post_id", "feature_ts").orderBy("request_id")
    return (
        candidates.withColumn("_rn", F.row_number().over(first))
        .where("_rn = 1")
        .join(labels.select("source", "post_id", "feature_ts"), ["source", "post_id", "feature_ts"], "left_anti")
        .select(*KEY_COLUMNS, LABEL)
    )


def training_rows(with_features: DataFrame, view: str, features: Sequence[str]) -> DataFrame:
    """Rows of a point-in-time join of ``view`` that found a window, features renamed and cast to double."""
    prefix = f"{view}__"
    missing = [f for f in features if prefix + f not in with_features.columns]
    if missing:
        raise ValueError(f"feature table {view} has no column(s) {', '.join(missing)}")
    return with_features.where(F.col(prefix + "window_end").isNotNull()).select(
        *KEY_COLUMNS,
        F.col(prefix + "window_end").alias("window_end"),
        F.col(prefix + "feature_set_version").alias("feature_set_version"),
        *[F.col(prefix + f).cast("double").alias(f) for f in features],
        LABEL,
    )


def read_feedback(spark: SparkSession, config: Config) -> DataFrame:
    """The ``ml_feedback`` table `dip evaluate` writes; a clear error when it does not exist yet."""
    feedback = read_if_exists(spark, config, ML_FEEDBACK)
    if feedback is None:
        raise ValueError(f"no {ML_FEEDBACK.name} table yet at {ML_FEEDBACK.path(config)}: run `dip evaluate` first")
    return feedback


def build_training_set(spark: SparkSession, config: Config) -> DataFrame:
    """The training set of ``config.ml`` from silver posts/post_metrics, the offline feature store and,
    with ``ml.with_feedback``, the ``ml_feedback`` table."""
    from dip.features.batch import read_silver

    ml = config.ml
    posts = read_silver(spark, config, SILVER_POSTS, N.POSTS_DDL)
    labels = label_frame(
        posts,
        read_silver(spark, config, SILVER_POST_METRICS, N.POST_METRICS_DDL),
        horizon_hours=ml.label_horizon_hours,
        feature_offset_hours=ml.feature_offset_hours,
        tolerance_hours=ml.label_tolerance_hours,
    )
    if ml.with_feedback:
        feedback = feedback_labels(
            read_feedback(spark, config), posts, labels, tolerance_hours=ml.label_tolerance_hours
        )
        labels = labels.unionByName(feedback)
    joined = get_historical_features(spark, config, labels, [ml.view], ts_col="feature_ts", entity_col="post_id")
    return training_rows(joined, ml.view, ml.features)
