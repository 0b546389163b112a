"""Retraining rows from `dip evaluate`'s ml_feedback table: which served predictions become labels (exact rows)."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.ml.evaluate import join_observed
from dip.ml.training_set import feedback_labels
from dip.silver import normalize as N

FEEDBACK_DDL = (
    "request_id STRING, entity_id STRING, variant STRING, model_name STRING, model_version STRING, score DOUBLE, "
    "scored_at TIMESTAMP, label_at TIMESTAMP, captured_at TIMESTAMP, actual DOUBLE, label_kind STRING"
)
LABELS_DDL = (
    "source STRING, post_id STRING, account_id STRING, created_at TIMESTAMP, feature_ts TIMESTAMP, "
    "label_ts TIMESTAMP, label_captured_at TIMESTAMP, label DOUBLE"
)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour)


def _feedback(request_id: str, post: str, scored: datetime, captured: datetime, actual: float, kind: str) -> tuple:
    label_at = scored.replace(day=scored.day + 2)  # horizon 48 h
    return (request_id, post, "control", "m", "1", 0.1, scored, label_at, captured, actual, kind)


FEEDBACK = [
    _feedback("r1", "A", at(1, 6), at(3, 7), 0.2, "horizon"),  # same post and moment as r0: r0 (smaller id) kept
    _feedback("r0", "A", at(1, 6), at(3, 7), 0.3, "horizon"),
    _feedback("r2", "B", at(1, 6), at(2, 0), 0.4, "latest"),  # not observed at the horizon yet
    _feedback("r3", "C", at(1, 6), at(3, 6), 0.5, "horizon"),  # scored before C was published
    _feedback("r4", "D", at(1, 6), at(4, 7), 0.6, "horizon"),  # observed 25 h after the label time (> 24 h)
    _feedback("r5", "E", at(1, 6), at(3, 6), 0.7, "horizon"),  # not a silver post
    _feedback("r6", "A", at(2, 0), at(4, 0), 0.8, "horizon"),  # the base training set has (A, 2nd 00:00)
    _feedback("r7", "F", at(1, 12), at(3, 12), 0.9, "horizon"),
]
POSTS = [
    ("A", "instagram", "a1", None, [], [], "IMAGE", None, at(1), at(5)),
    ("B", "instagram", "a1", None, [], [], "IMAGE", None, at(1), at(5)),
    ("C", "instagram", "a1", None, [], [], "IMAGE", None, at(1, 8), at(5)),
    ("D", "instagram", "a1", None, [], [], "IMAGE", None, at(1), at(5)),
    ("F", "tiktok", "t1", None, [], [], "VIDEO", None, at(1), at(5)),
]
BASE_LABELS = [("instagram", "A", "a1", at(1), at(2), at(3), at(3, 1), 0.25)]


def test_feedback_rows_become_labels_as_of_the_scoring_time(spark: SparkSession) -> None:
    got = feedback_labels(
        spark.createDataFrame(FEEDBACK, FEEDBACK_DDL),
        spark.createDataFrame(POSTS, N.POSTS_DDL),
        spark.createDataFrame(BASE_LABELS, LABELS_DDL),
        tolerance_hours=24,
    )
    expected = [
        ("instagram", "A", "a1", at(1), at(1, 6), at(3, 6), at(3, 7), 0.3),
        ("tiktok", "F", "t1", at(1), at(1, 12), at(3, 12), at(3, 12), 0.9),
    ]
    assertDataFrameEqual(got, spark.createDataFrame(expected, LABELS_DDL))


def test_join_observed_output_feeds_feedback_labels(spark: SparkSession) -> None:
    """The persisted table's columns are the ones feedback_labels reads (evaluate -> train contract)."""
    predictions = spark.createDataFrame(
        [("r1", "dip", "F", "v", 1, "m", "1", "control", 0.1, at(1, 12))], N.PREDICTIONS_DDL
    )
    metrics = spark.createDataFrame(
        [("F", "tiktok", "t1", "run-1", at(3, 12), None, None, None, None, None, None, 0.9)], N.POST_METRICS_DDL
    )
    joined = join_observed(predictions, metrics, horizon_hours=48)
    got = feedback_labels(
        joined,
        spark.createDataFrame(POSTS, N.POSTS_DDL),
        spark.createDataFrame([], LABELS_DDL),
        tolerance_hours=24,
    )
    expected = [("tiktok", "F", "t1", at(1), at(1, 12), at(3, 12), at(3, 12), 0.9)]
    assertDataFrameEqual(got, spark.createDataFrame(expected, LABELS_DDL))
