"""`train_model` with the promotion gate on hand-made training sets: MLflow on a SQLite file, no Spark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dip.config import Config
from dip.ml.train import TrainingRefused, result_lines, train_model

FEATURES = ["views_delta", "hashtag_count"]


@pytest.fixture()
def config(test_config: Config, tmp_path: Path) -> Config:
    config = test_config.model_copy(deep=True)
    config.state_dir = str(tmp_path / "state")
    config.ml.tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config.ml.artifact_location = (tmp_path / "mlruns").as_uri()
    config.ml.features = FEATURES
    config.ml.min_rows = 40
    return config


def _frame(n: int, signal: float, seed: int = 0) -> pd.DataFrame:
    """``n`` posts an hour apart over 4 accounts; the label is ``signal`` x views_delta plus noise."""
    rng = np.random.default_rng(seed)
    views = rng.uniform(0, 10, n)
    return pd.DataFrame(
        {
            "source": "instagram",
            "post_id": [f"p{i:03d}" for i in range(n)],
            "account_id": [f"acc{i % 4}" for i in range(n)],
            "created_at": pd.date_range("2026-11-01", periods=n, freq="h", tz="UTC"),
            "feature_set_version": 1,
            "views_delta": views,
            "hashtag_count": rng.integers(0, 5, n).astype(float),
            "label": 0.1 + signal * views + rng.normal(0, 0.005, n),
        }
    )


def test_a_model_that_learns_the_signal_is_champion_with_its_figures(config: Config) -> None:
    from mlflow.tracking import MlflowClient

    result = train_model(config, _frame(80, 0.02))
    assert (result.champion, result.version, result.gate.passed) == (True, "1", True)
    assert result.metrics["val_mae"] < 0.95 * min(result.gate.baseline_mae.values())
    assert next(iter(result.importance)) == "views_delta"  # the feature the label depends on matters most
    run = MlflowClient(tracking_uri=config.ml.tracking_uri).get_run(result.run_id)
    assert {"baseline_global_mean_val_mae", "baseline_account_median_val_mae", "importance.views_delta"} <= set(
        run.data.metrics
    )
    assert run.data.tags["gate.passed"] == "true"
    lines = result_lines(result, config)
    assert lines[2].startswith("gate: passed: val MAE ") and "top features" in lines[3]
    assert lines[-1] == "dip-engagement v1 is now @champion; no champion before"


def test_a_first_model_that_learns_nothing_is_registered_without_the_alias(config: Config) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    noise = _frame(80, 0.0)  # the label does not depend on any feature
    with pytest.raises(TrainingRefused, match=r"^v1 is registered without @champion: ") as refused:
        train_model(config, noise)
    assert "(--allow-baseline makes a first model champion anyway)" in str(refused.value)
    client = MlflowClient(tracking_uri=config.ml.tracking_uri, registry_uri=config.ml.tracking_uri)
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias("dip-engagement", "champion")
    allowed = train_model(config, noise, allow_baseline=True)
    assert (allowed.version, allowed.champion, allowed.gate.passed) == ("2", True, False)


def test_a_later_model_that_fails_the_gate_leaves_the_champion(config: Config) -> None:
    assert train_model(config, _frame(80, 0.02)).champion
    later = train_model(config, _frame(80, 0.0, seed=1))
    assert (later.version, later.champion, later.gate.passed) == ("2", False, False)
    assert result_lines(later, config)[-1].startswith("dip-engagement v2 failed the gate, not @champion; ")


def test_too_few_labelled_posts_fit_nothing_and_say_what_is_missing(config: Config) -> None:
    with pytest.raises(TrainingRefused) as refused:
        train_model(config, _frame(10, 0.02))
    assert str(refused.value) == (
        "10 labelled post(s); need >= 40 (ml.min_rows): run more ingest rounds or a longer backfill "
        "(`dip backfill`) and train again"
    )
