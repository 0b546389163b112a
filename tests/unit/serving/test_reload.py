"""POST /v1/admin/reload-model: admin scope, old/new versions, registry without champion or unreachable."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from fastapi.testclient import TestClient

from dip.config import Config
from dip.config.models import ApiKeyConfig
from dip.online.codec import FeatureValue
from dip.serving import create_app, hash_api_key
from dip.serving.scoring import ScoringModel

URL = "/v1/admin/reload-model"


class Versioned:
    def __init__(self, version: str) -> None:
        self.name, self.version = "dip-engagement", version

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        return float(self.version)


class Loader:
    """Returns the queued results in turn (a model, None, or an exception to raise)."""

    def __init__(self, *results: ScoringModel | Exception | None) -> None:
        self.results = list(results)

    def __call__(self) -> ScoringModel | None:
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def test_reload_swaps_the_model_and_reports_versions(config: Config, scoring_client: Callable[..., TestClient]) -> None:
    with scoring_client(config, Loader(Versioned("4"), Versioned("4")), model=Versioned("3")) as client:
        score = lambda: client.post(  # noqa: E731
            "/v1/score", json={"entity_id": "p1", "features": {}}, headers={"X-API-Key": "scorer-key"}
        ).json()
        assert (score()["model_version"], score()["score"]) == ("3", 3.0)
        first = client.post(URL, headers={"X-API-Key": "ops-key"})
        assert (first.status_code, first.json()) == (
            200,
            {"model_name": "dip-engagement", "version": "4", "previous_version": "3", "changed": True},
        )
        assert (score()["model_version"], score()["score"]) == ("4", 4.0)
        again = client.post(URL, headers={"X-API-Key": "ops-key"}).json()
        assert (again["previous_version"], again["version"], again["changed"]) == ("4", "4", False)


def test_reload_loads_a_first_model_and_makes_the_service_ready(
    config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    with scoring_client(config, Loader(Versioned("1"))) as client:
        assert (
            client.post(
                "/v1/score", json={"entity_id": "p1", "features": {}}, headers={"X-API-Key": "scorer-key"}
            ).json()["error"]
            == "model_not_loaded"
        )
        body = client.post(URL, headers={"X-API-Key": "ops-key"}).json()
        assert (body["previous_version"], body["version"], body["changed"]) == (None, "1", True)


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({}, 401, "missing credentials: send an X-API-Key header or Authorization: Bearer <jwt>"),
        ({"X-API-Key": "nope"}, 401, "invalid API key"),
        ({"X-API-Key": "scorer-key"}, 403, "credential 'scorer' lacks scope 'ops:reload'"),
    ],
)
def test_reload_needs_the_admin_scope(
    config: Config, headers: dict[str, str], status: int, body: str, scoring_client: Callable[..., TestClient]
) -> None:
    loader = Loader()
    with scoring_client(config, loader, model=Versioned("3")) as client:
        response = client.post(URL, headers=headers)
    assert (response.status_code, response.json()["detail"]) == (status, body)


@pytest.mark.parametrize(
    ("loader", "status", "body"),
    [
        (
            Loader(None),
            404,
            {"error": "model_not_found", "detail": "no dip-engagement@champion registered; model unchanged"},
        ),
        (
            Loader(OSError("registry down")),
            503,
            {"error": "reload_failed", "detail": "model reload failed (OSError); model unchanged"},
        ),
        (
            None,
            503,
            {"error": "reload_unavailable", "detail": "this service was started without a model registry to reload"},
        ),
    ],
)
def test_reload_failures_keep_the_served_model(
    config: Config, loader: Loader | None, status: int, body: dict, scoring_client: Callable[..., TestClient]
) -> None:
    with scoring_client(config, loader, model=Versioned("3")) as client:
        response = client.post(URL, headers={"X-API-Key": "ops-key"})
        served = client.post("/v1/score", json={"entity_id": "p1", "features": {}}, headers={"X-API-Key": "scorer-key"})
    assert (response.status_code, response.json()) == (status, body)
    assert served.json()["model_version"] == "3"


def test_reload_with_scoring_disabled_is_503(test_config: Config) -> None:
    config = test_config.model_copy(deep=True)
    config.serving.api_keys = {"ops": ApiKeyConfig(sha256=hash_api_key("ops-key"), scopes=["admin"])}
    with TestClient(create_app(config, model_loader=Loader(Versioned("1")))) as client:
        response = client.post(URL, headers={"X-API-Key": "ops-key"})
    assert (response.status_code, response.json()["error"]) == (503, "scoring_disabled")


@pytest.mark.parametrize("path", ["/v1/score", "/v1/features:batch"])
def test_an_unparsable_body_is_a_documented_400_in_the_error_shape(
    config: Config, path: str, scoring_client: Callable[..., TestClient]
) -> None:
    with scoring_client(config, Loader(), model=Versioned("1")) as client:
        response = client.post(
            path, content=b"\xde\x9d\xff R", headers={"X-API-Key": "scorer-key", "Content-Type": "application/json"}
        )
        unknown = client.get("/v1/nothing-here", headers={"X-API-Key": "scorer-key"})
    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "detail": "There was an error parsing the body"}
    assert "400" in client.app.openapi()["paths"][path]["post"]["responses"]
    assert (unknown.status_code, unknown.json()) == (404, {"error": "not_found", "detail": "Not Found"})
