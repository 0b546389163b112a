"""Time-based split, config validation and the registry model's feature handling (no Spark, no MLflow)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LinearRegression

from dip.config.models import MlConfig
from dip.ml.model_registry import RegisteredModel, as_float
from dip.ml.train import regression_metrics, time_split


def _frame(created: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "instagram",
            "post_id": [f"p{i}" for i in range(len(created))],
            "created_at": pd.to_datetime(created),
            "label": 0.1,
        }
    )


def test_time_split_validates_on_latest_posts() -> None:
    frame = _frame(["2026-11-20 05:00", "2026-11-20 01:00", "2026-11-20 03:00", "2026-11-20 02:00"])
    train, valid = time_split(frame, 0.25, 2)
    assert list(train["post_id"]) == ["p1", "p3", "p2"]
    assert list(valid["post_id"]) == ["p0"]


def test_time_split_keeps_ties_at_cutoff_together() -> None:
    frame = _frame(["2026-11-20 01:00", "2026-11-20 02:00", "2026-11-20 03:00", "2026-11-20 03:00"])
    train, valid = time_split(frame, 0.25, 2)
    assert list(train["post_id"]) == ["p0", "p1"]
    assert list(valid["post_id"]) == ["p2", "p3"]


def test_time_split_needs_min_rows_and_an_earlier_post() -> None:
    with pytest.raises(ValueError, match="need at least 4"):
        time_split(_frame(["2026-11-20"] * 3), 0.25, 4)
    with pytest.raises(ValueError, match="nothing to train on"):
        time_split(_frame(["2026-11-20"] * 4), 0.25, 2)


def test_regression_metrics() -> None:
    assert regression_metrics([1.0, 2.0], [2.0, 0.0]) == {"mae": 1.5, "rmse": math.sqrt(2.5)}


def test_feature_offset_must_be_below_horizon() -> None:
    with pytest.raises(ValidationError, match="feature_offset_hours"):
        MlConfig(label_horizon_hours=24, feature_offset_hours=24)


def test_as_float() -> None:
    assert [as_float(True), as_float(3), as_float(0.5)] == [1.0, 3.0, 0.5]
    assert all(math.isnan(as_float(v)) for v in (None, "x", [0.1, 0.2]))


def test_registered_model_predicts_a_float_from_a_feature_dict() -> None:
    x = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 1.0, 1.0]})
    estimator = LinearRegression().fit(x, [1.0, 3.0, 5.0])  # y = 2a + 1
    model = RegisteredModel("dip-engagement", "3", estimator, ["a", "b"])
    score = model.predict({"a": 4, "b": True, "caption_vec": [0.1]})
    assert isinstance(score, float)
    assert score == pytest.approx(9.0)


def test_explain_ranks_features_by_how_far_they_moved_the_score_from_the_median() -> None:
    x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [0.0, 0.0, 1.0, 1.0]})
    estimator = LinearRegression().fit(x, 2 * x["a"] - 5 * x["b"] + 1)  # y = 2a - 5b + 1
    model = RegisteredModel("dip-engagement", "3", estimator, ["a", "b"], {"a": 1.5, "b": 0.5})
    # a = 4 vs median 1.5 -> +5; b = 1 vs median 0.5 -> -2.5
    explained = model.explain({"a": 4, "b": 1.0})
    assert [name for name, _ in explained] == ["a", "b"]
    assert [round(delta, 9) for _, delta in explained] == [5.0, -2.5]
    assert model.explain({"a": 4, "b": 1.0}, top=1)[0][0] == "a"
    assert RegisteredModel("m", "1", estimator, ["a", "b"]).explain({"a": 4}) == []  # logged without medians
