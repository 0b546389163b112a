"""POST /v1/score?explain=true: the top contributions of a registered model, and a clear 400 without medians."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from fastapi.testclient import TestClient
from sklearn.linear_model import LinearRegression

from dip.config import Config
from dip.ml.model_registry import RegisteredModel

SCORER = {"X-API-Key": "scorer-key"}


def _model(reference: dict[str, float] | None) -> RegisteredModel:
    x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [0.0, 0.0, 1.0, 1.0], "c": [5.0, 1.0, 2.0, 7.0]})
    estimator = LinearRegression().fit(x, 2 * x["a"] - 5 * x["b"] + 1)  # c has no weight
    return RegisteredModel("dip-engagement", "7", estimator, ["a", "b", "c"], reference)


def test_explain_returns_the_features_that_moved_the_score(
    config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    body = {"entity_id": "p1", "features": {"a": 4, "b": 1, "c": 9}}
    with scoring_client(config, None, model=_model({"a": 1.5, "b": 0.5, "c": 3.0})) as client:
        plain = client.post("/v1/score", json=body, headers=SCORER).json()
        explained = client.post("/v1/score?explain=true", json=body, headers=SCORER).json()

    assert "explanation" not in plain and round(plain["score"], 9) == 4.0  # 2*4 - 5*1 + 1
    assert explained["score"] == plain["score"]
    contributions = [(c["feature"], round(c["contribution"], 9)) for c in explained["explanation"]]
    assert contributions == [("a", 5.0), ("b", -2.5), ("c", 0.0)]  # (4 - 1.5) * 2, (1 - 0.5) * -5


def test_explain_of_a_model_logged_without_medians_is_a_clear_400(
    config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    with scoring_client(config, None, model=_model(None)) as client:
        response = client.post(
            "/v1/score?explain=true", json={"entity_id": "p1", "features": {"a": 1, "b": 0, "c": 2}}, headers=SCORER
        )
    assert response.status_code == 400
    assert response.json()["error"] == "explanation_unavailable"
    assert "dip-engagement v7 was logged without training medians" in response.json()["detail"]
