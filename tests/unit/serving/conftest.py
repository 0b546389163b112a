"""A scoring-enabled config with an admin and a scorer key, and a TestClient factory that logs no predictions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dip.config import Config
from dip.config.models import ApiKeyConfig
from dip.serving import create_app, hash_api_key
from dip.serving.scoring import ScoringModel

ModelLoader = Callable[[], ScoringModel | None]


@pytest.fixture
def config(test_config: Config) -> Config:
    config = test_config.model_copy(deep=True)
    config.serving.scoring.enabled = True
    config.serving.admin_scope = "ops:reload"
    config.serving.api_keys = {
        "ops": ApiKeyConfig(sha256=hash_api_key("ops-key"), scopes=["ops:reload"]),
        "scorer": ApiKeyConfig(sha256=hash_api_key("scorer-key"), scopes=["score", "features:*"]),
    }
    return config


class _NoProducer:
    def produce(self, *args: object, **kwargs: object) -> None: ...

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        return 0


@pytest.fixture
def scoring_client() -> Callable[..., TestClient]:
    """``scoring_client(config, loader, model=None)``: the app as a TestClient (use it as a context manager)."""

    def make(config: Config, loader: ModelLoader | None, model: ScoringModel | None = None) -> TestClient:
        return TestClient(create_app(config, model=model, model_loader=loader, prediction_producer=_NoProducer()))

    return make
