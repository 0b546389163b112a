"""`dip evaluate` on hand-made silver predictions and post metrics (label horizon 48 h)."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from pyspark.sql import SparkSession

from dip.ml.evaluate import evaluate, join_observed, metric_lines
from dip.silver import normalize as N


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour)


PREDICTIONS = [
    # request_id, source, entity_id, view, fsv, model_name, model_version, variant, score, scored_at
    ("r1", "dip", "A", "v", 1, "m", "1", "control", 0.30, at(1)),  # label at 3rd 00:00 -> 3rd 06:00 (0.20)
    ("r2", "dip", "B", "v", 1, "m", "1", "control", 0.10, at(1)),  # nothing that late -> latest (0.25)
    ("r3", "dip", "C", "v", 1, "m", "2", "treatment", 0.50, at(1)),  # snapshot exactly at the label time (0.50)
    ("r4", "dip", "A", "v", 1, "m", "2", "treatment", 0.00, at(2)),  # label at 4th 00:00 -> 0.50
    ("r5", "dip", "D", "v", 1, "m", "2", "treatment", 0.70, at(1)),  # no snapshot: left out
]
POST_METRICS = [
    # post_id, captured_at, engagement_ratio
    ("A", at(2), 0.10),
    ("A", at(3, 1), None),  # unknown ratio: never the observed value
    ("A", at(3, 6), 0.20),
    ("A", at(4), 0.50),
    ("B", at(1, 12), 0.40),
    ("B", at(2), 0.25),
    ("C", at(3), 0.50),
    ("C", at(5), 0.90),
]


@pytest.fixture
def frames(spark: SparkSession):
    predictions = spark.createDataFrame(PREDICTIONS, N.PREDICTIONS_DDL)
    metrics = spark.createDataFrame(
        [
            (p, "ig", "acc", f"run-{i}", ts, None, None, None, None, None, None, r)
            for i, (p, ts, r) in enumerate(POST_METRICS)
        ],
        N.POST_METRICS_DDL,
    )
    return predictions, metrics


def test_join_picks_first_snapshot_after_horizon_else_latest(frames) -> None:
    joined = join_observed(*frames, horizon_hours=48)
    got = {r["request_id"]: (r["captured_at"], r["actual"], r["label_kind"]) for r in joined.collect()}
    assert got == {
        "r1": (at(3, 6), 0.20, "horizon"),
        "r2": (at(2), 0.25, "latest"),
        "r3": (at(3), 0.50, "horizon"),
        "r4": (at(4), 0.50, "horizon"),
    }


def test_per_variant_metrics_exact(frames) -> None:
    rows = [r.asDict() for r in evaluate(*frames, horizon_hours=48).collect()]
    assert [(r["variant"], r["count"]) for r in rows] == [("control", 2), ("treatment", 2)]
    control, treatment = rows
    # control errors: 0.30-0.20 = 0.10, 0.10-0.25 = -0.15; treatment: 0.50-0.50 = 0, 0.00-0.50 = -0.50
    assert control["mae"] == pytest.approx(0.125)
    assert control["rmse"] == pytest.approx(math.sqrt((0.01 + 0.0225) / 2))
    assert treatment["mae"] == pytest.approx(0.25)
    assert treatment["rmse"] == pytest.approx(math.sqrt(0.125))
    assert metric_lines(rows)[1:] == [
        "control                 2   0.125000   0.127475",
        "treatment               2   0.250000   0.353553",
    ]


def test_shorter_horizon_changes_the_observed_value(frames) -> None:
    rows = {r["variant"]: r["count"] for r in evaluate(*frames, horizon_hours=1).collect()}
    joined = {r["request_id"]: r["actual"] for r in join_observed(*frames, horizon_hours=1).collect()}
    assert rows == {"control": 2, "treatment": 2}
    assert joined == {"r1": 0.10, "r2": 0.40, "r3": 0.50, "r4": 0.20}
