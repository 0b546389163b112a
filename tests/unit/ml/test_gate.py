"""The promotion gate's exact decisions on hand-made training sets (no Spark, no MLflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from dip.ml.gate import (
    ACCOUNT_MEDIAN,
    GLOBAL_MEAN,
    baseline_predictions,
    leaf_size,
    missing_data,
    promotion_gate,
)


def test_baselines_are_fitted_on_training_rows_only() -> None:
    train = pd.DataFrame({"account_id": ["a", "a", "a", "b"], "label": [0.1, 0.2, 0.9, 0.5]})
    valid = pd.DataFrame({"account_id": ["a", "b", "c"], "label": [7.0, 7.0, 7.0]})  # never read
    preds = baseline_predictions(train, valid, "label")
    assert preds[GLOBAL_MEAN].tolist() == pytest.approx([0.425] * 3)
    # a: median of 0.1, 0.2, 0.9; b: its one post; c has no training post: the global median (0.1..0.9 -> 0.35)
    assert preds[ACCOUNT_MEDIAN].tolist() == pytest.approx([0.2, 0.5, 0.35])


def test_a_model_that_beats_the_best_baseline_by_the_margin_is_promoted() -> None:
    y = np.array([0.1, 0.2, 0.3, 0.4])
    gate = promotion_gate(
        y, y + 0.01, {GLOBAL_MEAN: np.full(4, 0.25), ACCOUNT_MEDIAN: y + 0.05}, margin=0.05, min_spread=1e-6
    )
    assert (gate.passed, gate.best_baseline) == (True, ACCOUNT_MEDIAN)
    assert gate.model_mae == pytest.approx(0.01) and gate.baseline_mae[GLOBAL_MEAN] == pytest.approx(0.1)
    assert gate.reason == "val MAE 0.0100 beats baseline account_median (0.0500) by more than 5%"
    assert [r["predictor"] for r in gate.table()] == ["model", GLOBAL_MEAN, ACCOUNT_MEDIAN]


def test_a_model_within_the_margin_of_a_baseline_is_not_promoted() -> None:
    y = np.array([0.0, 1.0])
    gate = promotion_gate(y, np.array([0.2, 0.79]), {GLOBAL_MEAN: np.array([0.2, 0.8])}, margin=0.1, min_spread=0)
    assert not gate.passed
    assert gate.reason == "val MAE 0.2050 does not beat baseline global_mean (0.2000) by 10% (needs < 0.1800)"


def test_a_constant_model_is_not_promoted_even_when_it_beats_the_baselines() -> None:
    y = np.array([0.5, 0.5, 0.6])
    gate = promotion_gate(y, np.full(3, 0.53), {GLOBAL_MEAN: np.full(3, 2.0)}, margin=0.05, min_spread=1e-6)
    assert not gate.passed and gate.spread == 0.0
    assert gate.reason == "the model predicts a constant on validation (spread 0 <= ml.gate_min_spread 1e-06)"


def _posts(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Engagement that depends on one feature (views growth), over 4 accounts; the first 75 % train."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    frame = pd.DataFrame(
        {"account_id": [f"acc{i % 4}" for i in range(n)], "views_delta": x, "label": 0.02 * x + rng.normal(0, 0.01, n)}
    )
    cut = int(n * 0.75)
    return frame.iloc[:cut], frame.iloc[cut:]


@pytest.mark.parametrize(
    ("leaf", "passed"),
    [(None, True), (20, False)],  # the scaled leaf learns the signal; sklearn's default 20 on 30 rows learns the mean
)
def test_gradient_boosting_on_few_rows_passes_only_with_a_scaled_leaf(leaf: int | None, passed: bool) -> None:
    train, valid = _posts(40)
    model = HistGradientBoostingRegressor(min_samples_leaf=leaf_size(len(train), leaf), random_state=0)
    model.fit(train[["views_delta"]], train["label"])
    pred = model.predict(valid[["views_delta"]])
    gate = promotion_gate(
        valid["label"].to_numpy(), pred, baseline_predictions(train, valid, "label"), margin=0.05, min_spread=1e-6
    )
    assert gate.passed is passed, gate.reason


def test_too_little_data_is_said_plainly() -> None:
    assert missing_data(200, 3, min_rows=200, min_accounts=2) is None
    assert missing_data(10, 6, min_rows=200, min_accounts=2) == (
        "10 labelled post(s); need >= 200 (ml.min_rows): run more ingest rounds or a longer backfill "
        "(`dip backfill`) and train again"
    )
    assert missing_data(250, 1, min_rows=200, min_accounts=2) == (
        "1 account(s) with labelled posts; need >= 2 (ml.min_accounts): run more ingest rounds or a longer "
        "backfill (`dip backfill`) and train again"
    )


def test_leaf_size_scales_with_the_training_rows_unless_configured() -> None:
    assert [leaf_size(n, None) for n in (8, 30, 200, 10_000)] == [2, 2, 10, 20]
    assert leaf_size(30, 7) == 7
