"""The promotion gate: a trained model becomes champion only when it beats naive baselines on validation.

Baselines, each fitted on the training rows only and scored on the validation rows of the time split:

- ``global_mean``: the mean training label, for every post;
- ``account_median``: the median training label of the post's account (its trailing median: every training
  post was published before every validation post); the global training median for an account without
  training posts.

The gate passes when the model's validation MAE is below the best baseline's by at least ``margin`` (a
fraction of that baseline's MAE) and the model's validation predictions are not (nearly) constant: a
regressor that learned only the mean would otherwise pass on a lucky split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

GLOBAL_MEAN = "global_mean"
ACCOUNT_MEDIAN = "account_median"


def baseline_predictions(train: pd.DataFrame, valid: pd.DataFrame, label: str) -> dict[str, np.ndarray]:
    """Each baseline's predictions for the rows of ``valid`` (fitted on ``train``'s labels)."""
    labels = train[label].astype("float64")
    per_account = labels.groupby(train["account_id"]).median()
    account = valid["account_id"].map(per_account).fillna(labels.median())
    return {
        GLOBAL_MEAN: np.full(len(valid), labels.mean()),
        ACCOUNT_MEDIAN: account.to_numpy(dtype="float64"),
    }


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float))))


@dataclass(frozen=True)
class GateResult:
    """The gate's decision and the figures it was made on."""

    passed: bool
    reason: str
    model_mae: float
    baseline_mae: dict[str, float]
    best_baseline: str
    spread: float  # standard deviation of the model's validation predictions

    def table(self) -> list[dict[str, object]]:
        """The comparison as rows (model first), for MLflow's table artifact and the summary."""
        rows: list[dict[str, object]] = [{"predictor": "model", "val_mae": self.model_mae}]
        rows += [{"predictor": name, "val_mae": value} for name, value in self.baseline_mae.items()]
        return rows


def promotion_gate(
    y_true: np.ndarray,
    model_pred: np.ndarray,
    baselines: dict[str, np.ndarray],
    *,
    margin: float,
    min_spread: float,
) -> GateResult:
    """Whether the model beats every baseline by ``margin`` and its predictions vary by more than ``min_spread``."""
    model_mae = mae(y_true, model_pred)
    baseline_mae = {name: mae(y_true, pred) for name, pred in baselines.items()}
    best = min(baseline_mae, key=lambda name: (baseline_mae[name], name))
    spread = float(np.std(np.asarray(model_pred, dtype=float)))
    needed = baseline_mae[best] * (1 - margin)
    if not math.isfinite(model_mae):
        passed, reason = False, "the model's validation MAE is not a number"
    elif spread <= min_spread:
        passed = False
        reason = (
            f"the model predicts a constant on validation (spread {spread:.3g} <= ml.gate_min_spread {min_spread:g})"
        )
    elif model_mae >= needed:
        passed = False
        reason = (
            f"val MAE {model_mae:.4f} does not beat baseline {best} ({baseline_mae[best]:.4f}) by "
            f"{margin:.0%} (needs < {needed:.4f})"
        )
    else:
        passed = True
        reason = f"val MAE {model_mae:.4f} beats baseline {best} ({baseline_mae[best]:.4f}) by more than {margin:.0%}"
    return GateResult(passed, reason, model_mae, baseline_mae, best, spread)


def missing_data(n_rows: int, n_accounts: int, *, min_rows: int, min_accounts: int) -> str | None:
    """What the training set lacks to fit a model worth gating, in words; None when it has enough."""
    gaps = []
    if n_rows < min_rows:
        gaps.append(f"{n_rows} labelled post(s); need >= {min_rows} (ml.min_rows)")
    if n_accounts < min_accounts:
        gaps.append(f"{n_accounts} account(s) with labelled posts; need >= {min_accounts} (ml.min_accounts)")
    if not gaps:
        return None
    return "; ".join(gaps) + ": run more ingest rounds or a longer backfill (`dip backfill`) and train again"


def leaf_size(n_train: int, configured: int | None) -> int:
    """``min_samples_leaf`` for gradient boosting: the configured value, else ~5 % of the training rows in
    [2, 20] (scikit-learn's default 20 cannot split a few dozen rows, and the tree then learns the mean)."""
    if configured is not None:
        return configured
    return max(2, min(20, n_train // 20))
