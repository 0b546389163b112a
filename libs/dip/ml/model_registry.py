"""MLflow locations from config and the registry's champion as a scoring model for the service."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dip.config import Config
from dip.online.codec import FeatureValue


def tracking_uri(config: Config) -> str:
    """``ml.tracking_uri``, or a SQLite store at ``<state_dir>/mlflow.db`` (its folder is created)."""
    if config.ml.tracking_uri:
        return config.ml.tracking_uri
    state = Path(config.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(state / 'mlflow.db').resolve()}"


def artifact_location(config: Config) -> str:
    """``ml.artifact_location``, or ``<state_dir>/mlruns`` as a file URI."""
    return config.ml.artifact_location or (Path(config.state_dir) / "mlruns").resolve().as_uri()


def use_tracking(config: Config) -> None:
    """Point the MLflow client (tracking and registry) at ``config``'s store."""
    import mlflow

    uri = tracking_uri(config)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def as_float(value: FeatureValue | None) -> float:
    """A feature value as the model's input: numbers and bools as floats, anything else (null, text) NaN."""
    if isinstance(value, bool | int | float):
        return float(value)
    return math.nan


@dataclass
class RegisteredModel:
    """A registered scikit-learn regressor as the service's ``ScoringModel``."""

    name: str
    version: str
    estimator: Any
    feature_names: Sequence[str]
    reference: Mapping[str, float] | None = None  # the training rows' medians (``explain``'s "typical post")
    views: Sequence[str] = ()  # online views whose features it reads at scoring time (metadata ``views``)

    def _rows(self, rows: list[list[float]]) -> Any:
        import pandas as pd

        return pd.DataFrame(rows, columns=list(self.feature_names))

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        """Predicted engagement ratio for one feature dict (absent features are NaN)."""
        return float(self.estimator.predict(self._rows([[as_float(features.get(n)) for n in self.feature_names]]))[0])

    def explain(self, features: Mapping[str, FeatureValue], top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` features that moved this score most: score minus the score with that feature set to its
        training median, largest magnitude first. One ``predict`` call of ``len(features) + 1`` rows (cheap);
        empty for a model logged without medians."""
        if not self.reference:
            return []
        row = [as_float(features.get(n)) for n in self.feature_names]
        medians = [float(self.reference.get(n, math.nan)) for n in self.feature_names]
        swapped = [[*row[:i], median, *row[i + 1 :]] for i, median in enumerate(medians)]
        scores = self.estimator.predict(self._rows([row, *swapped]))
        deltas = [(n, float(scores[0] - scores[i + 1])) for i, n in enumerate(self.feature_names)]
        return sorted(deltas, key=lambda d: (-abs(d[1]), d[0]))[:top]


def champion_version(config: Config) -> Any | None:
    """The model version the champion alias points at, or None (no registered model or alias)."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(config)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    try:
        return client.get_model_version_by_alias(config.ml.registered_model, config.ml.champion_alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def load_champion(config: Config) -> RegisteredModel | None:
    """The champion of ``ml.registered_model`` ready to score, or None when none is registered."""
    import mlflow.models
    import mlflow.sklearn

    version = champion_version(config)
    if version is None:
        return None
    use_tracking(config)
    uri = f"models:/{config.ml.registered_model}/{version.version}"
    estimator = mlflow.sklearn.load_model(uri)
    names = list(getattr(estimator, "feature_names_in_", config.ml.features))
    metadata = mlflow.models.get_model_info(uri).metadata or {}
    views = tuple(metadata.get("views") or (config.ml.view,))
    return RegisteredModel(
        config.ml.registered_model, str(version.version), estimator, names, metadata.get("reference"), views
    )
