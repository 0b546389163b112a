"""Train the engagement regressor on a time-based split, log it to MLflow and promote the champion.

Validation: the latest-published ``ml.validation_fraction`` of posts (posts published at the same
moment as the first validation post validate too), so the model never trains on a post published
after one it is judged on. Too little data (``ml.min_rows`` labelled posts, ``ml.min_accounts`` accounts) is
said in words and nothing is fitted. The new version gets the champion alias only when it passes the promotion
gate (:mod:`dip.ml.gate`: it beats the naive baselines by ``ml.gate_margin`` and is not constant) and its
validation MAE is strictly below the current champion's (or there is none). A first model that fails the gate
is registered without the alias and training fails with the reason, unless ``allow_baseline``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dip.config import Config
from dip.config.models import MlConfig
from dip.ml.gate import GateResult, baseline_predictions, leaf_size, mae, missing_data, promotion_gate
from dip.ml.model_registry import artifact_location, champion_version, use_tracking
from dip.ml.training_set import LABEL

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

VAL_MAE = "val_mae"


def trusted_types(estimator: Any) -> list[str]:
    """Types MLflow's skops format must be told to trust to load ``estimator`` (e.g. HGB's TreePredictor).

    Sound here because the list is taken from the estimator this process just fitted, not from a file.
    """
    import skops.io

    return skops.io.get_untrusted_types(data=skops.io.dumps(estimator))


class TrainingRefused(ValueError):
    """Training cannot give a usable model: too little data, or a first model that does not beat the baselines."""


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced and whether it became the champion."""

    run_id: str
    version: str
    n_train: int
    n_valid: int
    metrics: dict[str, float]
    champion: bool
    previous_champion: str | None
    previous_mae: float | None
    gate: GateResult
    importance: dict[str, float]  # permutation importance on validation: MAE increase when the feature is shuffled
    with_feedback: bool = False


def time_split(frame: pd.DataFrame, validation_fraction: float, min_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier posts train, the latest ``validation_fraction`` (by ``created_at``) validate."""
    if len(frame) < min_rows:
        raise ValueError(f"{len(frame)} labelled post(s) with features; need at least {min_rows} (ml.min_rows)")
    keys = ["created_at", "source", "post_id", *(["feature_ts"] if "feature_ts" in frame.columns else [])]
    ordered = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    n_valid = max(1, math.ceil(len(ordered) * validation_fraction))
    cutoff = ordered["created_at"].iloc[len(ordered) - n_valid]
    train, valid = ordered[ordered["created_at"] < cutoff], ordered[ordered["created_at"] >= cutoff]
    if train.empty:
        raise ValueError(f"every post was published at or after the validation cutoff {cutoff}: nothing to train on")
    return train, valid


def make_estimator(kind: str, params: dict[str, Any], n_train: int | None = None) -> Any:
    """A scikit-learn regressor that accepts NaN features (gradient boosting natively, ridge after imputation).

    Gradient boosting's ``min_samples_leaf`` is ``ml.params``'s when set, else scaled to ``n_train``
    (:func:`dip.ml.gate.leaf_size`)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "hist_gradient_boosting":
        leaf = leaf_size(n_train, params.get("min_samples_leaf")) if n_train else params.get("min_samples_leaf", 20)
        return HistGradientBoostingRegressor(**{"random_state": 0, **params, "min_samples_leaf": int(leaf)})
    if kind == "ridge":
        imputer = SimpleImputer(strategy="median", keep_empty_features=True)
        return make_pipeline(imputer, StandardScaler(), Ridge(**params))
    raise ValueError(f"unknown ml.model {kind!r}")


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE and RMSE."""
    err = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    return {"mae": mae(y_true, y_pred), "rmse": float(np.sqrt(np.mean(err**2)))}


def permutation_importances(estimator: Any, x: pd.DataFrame, y: np.ndarray, repeats: int) -> dict[str, float]:
    """Mean increase of the MAE on (``x``, ``y``) when each feature is shuffled, largest first."""
    from sklearn.inspection import permutation_importance

    found = permutation_importance(
        estimator, x, y, n_repeats=repeats, random_state=0, scoring="neg_mean_absolute_error"
    )
    pairs = sorted(zip(x.columns, found.importances_mean, strict=True), key=lambda p: (-p[1], p[0]))
    return {name: float(value) for name, value in pairs}


@dataclass(frozen=True)
class Fitted:
    """A model fitted on the time split and judged on validation: what the MLflow run logs."""

    estimator: Any
    train: pd.DataFrame
    valid: pd.DataFrame
    x_train: pd.DataFrame
    metrics: dict[str, float]
    gate: GateResult
    importance: dict[str, float]
    feature_set_versions: list[int]


def fit_and_judge(config: Config, frame: pd.DataFrame) -> Fitted:
    """Refuse too little data, fit on the time split of ``frame``, and measure the model against the baselines."""
    ml = config.ml
    features = list(ml.features)
    accounts = frame["account_id"].nunique() if len(frame) else 0
    missing = missing_data(len(frame), accounts, min_rows=ml.min_rows, min_accounts=ml.min_accounts)
    if missing:
        raise TrainingRefused(missing)
    train, valid = time_split(frame, ml.validation_fraction, ml.min_rows)
    x_train, x_valid = train[features].astype("float64"), valid[features].astype("float64")
    y_valid = valid[LABEL].to_numpy(dtype=float)
    estimator = make_estimator(ml.model, dict(ml.params), len(train))
    estimator.fit(x_train, train[LABEL].to_numpy(dtype=float))

    predicted = estimator.predict(x_valid)
    valid_m = regression_metrics(y_valid, predicted)
    train_m = regression_metrics(train[LABEL].to_numpy(), estimator.predict(x_train))
    baselines = baseline_predictions(train, valid, LABEL)
    gate = promotion_gate(y_valid, predicted, baselines, margin=ml.gate_margin, min_spread=ml.gate_min_spread)
    importance = permutation_importances(estimator, x_valid, y_valid, ml.permutation_repeats)
    metrics = {
        VAL_MAE: valid_m["mae"],
        "val_rmse": valid_m["rmse"],
        "train_mae": train_m["mae"],
        "train_rmse": train_m["rmse"],
        "val_prediction_spread": gate.spread,
        "gate_passed": float(gate.passed),
        **{f"baseline_{name}_val_mae": value for name, value in gate.baseline_mae.items()},
        **{f"importance.{name}": value for name, value in importance.items()},
    }
    fsv = sorted({int(v) for v in frame["feature_set_version"].dropna()}) or [config.features.feature_set_version]
    return Fitted(estimator, train, valid, x_train, metrics, gate, importance, fsv)


def _run_params(ml: MlConfig, fitted: Fitted) -> dict[str, Any]:
    """The MLflow run's parameters: model, features, label/feature timing and the split."""
    return {
        "model": ml.model,
        **{f"model.{k}": v for k, v in ml.params.items()},
        "view": ml.view,
        "features": ",".join(ml.features),
        "label_horizon_hours": ml.label_horizon_hours,
        "feature_offset_hours": ml.feature_offset_hours,
        "label_tolerance_hours": ml.label_tolerance_hours,
        "validation_fraction": ml.validation_fraction,
        "with_feedback": ml.with_feedback,
        "n_train": len(fitted.train),
        "n_valid": len(fitted.valid),
        "split_cutoff": str(fitted.valid["created_at"].min()),
    }


def log_run(config: Config, client: MlflowClient, fitted: Fitted) -> tuple[str, str]:
    """Log ``fitted`` as a run of ``ml.experiment`` and register its model; the run id and the new version."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    ml = config.ml
    if client.get_experiment_by_name(ml.experiment) is None:
        client.create_experiment(ml.experiment, artifact_location=artifact_location(config))
    mlflow.set_experiment(ml.experiment)
    estimator, x_train, gate = fitted.estimator, fitted.x_train, fitted.gate
    with mlflow.start_run() as run:
        mlflow.log_params(_run_params(ml, fitted))
        mlflow.log_metrics(fitted.metrics)
        mlflow.log_table(pd.DataFrame(gate.table()), artifact_file="gate/comparison.json")
        mlflow.set_tags(
            {
                "feature_set_version": ",".join(map(str, fitted.feature_set_versions)),
                "dip.env": config.env,
                "gate.passed": str(gate.passed).lower(),
                "gate.reason": gate.reason,
            }
        )
        info = mlflow.sklearn.log_model(
            estimator,
            name="model",
            signature=infer_signature(x_train, estimator.predict(x_train)),
            input_example=x_train.head(3),
            metadata={
                "reference": {name: float(value) for name, value in x_train.median().fillna(0.0).items()},
                "views": [config.ml.view],  # the online views the model reads when scoring (serving merges them)
            },
            registered_model_name=ml.registered_model,
            skops_trusted_types=trusted_types(estimator),
        )
    return run.info.run_id, str(info.registered_model_version)


def train_model(config: Config, frame: pd.DataFrame, allow_baseline: bool = False) -> TrainResult:
    """Fit on the time split of ``frame`` (a collected training set), log to MLflow, register, maybe promote."""
    from mlflow.tracking import MlflowClient

    ml = config.ml
    fitted = fit_and_judge(config, frame)
    metrics, gate = fitted.metrics, fitted.gate
    use_tracking(config)
    client = MlflowClient()
    run_id, version = log_run(config, client, fitted)
    current = champion_version(config)
    previous_mae = client.get_run(current.run_id).data.metrics.get(VAL_MAE) if current is not None else None
    beats_champion = current is None or previous_mae is None or metrics[VAL_MAE] < previous_mae
    promote = beats_champion and (gate.passed or (current is None and allow_baseline))
    client.set_model_version_tag(ml.registered_model, version, VAL_MAE, str(metrics[VAL_MAE]))
    client.set_model_version_tag(ml.registered_model, version, "gate", gate.reason)
    fsv = ",".join(map(str, fitted.feature_set_versions))
    client.set_model_version_tag(ml.registered_model, version, "feature_set_version", fsv)
    if promote:
        client.set_registered_model_alias(ml.registered_model, ml.champion_alias, version)
    result = TrainResult(
        run_id=run_id,
        version=version,
        n_train=len(fitted.train),
        n_valid=len(fitted.valid),
        metrics=metrics,
        champion=promote,
        previous_champion=str(current.version) if current is not None else None,
        previous_mae=previous_mae,
        gate=gate,
        importance=fitted.importance,
        with_feedback=ml.with_feedback,
    )
    if current is None and not gate.passed and not allow_baseline:
        raise TrainingRefused(
            f"v{version} is registered without @{ml.champion_alias}: {gate.reason} "
            "(--allow-baseline makes a first model champion anyway)"
        )
    return result


def run_training(spark: Any, config: Config, with_feedback: bool = False, allow_baseline: bool = False) -> TrainResult:
    """Build the point-in-time training set from the lake, collect it and train (`dip train`, jobs/train.py).

    ``with_feedback`` (or ``ml.with_feedback``) adds the rows of `dip evaluate`'s ``ml_feedback`` table.
    """
    from dip.ml.training_set import build_training_set

    if with_feedback and not config.ml.with_feedback:
        config = config.model_copy(update={"ml": config.ml.model_copy(update={"with_feedback": True})})
    frame = collect_training_set(build_training_set(spark, config), config.ml.max_rows)
    return train_model(config, frame, allow_baseline=allow_baseline)


def collect_training_set(rows: Any, max_rows: int) -> pd.DataFrame:
    """The training set on the driver, bounded: over ``max_rows`` (ml.max_rows), the newest posts with a warning."""
    from pyspark.sql import functions as F

    newest_first = [F.col("created_at").desc(), F.col("source"), F.col("post_id"), F.col("feature_ts").desc()]
    frame = rows.orderBy(*newest_first).limit(max_rows + 1).toPandas()
    if len(frame) > max_rows:
        log.warning(
            "training set has more than %d rows (ml.max_rows): training on the newest %d posts' rows",
            max_rows,
            max_rows,
        )
        frame = frame.iloc[:max_rows]
    return frame


def result_lines(result: TrainResult, config: Config) -> list[str]:
    """A short human summary of a training run."""
    m = result.metrics
    before = (
        f"current champion v{result.previous_champion} (val MAE {result.previous_mae:.4f})"
        if result.previous_champion and result.previous_mae is not None
        else "no champion before"
    )
    gate = result.gate
    baselines = ", ".join(f"{name} {value:.4f}" for name, value in gate.baseline_mae.items())
    top = ", ".join(f"{name} {value:+.4f}" for name, value in list(result.importance.items())[:3])
    if result.champion:
        verdict = "is now"
    elif not gate.passed:
        verdict = "failed the gate, not"
    else:
        verdict = "did not beat"
    return [
        f"run {result.run_id}: {result.n_train} train / {result.n_valid} validation rows"
        + (" (with ml_feedback)" if result.with_feedback else ""),
        f"val MAE {m[VAL_MAE]:.4f}  val RMSE {m['val_rmse']:.4f}  baselines: {baselines}; "
        f"prediction spread {gate.spread:.4g}",
        f"gate: {'passed' if gate.passed else 'failed'}: {gate.reason}",
        f"top features (val MAE increase when shuffled): {top}",
        f"{config.ml.registered_model} v{result.version} {verdict} @{config.ml.champion_alias}; {before}",
    ]
