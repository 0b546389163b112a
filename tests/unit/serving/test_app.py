"""App-level pure pieces: the committed OpenAPI spec, entity-id validation and the stale rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from dip.config import Config
from dip.online import OnlineRecord, ViewSpec
from dip.serving import create_app
from dip.serving.schemas import EntityId
from dip.serving.server import openapi_json
from dip.serving.state import _is_stale

SPEC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_app(test_config: Config) -> None:
    assert SPEC.read_text(encoding="utf-8") == openapi_json(test_config), (
        "docs/openapi.json is out of date: run `dip serve --openapi docs/openapi.json`"
    )


def test_create_app_builds_no_connection_and_lists_routes(test_config: Config) -> None:
    paths = set(create_app(test_config).openapi()["paths"])
    assert paths == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/features/{view}/{entity_id}",
        "/v1/features:batch",
        "/v1/score",
        "/v1/admin/reload-model",
        "/v1/admin/forget",
        "/v1/admin/forget/{code}",
    }


@pytest.mark.parametrize("key", ["view", "account_view"])
def test_scoring_views_must_be_configured(test_config: Config, key: str) -> None:
    config = test_config.model_copy(deep=True)
    config.serving.scoring.enabled = True
    setattr(config.serving.scoring, key, "no_such_view")
    with pytest.raises(ValueError, match=rf"serving\.scoring\.{key} 'no_such_view' is not a configured online view"):
        create_app(config)


@pytest.mark.parametrize("entity_id", ["p1", "x" * 64, "ig:1.2-3_4"])
def test_entity_id_accepted(entity_id: str) -> None:
    assert TypeAdapter(EntityId).validate_python(entity_id) == entity_id


@pytest.mark.parametrize("entity_id", ["", "x" * 65, "a b", "a*", "p1\n", "é"])
def test_entity_id_rejected(entity_id: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(EntityId).validate_python(entity_id)


@pytest.mark.parametrize(("age_ms", "stale"), [(0, False), (3_600_000, False), (3_600_001, True)])
def test_stale_when_older_than_ttl(age_ms: int, stale: bool) -> None:
    view = ViewSpec("v", "post", {"a": "int"}, ttl_seconds=3600)
    record = OnlineRecord("p1", 1, 1_000_000_000_000, 1, {"a": 1})
    assert _is_stale(record, view, 1_000_000_000_000 + age_ms) is stale
