"""Training-set labels and point-in-time features on hand-made silver frames (horizon 48 h, offset 24 h)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.features.offline import point_in_time_join
from dip.features.specs import POST_DAILY
from dip.ml.training_set import label_frame, training_rows
from dip.silver import normalize as N

LABELS_DDL = (
    "source STRING, post_id STRING, account_id STRING, created_at TIMESTAMP, feature_ts TIMESTAMP, "
    "label_ts TIMESTAMP, label_captured_at TIMESTAMP, label DOUBLE"
)
FEATURES_DDL = (
    "source STRING, post_id STRING, window_start TIMESTAMP, window_end TIMESTAMP, feature_set_version INT, "
    "views_delta BIGINT, engagement_ratio_last DOUBLE"
)
ROWS_DDL = (
    "source STRING, post_id STRING, account_id STRING, created_at TIMESTAMP, feature_ts TIMESTAMP, "
    "label_ts TIMESTAMP, label_captured_at TIMESTAMP, window_end TIMESTAMP, feature_set_version INT, "
    "views_delta DOUBLE, engagement_ratio_last DOUBLE, label DOUBLE"
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _post(post_id: str, created_at: datetime | None) -> tuple:
    return (post_id, "instagram", "a1", None, [], [], "IMAGE", None, created_at, utc(2026, 11, 30))


def _snap(post_id: str, run_id: str, captured_at: datetime, ratio: float | None) -> tuple:
    return (post_id, "instagram", "a1", run_id, captured_at, 100, 10, 0, 0, 0, None, ratio)


@pytest.fixture(scope="module")
def labels(spark: SparkSession) -> DataFrame:
    posts = spark.createDataFrame(
        [
            _post("p1", utc(2026, 11, 20, 10)),
            _post("p2", utc(2026, 11, 20, 12)),
            _post("p3", None),  # publish time unknown: no label time
            _post("p4", utc(2026, 11, 20, 8)),
            _post("p5", utc(2026, 11, 20, 6)),
        ],
        N.POSTS_DDL,
    )
    metrics = spark.createDataFrame(
        [
            _snap("p1", "r1", utc(2026, 11, 22, 9, 59), 0.5),  # a minute before the label time: not the label
            _snap("p1", "r2", utc(2026, 11, 22, 10), 0.2),  # exactly at the label time: the label
            _snap("p1", "r3", utc(2026, 11, 22, 11), 0.9),  # a later snapshot: never used
            _snap("p2", "r1", utc(2026, 11, 21, 12), 0.3),  # before the label time only ...
            _snap("p2", "r9", utc(2026, 11, 23, 12, 0, 1), 0.7),  # ... and one beyond the 24 h tolerance
            _snap("p3", "r1", utc(2026, 11, 22), 0.1),
            _snap("p4", "r5", utc(2026, 11, 22, 9), 0.3),  # same captured_at twice: the larger run_id wins
            _snap("p4", "r6", utc(2026, 11, 22, 9), 0.4),
            _snap("p5", "r1", utc(2026, 11, 22, 6), None),  # ratio unknown: skipped
            _snap("p5", "r2", utc(2026, 11, 22, 7), 0.25),
        ],
        N.POST_METRICS_DDL,
    )
    return label_frame(posts, metrics, horizon_hours=48, feature_offset_hours=24, tolerance_hours=24)


def test_label_is_first_known_snapshot_at_or_after_label_time(spark: SparkSession, labels: DataFrame) -> None:
    expected = spark.createDataFrame(
        [
            (
                "instagram",
                "p1",
                "a1",
                utc(2026, 11, 20, 10),
                utc(2026, 11, 21, 10),
                utc(2026, 11, 22, 10),
                utc(2026, 11, 22, 10),
                0.2,
            ),
            (
                "instagram",
                "p4",
                "a1",
                utc(2026, 11, 20, 8),
                utc(2026, 11, 21, 8),
                utc(2026, 11, 22, 8),
                utc(2026, 11, 22, 9),
                0.4,
            ),
            (
                "instagram",
                "p5",
                "a1",
                utc(2026, 11, 20, 6),
                utc(2026, 11, 21, 6),
                utc(2026, 11, 22, 6),
                utc(2026, 11, 22, 7),
                0.25,
            ),
        ],
        LABELS_DDL,
    )
    assertDataFrameEqual(labels, expected)


def test_features_come_from_windows_ending_by_feature_time(spark: SparkSession, labels: DataFrame) -> None:
    features = spark.createDataFrame(
        [
            ("instagram", "p1", utc(2026, 11, 20), utc(2026, 11, 21), 1, 10, 0.1),
            # ends after p1's feature time (21 Nov 10:00) and holds snapshots up to the label: never used
            ("instagram", "p1", utc(2026, 11, 21), utc(2026, 11, 22), 1, 999, 0.9),
            ("instagram", "p4", utc(2026, 11, 20), utc(2026, 11, 21), 1, 4, None),
            # p5's only window ends after its feature time (21 Nov 06:00): p5 has no training row
            ("instagram", "p5", utc(2026, 11, 21), utc(2026, 11, 22), 1, 50, 0.5),
        ],
        FEATURES_DDL,
    )
    joined = point_in_time_join(labels, features, POST_DAILY, entity_col="post_id", ts_col="feature_ts")
    rows = training_rows(joined, "post_features_daily", ["views_delta", "engagement_ratio_last"])
    expected = spark.createDataFrame(
        [
            (
                "instagram",
                "p1",
                "a1",
                utc(2026, 11, 20, 10),
                utc(2026, 11, 21, 10),
                utc(2026, 11, 22, 10),
                utc(2026, 11, 22, 10),
                utc(2026, 11, 21),
                1,
                10.0,
                0.1,
                0.2,
            ),
            (
                "instagram",
                "p4",
                "a1",
                utc(2026, 11, 20, 8),
                utc(2026, 11, 21, 8),
                utc(2026, 11, 22, 8),
                utc(2026, 11, 22, 9),
                utc(2026, 11, 21),
                1,
                4.0,
                None,
                0.4,
            ),
        ],
        ROWS_DDL,
    )
    assertDataFrameEqual(rows, expected)


def test_unknown_feature_column_is_an_error(labels: DataFrame, spark: SparkSession) -> None:
    features = spark.createDataFrame([], FEATURES_DDL)
    joined = point_in_time_join(labels, features, POST_DAILY, entity_col="post_id", ts_col="feature_ts")
    with pytest.raises(ValueError, match="no column"):
        training_rows(joined, "post_features_daily", ["views_delta", "nope"])


def test_feature_time_must_precede_label_time(spark: SparkSession) -> None:
    empty_posts, empty_metrics = spark.createDataFrame([], N.POSTS_DDL), spark.createDataFrame([], N.POST_METRICS_DDL)
    with pytest.raises(ValueError, match="horizon"):
        label_frame(empty_posts, empty_metrics, horizon_hours=24, feature_offset_hours=24, tolerance_hours=1)
