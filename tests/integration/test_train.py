"""`dip train` end to end on a tiny lake: silver -> features (2 days) -> training set -> MLflow run,
registered version and champion alias -> the registry loader scores; and the train job from the built artefacts.

Eight posts published on 24 Nov (01:00, 03:00, ... 15:00 UTC). Each has a snapshot 2 h after publish
(in the 24 Nov window, the one its features must come from), an adversarial one 30 h after publish
(25 Nov window: ends after the feature time, must not be used) and the label snapshot 48 h after.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyspark.sql import SparkSession

from dip.config import Config
from dip.config.models import ApiKeyConfig
from dip.features.batch import run_features
from dip.ml.model_registry import load_champion, tracking_uri
from dip.ml.train import collect_training_set, run_training
from dip.ml.training_set import build_training_set
from dip.serving.app import create_app
from dip.serving.server import champion_loader
from dip.silver import normalize as N
from dip.tables import SILVER_ACCOUNT_METRICS, SILVER_POST_METRICS, SILVER_POSTS
from tests.integration.helpers import Artefacts

pytestmark = [pytest.mark.integration, pytest.mark.slow]

D1, D2 = date(2026, 11, 24), date(2026, 11, 25)
N_POSTS = 8


def _published(i: int) -> datetime:
    return datetime(2026, 11, 24, 1 + 2 * i, tzinfo=UTC)


def _write_silver(spark: SparkSession, config: Config) -> None:
    posts, metrics = [], []
    for i in range(N_POSTS):
        pid, at = f"p{i}", _published(i)
        posts.append((pid, "instagram", "a1", f"post {i} #tag", ["tag"], [], "IMAGE", None, at, at))
        views = 100 * (i + 1)
        metrics += [
            (pid, "instagram", "a1", "r1", at + timedelta(hours=2), views, 5 * (i + 1), 1, 0, 0, None, 0.05 + i / 100),
            (pid, "instagram", "a1", "r2", at + timedelta(hours=30), 10**6, 10**5, 0, 0, 0, None, 0.9),
            (pid, "instagram", "a1", "r3", at + timedelta(hours=48), 2 * views, 0, 0, 0, 0, None, 0.1 + i / 50),
        ]
    accounts = [("a1", "instagram", "r1", datetime(2026, 11, 24, tzinfo=UTC), 1000, N_POSTS)]
    for table, rows, ddl in (
        (SILVER_POSTS, posts, N.POSTS_DDL),
        (SILVER_POST_METRICS, metrics, N.POST_METRICS_DDL),
        (SILVER_ACCOUNT_METRICS, accounts, N.ACCOUNT_METRICS_DDL),
    ):
        spark.createDataFrame(rows, ddl).write.format("delta").partitionBy("source").save(table.path(config))


@pytest.fixture()
def lake(spark: SparkSession, test_config: Config, tmp_path: Path) -> Config:
    config = test_config.model_copy(deep=True)
    config.lake.root = (tmp_path / "lake").as_uri()
    config.state_dir = str(tmp_path / "state")
    config.features.hourly = False
    # eight posts of one account pass the data check only with these; the label is linear in views_delta,
    # which ridge extrapolates to the two latest posts (a tree puts both in its top leaf: a constant on validation)
    config.ml.min_rows, config.ml.min_accounts, config.ml.model = N_POSTS, 1, "ridge"
    _write_silver(spark, config)
    run_features(spark, config, D1, D2)
    return config


def test_train_registers_champion_and_scores(
    spark: SparkSession, lake: Config, caplog: pytest.LogCaptureFixture
) -> None:
    from mlflow.models import get_model_info
    from mlflow.tracking import MlflowClient

    rows = build_training_set(spark, lake).toPandas().sort_values("post_id")
    # features as of publish + 24 h: the 24 Nov window (ends 25 Nov 00:00), never the 30 h snapshot
    assert list(rows["post_id"]) == [f"p{i}" for i in range(N_POSTS)]
    assert set(rows["window_end"].dt.strftime("%Y-%m-%d %H:%M")) == {"2026-11-25 00:00"}
    assert list(rows["views_delta"]) == [100.0 * (i + 1) for i in range(N_POSTS)]
    assert list(rows["label"]) == pytest.approx([0.1 + i / 50 for i in range(N_POSTS)])
    # bounded collect (ml.max_rows): over the cap, the newest posts train and a warning says so
    with caplog.at_level(logging.WARNING, logger="dip.ml.train"):
        capped = collect_training_set(build_training_set(spark, lake), 3)
    assert sorted(capped["post_id"]) == ["p5", "p6", "p7"]
    assert "more than 3 rows (ml.max_rows): training on the newest 3" in caplog.text
    assert len(collect_training_set(build_training_set(spark, lake), N_POSTS)) == N_POSTS

    first = run_training(spark, lake)
    assert (first.version, first.champion, first.n_train, first.n_valid) == ("1", True, 6, 2)

    client = MlflowClient(tracking_uri=tracking_uri(lake), registry_uri=tracking_uri(lake))
    run = client.get_run(first.run_id)
    assert run.data.params["label_horizon_hours"] == "48"
    assert run.data.params["feature_offset_hours"] == "24"
    assert run.data.params["n_train"] == "6"
    metrics = run.data.metrics
    assert {"val_mae", "val_rmse", "baseline_global_mean_val_mae", "baseline_account_median_val_mae"} <= set(metrics)
    assert metrics["gate_passed"] == 1.0 and metrics["val_mae"] < 0.95 * metrics["baseline_account_median_val_mae"]
    assert run.data.tags["gate.passed"] == "true"
    assert run.data.tags["feature_set_version"] == "1"
    assert str(client.get_model_version_by_alias("dip-engagement", "champion").version) == "1"
    info = get_model_info("models:/dip-engagement/1")
    assert info.signature.inputs.input_names() == lake.ml.features
    assert info.saved_input_example_info is not None

    model = load_champion(lake)
    assert model is not None and (model.name, model.version) == ("dip-engagement", "1")
    score = model.predict({"views_delta": 300, "engagement_ratio_last": 0.07, "is_arabic": False, "caption_vec": [0.1]})
    assert isinstance(score, float)

    # same data, same deterministic model: an equal validation MAE does not take the alias
    second = run_training(spark, lake)
    assert (second.version, second.champion, second.previous_champion) == ("2", False, "1")
    assert str(client.get_model_version_by_alias("dip-engagement", "champion").version) == "1"
    _assert_service_scores_with_champion(lake)


def _assert_service_scores_with_champion(config: Config) -> None:
    """`dip serve`'s model: the champion at start; the admin reload endpoint keeps serving the current champion."""
    config = config.model_copy(deep=True)
    config.serving.scoring.enabled = True
    config.serving.api_keys = {
        "t": ApiKeyConfig(sha256=hashlib.sha256(b"k").hexdigest(), scopes=["score"]),
        "ops": ApiKeyConfig(sha256=hashlib.sha256(b"ops").hexdigest(), scopes=[config.serving.admin_scope]),
    }
    loader = champion_loader(config)
    assert loader is not None
    with TestClient(create_app(config, model=loader(), model_loader=loader)) as client:
        body = {"entity_id": "p9", "features": {"views_delta": 300, "engagement_ratio_last": 0.07}}
        response = client.post("/v1/score", json=body, headers={"X-API-Key": "k"})
        reload = client.post("/v1/admin/reload-model", headers={"X-API-Key": "ops"})
    assert response.status_code == 200, response.text
    assert (response.json()["model_name"], response.json()["model_version"]) == ("dip-engagement", "1")
    assert isinstance(response.json()["score"], float)
    assert (reload.status_code, reload.json()) == (
        200,
        {"model_name": "dip-engagement", "version": "1", "previous_version": "1", "changed": False},
    )


def test_train_job_runs_from_the_built_artefacts(spark: SparkSession, lake: Config, artefacts: Artefacts) -> None:
    """`dip submit <dist>/jobs/train.py` with the wheel's Python: the job script, its session, MLflow and lineage."""
    from mlflow.tracking import MlflowClient

    from dip import lineage

    env = {k: v for k, v in os.environ.items() if not k.startswith("DIP")} | {
        "DIP_HOME": str(artefacts.dist),  # conf/ comes from the dist
        "DIP_ENV": "local",
        "DIP__JARS__DIR": str(lake.jars.dir),  # resolved by `make jars`; the dist ships no jars
        "DIP__LAKE__ROOT": lake.lake.root,
        "DIP__STATE_DIR": lake.state_dir,  # the MLflow store is <state_dir>/mlflow.db
        "DIP__FEATURES__HOURLY": "false",
        "DIP__ML__MIN_ROWS": str(N_POSTS),
        "DIP__ML__MIN_ACCOUNTS": "1",
        "DIP__ML__MODEL": "ridge",
    }
    job = artefacts.dist / "jobs" / "train.py"
    args = ["--run-id", "test/train/1", "--logical-date", "2026-11-26T00:00:00+00:00"]
    result = subprocess.run(
        [str(artefacts.dip), "submit", str(job), "--env", "local", *args],
        env=env, cwd=artefacts.dist, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "6 train / 2 validation rows" in result.stdout
    assert "dip-engagement v1 is now @champion; no champion before" in result.stdout

    client = MlflowClient(tracking_uri=tracking_uri(lake), registry_uri=tracking_uri(lake))
    assert str(client.get_model_version_by_alias("dip-engagement", "champion").version) == "1"
    run = next(r for r in lineage.recent_runs(spark, lake) if r["job"] == "train")
    assert (run["status"], run["parent_run"], run["logical_date"]) == (
        "success", "test/train/1", "2026-11-26T00:00:00+00:00"
    )  # fmt: skip
    assert run["params"]["model_version"] == "1" and run["params"]["champion"] == "True"
    assert run["counts"] == {"train_rows": 6, "validation_rows": 2}
    assert {r["name"] for r in run["reads"]} == {"silver_posts", "silver_post_metrics", "post_features_daily"}
    assert client.get_run(run["params"]["mlflow_run_id"]).data.tags["feature_set_version"] == "1"
