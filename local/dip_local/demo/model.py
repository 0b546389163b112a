"""The demo's training step: train with dip.ml unless the champion was trained on this very training set."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from dip.config import Config

TRAINING_SET_TAG = "dip.demo.training_set_sha256"


@dataclass(frozen=True)
class TrainOutcome:
    """The training set's size and the champion the demo serves afterwards (None: too few labelled posts)."""

    rows: int
    version: str | None
    trained: bool
    note: str
    validation: str = ""  # the model's validation MAE against the best baseline, and the gate's verdict


def training_set_digest(frame: Any) -> str:
    """sha256 of a collected training set, independent of row order."""
    ordered = frame.sort_values(["source", "post_id"], kind="stable").reset_index(drop=True)
    return hashlib.sha256(ordered.to_csv(index=False).encode()).hexdigest()


def _champion_digest(config: Config) -> tuple[str | None, str | None]:
    from mlflow.tracking import MlflowClient

    from dip.ml.model_registry import champion_version, tracking_uri

    version = champion_version(config)
    if version is None:
        return None, None
    uri = tracking_uri(config)
    run = MlflowClient(tracking_uri=uri, registry_uri=uri).get_run(version.run_id)
    return str(version.version), run.data.tags.get(TRAINING_SET_TAG)


def train_or_keep(spark: Any, config: Config) -> TrainOutcome:
    """Build the point-in-time training set; train and register unless the champion already learnt from it."""
    from mlflow.tracking import MlflowClient

    from dip.ml.model_registry import tracking_uri
    from dip.ml.train import result_lines, train_model
    from dip.ml.training_set import build_training_set

    frame = build_training_set(spark, config).toPandas()
    digest = training_set_digest(frame)
    version, champion_digest = _champion_digest(config)
    if version is not None and champion_digest == digest:
        return TrainOutcome(len(frame), version, False, f"training set unchanged: kept champion v{version}")
    try:
        result = train_model(config, frame)
    except ValueError as exc:
        return TrainOutcome(len(frame), version, False, f"not trained: {exc}")
    uri = tracking_uri(config)
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_tag(result.run_id, TRAINING_SET_TAG, digest)
    served = result.version if result.champion else version
    gate = result.gate
    best = gate.baseline_mae[gate.best_baseline]
    validation = (
        f"v{result.version}: val MAE {gate.model_mae:.4f} vs best baseline {gate.best_baseline} {best:.4f} "
        f"({(gate.model_mae - best) / best:+.0%}) on {result.n_valid} posts; "
        f"gate {'passed' if gate.passed else 'failed'}"
    )
    return TrainOutcome(len(frame), served, True, "; ".join(result_lines(result, config)[1:]), validation)
